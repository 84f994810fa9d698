# ViT-g/14 fine-tuned on Kinetics-710 from the UnlabeledHybrid pretraining.
# Recipe: official scripts/finetune/vit_g_k710_ft.sh:
# lr 1e-3 per 256 videos, 35 epochs (5 warmup), layer decay 0.9, drop path 0.3,
# head dropout 0.0, weight decay 0.1, gradient clipping 5.0.
_base_ = [
    '../../_base_/models/vit-giant_recognizer.py',
    '../../_base_/datasets/k710_finetune.py',
    '../../_base_/schedules/finetune_adamw_cosine.py',
    '../../_base_/finetune_runtime.py',
]
# official ViT-g pretraining (or this project's)
pretrained = 'checkpoints/vit_g_hybrid_pt_1200e.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.3, init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(num_classes=_base_.num_classes),
    data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=3)
batch_videos = 8 * 3
auto_scale_lr = dict(base_batch_size=batch_videos)
lr_per_256 = 1e-3
lr = lr_per_256 * batch_videos / 256
optim_wrapper = dict(
    optimizer=dict(lr=lr, weight_decay=0.1),
    paramwise_cfg=dict(num_layers=_base_.num_layers, decay_rate=0.9),
    clip_grad=dict(max_norm=5.0))
param_scheduler = _base_.param_scheduler
# CosineAnnealingLR
param_scheduler[1].update(
    end=35, eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=35)
