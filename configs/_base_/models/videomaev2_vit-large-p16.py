# VideoMAE V2 pretraining model, ViT-L/16.
_base_ = ['./videomaev2_vit-base-p16.py']
model = dict(backbone=dict(arch='large'))
