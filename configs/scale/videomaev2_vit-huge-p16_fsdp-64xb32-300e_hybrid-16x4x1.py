# VideoMAE V2 ViT-H/16 pretraining at the official scale
# (scripts/pretrain/vit_h_hybrid_pt.sh): 64 GPUs x 32 videos = 2048 videos
# per step, lr 1e-3 per 256 videos -> 8e-3, 300 epochs; FSDP FULL_SHARD, one
# unit per block, bf16, activation checkpointing of encoder and decoder.
_base_ = ['../pretrain/videomaev2_vit-huge-p16_8xb8-300e_hybrid-16x4x1.py',
          '../_base_/strategies/fsdp.py']
videos_per_gpu = 32
batch_videos = 64 * videos_per_gpu
lr = 1e-3 * batch_videos / 256  # warmup and minimum lr follow (relative)
train_dataloader = dict(batch_size=videos_per_gpu)
optim_wrapper = dict(type='VideoMAEAmpOptimWrapper', optimizer=dict(lr=lr))  # bf16
auto_scale_lr = dict(base_batch_size=batch_videos)
