"""Fixes for the pinned OpenMMLab stack.

``install_drn_stub`` runs on ``import mmvmae2`` (a stand-in for a module the
mmaction2 1.2.0 wheel lacks). Checkpoint loading changes nothing global:
:func:`load_checkpoint_file` and the :func:`checkpoint_loading` block are
used where the plugin loads or wraps a load.
"""
from .mmaction_drn import install_drn_stub
from .safe_load import CheckpointRefusedError, checkpoint_loading, load_checkpoint_file

__all__ = [
    'install_drn_stub', 'CheckpointRefusedError', 'checkpoint_loading', 'load_checkpoint_file'
]
