# MAE-ST pretraining schedule (mae_st main_pretrain.py, engine_pretrain.py,
# util/lr_sched.py, with the PRETRAIN.md command): AdamW betas (0.9, 0.95)
# (--beta default), weight decay 0.05 except on 1-D parameters and biases
# (misc.add_weight_decay; the position tables, cls and mask tokens ARE
# decayed), gradient clipping at L2 norm 0.02 (--clip_grad 0.02), fp32
# (--fp32 is on by default; `--amp` of tools/train.py switches to mixed
# precision), per-iteration linear warmup from 0 then half-cycle cosine to
# --min_lr 0: --epochs 100, --warmup_epochs 5, --blr 1.6e-3.
#
# lr = blr * effective batch / 256, the effective batch counting videos
# (--batch_size x GPUs; each video gives --repeat_aug 4 clips). The configs
# train on 8 GPUs x 2 videos (--batch_size 2), i.e. 16 videos (64 clips):
# lr 1e-4; --auto-scale-lr rescales for another total. The released
# checkpoints (k400_400ep_rep4_mr9_16x4) were trained for 400 epochs x 4
# repeats in PySlowFast.
max_epochs = 100
warmup_epochs = 5
batch_videos = 8 * 2  # GPUs x train_dataloader.batch_size (videos)
blr = 1.6e-3  # official --blr, per 256 videos
lr = blr * batch_videos / 256
# The official warmup starts at 0; LinearLR cannot, it starts at this fraction
# of the peak (a difference only in the first iterations).
warmup_start_factor = 1e-3

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(flat_decay_mult=0.),
    clip_grad=dict(max_norm=0.02))

param_scheduler = [
    dict(type='LinearLR', start_factor=warmup_start_factor, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0., by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]

# Resumes exactly also from checkpoints saved in mid-epoch (see README).
train_cfg = dict(type='VideoMAEResumableTrainLoop', max_epochs=max_epochs,
                 val_interval=max_epochs + 1)
val_cfg = None
test_cfg = None

# mmengine compares base_batch_size with GPUs x train_dataloader.batch_size (videos).
auto_scale_lr = dict(enable=False, base_batch_size=batch_videos)
