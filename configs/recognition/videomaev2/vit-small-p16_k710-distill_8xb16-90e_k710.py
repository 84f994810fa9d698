# ViT-S/16 fine-tuned on Kinetics-710 from the model distilled on K710.
# Recipe: adapted: the ViT-B K710 recipe (vit_b_k710_ft.sh); the official ViT-S is distilled,
# not fine-tuned:
# lr 7e-4 per 256 videos, 90 epochs (5 warmup), layer decay 0.75, drop path 0.1,
# head dropout 0.0, weight decay 0.05.
_base_ = ['./_base_/vit-small_k710-distill.py', '../../_base_/datasets/k710_finetune.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
