# VideoMAE V2 ViT-g/14 AVA detector on AVA-Kinetics (v2.2 actions).
# Patch 14: 252 x 252 training crops and 252 x 448 test frames (18 x 18 and
# 18 x 32 tokens) instead of 256.
_base_ = ['../_base_/vit-giant_fastrcnn_ava.py', '../../_base_/datasets/ava_kinetics22.py']
train_pipeline = [
    dict(type='SampleAVAFrames', clip_len=16, frame_interval=4),
    dict(type='RawFrameDecode'),
    dict(type='RandomRescale', scale_range=(252, 320)),
    dict(type='RandomCrop', size=252),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='SampleAVAFrames', clip_len=16, frame_interval=4, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(448, 252), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
