"""Checkpoint loading that runs no code from the file and changes nothing global.

torch >= 2.6 loads with ``weights_only=True``, whose unpickler refuses what
mmengine 0.10.7 writes besides tensors (its ``HistoryBuffer``, numpy arrays and
scalars in the message hub), so mmengine's own ``load_checkpoint`` and
``--resume`` fail. Allow-listing those types for every ``torch.load`` of the
process (``torch.serialization.add_safe_globals``) is not safe: numpy's
``_reconstruct`` and dtype classes rebuild an array from the dtype flags the
file claims, and an object dtype whose flags claim it holds no objects turns
raw bytes into pointers (a crash, or worse, when the element is touched).

This module reads checkpoints with its own restricted unpickler instead:

* only the globals torch's ``weights_only`` loader allows, ``OrderedDict``,
  ``argparse.Namespace`` (official VideoMAE checkpoints), mmengine's
  ``HistoryBuffer`` with a ``getattr`` limited to its statistics methods, and
  numpy arrays, dtypes and scalars through a checked path: plain numeric,
  bool, string and bytes dtypes only (no object, void, structured, sub-array
  or datetime dtypes), the dtype state must be exactly what a freshly built
  dtype pickles, and the raw data must have exactly the array's byte size;
* the allowance exists only inside :func:`load_checkpoint_file` and, for
  mmengine's ``CheckpointLoader``, inside a :func:`checkpoint_loading` block
  (``tools/train.py`` and ``tools/test.py`` wrap their runner in one).
  ``import mmvmae2`` does not touch ``torch.load`` or torch's safe globals.

A file you trust in full can still be read with
``torch.load(path, weights_only=False)``: the opt-in stays explicit.
"""
import _compat_pickle
import argparse
import collections
import contextlib
import io
import os
import pickle
import sys
from typing import Any, Callable, Dict, Iterator, Optional

import numpy as np
import torch

__all__ = ['CheckpointRefusedError', 'load_checkpoint_file', 'checkpoint_loading']


class CheckpointRefusedError(pickle.UnpicklingError):
    """A checkpoint holds something the restricted unpickler does not load."""


# numpy kinds that hold plain bytes: bool, (unsigned) ints, floats, complex,
# bytes and unicode. 'O' (objects), 'V' (void, structured) and datetimes
# (whose unit travels in the dtype's metadata) are refused.
_PLAIN_KINDS = frozenset('biufcSU')
_NUMPY_MULTIARRAY = ('numpy.core.multiarray', 'numpy._core.multiarray')


def _refuse(what: str) -> CheckpointRefusedError:
    return CheckpointRefusedError(what)


def _check_plain_dtype(dtype: np.dtype) -> np.dtype:
    if (dtype.kind not in _PLAIN_KINDS or dtype.hasobject or dtype.subdtype is not None
            or dtype.names is not None or dtype.metadata):
        raise _refuse(f'numpy dtype {dtype.str!r} (kind {dtype.kind!r}) is not a plain '
                      f'numeric, bool or string dtype')
    return dtype


class _Pending:
    """An object the pickle creates first and fills through ``BUILD``; the
    unpickler replaces it with the checked result when its state arrives."""
    __slots__ = ()

    def finish(self, state) -> Any:
        raise NotImplementedError


class _PendingDType(_Pending):
    __slots__ = ('fresh', )

    def __init__(self, fresh: np.dtype):
        self.fresh = fresh

    def finish(self, state) -> np.dtype:
        if (not isinstance(state, tuple) or len(state) < 2 or not isinstance(state[1], str)
                or state[1] not in ('<', '>', '|', '=')):
            raise _refuse(f'numpy dtype state {state!r} is malformed')
        dtype = self.fresh.newbyteorder(state[1]) if state[1] in '<>' else self.fresh
        expected = dtype.__reduce__()[2]
        if state != expected:  # forged flags, fields, sizes or alignment
            raise _refuse(f'numpy dtype {self.fresh.str!r} with state {state!r}; a dtype built '
                          f'from its descriptor has state {expected!r}')
        return dtype


class _PendingArray(_Pending):
    __slots__ = ()

    def finish(self, state) -> np.ndarray:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _refuse('numpy array state is malformed')
        shape, dtype, is_fortran, data = state[-4:]
        if not isinstance(dtype, np.dtype):
            raise _refuse(f'numpy array with dtype {type(dtype).__name__}, not a checked dtype')
        _check_plain_dtype(dtype)
        if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
            raise _refuse(f'numpy array shape {shape!r} is not a tuple of sizes')
        if not isinstance(data, (bytes, bytearray)):
            raise _refuse(f'numpy array data of type {type(data).__name__}, expected bytes')
        size = 1
        for n in shape:
            size *= n
        if len(data) != size * dtype.itemsize:
            raise _refuse(f'numpy array of shape {shape} and dtype {dtype.str!r} needs '
                          f'{size * dtype.itemsize} bytes, the file has {len(data)}')
        flat = np.frombuffer(bytes(data), dtype=dtype, count=size)
        return flat.reshape(shape, order='F' if is_fortran else 'C').copy(order='K')


