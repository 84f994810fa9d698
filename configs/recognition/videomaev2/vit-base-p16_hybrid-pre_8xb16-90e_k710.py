# ViT-B/16 fine-tuned on Kinetics-710 from the UnlabeledHybrid pretraining.
# Recipe: official scripts/finetune/vit_b_k710_ft.sh:
# lr 7e-4 per 256 videos, 90 epochs (5 warmup), layer decay 0.75, drop path 0.1,
# head dropout 0.0, weight decay 0.05.
_base_ = ['./_base_/vit-base_hybrid-pre_kinetics.py', '../../_base_/datasets/k710_finetune.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
