from .hooks import SkippedVideoCounterHook, collect_skipped
from .launch import init_dist_without_gpu

__all__ = ['SkippedVideoCounterHook', 'collect_skipped', 'init_dist_without_gpu']
