# VideoMAE V2 dual-masking pretraining of ViT-g/14 on the unlabeled hybrid mix:
# 300 epochs x 4 clips per video, 8 GPUs x 8 videos (64 videos, 256 clips).
# Activation checkpointing of encoder and decoder (model base); lr 6e-4 per
# 256 videos and grad clip 0.02 (schedule base).
_base_ = [
    '../_base_/models/videomaev2_vit-giant-p14.py',
    '../_base_/datasets/hybrid_pretrain.py',
    '../_base_/schedules/pretrain_adamw_cosine_300e_giant.py',
    '../_base_/pretrain_runtime.py',
]

# Masks are drawn on the 14-pixel token grid of ViT-g.
train_pipeline = _base_.train_pipeline
assert train_pipeline[-2]['type'] == 'VideoMAEMaskGenerator'
train_pipeline[-2]['patch_size'] = 14
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
