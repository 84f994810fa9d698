# ViT-L/16 fine-tuned on Kinetics-400 from the UnlabeledHybrid pretraining.
# Recipe: official scripts/finetune/vit_l_k400_ft.sh:
# lr 2e-3 per 256 videos, 35 epochs (5 warmup), layer decay 0.75, drop path 0.2,
# head dropout 0.0, weight decay 0.05.
_base_ = ['./_base_/vit-large_hybrid-pre.py', '../../_base_/datasets/k400_finetune.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=_base_.videos_per_gpu)
lr_per_256 = 2e-3
lr = lr_per_256 * _base_.batch_videos / 256
max_epochs = 35
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = _base_.param_scheduler
# CosineAnnealingLR
param_scheduler[1].update(end=max_epochs, eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=max_epochs)
