# Recipe base: ViT-g/14 from the UnlabeledHybrid pretraining, the official SSv2 recipe
# (scripts/finetune/vit_g_ssv2_ft.sh): lr 3e-4 per 256 videos, 20 epochs (5 warmup),
# layer decay 0.9, drop path 0.25, head dropout 0.0, weight decay 0.05, 8 GPUs x 3 videos.
# A leaf adds a dataset base and wires in its classes.
_base_ = [
    '../../../_base_/models/vit-giant_recognizer.py',
    '../../../_base_/schedules/finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official ViT-g pretraining (or this project's)
pretrained = 'checkpoints/vit_g_hybrid_pt_1200e.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.25, init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)))
videos_per_gpu = 3  # the leaf's train_dataloader.batch_size
batch_videos = 8 * videos_per_gpu
auto_scale_lr = dict(base_batch_size=batch_videos)
lr_per_256 = 3e-4
lr = lr_per_256 * batch_videos / 256
max_epochs = 20
optim_wrapper = dict(
    optimizer=dict(lr=lr), paramwise_cfg=dict(num_layers=_base_.num_layers, decay_rate=0.9))
param_scheduler = _base_.param_scheduler
# CosineAnnealingLR
param_scheduler[1].update(end=max_epochs, eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=max_epochs)