_NDARRAY = object()  # stands for ``numpy.ndarray`` as _reconstruct's argument only


def _numpy_dtype(descr, align=False, copy=True) -> _PendingDType:
    """``numpy.dtype(descr, align, copy)`` as pickled, for plain dtypes."""
    if not isinstance(descr, str) or align not in (False, True, 0, 1):
        raise _refuse(f'numpy dtype from {descr!r}: expected a type string')
    try:
        fresh = np.dtype(descr)
    except (TypeError, ValueError) as err:
        raise _refuse(f'numpy dtype {descr!r}: {err}') from None
    return _PendingDType(_check_plain_dtype(fresh))


def _numpy_reconstruct(subtype, shape, typecode) -> _PendingArray:
    """``numpy.core.multiarray._reconstruct``: an ndarray (no subclass)."""
    if subtype is not _NDARRAY:
        raise _refuse('numpy _reconstruct of a type other than numpy.ndarray')
    return _PendingArray()


def _numpy_scalar(dtype, data=None) -> np.generic:
    """``numpy.core.multiarray.scalar``: one element of a checked dtype."""
    if not isinstance(dtype, np.dtype):
        raise _refuse(f'numpy scalar with dtype {type(dtype).__name__}, not a checked dtype')
    _check_plain_dtype(dtype)
    if not isinstance(data, (bytes, bytearray)) or len(data) != dtype.itemsize:
        raise _refuse(f'numpy scalar of dtype {dtype.str!r} needs {dtype.itemsize} bytes')
    return np.frombuffer(bytes(data), dtype=dtype, count=1)[0]


def _empty_bytes(*args) -> bytes:
    """``bytes()`` as protocol 2 pickles an empty bytes object (and nothing
    else: ``bytes(n)`` would allocate ``n`` bytes)."""
    if args:
        raise _refuse(f'bytes{args!r}: only the empty bytes object is pickled as a call')
    return b''


