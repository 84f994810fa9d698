# UCF101 fine-tuning data: the Kinetics recipe (k400_finetune.py), 101
# classes, 16 x 4 clips, 5 x 3 test views (official
# scripts/finetune/vit_g_k710_it_ucf101_ft.sh). Official split `split` (1, 2 or
# 3): change that one field here for the other splits.
_base_ = ['./k400_finetune.py']
split = 1
num_classes = 101
data_root = 'data/ucf101/videos'
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_videos.txt'

data_preprocessor = _base_.data_preprocessor
data_preprocessor['blending']['augments'] = [
    dict(a, num_classes=num_classes) for a in data_preprocessor['blending']['augments']]
train_dataloader = dict(
    dataset=dict(num_classes=num_classes,
                 ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(
    dataset=dict(num_classes=num_classes, ann_file=ann_file_val, data_prefix=dict(video=data_root)))
test_dataloader = val_dataloader
