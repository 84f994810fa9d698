# VideoMAE V2 pretraining schedule: AdamW (0.9, 0.95), wd 0.05 (not on 1-D
# parameters, position table and mask token), lr per 256 videos scaled by the
# real batch (--auto-scale-lr), linear warmup then cosine to 1% of the peak.
max_epochs = 200
warmup_epochs = 20
base_lr = 1e-3

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(
        flat_decay_mult=0.,
        custom_keys={
            'pos_embed': dict(decay_mult=0.),
            'mask_token': dict(decay_mult=0.),
        }))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-2, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]

# Resumes exactly also from checkpoints saved in mid-epoch
# (default_hooks.checkpoint.by_epoch=False, see README).
train_cfg = dict(type='VideoMAEResumableTrainLoop', max_epochs=max_epochs,
                 val_interval=max_epochs + 1)
val_cfg = None
test_cfg = None

# base_lr is for 256 clips, as officially. The dataloader batch counts videos,
# each giving `num_sample` (4) clips, so that is 64 videos (8 GPUs x 8);
# pass --auto-scale-lr to scale base_lr to another total batch.
auto_scale_lr = dict(enable=False, base_batch_size=64)
