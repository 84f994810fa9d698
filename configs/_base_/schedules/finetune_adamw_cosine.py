# VideoMAE V2 fine-tuning schedule (official run_class_finetuning.py and
# scripts/finetune/*.sh): AdamW (0.9, 0.999), eps 1e-8, weight decay 0.05
# (none on 1-D parameters and biases; the fixed position table is not a
# parameter), layer-wise lr decay through MMAction2's
# LearningRateDecayOptimizerConstructor (block i of L gets decay ** (L - i) of
# the lr, 0-based, patch embedding decay ** (L + 1), fc_norm and head 1x, as
# the official LayerDecayValueAssigner), fp16 autocast with dynamic loss
# scaling (the official DeepSpeed fp16: initial scale 2 ** 7, window 128),
# per-iteration linear warmup then cosine decay to `min_lr`.
#
# The values below are the ViT-B Kinetics-400 recipe (vit_b_k400_ft.sh); a
# leaf sets its own lr / epochs / decay. Officially every lr is given per 256
# videos and multiplied by (videos in the total batch) / 256, the total batch
# counting accumulated videos (run_class_finetuning.py: batch_size x
# update_freq x GPUs):
#   batch_videos = GPUs x train_dataloader.batch_size x accumulative_counts
#   lr = lr_per_256 * batch_videos / 256
# The configs state 8 GPUs x train_dataloader.batch_size videos
# (`batch_videos`), and --auto-scale-lr rescales for another total; a leaf
# that changes `accumulative_counts` states `batch_videos` and `lr` again
# (see docs/scaling.md).
max_epochs = 90
warmup_epochs = 5  # official --warmup_epochs default
accumulative_counts = 1  # official --update_freq: micro-batches per optimizer step
batch_videos = 8 * 16  # 8 GPUs x 16 videos (x 2 clips each) x accumulative_counts
lr_per_256 = 7e-4  # official --lr
min_lr_per_256 = 1e-6  # official --min_lr default
lr = lr_per_256 * batch_videos / 256
# The official warmup starts at 0 (utils.cosine_scheduler's
# start_warmup_value; --warmup_lr is never passed to it); LinearLR cannot
# start at 0 and starts at this fraction of the peak.
warmup_start_factor = 1e-3

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale=dict(init_scale=2.**7, growth_interval=128),
    constructor='LearningRateDecayOptimizerConstructor',
    accumulative_counts=accumulative_counts,
    # One fused kernel for all parameters: CUDA (torch >= 2.0), CPU (torch >= 2.4).
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05,
                   fused=True),
    # num_layers: the backbone's blocks (the model base's `num_layers`, set by the leaf).
    paramwise_cfg=dict(decay_rate=0.75, decay_type='layer_wise', num_layers=12))

param_scheduler = [
    dict(type='LinearLR', start_factor=warmup_start_factor, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=min_lr_per_256 / lr_per_256, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]

# The fast 1 clip x 1 crop validation every epoch; tools/test.py runs the
# multi-view test of the data base.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# mmengine compares base_batch_size with GPUs x train_dataloader.batch_size
# (videos), without the accumulated micro-batches.
auto_scale_lr = dict(enable=False, base_batch_size=batch_videos // accumulative_counts)
