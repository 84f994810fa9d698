# Unlabeled hybrid pretraining data (VideoMAE V2's UnlabeledHybrid is built
# from Kinetics, Something-Something V2, AVA, WebVid and Instagram clips):
# several sources, each with its own root, list and sampling interval, one
# shared pipeline. Add or remove sources freely; lists are `path [label]`, or
# the official lists as they are with `list_format='videomaev2'` (`path 0 -1`
# for videos; raw-frame folders `dir start_index total_frames` need a source
# with `data_type='rawframes'` and a VideoMAERawFrameDecode pipeline, which
# skips unreadable frames as VideoMAEDecode skips broken videos).
_base_ = ['./k400_pretrain.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='VideoMAEHybridPretrainDataset',
        pipeline=_base_.train_pipeline,
        sources=[
            dict(ann_file='data/hybrid/kinetics_list.txt',
                 data_prefix=dict(video='data/hybrid/kinetics')),
            dict(ann_file='data/hybrid/sthv2_list.txt',
                 data_prefix=dict(video='data/hybrid/sthv2'), frame_interval=2),
            dict(ann_file='data/hybrid/ava_list.txt',
                 data_prefix=dict(video='data/hybrid/ava')),
            dict(ann_file='data/hybrid/webvid_list.txt',
                 data_prefix=dict(video='data/hybrid/webvid')),
        ]))
