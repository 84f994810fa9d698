from .formatting import PackVideoMAEInputs, VideoMAERepeatedAugment
from .loading import VideoMAEDecode, VideoMAEInit, VideoReadError, VideoTooShortError
from .masking import VideoMAEMaskGenerator

__all__ = [
    'PackVideoMAEInputs', 'VideoMAERepeatedAugment', 'VideoMAEDecode', 'VideoMAEInit',
    'VideoMAEMaskGenerator', 'VideoReadError', 'VideoTooShortError'
]
