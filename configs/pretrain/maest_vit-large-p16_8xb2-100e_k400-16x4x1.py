# MAE-ST pretraining of ViT-L/16 on Kinetics-400 (mae_st PRETRAIN.md): 90% random
# spacetime masking per clip, the decoder predicting 8 of the 16 frames,
# 100 epochs x 4 clips per video, 8 GPUs x 2 videos (16 videos, 64 clips).
_base_ = [
    '../_base_/models/maest_vit-large-p16.py',
    '../_base_/datasets/k400_pretrain_maest.py',
    '../_base_/schedules/maest_pretrain_adamw_cosine.py',
    '../_base_/pretrain_runtime.py',
]
