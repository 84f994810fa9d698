from .geometry_check import VideoMAEGeometryCheckHook, check_geometry
from .hooks import VideoMAESkippedVideoHook, collect_skipped
from .launch import build_runner, init_dist_without_gpu
from .loops import VideoMAEResumableTrainLoop
from .optim_constructor import VideoMAELayerDecayOptimizerConstructor
from .optim_wrapper import VideoMAEAmpOptimWrapper

__all__ = [
    'VideoMAEResumableTrainLoop', 'VideoMAESkippedVideoHook', 'VideoMAEGeometryCheckHook',
    'VideoMAEAmpOptimWrapper', 'VideoMAELayerDecayOptimizerConstructor',
    'build_runner', 'check_geometry', 'collect_skipped', 'init_dist_without_gpu'
]
