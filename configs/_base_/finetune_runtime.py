# Runtime of the fine-tuning configs: a checkpoint every 5 epochs (the last 3
# kept) plus the best one by 1-clip validation top-1.
_base_ = ['./default_runtime.py']
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=3, save_best='auto'))
