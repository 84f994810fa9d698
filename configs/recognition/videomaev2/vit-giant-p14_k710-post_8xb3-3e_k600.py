# ViT-g/14 fine-tuned on Kinetics-600 from the K710 post-pretraining.
# Recipe: official scripts/finetune/vit_g_k710_it_k600_ft.sh:
# lr 1e-5 per 256 videos, 3 epochs (1 warmup), layer decay 0.9, drop path 0.25,
# head dropout 0.0, weight decay 0.1.
_base_ = [
    '../../_base_/models/vit-giant_recognizer.py',
    '../../_base_/datasets/k600_finetune.py',
    '../../_base_/schedules/finetune_adamw_cosine.py',
    '../../_base_/finetune_runtime.py',
]
# official ViT-g post-pretrained on K710
pretrained = 'checkpoints/vit_g_hybrid_pt_1200e_k710_ft.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.25, init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(
        num_classes=_base_.num_classes,
        # K710 classifier rows picked by the 710 -> 600 map (official
        # misc/label_710to600.json; tools/data/build_k710.py writes it).
        init_cfg=dict(_delete_=True, type='VideoMAEPretrained', checkpoint=pretrained,
                      class_map='data/kinetics710/label_710to600.json')),
    data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=3)
batch_videos = 8 * 3
auto_scale_lr = dict(base_batch_size=batch_videos)
lr_per_256 = 1e-5
lr = lr_per_256 * batch_videos / 256
optim_wrapper = dict(
    optimizer=dict(lr=lr, weight_decay=0.1),
    paramwise_cfg=dict(num_layers=_base_.num_layers, decay_rate=0.9))
param_scheduler = _base_.param_scheduler
param_scheduler[0].update(end=1)  # LinearLR warmup
# CosineAnnealingLR
param_scheduler[1].update(
    begin=1, end=3, eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=3)
