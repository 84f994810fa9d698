# Something-Something V2 fine-tuning data for MAE-ST: the SSv2 data of
# ssv2_finetune.py (16 frames sampled uniformly, no flip, 2 x 3 test views)
# with MAE-ST's normalization and augmentation (see k400_finetune_maest.py:
# mean / std 0.45 / 0.225, RandAugment with 2 ops per clip). mae_st and
# PySlowFast's configs/masked_ssl publish no SSv2 fine-tuning recipe; the
# views are the project's SSv2 ones.
_base_ = ['./ssv2_finetune.py']
mean = [0.45 * 255] * 3
std = [0.225 * 255] * 3

data_preprocessor = dict(_base_.data_preprocessor, mean=mean, std=std)
train_pipeline = _base_.train_pipeline
clip_augment = train_pipeline[3]['transforms']  # VideoMAERepeatedAugment
assert clip_augment[0]['type'] == 'VideoMAERandAugment'
clip_augment[0]['num_layers'] = 2
assert clip_augment[-1]['type'] == 'VideoMAERandomErasing'
clip_augment[-1].update(mean=mean, std=std)

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
