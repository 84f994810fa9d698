# ViT-L/16 fine-tuned on Something-Something V2 from the UnlabeledHybrid pretraining.
# Recipe: official scripts/finetune/vit_l_ssv2_ft.sh:
# lr 5e-4 per 256 videos, 20 epochs (5 warmup), layer decay 0.75, drop path 0.2,
# head dropout 0.0, weight decay 0.05.
_base_ = [
    '../../_base_/models/vit-large_recognizer.py',
    '../../_base_/datasets/ssv2_finetune.py',
    '../../_base_/schedules/finetune_adamw_cosine.py',
    '../../_base_/finetune_runtime.py',
]
# official ViT-L pretraining (or this project's)
pretrained = 'checkpoints/vit_l_hybrid_pt_1200e.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.2, init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(num_classes=_base_.num_classes),
    data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=6)
batch_videos = 8 * 6
auto_scale_lr = dict(base_batch_size=batch_videos)
lr_per_256 = 5e-4
lr = lr_per_256 * batch_videos / 256
optim_wrapper = dict(optimizer=dict(lr=lr), paramwise_cfg=dict(num_layers=_base_.num_layers))
param_scheduler = _base_.param_scheduler
# CosineAnnealingLR
param_scheduler[1].update(
    end=20, eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=20)
