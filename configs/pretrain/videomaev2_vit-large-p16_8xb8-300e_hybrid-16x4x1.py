# VideoMAE V2 dual-masking pretraining of ViT-L/16 on the unlabeled hybrid mix:
# 300 epochs x 4 clips per video, 8 GPUs x 8 videos (64 videos, 256 clips).
_base_ = [
    '../_base_/models/videomaev2_vit-large-p16.py',
    '../_base_/datasets/hybrid_pretrain.py',
    '../_base_/schedules/pretrain_adamw_cosine_300e.py',
    '../_base_/pretrain_runtime.py',
]
