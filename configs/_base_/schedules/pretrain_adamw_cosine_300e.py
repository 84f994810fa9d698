# The V2 schedule of ViT-L/H/g: 300 epochs (x 4 clips per video), 30 warmup.
_base_ = ['./pretrain_adamw_cosine.py']
max_epochs = 300
warmup_epochs = 30
param_scheduler = _base_.param_scheduler
param_scheduler[0]['end'] = warmup_epochs  # LinearLR warmup
param_scheduler[1].update(begin=warmup_epochs, end=max_epochs)  # CosineAnnealingLR
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs + 1)
