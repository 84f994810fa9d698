# Kinetics-710 fine-tuning data (K400 + K600 + K700 merged by
# tools/data/build_k710.py): the Kinetics-400 recipe
# (k400_finetune.py) with 710 classes.
_base_ = ['./k400_finetune.py']
num_classes = 710
# The lists of tools/data/build_k710.py --out-dir data/kinetics710 hold paths
# like kinetics400/train/<id>_<start>_<end>.mp4, relative to data/.
data_root = 'data'
data_root_val = 'data'
ann_file_train = 'data/kinetics710/k710_train.txt'
ann_file_val = 'data/kinetics710/k710_val.txt'

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
