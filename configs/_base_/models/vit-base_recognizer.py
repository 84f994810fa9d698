# VideoMAE V2 recognizer, ViT-B/16 on 16 x 224^2 clips, as the official
# fine-tuning model (models/modeling_finetune.py, use_mean_pooling): mean of
# the tokens -> fc_norm (no final norm over the tokens) -> dropout -> Linear.
# A size variant changes `backbone.arch`, `cls_head.in_channels` and
# `num_layers`; the data base gives the class count and the mixup/cutmix data
# preprocessor, the leaf wires them in (`cls_head.num_classes`,
# `data_preprocessor`), drop path and the starting checkpoint.
num_layers = 12  # blocks; paramwise_cfg.num_layers of the layer-wise lr decay

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='VideoMAEViT',
        arch='base',
        img_size=224,
        num_frames=16,
        tubelet_size=2,
        drop_path_rate=0.1,  # official --drop_path default
        final_norm=False,
        with_fc_norm=True,
        out_type='avg'),
    # MMAction2's UniFormerHead: dropout -> Linear as TimeSformerHead, but its
    # init_weights honours init_cfg, so a K710 leaf can load (and slice) the
    # classifier through cls_head.init_cfg.
    cls_head=dict(
        type='UniFormerHead',
        num_classes=400,
        in_channels=768,
        dropout_ratio=0.,  # official --head_drop_rate default
        # Official head init: trunc-normal(.02) scaled by --init_scale 0.001.
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5, bias=0.),
        loss_cls=dict(type='CrossEntropyLoss'),
        # Smoothing of the (mixed) one-hot targets, as timm's Mixup with
        # label_smoothing=0.1: (1 - 0.1) * mixed + 0.1 / num_classes.
        label_smooth_eps=0.1,
        # Test views are averaged after softmax (official merge(method='prob')).
        average_clips='prob'))
