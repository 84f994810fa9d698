# Kinetics-400 fine-tuning data, as the official VideoClsDataset
# (OpenGVLab/VideoMAEv2 dataset/datasets.py, run_class_finetuning.py defaults):
# train: one 16 x 4 clip per video, decoded once and augmented `num_sample` (2)
# times: RandAugment m7 n4 (the same ops on every frame), random resized crop
# (area 0.08-1, aspect 3/4-4/3) to 224, flip, random erasing 0.25 (pixel);
# val: 1 centre clip x 1 centre crop (short side 224); test: 5 clips x 3
# crops, softmax-averaged (the head's average_clips='prob').
# Mixup 0.8 / cutmix 1.0 (one of them per batch, as timm's Mixup with
# switch_prob 0.5) run in the data preprocessor: leaves set
# `model.data_preprocessor = _base_.data_preprocessor` and
# `model.cls_head.num_classes = _base_.num_classes`.
dataset_type = 'VideoMAEVideoDataset'
num_classes = 400
data_root = 'data/kinetics400/videos_train'
data_root_val = 'data/kinetics400/videos_val'
ann_file_train = 'data/kinetics400/kinetics400_train_list_videos.txt'
ann_file_val = 'data/kinetics400/kinetics400_val_list_videos.txt'
ann_file_test = ann_file_val

clip_len = 16
frame_interval = 4
crop_size = 224
num_sample = 2  # official --num_sample: augmented clips per decoded video
test_num_clips = 5  # official --test_num_segment

data_preprocessor = dict(
    type='ActionDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    format_shape='NCTHW',
    blending=dict(
        type='RandomBatchAugment',
        augments=[
            dict(type='MixupBlending', alpha=.8, num_classes=num_classes),
            dict(type='CutmixBlending', alpha=1., num_classes=num_classes),
        ]))

# Each repeat: its own RandAugment ops, crop, flip and erasing of the same frames.
clip_augment = [
    dict(type='VideoMAERandAugment', magnitude=7, num_layers=4),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.), aspect_ratio_range=(3 / 4, 4 / 3)),
    dict(type='Resize', scale=(crop_size, crop_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='VideoMAERandomErasing', erase_prob=0.25, mode='pixel'),
]
# A video shorter than the clip span holds its last frame, as officially.
train_pipeline = [
    dict(type='VideoMAEInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1,
         out_of_bound_opt='repeat_last'),
    dict(type='VideoMAEDecode'),
    dict(type='VideoMAERepeatedAugment', num_repeats=num_sample, transforms=clip_augment),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='VideoMAEInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1,
         test_mode=True, out_of_bound_opt='repeat_last'),
    dict(type='VideoMAEDecode'),
    dict(type='Resize', scale=(-1, crop_size)),
    dict(type='CenterCrop', crop_size=crop_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='VideoMAEInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval,
         num_clips=test_num_clips, test_mode=True, out_of_bound_opt='repeat_last'),
    dict(type='VideoMAEDecode'),
    dict(type='Resize', scale=(-1, crop_size)),
    dict(type='ThreeCrop', crop_size=crop_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]

# batch_size counts videos (each gives `num_sample` clips), as the official
# --batch_size; the collate function makes every clip a sample of its own
# with the video's label (official multiple_samples_collate), so mixup and
# the loss see 2 x batch_size clips.
train_dataloader = dict(
    batch_size=16,
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='VideoMAERepeatedCollate', num_repeats=num_sample),
    dataset=dict(
        type=dataset_type,
        num_classes=num_classes,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        num_classes=num_classes,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root_val),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        num_classes=num_classes,
        ann_file=ann_file_test,
        data_prefix=dict(video=data_root_val),
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = dict(
    type='AccMetric',
    metric_list=('top_k_accuracy', 'mean_class_accuracy'),
    metric_options=dict(top_k_accuracy=dict(topk=(1, 5))))
test_evaluator = val_evaluator
