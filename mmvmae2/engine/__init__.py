from .geometry_check import VideoMAEGeometryCheckHook, check_geometry
from .hooks import SkippedVideoCounterHook, collect_skipped
from .launch import init_dist_without_gpu
from .loops import ResumableEpochBasedTrainLoop

__all__ = [
    'ResumableEpochBasedTrainLoop', 'SkippedVideoCounterHook', 'VideoMAEGeometryCheckHook',
    'check_geometry', 'collect_skipped', 'init_dist_without_gpu'
]
