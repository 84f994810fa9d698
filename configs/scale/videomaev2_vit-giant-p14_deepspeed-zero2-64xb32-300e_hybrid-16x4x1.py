# The ViT-g/14 pretraining of videomaev2_vit-giant-p14_fsdp-64xb32-... with
# DeepSpeed ZeRO-2 (bf16) instead of FSDP; needs `pip install deepspeed`.
_base_ = [
    '../pretrain/videomaev2_vit-giant-p14_8xb8-300e_hybrid-16x4x1.py',
    '../_base_/strategies/deepspeed_zero2.py',
]
videos_per_gpu = 32
batch_videos = 64 * videos_per_gpu
lr = 6e-4 * batch_videos / 256  # warmup and minimum lr follow (relative)
train_dataloader = dict(batch_size=videos_per_gpu)
# DeepSpeed clips, casts and scales: the wrapper only holds the optimizer.
optim_wrapper = dict(
    _delete_=True,
    type='DeepSpeedOptimWrapper',
    optimizer=dict(_base_.optim_wrapper.optimizer, lr=lr),
    paramwise_cfg=_base_.optim_wrapper.paramwise_cfg)
strategy = dict(gradient_clipping=_base_.optim_wrapper.clip_grad.max_norm)
auto_scale_lr = dict(base_batch_size=batch_videos)
