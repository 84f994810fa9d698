from .hooks import SkippedVideoCounterHook, collect_skipped

__all__ = ['SkippedVideoCounterHook', 'collect_skipped']
