# VideoMAE V2 AVA detector, ViT-B/16, structured as MMAction2 1.2's own
# detection/videomae/vit-*_ava-kinetics configs so that only the backbone
# differs: MMDetection's FastRCNN (no RPN; boxes come from the data) with
# MMAction2's AVARoIHead. The ViT returns its tokens as a (B, C, T', H', W')
# feature map (out_type='featmap'); SingleRoIExtractor3D averages it over time
# (with_temporal_pool) and RoIAligns 8 x 8 per person box; BBoxHeadAVA pools
# and applies a linear multi-label (sigmoid) classifier.
# Recipe (MMAction2 VideoMAE ViT-B AVA config): AdamW lr 1.25e-4 for 8 x 8
# clips, weight decay 0.05, layer-wise lr decay 0.75, drop path 0.2, grad
# clip 40, 20 epochs (5 linear warmup from 0.1x, then cosine).
# A size leaf changes `arch`, `in_channels`, `num_layers`, drop path, decay.
_base_ = ['../../_base_/default_runtime.py']
num_layers = 12  # blocks; paramwise_cfg.num_layers of the layer-wise lr decay
embed_dims = 768
# The backbone starts from a VideoMAE checkpoint in any layout
# (VideoMAEPretrained): this project's or the official pretraining, a
# Kinetics fine-tuned recognizer, a converted official one.
pretrained = 'checkpoints/vit_b_k710_dl_from_giant.pth'

model = dict(
    type='FastRCNN',
    _scope_='mmdet',
    backbone=dict(
        type='mmaction.VideoMAEViT',
        arch='base',
        img_size=224,
        num_frames=16,
        tubelet_size=2,
        drop_path_rate=0.2,
        final_norm=True,
        out_type='featmap',
        init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    roi_head=dict(
        type='AVARoIHead',
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor3D',
            roi_layer_type='RoIAlign',
            output_size=8,
            with_temporal_pool=True),
        bbox_head=dict(
            type='BBoxHeadAVA',
            background_class=True,
            in_channels=embed_dims,
            num_classes=81,
            multilabel=True,
            dropout_ratio=0.5)),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        _scope_='mmaction',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'),
    train_cfg=dict(
        rcnn=dict(
            assigner=dict(type='MaxIoUAssignerAVA', pos_iou_thr=0.9, neg_iou_thr=0.9,
                          min_pos_iou=0.9),
            sampler=dict(type='RandomSampler', num=32, pos_fraction=1, neg_pos_ub=-1,
                         add_gt_as_proposals=True),
            pos_weight=1.0)),
    test_cfg=dict(rcnn=None))

max_epochs = 20
warmup_epochs = 5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1,
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1.25e-4, weight_decay=0.05),
    constructor='LearningRateDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.75, decay_type='layer_wise', num_layers=num_layers),
    clip_grad=dict(max_norm=40, norm_type=2))
default_hooks = dict(checkpoint=dict(max_keep_ckpts=2))
# 8 GPUs x 8 clips
auto_scale_lr = dict(enable=False, base_batch_size=64)
