# VideoMAE V2 pretraining schedule (official run_mae_pretraining.py with the
# scripts/pretrain/*.sh arguments): AdamW (0.9, 0.95), wd 0.05 (not on 1-D
# parameters, position table and mask token), fp16 autocast with dynamic loss
# scaling, per-iteration linear warmup, then cosine decay to `min_lr`.
#
# Officially every lr is given per 256 videos and multiplied by (videos in the
# total batch) / 256; a video gives `num_sample` (4) clips, so 256 videos are
# 1024 clips. The total batch counts every video of an optimizer step:
#   batch_videos = GPUs x train_dataloader.batch_size x accumulative_counts
#   lr = lr_per_256 * batch_videos / 256
# The configs train on 8 GPUs x 8 videos = 64 videos, and the values below are
# the official ones at that batch; --auto-scale-lr rescales them (all three,
# the factors below are relative) for another number of GPUs or videos per
# GPU. A leaf that changes `accumulative_counts` or the batch states
# `batch_videos` and `lr` again (configs/scale/ does; see docs/scaling.md).
max_epochs = 200
warmup_epochs = 20
accumulative_counts = 1  # gradient accumulation: micro-batches per optimizer step
batch_videos = 64  # 8 GPUs x train_dataloader.batch_size (videos) x accumulative_counts
lr = 1e-3 * batch_videos / 256  # official --lr 1e-3 (ViT-S/B/L/H) -> 2.5e-4
min_lr = 1e-5 * batch_videos / 256  # official --min_lr default -> 2.5e-6
# The official script scales --warmup_lr but never passes it to its scheduler,
# whose warmup starts at 0; LinearLR cannot start at 0, so it starts here
# (1e-3 of the peak, a difference only in the first iterations).
warmup_lr = 1e-6 * batch_videos / 256  # official --warmup_lr default -> 2.5e-7

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    accumulative_counts=accumulative_counts,
    # One fused kernel for all parameters: CUDA (torch >= 2.0) and CPU
    # (torch >= 2.4; about 10x the default per-parameter loop on one core
    # for ViT-B's 86M parameters, see docs/scaling.md).
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.95), weight_decay=0.05, fused=True),
    paramwise_cfg=dict(
        flat_decay_mult=0.,
        custom_keys={
            'pos_embed': dict(decay_mult=0.),
            'mask_token': dict(decay_mult=0.),
        }))

param_scheduler = [
    dict(type='LinearLR', start_factor=warmup_lr / lr, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=min_lr / lr, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]

# Resumes exactly also from checkpoints saved in mid-epoch
# (default_hooks.checkpoint.by_epoch=False, see README).
train_cfg = dict(type='VideoMAEResumableTrainLoop', max_epochs=max_epochs,
                 val_interval=max_epochs + 1)
val_cfg = None
test_cfg = None

# mmengine compares base_batch_size with GPUs x train_dataloader.batch_size,
# which counts videos but not accumulated micro-batches: the lrs above are
# those of `batch_videos`, i.e. of batch_videos / accumulative_counts videos
# per micro-batch.
auto_scale_lr = dict(enable=False, base_batch_size=batch_videos // accumulative_counts)