def _history_buffer_getattr(obj, name):
    """``getattr`` as mmengine pickles it (``getattr(HistoryBuffer, 'mean')``
    for ``HistoryBuffer._statistics_methods``): plain methods defined on
    ``HistoryBuffer`` itself, nothing else (no ``__globals__`` chains)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if (obj is HistoryBuffer and isinstance(name, str) and not name.startswith('_')
            and callable(HistoryBuffer.__dict__.get(name))):
        return HistoryBuffer.__dict__[name]
    raise _refuse(f'getattr({obj!r}, {name!r}): only HistoryBuffer statistics methods')


def _torch_allowed() -> Dict[str, Any]:
    """The globals torch's own ``weights_only`` unpickler allows (tensors,
    storages, dtypes, devices, plain containers)."""
    try:
        from torch._weights_only_unpickler import _get_allowed_globals
        return dict(_get_allowed_globals())
    except ImportError:  # pragma: no cover - very old torch
        return {'collections.OrderedDict': collections.OrderedDict,
                'torch._utils._rebuild_tensor_v2': torch._utils._rebuild_tensor_v2,
                'torch._utils._rebuild_parameter': torch._utils._rebuild_parameter}


def _allowed_globals() -> Dict[str, Any]:
    allowed = _torch_allowed()
    allowed.update({
        'collections.OrderedDict': collections.OrderedDict,
        'argparse.Namespace': argparse.Namespace,
        'builtins.getattr': _history_buffer_getattr,
        'builtins.bytes': _empty_bytes,
        'numpy.dtype': _numpy_dtype,
        'numpy.ndarray': _NDARRAY,
    })
    for module in _NUMPY_MULTIARRAY:
        allowed[f'{module}._reconstruct'] = _numpy_reconstruct
        allowed[f'{module}.scalar'] = _numpy_scalar
    for name in dir(getattr(np, 'dtypes', None)):  # numpy >= 1.25 dtype classes
        if name.endswith('DType'):
            allowed[f'numpy.dtypes.{name}'] = _numpy_dtype
    try:
        from mmengine.logging.history_buffer import HistoryBuffer
        allowed['mmengine.logging.history_buffer.HistoryBuffer'] = HistoryBuffer
    except ImportError:  # pragma: no cover - mmengine is a dependency
        pass
    return allowed


class RestrictedUnpickler(pickle._Unpickler):
    """A pure-Python unpickler that builds only allow-listed objects.

    Globals come from :func:`_allowed_globals` only; ``BUILD`` sets
    attributes only, and only on the few plain classes that need it
    (``HistoryBuffer``, ``Namespace``, a state dict's ``OrderedDict``), or
    gives numpy's pending arrays/dtypes their state, replacing them (on the
    stack and in the memo) by the checked result.
    """
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._allowed = _allowed_globals()
        # OrderedDict: a module's state_dict carries its ``_metadata`` attribute.
        self._buildable = (argparse.Namespace, collections.OrderedDict) + tuple(
            v for k, v in self._allowed.items() if k.endswith('.HistoryBuffer'))
        self._callables = {id(v) for v in self._allowed.values() if v is not _NDARRAY}
        self._num_pending = 0

    def find_class(self, module: str, name: str) -> Any:
        if self.proto < 3 and self.fix_imports:  # Python 2 names, as pickle does
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        key = f'{module}.{name}'
        if key not in self._allowed:
            raise _refuse(f'global {key!r} is not allowed (tensors, plain containers, '
                          f'numpy arrays of plain dtypes and mmengine/VideoMAE metadata only)')
        return self._allowed[key]

    def _call(self, func: Callable, args, kwargs=None) -> Any:
        if id(func) not in self._callables:
            raise _refuse(f'call of {func!r}, which is not an allow-listed global')
        result = func(*args, **(kwargs or {}))
        if isinstance(result, _Pending):
            self._num_pending += 1
        return result

    def load_reduce(self):
        args = self.stack.pop()
        self.stack[-1] = self._call(self.stack[-1], args)

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        if id(cls) not in self._callables or not isinstance(cls, type):
            raise _refuse(f'instance of {cls!r}, which is not an allow-listed class')
        self.append(cls.__new__(cls, *args))

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        if id(cls) not in self._callables or not isinstance(cls, type):
            raise _refuse(f'instance of {cls!r}, which is not an allow-listed class')
        self.append(cls.__new__(cls, *args, **kwargs))

    def _instantiate(self, klass, args):
        self.append(self._call(klass, args))

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, _Pending):
            real = inst.finish(state)
            self.stack[-1] = real
            for key, value in list(self.memo.items()):
                if value is inst:
                    self.memo[key] = real
            self._num_pending -= 1
            return
        if type(inst) not in self._buildable:
            raise _refuse(f'setting the state of a {type(inst).__name__}')
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise _refuse(f'state of a {type(inst).__name__} must be a dict of attributes')
        inst.__dict__.update(state)

    def load(self) -> Any:
        result = super().load()
        if self._num_pending:
            raise _refuse(f'{self._num_pending} numpy object(s) were never given their state')
        return result

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex
    dispatch[pickle.BUILD[0]] = load_build


# This module doubles as the ``pickle_module`` handed to ``torch.load``.
Unpickler = RestrictedUnpickler


def load(file, **kwargs) -> Any:
    return RestrictedUnpickler(file, **kwargs).load()


def loads(data: bytes, **kwargs) -> Any:
    return load(io.BytesIO(data), **kwargs)


def load_checkpoint_file(filename, map_location='cpu') -> Any:
    """Load a checkpoint (torch zip or legacy format) through the restricted
    unpickler; ``.safetensors`` files through ``safetensors``.

    Args:
        filename (str | PathLike | file-like): The checkpoint.
        map_location: As in :func:`torch.load`; the CPU by default.

    Raises:
        CheckpointRefusedError: The file holds something other than tensors,
            plain containers, plain numpy data or mmengine/VideoMAE metadata
            (possibly a malicious pickle). The message names the file and
            what was refused.
    """
    name = os.fspath(filename) if isinstance(filename, (str, os.PathLike)) else None
    if name is not None and name.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(name, device=str(map_location or 'cpu'))
    try:
        return torch.load(filename, map_location=map_location, weights_only=False,
                          pickle_module=sys.modules[__name__])
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError,
            IndexError, KeyError, OverflowError, RuntimeError) as err:
        where = name if name is not None else repr(filename)
        if isinstance(err, CheckpointRefusedError):
            raise CheckpointRefusedError(
                f'refused to load checkpoint {where!r}: {err}. Loading it could run code or '
                f'corrupt memory; if you trust this file in full, load it yourself with '
                f'torch.load(path, weights_only=False).') from None
        raise CheckpointRefusedError(
            f'cannot read checkpoint {where!r}: {type(err).__name__}: {err}') from err


def load_from_restricted_local(filename: str, map_location=None) -> Any:
    """mmengine's local-file scheme, through :func:`load_checkpoint_file`."""
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_checkpoint_file(filename, map_location=map_location)


@contextlib.contextmanager
def checkpoint_loading() -> Iterator[None]:
    """Within this block mmengine's ``CheckpointLoader`` reads local files
    (``load_from``, ``--resume``, ``Pretrained`` init) with
    :func:`load_checkpoint_file`; outside it nothing is changed.

    Example:
        >>> with checkpoint_loading():
        ...     runner.train()
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    schemes = CheckpointLoader._schemes
    previous: Optional[Callable] = schemes.get('')
    schemes[''] = load_from_restricted_local
    try:
        yield
    finally:
        if previous is None:
            schemes.pop('', None)
        else:
            schemes[''] = previous
