# ViT-B/16 fine-tuned on UCF101 (split 1) from the model distilled on K710.
# Recipe: adapted: the ViT-g UCF101 recipe (vit_g_k710_it_ucf101_ft.sh) with the ViT-B layer
# decay and drop path:
# lr 1e-3 per 256 videos, 50 epochs (5 warmup), layer decay 0.75, drop path 0.1,
# head dropout 0.5, weight decay 0.05.
_base_ = [
    '../../_base_/models/vit-base_recognizer.py',
    '../../_base_/datasets/ucf101_finetune.py',
    '../../_base_/schedules/finetune_adamw_cosine.py',
    '../../_base_/finetune_runtime.py',
]
# official distilled ViT-B (K710 classifier)
pretrained = 'checkpoints/vit_b_k710_dl_from_giant.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(num_classes=_base_.num_classes, dropout_ratio=0.5),
    data_preprocessor=_base_.data_preprocessor)
lr_per_256 = 1e-3
lr = lr_per_256 * _base_.batch_videos / 256
optim_wrapper = dict(optimizer=dict(lr=lr), paramwise_cfg=dict(num_layers=_base_.num_layers))
param_scheduler = _base_.param_scheduler
# CosineAnnealingLR
param_scheduler[1].update(
    end=50, eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=50)
