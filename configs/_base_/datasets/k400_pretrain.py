# Kinetics-400 videos (labels ignored) for VideoMAE V2 pretraining:
# 16 frames at interval 4, multi-scale crop to 224 (the official 13 fixed
# positions, `more_fix_crop=True`), no flip, 4 augmented clips
# (`num_sample`) per decoded video, tube encoder mask (90%) and running-cell
# decoder mask (50%) drawn per clip in the pipeline.
dataset_type = 'VideoMAEPretrainDataset'
data_root = 'data/kinetics400/videos_train'
ann_file_train = 'data/kinetics400/kinetics400_train_list_videos.txt'

num_sample = 4  # clips per decoded video (repeated augmentation)

train_pipeline = [
    dict(type='VideoMAEInit', backends=('decord', 'pyav')),
    # A video shorter than the clip's span keeps its last frame, as officially
    # (one with fewer than clip_len frames is skipped, see VideoMAEPretrainDataset).
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1,
         out_of_bound_opt='repeat_last'),
    dict(type='VideoMAEDecode'),
    dict(
        type='VideoMAERepeatedAugment',
        num_repeats=num_sample,
        transforms=[
            dict(type='MultiScaleCrop', input_size=224, scales=(1, .875, .75, .66),
                 random_crop=False, max_wh_scale_gap=1, num_fixed_crops=13),
            dict(type='Resize', scale=(224, 224), keep_ratio=False),
            dict(type='FormatShape', input_format='NCTHW'),
        ]),
    # One encoder/decoder mask pair per clip; patch/tubelet size must match the
    # backbone (the model checks the token count).
    dict(type='VideoMAEMaskGenerator', encoder_type='tube', encoder_ratio=0.9,
         decoder_type='running_cell', decoder_ratio=0.5, cell_size=(2, 2),
         patch_size=16, tubelet_size=2),
    dict(type='PackVideoMAEInputs'),
]

# Batch size counts videos (8 per GPU, each giving 4 clips), as the official
# `batch_size` does; the learning rate is scaled by videos too (see the schedule).
# VideoMAESeededSampler: each sample's crops and masks follow from (seed, epoch,
# position), fresh every epoch and identical after --resume.
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='VideoMAESeededSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
