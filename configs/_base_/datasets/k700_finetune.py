# Kinetics-700 fine-tuning data: the Kinetics-400 recipe
# (k400_finetune.py) with 700 classes.
_base_ = ['./k400_finetune.py']
num_classes = 700
data_root = 'data/kinetics700/videos_train'
data_root_val = 'data/kinetics700/videos_val'
ann_file_train = 'data/kinetics700/kinetics700_train_list_videos.txt'
ann_file_val = 'data/kinetics700/kinetics700_val_list_videos.txt'

data_preprocessor = _base_.data_preprocessor
data_preprocessor['blending']['augments'] = [
    dict(a, num_classes=num_classes) for a in data_preprocessor['blending']['augments']]
train_dataloader = dict(
    dataset=dict(num_classes=num_classes,
                 ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(
    dataset=dict(num_classes=num_classes,
                 ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
test_dataloader = val_dataloader
