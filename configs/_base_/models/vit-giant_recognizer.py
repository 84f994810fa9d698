# VideoMAE V2 recognizer, ViT-g/14, 14 x 14 patches (see vit-base_recognizer.py).
_base_ = ['./vit-base_recognizer.py']
num_layers = 40
model = dict(backbone=dict(arch='giant'), cls_head=dict(in_channels=1408))
