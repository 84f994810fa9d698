"""mmvmae2: VideoMAE V2 for MMAction2.

``import mmvmae2`` (or ``custom_imports=dict(imports=['mmvmae2'])`` in any
MMAction2 config) registers the video ViT, the pretraining decoder, head and
algorithm, the datasets, transforms, hooks and loops into MMAction2's
registries. Nothing else in the process changes (see README, "What importing
the plugin changes"), except a stand-in for the DRN module that the
mmaction2 1.2.0 wheel lacks.
"""
from .compat import checkpoint_loading, install_drn_stub, load_checkpoint_file
from .version import __version__

install_drn_stub()  # before anything imports mmaction.models

from . import datasets, engine, models  # noqa: E402,F401  (registers modules)

__all__ = ['__version__', 'checkpoint_loading', 'load_checkpoint_file']
