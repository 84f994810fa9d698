# ViT-B/16 fine-tuned on Kinetics-600 from the UnlabeledHybrid pretraining.
# Recipe: adapted: the ViT-B K400 recipe (vit_b_k400_ft.sh):
# lr 7e-4 per 256 videos, 90 epochs (5 warmup), layer decay 0.75, drop path 0.1,
# head dropout 0.0, weight decay 0.05.
_base_ = ['./_base_/vit-base_hybrid-pre_kinetics.py', '../../_base_/datasets/k600_finetune.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
