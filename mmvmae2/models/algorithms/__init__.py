from .distill import VideoMAEDistiller
from .videomae import VideoMAEPretrainer

__all__ = ['VideoMAEDistiller', 'VideoMAEPretrainer']
