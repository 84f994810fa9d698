"""Work around the mmaction2 1.2.0 wheel that lacks
``mmaction/models/localizers/drn`` although ``mmaction.models.localizers``
imports it (``No module named 'mmaction.models.localizers.drn'``).

When (and only when) the sub-package is missing, a stand-in module is put in
``sys.modules`` before ``mmaction.models`` is imported. Its ``DRN`` model
raises a clear error if someone actually builds it.
"""
import importlib.util
import os
import sys
import types

_DRN = 'mmaction.models.localizers.drn'


def _drn_is_missing() -> bool:
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return False  # no mmaction at all: nothing to patch
    root = list(spec.submodule_search_locations)[0]
    return not os.path.isdir(os.path.join(root, 'models', 'localizers', 'drn'))


class DRN:
    """Stand-in for MMAction2's DRN localizer, absent from the 1.2.0 wheel."""

    def __init__(self, *args, **kwargs):
        raise ImportError('DRN is not available: the mmaction2 1.2.0 wheel ships without '
                          'mmaction/models/localizers/drn. Install mmaction2 from source '
                          '(pip install git+...mmaction2@v1.2.0) to use DRN.')


def install_drn_stub() -> bool:
    """Register the stand-in modules if needed. Returns True if it did."""
    if _DRN in sys.modules or not _drn_is_missing():
        return False
    package = types.ModuleType(_DRN)
    package.__path__ = []  # a package, so ``.drn.drn`` resolves
    package.__doc__ = __doc__
    module = types.ModuleType(_DRN + '.drn')
    module.DRN = DRN
    package.drn = module
    sys.modules[_DRN] = package
    sys.modules[_DRN + '.drn'] = module
    return True
