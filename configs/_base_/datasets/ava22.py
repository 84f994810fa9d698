# AVA v2.2 for spatio-temporal action detection, as MMAction2 1.2's AVA
# configs lay it out (tools/data/ava): raw frames at 30 fps, keyframes every
# second from 902 to 1798, 80 evaluated actions (+ background = 81 classes).
# Training boxes: ground truth (added to the proposals by the sampler);
# testing boxes: the FAIR person proposals with score >= 0.9.
# Clips: 16 frames at interval 4 around the keyframe (the VideoMAE detection
# recipe). Train: short side rescaled to 256-320, 256 x 256 crops, flip.
# Test: frames resized to 256 x 448 (height x width; AVA is mostly 16:9), no
# crop: a ViT needs sizes divisible by its patch, and the backbone resizes
# its position table to the 16 x 28 token grid.
dataset_type = 'AVADataset'
data_root = 'data/ava/rawframes'
anno_root = 'data/ava/annotations'
ann_file_train = f'{anno_root}/ava_train_v2.2.csv'
ann_file_val = f'{anno_root}/ava_val_v2.2.csv'
exclude_file_train = f'{anno_root}/ava_train_excluded_timestamps_v2.2.csv'
exclude_file_val = f'{anno_root}/ava_val_excluded_timestamps_v2.2.csv'
label_file = f'{anno_root}/ava_action_list_v2.2_for_activitynet_2019.pbtxt'
proposal_file_train = f'{anno_root}/ava_dense_proposals_train.FAIR.recall_93.9.pkl'
proposal_file_val = f'{anno_root}/ava_dense_proposals_val.FAIR.recall_93.9.pkl'
num_classes = 81
clip_len = 16
frame_interval = 4
crop_size = 256
test_scale = (448, 256)  # (width, height)

train_pipeline = [
    dict(type='SampleAVAFrames', clip_len=clip_len, frame_interval=frame_interval),
    dict(type='RawFrameDecode'),
    dict(type='RandomRescale', scale_range=(256, 320)),
    dict(type='RandomCrop', size=crop_size),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='SampleAVAFrames', clip_len=clip_len, frame_interval=frame_interval,
         test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=test_scale, keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train, exclude_file=exclude_file_train,
                 pipeline=train_pipeline, label_file=label_file,
                 proposal_file=proposal_file_train, num_classes=num_classes,
                 data_prefix=dict(img=data_root)))
val_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val, exclude_file=exclude_file_val,
                 pipeline=val_pipeline, label_file=label_file, proposal_file=proposal_file_val,
                 num_classes=num_classes, data_prefix=dict(img=data_root), test_mode=True))
test_dataloader = val_dataloader
# Frame mAP at IoU 0.5 over the label map's actions.
val_evaluator = dict(type='AVAMetric', ann_file=ann_file_val, label_file=label_file,
                     exclude_file=exclude_file_val, num_classes=num_classes)
test_evaluator = val_evaluator
