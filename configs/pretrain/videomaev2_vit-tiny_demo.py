# CPU demo of VideoMAE V2 dual-masking pretraining (`make demo`): a tiny ViT
# on the synthetic videos of `tools/make_demo_data.py data/demo`, 8 frames of
# 64 x 64 at interval 2, 8 x 8 patches -> 4 x 8 x 8 = 256 tokens, 90% tube
# masking (28 visible tokens), running-cell decoder masking (128 kept).
# Everything else (pipeline, optimizer, schedule shape) is the real recipe.
_base_ = [
    '../_base_/models/videomaev2_vit-base-p16.py',
    '../_base_/datasets/k400_pretrain.py',
    '../_base_/schedules/pretrain_adamw_cosine.py',
    '../_base_/pretrain_runtime.py',
]

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=192, num_layers=4, num_heads=3,
                  feedforward_channels=768),
        img_size=64, patch_size=8, num_frames=8),
    neck=dict(arch=dict(_delete_=True, embed_dims=96, num_heads=3, num_layers=2)))

data_root = 'data/demo'
train_pipeline = _base_.train_pipeline
train_pipeline[1].update(clip_len=8, frame_interval=2)  # SampleFrames
train_pipeline[3]['transforms'][0]['input_size'] = 64  # MultiScaleCrop
train_pipeline[3]['transforms'][1]['scale'] = (64, 64)  # Resize
assert train_pipeline[-2]['type'] == 'VideoMAEMaskGenerator'
train_pipeline[-2]['patch_size'] = 8
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(
        ann_file=f'{data_root}/train_list.txt',
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))

# 8 videos / 2 per batch = 4 iterations per epoch; 80 epochs (320 steps) take
# about half a minute on 2 CPU cores. At this tiny batch (8 clips) a peak lr of
# 3e-4 to 7e-4 leaves the initial plateau (loss ~1: predicting each patch's
# mean) within ~20-30 epochs; 1e-3 and up stay there much longer (1.5e-3 did
# not leave it in 50 epochs). The loss then falls to about 0.6-0.65 on the demo
# videos (data seeds 0-2): from the 10% of tokens it sees, the model infers how
# the scene is lit and predicts the shading of the hidden patches. Longer
# schedules gain little here.
max_epochs = 80
warmup_epochs = 5
# Plain fp32 steps: the recipe's AmpOptimWrapper (fp16 autocast) needs a GPU.
optim_wrapper = dict(_base_.optim_wrapper, _delete_=True, type='OptimWrapper')
optim_wrapper.pop('loss_scale')
optim_wrapper['optimizer'] = dict(optim_wrapper['optimizer'], lr=5e-4)
param_scheduler = _base_.param_scheduler
param_scheduler[0].update(start_factor=1e-2, end=warmup_epochs)  # LinearLR warmup
param_scheduler[1].update(begin=warmup_epochs, end=max_epochs)  # CosineAnnealingLR
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs + 1)
default_hooks = dict(
    logger=dict(interval=4),
    checkpoint=dict(interval=10, max_keep_ckpts=2, save_last=True))
log_processor = dict(window_size=4)
env_cfg = dict(dist_cfg=dict(backend='gloo'))  # the demo runs on CPU, also with dist_train.sh
randomness = dict(seed=0)
