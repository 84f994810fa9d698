# The official ViT-g/14 pretraining batch on one node: 8 GPUs x 32 videos x
# 8 accumulated micro-batches = 2048 videos per optimizer step, the lr of
# 2048 videos (4.8e-3); 8x the steps' time of the 64-GPU run.
# With FSDP, the micro-batches between two updates keep unsharded fp32
# gradients (MMEngine's OptimWrapper uses the wrapper's no_sync): +4 GB per
# GPU for ViT-g (docs/scaling.md).
_base_ = ['./videomaev2_vit-giant-p14_fsdp-64xb32-300e_hybrid-16x4x1.py']
accumulative_counts = 8
batch_videos = 8 * _base_.videos_per_gpu * accumulative_counts  # 2048, lr unchanged
optim_wrapper = dict(accumulative_counts=accumulative_counts)
# --auto-scale-lr counts GPUs x videos per GPU only, not accumulation.
auto_scale_lr = dict(base_batch_size=batch_videos // accumulative_counts)
