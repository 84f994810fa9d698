# VideoMAE V2 pretraining model, ViT-B/16 on 16 x 224^2 clips.
# The decoder takes its size (the V2 decoder of the backbone's `arch`) and the
# token geometry from the backbone, the head its patch and tubelet size, so a
# size variant only changes `backbone.arch`.
model = dict(
    type='VideoMAEPretrainer',
    backbone=dict(
        type='VideoMAEViT',
        arch='base',
        img_size=224,
        num_frames=16,
        tubelet_size=2,
        drop_path_rate=0.,
        final_norm=True,
        out_type='raw',
        init_cfg=[
            dict(type='Xavier', layer='Linear', distribution='uniform', bias=0.),
            dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
        ]),
    neck=dict(type='VideoMAEPretrainDecoder', mode='official'),
    head=dict(type='VideoMAEPretrainHead', norm_pix='per_channel'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
