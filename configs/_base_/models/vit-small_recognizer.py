# VideoMAE V2 recognizer, ViT-S/16 (see vit-base_recognizer.py).
_base_ = ['./vit-base_recognizer.py']
num_layers = 12
model = dict(backbone=dict(arch='small'), cls_head=dict(in_channels=384))
