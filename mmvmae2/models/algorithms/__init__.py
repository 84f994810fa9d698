from .videomae import VideoMAEPretrainer

__all__ = ['VideoMAEPretrainer']
