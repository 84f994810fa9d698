# Something-Something V2 fine-tuning data (videos), as the official SSv2
# recipe (dataset/build.py 'SSV2': num_segment=16, clip_len=1): 16 frames
# sampled sparsely, one random frame per 1/16 of the video (MMAction2's
# UniformSample); no flip, direction carries the label; val 1 x 1; test 2
# clips (two frame offsets per segment, --test_num_segment 2) x 3 crops.
# Otherwise the Kinetics recipe (k400_finetune.py), 174 classes.
_base_ = ['./k400_finetune.py']
num_classes = 174
data_root = 'data/sthv2/videos'
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_videos.txt'
test_num_clips = 2

data_preprocessor = _base_.data_preprocessor
data_preprocessor['blending']['augments'] = [
    dict(a, num_classes=num_classes) for a in data_preprocessor['blending']['augments']]

train_pipeline = _base_.train_pipeline
train_pipeline[1] = dict(type='UniformSample', clip_len=_base_.clip_len, num_clips=1)
train_pipeline[3]['transforms'] = [
    t for t in train_pipeline[3]['transforms'] if t['type'] != 'Flip']  # VideoMAERepeatedAugment
val_pipeline = _base_.val_pipeline
val_pipeline[1] = dict(type='UniformSample', clip_len=_base_.clip_len, num_clips=1,
                       test_mode=True)
test_pipeline = _base_.test_pipeline
test_pipeline[1] = dict(type='UniformSample', clip_len=_base_.clip_len,
                        num_clips=test_num_clips, test_mode=True)

train_dataloader = dict(
    dataset=dict(num_classes=num_classes, ann_file=ann_file_train,
                 data_prefix=dict(video=data_root), pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(num_classes=num_classes, ann_file=ann_file_val, data_prefix=dict(video=data_root),
                 pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(num_classes=num_classes, ann_file=ann_file_val, data_prefix=dict(video=data_root),
                 pipeline=test_pipeline))
