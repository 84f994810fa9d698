# The official ViT-g recipe on top of the 300-epoch schedule: --lr 6e-4 per 256
# videos (1.5e-4 at the 64 videos of the configs) and gradient clipping at
# 0.02. min_lr and warmup_lr stay those of the other sizes, so their ratios to
# the peak differ from the base schedule's and are set again here.
_base_ = ['./pretrain_adamw_cosine_300e.py']
lr = 6e-4 * _base_.batch_videos / 256
optim_wrapper = dict(optimizer=dict(lr=lr), clip_grad=dict(max_norm=0.02))
param_scheduler = _base_.param_scheduler
param_scheduler[0]['start_factor'] = _base_.warmup_lr / lr  # LinearLR warmup
param_scheduler[1]['eta_min_ratio'] = _base_.min_lr / lr  # CosineAnnealingLR
