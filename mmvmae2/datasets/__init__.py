from .pretrain_dataset import VideoMAEHybridPretrainDataset, VideoMAEPretrainDataset
from .samplers import SeededIndex, VideoMAESeededSampler
from .transforms import *  # noqa: F401,F403

__all__ = [
    'VideoMAEHybridPretrainDataset', 'VideoMAEPretrainDataset', 'SeededIndex',
    'VideoMAESeededSampler'
]
