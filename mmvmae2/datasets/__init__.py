from .pretrain_dataset import HybridPretrainDataset, VideoMAEPretrainDataset
from .samplers import SeededIndex, SeededSampler
from .transforms import *  # noqa: F401,F403

__all__ = ['HybridPretrainDataset', 'VideoMAEPretrainDataset', 'SeededIndex', 'SeededSampler']
