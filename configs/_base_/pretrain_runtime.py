# Runtime of the pretraining configs: checkpoints every 20 epochs (and at the
# end), the count of skipped (corrupt, missing, too short) videos in the log,
# and a check before training that data and model agree on the token grid.
_base_ = ['./default_runtime.py']
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=20, max_keep_ckpts=3, save_last=True))
custom_hooks = [dict(type='VideoMAEGeometryCheckHook'), dict(type='VideoMAESkippedVideoHook')]
