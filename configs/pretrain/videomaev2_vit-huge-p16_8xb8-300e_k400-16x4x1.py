# VideoMAE V2 dual-masking pretraining of ViT-H/16 on Kinetics-400:
# 300 epochs x 4 clips per video, 8 GPUs x 8 videos (64 videos, 256 clips).
# Activation checkpointing of encoder and decoder (model base).
_base_ = [
    '../_base_/models/videomaev2_vit-huge-p16.py',
    '../_base_/datasets/k400_pretrain.py',
    '../_base_/schedules/pretrain_adamw_cosine_300e.py',
    '../_base_/pretrain_runtime.py',
]
