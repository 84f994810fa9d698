from .formatting import PackVideoMAEInputs, RepeatedAugment
from .loading import VideoDecode, VideoInit, VideoReadError, VideoTooShortError
from .masking import VideoMAEMaskGenerator

__all__ = [
    'PackVideoMAEInputs', 'RepeatedAugment', 'VideoDecode', 'VideoInit', 'VideoMAEMaskGenerator',
    'VideoReadError', 'VideoTooShortError'
]
