# ViT-H/16 fine-tuned on Kinetics-400 from the UnlabeledHybrid pretraining.
# Recipe: official scripts/finetune/vit_h_k400_ft.sh:
# lr 1e-3 per 256 videos, 40 epochs (5 warmup), layer decay 0.8, drop path 0.2,
# head dropout 0.5, weight decay 0.05.
_base_ = ['./_base_/vit-huge_hybrid-pre.py', '../../_base_/datasets/k400_finetune.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=_base_.videos_per_gpu)
