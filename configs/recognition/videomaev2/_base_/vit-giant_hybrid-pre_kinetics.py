# Recipe base: ViT-g/14 from the UnlabeledHybrid pretraining, the official Kinetics recipes
# (scripts/finetune/vit_g_{k400,k710}_ft.sh): lr 1e-3 per 256 videos, 5 warmup epochs,
# layer decay 0.9, head dropout 0.0, weight decay 0.1, 8 GPUs x 3 videos.
# A leaf adds a dataset base, wires in its classes and sets its epochs and drop path
# (and the K710 gradient clipping).
_base_ = [
    '../../../_base_/models/vit-giant_recognizer.py',
    '../../../_base_/schedules/finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official ViT-g pretraining (or this project's)
pretrained = 'checkpoints/vit_g_hybrid_pt_1200e.pth'
model = dict(backbone=dict(init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)))
videos_per_gpu = 3  # the leaf's train_dataloader.batch_size
batch_videos = 8 * videos_per_gpu
auto_scale_lr = dict(base_batch_size=batch_videos)
lr_per_256 = 1e-3
lr = lr_per_256 * batch_videos / 256
optim_wrapper = dict(
    optimizer=dict(lr=lr, weight_decay=0.1),
    paramwise_cfg=dict(num_layers=_base_.num_layers, decay_rate=0.9))
param_scheduler = _base_.param_scheduler
# CosineAnnealingLR
param_scheduler[1].update(eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
