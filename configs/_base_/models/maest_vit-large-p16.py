# MAE-ST pretraining model, ViT-L/16 (mae_st mae_vit_large_patch16).
_base_ = ['./maest_vit-base-p16.py']
model = dict(backbone=dict(arch='large'))
