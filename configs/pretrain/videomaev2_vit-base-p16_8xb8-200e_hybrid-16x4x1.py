# VideoMAE V2 dual-masking pretraining of ViT-B/16 on the unlabeled hybrid mix:
# 200 epochs x 4 clips per video, 8 GPUs x 8 videos (64 videos, 256 clips).
_base_ = [
    '../_base_/models/videomaev2_vit-base-p16.py',
    '../_base_/datasets/hybrid_pretrain.py',
    '../_base_/schedules/pretrain_adamw_cosine.py',
    '../_base_/pretrain_runtime.py',
]
