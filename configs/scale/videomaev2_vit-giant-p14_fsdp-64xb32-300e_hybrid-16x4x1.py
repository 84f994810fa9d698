# VideoMAE V2 ViT-g/14 pretraining at the official scale
# (scripts/pretrain/vit_g_hybrid_pt.sh): 64 GPUs x 32 videos = 2048 videos
# (8192 clips) per step, lr 6e-4 per 256 videos -> 4.8e-3, grad clip 0.02,
# 300 epochs; FSDP FULL_SHARD, one unit per block, bf16, activation
# checkpointing of encoder and decoder (docs/scaling.md: the memory plan).
#   NNODES=8 NODE_RANK=... MASTER_ADDR=... bash tools/dist_train.sh THIS 8
#   GPUS=64 bash tools/slurm_train.sh PARTITION vit_g_pt THIS
_base_ = ['../pretrain/videomaev2_vit-giant-p14_8xb8-300e_hybrid-16x4x1.py',
          '../_base_/strategies/fsdp.py']
videos_per_gpu = 32
batch_videos = 64 * videos_per_gpu
# The warmup and minimum lr are relative to the peak (schedule base): they scale with it.
lr = 6e-4 * batch_videos / 256
train_dataloader = dict(batch_size=videos_per_gpu)
# bf16 autocast (its default dtype) with the non-finite step guard.
optim_wrapper = dict(type='VideoMAEAmpOptimWrapper', optimizer=dict(lr=lr))
auto_scale_lr = dict(base_batch_size=batch_videos)
