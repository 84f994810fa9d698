# ViT-g/14 fine-tuned on Kinetics-400 from the UnlabeledHybrid pretraining.
# Recipe: official scripts/finetune/vit_g_k400_ft.sh:
# lr 1e-3 per 256 videos, 30 epochs (5 warmup), layer decay 0.9, drop path 0.2,
# head dropout 0.0, weight decay 0.1.
_base_ = ['./_base_/vit-giant_hybrid-pre_kinetics.py', '../../_base_/datasets/k400_finetune.py']
model = dict(backbone=dict(drop_path_rate=0.2),
             cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=_base_.videos_per_gpu)
max_epochs = 30
param_scheduler = _base_.param_scheduler
param_scheduler[1].update(end=max_epochs)  # CosineAnnealingLR
train_cfg = dict(max_epochs=max_epochs)
