from .augment import VideoMAERandAugment, VideoMAERandomErasing
from .errors import TransformError, VideoReadError, VideoTooShortError
from .formatting import PackVideoMAEInputs, VideoMAERepeatedAugment
from .loading import VideoMAEDecode, VideoMAEInit, VideoMAERawFrameDecode
from .masking import VideoMAEMaskGenerator

__all__ = [
    'PackVideoMAEInputs', 'VideoMAERepeatedAugment', 'VideoMAEDecode', 'VideoMAEInit',
    'VideoMAERawFrameDecode', 'VideoMAEMaskGenerator', 'TransformError', 'VideoReadError',
    'VideoTooShortError', 'VideoMAERandAugment', 'VideoMAERandomErasing'
]
