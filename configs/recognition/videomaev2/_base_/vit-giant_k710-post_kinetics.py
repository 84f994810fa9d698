# Recipe base: ViT-g/14 from the K710 post-pretraining on Kinetics, the official
# K710 -> K400 recipe (scripts/finetune/vit_g_k710_it_k400_ft.sh): lr 1e-5 per 256 videos,
# 3 epochs (1 warmup), layer decay 0.9, drop path 0.25, head dropout 0.0, weight decay 0.1,
# 8 GPUs x 3 videos. The classifier starts from the K710 one; a leaf adds a dataset base,
# wires in its classes and names the class map that picks its rows.
_base_ = [
    '../../../_base_/models/vit-giant_recognizer.py',
    '../../../_base_/schedules/finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official ViT-g post-pretrained on K710
pretrained = 'checkpoints/vit_g_hybrid_pt_1200e_k710_ft.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.25, init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    # K710 classifier rows, picked by the leaf's class_map (official
    # misc/label_710to*.json; tools/data/build_k710.py writes them).
    cls_head=dict(init_cfg=dict(_delete_=True, type='VideoMAEPretrained', checkpoint=pretrained)))
videos_per_gpu = 3  # the leaf's train_dataloader.batch_size
batch_videos = 8 * videos_per_gpu
auto_scale_lr = dict(base_batch_size=batch_videos)
lr_per_256 = 1e-5
lr = lr_per_256 * batch_videos / 256
warmup_epochs = 1
max_epochs = 3
optim_wrapper = dict(
    optimizer=dict(lr=lr, weight_decay=0.1),
    paramwise_cfg=dict(num_layers=_base_.num_layers, decay_rate=0.9))
param_scheduler = _base_.param_scheduler
param_scheduler[0].update(end=warmup_epochs)  # LinearLR warmup
# CosineAnnealingLR
param_scheduler[1].update(begin=warmup_epochs, end=max_epochs,
                          eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=max_epochs)
