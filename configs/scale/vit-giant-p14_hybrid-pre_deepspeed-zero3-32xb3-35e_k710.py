# The ViT-g/14 Kinetics-710 fine-tuning of vit-giant-p14_hybrid-pre_fsdp-...
# with DeepSpeed ZeRO-3 (bf16); needs `pip install deepspeed`.
_base_ = [
    '../recognition/videomaev2/vit-giant-p14_hybrid-pre_8xb3-35e_k710.py',
    '../_base_/strategies/deepspeed_zero2.py',
]
batch_videos = 32 * _base_.videos_per_gpu
lr = _base_.lr_per_256 * batch_videos / 256  # warmup and minimum lr follow (relative)
model = dict(backbone=dict(with_cp=True))
# DeepSpeed clips, casts and scales: the wrapper only holds the optimizer
# (with the layer-wise lr decay of the recipe).
optim_wrapper = dict(
    _delete_=True,
    type='DeepSpeedOptimWrapper',
    constructor=_base_.optim_wrapper.constructor,
    optimizer=dict(_base_.optim_wrapper.optimizer, lr=lr),
    paramwise_cfg=_base_.optim_wrapper.paramwise_cfg)
strategy = dict(zero_optimization=dict(stage=3),
                gradient_clipping=_base_.optim_wrapper.clip_grad.max_norm)
auto_scale_lr = dict(base_batch_size=batch_videos)
