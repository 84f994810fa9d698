# MAE-ST pretraining model, ViT-H/16. The released ViT-H checkpoints and
# PySlowFast's configs/masked_ssl/k400_VIT_H_16x4_MAE_PT.yaml use 2 x 16 x 16
# patches (as mae_st's fine-tuning factory vit_huge_patch14, patch_size=16);
# mae_st's pretraining factory mae_vit_huge_patch14 alone has 14 x 14.
_base_ = ['./maest_vit-base-p16.py']
model = dict(backbone=dict(arch='huge'))
