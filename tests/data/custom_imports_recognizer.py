# An MMAction2 config that is not part of mmvmae2 and uses its backbone only
# through custom_imports (see README "Use from another config").
default_scope = 'mmaction'
custom_imports = dict(imports=['mmvmae2'], allow_failed_imports=False)
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='VideoMAEViT',
        arch=dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=192),
        img_size=32,
        num_frames=4,
        final_norm=False,
        with_fc_norm=True),
    cls_head=dict(type='TimeSformerHead', num_classes=5, in_channels=48, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
