# Something-Something V2 videos for pretraining: the Kinetics pipeline with
# frames sampled at interval 2 (set by `frame_interval`, not by path name).
_base_ = ['./k400_pretrain.py']

data_root = 'data/sthv2/videos'
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'

train_dataloader = dict(
    dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root), frame_interval=2))
