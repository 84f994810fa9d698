# VideoMAE V2 pretraining model, ViT-S/16 (decoder size of the V2 recipe).
_base_ = ['./videomaev2_vit-base-p16.py']
model = dict(backbone=dict(arch='small'), neck=dict(arch='small'))
