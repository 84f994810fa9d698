# VideoMAE V2 pretraining model, ViT-H/16, with activation checkpointing of
# encoder and decoder.
_base_ = ['./videomaev2_vit-base-p16.py']
model = dict(backbone=dict(arch='huge', with_cp=True), neck=dict(with_cp=True))
