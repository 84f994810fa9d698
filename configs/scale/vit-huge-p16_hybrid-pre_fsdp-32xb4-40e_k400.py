# ViT-H/16 fine-tuning on Kinetics-400 at the official scale
# (scripts/finetune/vit_h_k400_ft.sh): 32 GPUs x 4 videos (x 2 clips) = 128
# videos, lr 1e-3 per 256 videos -> 5e-4; FSDP FULL_SHARD, one unit per
# block, bf16, activation checkpointing per block.
_base_ = [
    '../recognition/videomaev2/vit-huge-p16_hybrid-pre_8xb4-40e_k400.py',
    '../_base_/strategies/fsdp.py',
]
batch_videos = 32 * _base_.videos_per_gpu
lr = _base_.lr_per_256 * batch_videos / 256  # warmup and minimum lr follow (relative)
model = dict(backbone=dict(with_cp=True))
optim_wrapper = dict(type='VideoMAEAmpOptimWrapper', optimizer=dict(lr=lr))  # bf16
auto_scale_lr = dict(base_batch_size=batch_videos)
