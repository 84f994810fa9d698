# Recipe base: ViT-B/16 from the UnlabeledHybrid pretraining, the official SSv2 recipe
# (scripts/finetune/vit_b_ssv2_ft.sh): lr 2e-3 per 256 videos, 25 epochs (5 warmup),
# layer decay 0.65, drop path 0.1, head dropout 0.0, weight decay 0.05, 8 GPUs x 16 videos.
# A leaf adds a dataset base and wires in its classes.
_base_ = [
    '../../../_base_/models/vit-base_recognizer.py',
    '../../../_base_/schedules/finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official ViT-B pretraining (or this project's)
pretrained = 'checkpoints/vit_b_hybrid_pt_800e.pth'
model = dict(backbone=dict(init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)))
lr_per_256 = 2e-3
lr = lr_per_256 * _base_.batch_videos / 256
max_epochs = 25
optim_wrapper = dict(
    optimizer=dict(lr=lr), paramwise_cfg=dict(num_layers=_base_.num_layers, decay_rate=0.65))
param_scheduler = _base_.param_scheduler
# CosineAnnealingLR
param_scheduler[1].update(end=max_epochs, eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=max_epochs)
