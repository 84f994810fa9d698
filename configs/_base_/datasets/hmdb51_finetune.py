# HMDB51 fine-tuning data: the Kinetics recipe (k400_finetune.py), 51
# classes, 16 frames at interval 2, 5 x 3 test views (official
# scripts/finetune/vit_g_k710_it_hmdb51_ft.sh). Official split `split` (1, 2
# or 3): change that one field here for the other splits.
_base_ = ['./k400_finetune.py']
split = 1
num_classes = 51
frame_interval = 2
data_root = 'data/hmdb51/videos'
ann_file_train = f'data/hmdb51/hmdb51_train_split_{split}_videos.txt'
ann_file_val = f'data/hmdb51/hmdb51_val_split_{split}_videos.txt'

data_preprocessor = _base_.data_preprocessor
data_preprocessor['blending']['augments'] = [
    dict(a, num_classes=num_classes) for a in data_preprocessor['blending']['augments']]
train_pipeline = _base_.train_pipeline
val_pipeline = _base_.val_pipeline
test_pipeline = _base_.test_pipeline
train_pipeline[1]['frame_interval'] = frame_interval  # SampleFrames
val_pipeline[1]['frame_interval'] = frame_interval
test_pipeline[1]['frame_interval'] = frame_interval
train_dataloader = dict(
    dataset=dict(num_classes=num_classes, ann_file=ann_file_train,
                 data_prefix=dict(video=data_root), pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(num_classes=num_classes, ann_file=ann_file_val, data_prefix=dict(video=data_root),
                 pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(num_classes=num_classes, ann_file=ann_file_val, data_prefix=dict(video=data_root),
                 pipeline=test_pipeline))
