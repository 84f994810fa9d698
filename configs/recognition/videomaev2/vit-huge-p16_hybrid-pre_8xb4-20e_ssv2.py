# ViT-H/16 fine-tuned on Something-Something V2 from the UnlabeledHybrid pretraining.
# Recipe: official scripts/finetune/vit_h_ssv2_ft.sh:
# lr 5e-4 per 256 videos, 20 epochs (5 warmup), layer decay 0.8, drop path 0.2,
# head dropout 0.0, weight decay 0.05.
_base_ = ['./_base_/vit-huge_hybrid-pre.py', '../../_base_/datasets/ssv2_finetune.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes, dropout_ratio=0.),
             data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=_base_.videos_per_gpu)
lr_per_256 = 5e-4
lr = lr_per_256 * _base_.batch_videos / 256
max_epochs = 20
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = _base_.param_scheduler
# CosineAnnealingLR
param_scheduler[1].update(end=max_epochs, eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=max_epochs)
