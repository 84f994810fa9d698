# Something-Something V1 fine-tuning data (raw JPEG frames, `00001.jpg`...),
# the Something-Something V2 recipe (ssv2_finetune.py: sparse 16 frames, no
# flip, 2 x 3 test views), 174 classes; frames read by VideoMAERawFrameDecode.
_base_ = ['./ssv2_finetune.py']
dataset_type = 'VideoMAERawframeDataset'
data_root = 'data/sthv1/rawframes'
ann_file_train = 'data/sthv1/sthv1_train_list_rawframes.txt'
ann_file_val = 'data/sthv1/sthv1_val_list_rawframes.txt'
filename_tmpl = '{:05}.jpg'

train_pipeline = _base_.train_pipeline[1:]  # no VideoMAEInit: a frame folder
train_pipeline[1] = dict(type='VideoMAERawFrameDecode')
val_pipeline = _base_.val_pipeline[1:]
val_pipeline[1] = dict(type='VideoMAERawFrameDecode')
test_pipeline = _base_.test_pipeline[1:]
test_pipeline[1] = dict(type='VideoMAERawFrameDecode')

# MMAction2's sthv1 layout: frames numbered from 1.
train_dataloader = dict(
    dataset=dict(type=dataset_type, ann_file=ann_file_train, filename_tmpl=filename_tmpl,
                 start_index=1, data_prefix=dict(_delete_=True, img=data_root),
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, ann_file=ann_file_val, filename_tmpl=filename_tmpl,
                 start_index=1, data_prefix=dict(_delete_=True, img=data_root),
                 pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(type=dataset_type, ann_file=ann_file_val, filename_tmpl=filename_tmpl,
                 start_index=1, data_prefix=dict(_delete_=True, img=data_root),
                 pipeline=test_pipeline))
