# CPU demo of fine-tuning (`make demo-finetune`, tools/demo_finetune.py): the
# tiny ViT of `make demo` (configs/pretrain/videomaev2_vit-tiny_demo.py),
# initialized from its demo pretraining checkpoint, learns from which side the
# labeled demo videos are lit (`tools/make_demo_data.py data/demo/lighting
# --labeled`: 4 classes, light right of / below / left of / above the frame;
# 64 train and 32 val videos), what the pretraining learned to infer from the
# few tokens its encoder sees. The same run from random initialization:
# videomaev2_vit-tiny_scratch_demo-lighting.py.
_base_ = ['../../_base_/default_runtime.py']

num_classes = 4
pretrained = 'work_dirs/videomaev2_vit-tiny_demo/epoch_80.pth'
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='VideoMAEViT',
        arch=dict(embed_dims=192, num_layers=4, num_heads=3, feedforward_channels=768),
        img_size=64,
        patch_size=8,
        num_frames=8,
        tubelet_size=2,
        drop_path_rate=0.1,
        final_norm=False,
        with_fc_norm=True,
        out_type='avg',
        # The encoder of the pretraining checkpoint; its decoder and final
        # `norm` are left out (fc_norm replaces the norm, as officially).
        init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(type='TimeSformerHead', num_classes=num_classes, in_channels=192,
                  average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))

# 8 frames at interval 2 (the pretraining clip), the pretraining demo's crops
# (multi-scale to 64 x 64). No flip: it would move the light to the other side.
dataset_type = 'VideoMAEVideoDataset'
data_root = 'data/demo/lighting'
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='MultiScaleCrop', input_size=64, scales=(1, .875, .75, .66), random_crop=False,
         max_wh_scale_gap=1),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=f'{data_root}/train_list.txt',
                 data_prefix=dict(video=data_root), pipeline=train_pipeline,
                 num_classes=num_classes))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=f'{data_root}/val_list.txt',
                 data_prefix=dict(video=data_root), pipeline=val_pipeline, test_mode=True,
                 num_classes=num_classes))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'),
                     metric_options=dict(top_k_accuracy=dict(topk=(1, 2))))
test_evaluator = val_evaluator

# 64 videos / 8 per batch = 8 iterations per epoch; 6 epochs (48 steps, about
# 20 s on 2 CPU cores). AdamW as the fine-tuning recipe (no weight decay on
# norms, biases, position table); plain fp32 steps. The schedule is short on
# purpose: the demo shows how much faster a pretrained encoder learns (from
# scratch the model gets there too, but needs more steps). At lr 1e-3 the
# pretrained run lost half of what it had after the warmup epoch before
# recovering (data seeds 0-3: 72-84% after epoch 1, 50-66% at the peak lr).
max_epochs = 6
warmup_epochs = 1
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2.5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(flat_decay_mult=0., custom_keys={'pos_embed': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(
    logger=dict(interval=8),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
log_processor = dict(window_size=8)
env_cfg = dict(dist_cfg=dict(backend='gloo'))  # the demo runs on CPU
randomness = dict(seed=0)
