"""Checkpoint loading under torch >= 2.6 (``weights_only=True`` by default).

mmengine 0.10.7 writes a few non-tensor types into its checkpoints (its
``HistoryBuffer`` and numpy arrays / scalars in the message hub), so its own
``load_checkpoint`` and ``--resume`` fail with ``Unsupported global``.
Instead of loading with ``weights_only=False`` (which lets a malicious pickle
run code), the exact types mmengine writes are allow-listed for torch's
restricted unpickler. Anything else is still refused. Loading a file you
trust without restrictions stays an explicit opt-in through torch's own
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``.
"""
import argparse
import collections
import pickle
from typing import List

import numpy as np
import torch


def _numpy_types() -> List:
    types = [np.ndarray, np.dtype]
    try:  # numpy >= 1.25 keeps its dtype classes here
        types += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    except AttributeError:  # pragma: no cover
        pass
    try:
        from numpy.core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 2
        from numpy._core.multiarray import _reconstruct, scalar
    return types + [_reconstruct, scalar]


def history_buffer_getattr(obj, name: str):
    """Stand-in for ``getattr`` in restricted unpickling.

    mmengine pickles ``HistoryBuffer._statistics_methods`` as
    ``getattr(HistoryBuffer, 'mean')`` and so on. Allowing the real
    ``getattr`` would let a crafted pickle reach any attribute (module
    globals, ``os.system``); this one only returns the plain methods defined
    on ``HistoryBuffer`` itself and refuses everything else.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and not name.startswith('_') and callable(
            HistoryBuffer.__dict__.get(name)):
        return HistoryBuffer.__dict__[name]
    raise pickle.UnpicklingError(
        f'refused getattr({obj!r}, {name!r}) while loading a checkpoint with weights_only=True')


def checkpoint_safe_globals() -> List:
    """The non-tensor types found in mmengine and official VideoMAE
    checkpoints, all plain data containers, plus the restricted ``getattr``
    registered under the name ``builtins.getattr``."""
    from mmengine.logging.history_buffer import HistoryBuffer
    return ([HistoryBuffer, argparse.Namespace, collections.OrderedDict] + _numpy_types() +
            [(history_buffer_getattr, 'builtins.getattr')])


def allow_checkpoint_metadata() -> None:
    """Allow-list :func:`checkpoint_safe_globals` for ``torch.load``."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no weights_only default to fix
        add(checkpoint_safe_globals())
