# Recipe base: ViT-H/16 from MAE-ST's Kinetics-400 pretraining (the released
# mae_pretrain_vit_huge_k400.pth of mae_st README.md). mae_st gives no ViT-H
# fine-tuning command; this is PySlowFast's configs/masked_ssl/
# k400_VIT_H_16x4_FT.yaml: 75 epochs (5 warmup), layer decay 0.8, drop path
# 0.2, head dropout 0.5, weight decay 0.05, gradient clipping 5, min lr 1e-6,
# and BASE_LR 3e-4 for 8 GPUs x 2 videos x 1 clip (TRAIN.BATCH_SIZE 16,
# AUG.NUM_SAMPLE 1): 4.8e-3 per 256 clips, applied here to the 2 clips per
# video of the data base (lr 6e-4 at 8 GPUs x 2 videos).
# A leaf adds a dataset base and wires in its classes.
_base_ = [
    '../../../_base_/models/maest_vit-huge_recognizer.py',
    '../../../_base_/schedules/maest_finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official MAE-ST pretraining (or this project's), read by the 'maest_pretrain' converter
pretrained = 'checkpoints/mae_pretrain_vit_huge_k400.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.2, init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(dropout_ratio=0.5))
blr = 4.8e-3
lr = blr * _base_.batch_videos * _base_.clips_per_video / 256
max_epochs = 75
optim_wrapper = dict(
    optimizer=dict(lr=lr), paramwise_cfg=dict(num_layers=_base_.num_layers, decay_rate=0.8))
param_scheduler = _base_.param_scheduler
param_scheduler[1]['end'] = max_epochs  # CosineAnnealingLR
train_cfg = dict(max_epochs=max_epochs)
