# Kinetics-400 videos for MAE-ST pretraining (mae_st util/kinetics.py, mode
# 'pretrain', with the main_pretrain.py defaults): 16 frames at interval 4, 4
# augmented clips per decoded video (--repeat_aug 4), each a random resized
# crop (area 0.5-1, aspect 0.75-1.3333: --jitter_scales_relative,
# --jitter_aspect_relative) to 224 and a horizontal flip with probability 0.5
# (train_random_horizontal_flip=True), and its own random mask: 90% of the
# tokens hidden, drawn independently per token and per clip (random_masking),
# no decoder masking (the decoder predicts every token; the loss counts the
# hidden ones). Normalization (0.45 / 0.225) is the model's data preprocessor.
# Unlike the official loader, which draws each repeat's start frame anew from
# the decoded video, the 4 clips share their frames (decoded once, as the
# VideoMAE V2 pipeline of k400_pretrain.py).
_base_ = ['./k400_pretrain.py']

crop_size = 224
train_pipeline = _base_.train_pipeline
assert train_pipeline[3]['type'] == 'VideoMAERepeatedAugment'
train_pipeline[3]['transforms'] = [
    dict(type='RandomResizedCrop', area_range=(0.5, 1.), aspect_ratio_range=(0.75, 1.3333)),
    dict(type='Resize', scale=(crop_size, crop_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
]
assert train_pipeline[-2]['type'] == 'VideoMAEMaskGenerator'
train_pipeline[-2].update(encoder_type='random', encoder_ratio=0.9, decoder_type='none')
# 2 videos per GPU (--batch_size 2, PRETRAIN.md), each giving 4 clips.
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
