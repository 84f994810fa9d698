"""Fixes for the pinned OpenMMLab stack, applied on ``import mmvmae2``."""
from .mmaction_drn import install_drn_stub
from .safe_load import allow_checkpoint_metadata, checkpoint_safe_globals

__all__ = ['install_drn_stub', 'allow_checkpoint_metadata', 'checkpoint_safe_globals']
