# ViT-B/16 fine-tuned on Something-Something V1 from the UnlabeledHybrid pretraining.
# Recipe: adapted: the ViT-B SSv2 recipe (vit_b_ssv2_ft.sh):
# lr 2e-3 per 256 videos, 25 epochs (5 warmup), layer decay 0.65, drop path 0.1,
# head dropout 0.0, weight decay 0.05.
_base_ = ['./_base_/vit-base_hybrid-pre_ssv2.py', '../../_base_/datasets/ssv1_finetune.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
