from .pretrain_dataset import HybridPretrainDataset, VideoMAEPretrainDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['HybridPretrainDataset', 'VideoMAEPretrainDataset']
