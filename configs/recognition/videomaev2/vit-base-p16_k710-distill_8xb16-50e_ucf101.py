# ViT-B/16 fine-tuned on UCF101 (split 1) from the model distilled on K710.
# Recipe: adapted: the ViT-g UCF101 recipe (vit_g_k710_it_ucf101_ft.sh) with the ViT-B layer
# decay and drop path:
# lr 1e-3 per 256 videos, 50 epochs (5 warmup), layer decay 0.75, drop path 0.1,
# head dropout 0.5, weight decay 0.05.
_base_ = ['./_base_/vit-base_k710-distill.py', '../../_base_/datasets/ucf101_finetune.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
lr_per_256 = 1e-3
lr = lr_per_256 * _base_.batch_videos / 256
max_epochs = 50
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = _base_.param_scheduler
# CosineAnnealingLR
param_scheduler[1].update(end=max_epochs, eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=max_epochs)
