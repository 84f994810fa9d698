# MAE-ST fine-tuning schedule (mae_st main_finetune.py, util/lr_sched.py,
# util/lr_decay.py, with the ViT-L command of FINETUNE.md): AdamW (torch
# defaults: betas (0.9, 0.999), eps 1e-8), weight decay 0.05 except on 1-D
# parameters, biases, the cls token and the position tables
# (models_vit.no_weight_decay), layer-wise lr decay (param_groups_lrd: block i
# of L gets decay ** (L - i) of the lr, the patch embedding, cls token and
# every position table decay ** (L + 1), the norm and head 1x) through
# VideoMAELayerDecayOptimizerConstructor (MMAction2's constructor knows the
# names of one position table only),
# gradient clipping at L2 norm 5 (--clip_grad 5.0), fp32 (--fp32),
# per-iteration linear warmup from 0 then half-cycle cosine to --min_lr 1e-6
# (an absolute value, not scaled with the batch).
#
# lr = blr * effective batch / 256 where, unlike pretraining, the effective
# batch counts CLIPS: --batch_size x GPUs x --repeat_aug. The values below are
# the ViT-L Kinetics-400 recipe (--blr 2.4e-3, --epochs 50, --warmup_epochs 5,
# --layer_decay 0.75, --batch_size 2, --repeat_aug 2 on 8 GPUs: lr 3e-4); a
# recipe base sets its own. --auto-scale-lr rescales for another total.
max_epochs = 50
warmup_epochs = 5
videos_per_gpu = 2  # the leaf's train_dataloader.batch_size
batch_videos = 8 * videos_per_gpu
clips_per_video = 2  # the data base's num_sample (--repeat_aug)
blr = 2.4e-3  # per 256 clips
lr = blr * batch_videos * clips_per_video / 256
min_lr = 1e-6
# The official warmup starts at 0; LinearLR cannot, it starts at this fraction
# of the peak.
warmup_start_factor = 1e-3

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='VideoMAELayerDecayOptimizerConstructor',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    # num_layers: the backbone's blocks (the model base's `num_layers`, set by the recipe).
    paramwise_cfg=dict(decay_rate=0.75, decay_type='layer_wise', num_layers=24),
    clip_grad=dict(max_norm=5.))

param_scheduler = [
    dict(type='LinearLR', start_factor=warmup_start_factor, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=min_lr, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]

# Validation every epoch (main_finetune.py evaluates after each), 1 clip x 1
# crop; tools/test.py runs the multi-view test of the data base.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# mmengine compares base_batch_size with GPUs x train_dataloader.batch_size (videos).
auto_scale_lr = dict(enable=False, base_batch_size=batch_videos)
