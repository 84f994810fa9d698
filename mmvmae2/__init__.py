"""mmvmae2: VideoMAE V2 for MMAction2.

``import mmvmae2`` (or ``custom_imports=dict(imports=['mmvmae2'])`` in any
MMAction2 config) registers the video ViT, the pretraining decoder, head and
algorithm, the datasets and transforms into MMAction2's registries.
"""
from .compat import allow_checkpoint_metadata, install_drn_stub
from .version import __version__

install_drn_stub()  # before anything imports mmaction.models
allow_checkpoint_metadata()

from . import datasets, engine, models  # noqa: E402,F401  (registers modules)

__all__ = ['__version__']
