# Kinetics-400 fine-tuning data for MAE-ST (mae_st util/kinetics.py mode
# 'finetune' with the main_finetune.py / FINETUNE.md flags; main_test.py for
# the test views): the Kinetics recipe of k400_finetune.py (16 x 4 clips, 2
# augmented clips per decoded video, random resized crop 0.08-1 / 0.75-1.3333,
# flip, random erasing 0.25 pixel, mixup 0.8 / cutmix 1.0 with label
# smoothing 0.1) with MAE-ST's differences: mean / std 0.45 / 0.225 for every
# channel, RandAugment rand-m7-mstd0.5-inc1 (--aa: no `n`, so timm's 2 ops
# per clip, not 4) and 10 clips x 3 crops at test (main_test.py).
# The 2 clips of a video share their frames (the official loader draws each
# clip's start anew).
_base_ = ['./k400_finetune.py']
test_num_clips = 10
mean = [0.45 * 255] * 3
std = [0.225 * 255] * 3

data_preprocessor = dict(_base_.data_preprocessor, mean=mean, std=std)
train_pipeline = _base_.train_pipeline
clip_augment = train_pipeline[3]['transforms']  # VideoMAERepeatedAugment
assert clip_augment[0]['type'] == 'VideoMAERandAugment'
clip_augment[0]['num_layers'] = 2
assert clip_augment[-1]['type'] == 'VideoMAERandomErasing'
clip_augment[-1].update(mean=mean, std=std)  # the noise is normalized by these
test_pipeline = _base_.test_pipeline
test_pipeline[1]['num_clips'] = test_num_clips  # SampleFrames

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
