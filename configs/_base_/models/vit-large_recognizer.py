# VideoMAE V2 recognizer, ViT-L/16 (see vit-base_recognizer.py).
_base_ = ['./vit-base_recognizer.py']
num_layers = 24
model = dict(backbone=dict(arch='large'), cls_head=dict(in_channels=1024))
