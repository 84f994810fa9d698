# Recipe base: ViT-H/16 from the UnlabeledHybrid pretraining, the official Kinetics recipe
# (scripts/finetune/vit_h_{k400,k600,k710}_ft.sh): lr 1e-3 per 256 videos, 40 epochs
# (5 warmup), layer decay 0.8, drop path 0.2, head dropout 0.5, weight decay 0.05,
# 8 GPUs x 4 videos. A leaf adds a dataset base and wires in its classes; the SSv2 leaf
# sets its own lr, epochs and head dropout.
_base_ = [
    '../../../_base_/models/vit-huge_recognizer.py',
    '../../../_base_/schedules/finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official ViT-H pretraining (or this project's)
pretrained = 'checkpoints/vit_h_hybrid_pt_1200e.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.2, init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(dropout_ratio=0.5))
videos_per_gpu = 4  # the leaf's train_dataloader.batch_size
batch_videos = 8 * videos_per_gpu
auto_scale_lr = dict(base_batch_size=batch_videos)
lr_per_256 = 1e-3
lr = lr_per_256 * batch_videos / 256
max_epochs = 40
optim_wrapper = dict(
    optimizer=dict(lr=lr), paramwise_cfg=dict(num_layers=_base_.num_layers, decay_rate=0.8))
param_scheduler = _base_.param_scheduler
# CosineAnnealingLR
param_scheduler[1].update(end=max_epochs, eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=max_epochs)
