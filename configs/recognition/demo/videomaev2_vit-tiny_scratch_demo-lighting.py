# The fine-tuning demo from random initialization (the official fine-tuning
# ViT's: truncated normal Linear layers, unit LayerNorms): same model, data,
# schedule and seed as videomaev2_vit-tiny_demo-pretrained_demo-lighting.py.
_base_ = ['./videomaev2_vit-tiny_demo-pretrained_demo-lighting.py']

model = dict(
    backbone=dict(init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    ]))
