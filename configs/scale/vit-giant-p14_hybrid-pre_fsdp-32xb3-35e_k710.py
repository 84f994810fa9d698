# ViT-g/14 fine-tuning on Kinetics-710 at the official scale
# (scripts/finetune/vit_g_k710_ft.sh): 32 GPUs x 3 videos (x 2 clips) = 96
# videos, lr 1e-3 per 256 videos -> 3.75e-4; FSDP FULL_SHARD, one unit per
# block, bf16, activation checkpointing per block.
_base_ = [
    '../recognition/videomaev2/vit-giant-p14_hybrid-pre_8xb3-35e_k710.py',
    '../_base_/strategies/fsdp.py',
]
batch_videos = 32 * _base_.videos_per_gpu
lr = _base_.lr_per_256 * batch_videos / 256  # warmup and minimum lr follow (relative)
model = dict(backbone=dict(with_cp=True))
optim_wrapper = dict(type='VideoMAEAmpOptimWrapper', optimizer=dict(lr=lr))  # bf16
auto_scale_lr = dict(base_batch_size=batch_videos)
