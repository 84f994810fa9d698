from .collate import repeated_clips_collate, split_repeats
from .pretrain_dataset import VideoMAEHybridPretrainDataset, VideoMAEPretrainDataset
from .recognition import RecognitionListError, VideoMAERawframeDataset, VideoMAEVideoDataset
from .samplers import SeededIndex, VideoMAESeededSampler
from .transforms import *  # noqa: F401,F403

__all__ = [
    'VideoMAEHybridPretrainDataset', 'VideoMAEPretrainDataset', 'RecognitionListError',
    'VideoMAERawframeDataset', 'VideoMAEVideoDataset', 'SeededIndex', 'VideoMAESeededSampler',
    'repeated_clips_collate', 'split_repeats'
]
