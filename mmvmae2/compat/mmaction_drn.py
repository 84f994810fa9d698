"""Work around the mmaction2 1.2.0 wheel that lacks
``mmaction/models/localizers/drn`` although ``mmaction.models.localizers``
imports it (``No module named 'mmaction.models.localizers.drn'``).

The folder has no ``__init__.py`` in MMAction2's source tree, so packaging
leaves it out; only an editable install of a source checkout has it.

When (and only when) the sub-package is missing, stand-in modules
``mmaction.models.localizers.drn`` and ``...drn.drn`` (with proper module
specs) are put in ``sys.modules`` before ``mmaction.models`` is imported, and
their ``DRN`` is registered in MMAction2's ``MODELS`` under ``'DRN'``, the name
the real model has. Building it (a config with ``type='DRN'``) raises an
``ImportError`` that says what is missing and how to get it.
"""
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types

_DRN = 'mmaction.models.localizers.drn'
_ORIGIN = 'mmvmae2 stand-in for the missing ' + _DRN

MISSING_DRN_MESSAGE = (
    'DRN is not available: the installed mmaction2 has no sub-package '
    f'{_DRN!r} (the mmaction2 1.2.0 wheel ships without mmaction/models/localizers/drn, '
    'and a regular install from source omits it too, since the folder has no '
    '__init__.py). To use DRN, install MMAction2 from a source checkout in editable mode: '
    'git clone -b v1.2.0 https://github.com/open-mmlab/mmaction2.git && '
    'pip install -e ./mmaction2')


def _drn_is_missing() -> bool:
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return False  # no mmaction at all: nothing to patch
    return not any(
        os.path.isdir(os.path.join(root, 'models', 'localizers', 'drn'))
        for root in spec.submodule_search_locations)


class DRN:
    """Stand-in for MMAction2's DRN localizer, absent from the 1.2.0 wheel."""

    def __init__(self, *args, **kwargs):
        raise ImportError(MISSING_DRN_MESSAGE)


class _StandInLoader(importlib.abc.Loader):
    """Loader of the two stand-in modules (gives them a spec and a loader)."""

    def create_module(self, spec):
        return None  # the default module creation

    def exec_module(self, module):
        module.__doc__ = __doc__
        if module.__name__ == _DRN + '.drn':
            module.DRN = DRN
            module.__all__ = ['DRN']


def _stand_in(name: str, is_package: bool) -> types.ModuleType:
    loader = _StandInLoader()
    spec = importlib.machinery.ModuleSpec(name, loader, origin=_ORIGIN, is_package=is_package)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _register_in_mmaction() -> None:
    from mmaction.registry import MODELS  # does not import mmaction.models
    if 'DRN' not in MODELS.module_dict:  # (``MODELS.get`` would import mmaction.models)
        MODELS.register_module(name='DRN', module=DRN)


def install_drn_stub() -> bool:
    """Register the stand-in modules and the ``DRN`` stand-in model if the real
    sub-package is missing. Returns True if it did."""
    if _DRN in sys.modules or not _drn_is_missing():
        return False
    package = _stand_in(_DRN, is_package=True)
    module = _stand_in(_DRN + '.drn', is_package=False)
    package.drn = module
    sys.modules[_DRN] = package
    sys.modules[_DRN + '.drn'] = module
    _register_in_mmaction()
    return True
