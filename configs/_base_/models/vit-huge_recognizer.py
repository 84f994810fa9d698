# VideoMAE V2 recognizer, ViT-H/16 (see vit-base_recognizer.py).
_base_ = ['./vit-base_recognizer.py']
num_layers = 32
model = dict(backbone=dict(arch='huge'), cls_head=dict(in_channels=1280))
