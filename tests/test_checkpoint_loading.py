"""Checkpoint loading: crafted files are refused everywhere the plugin loads
or wraps a load, mmengine's own checkpoints keep loading, and ``import
mmvmae2`` changes nothing in ``torch.load``.

Each crafted file is loaded in a fresh subprocess, so a crash (SIGSEGV) fails
the test instead of killing the suite.
"""
import collections
import os
import pickle
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from mmvmae2.compat import CheckpointRefusedError, checkpoint_loading, load_checkpoint_file

ROOT = Path(__file__).resolve().parents[1]
_RECONSTRUCT = np.core.multiarray._reconstruct


class _DType:
    """Pickles as ``numpy.dtype(descr, False, True)`` with a chosen state."""

    def __init__(self, descr, state):
        self.descr, self.state = descr, state

    def __reduce__(self):
        return (np.dtype, (self.descr, False, True), self.state)


class _Array:
    """Pickles as a numpy array with a chosen dtype and raw bytes."""

    def __init__(self, shape, dtype, data):
        self.shape, self.dtype, self.data = shape, dtype, data

    def __reduce__(self):
        return (_RECONSTRUCT, (np.ndarray, (0, ), b'b'),
                (1, self.shape, self.dtype, False, self.data))


_POINTER = struct.pack('<Q', 0xdeadbeef)
# An object array whose dtype flags (0) claim it holds no objects: numpy
# copies the raw bytes, which later read as a PyObject pointer.
OBJECT_FORGED = _Array((1, ), _DType('O8', (3, '|', None, None, None, -1, -1, 0)), _POINTER)
# A void dtype with an object field, flags forged the same way.
_FIELDS = {'a': (np.dtype('O'), 0), 'b': (np.dtype('f8'), 8)}
VOID_WITH_OBJECT = _Array((1, ), _DType('V16', (3, '|', None, ('a', 'b'), _FIELDS, 16, 8, 0)),
                          _POINTER * 2)
# float64 whose flags (63) claim it holds object references.
FLOAT_FORGED = _Array((1, ), _DType('f8', (3, '<', None, None, None, -1, -1, 63)), _POINTER)
# A sub-array dtype.
SUBARRAY = _Array((1, ), _DType('V16', (3, '|', (np.dtype('f8'), (2, )), None, None, 16, 8, 0)),
                  bytes(16))
# A plain dtype but fewer bytes than the shape needs.
SHORT_DATA = _Array((4, ), np.dtype('f8'), bytes(8))

CRAFTED = {
    'object_forged_flags': OBJECT_FORGED,
    'void_with_object_field': VOID_WITH_OBJECT,
    'float_forged_flags': FLOAT_FORGED,
    'subarray_dtype': SUBARRAY,
    'short_data': SHORT_DATA,
}


def crafted_checkpoint(tmp_path, kind) -> Path:
    path = tmp_path / f'{kind}.pth'
    torch.save({'state_dict': {'w': torch.ones(2)},
                'meta': {'message_hub': {'x': CRAFTED[kind]}}}, path)
    return path


def run_python(code: str, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code), *map(str, args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


# Touches every value of the loaded checkpoint, as using it would.
_TOUCH = """
def touch(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            touch(v)
    elif hasattr(obj, 'tolist'):
        repr(obj.tolist())
"""


def test_a_crafted_file_is_a_real_threat_without_checks(tmp_path):
    """The object-dtype file crashes a process that loads it unrestricted,
    so the refusals below guard against something real."""
    path = crafted_checkpoint(tmp_path, 'object_forged_flags')
    proc = run_python(_TOUCH + """
import sys, torch
touch(torch.load(sys.argv[1], weights_only=False))
print('survived')
""", path)
    assert proc.returncode < 0, (proc.returncode, proc.stdout, proc.stderr[-2000:])


@pytest.mark.parametrize('kind', sorted(CRAFTED))
def test_crafted_numpy_is_refused_by_every_loader(tmp_path, kind):
    path = crafted_checkpoint(tmp_path, kind)
    proc = run_python(_TOUCH + """
import sys
import mmvmae2
from mmengine.runner import CheckpointLoader
from mmvmae2.compat import CheckpointRefusedError, checkpoint_loading, load_checkpoint_file
for name, load in [
        ('mmengine', lambda p: CheckpointLoader.load_checkpoint(p, map_location='cpu')),
        ('mmengine in checkpoint_loading', None),
        ('load_checkpoint_file', load_checkpoint_file)]:
    try:
        if load is None:
            with checkpoint_loading():
                touch(CheckpointLoader.load_checkpoint(sys.argv[1], map_location='cpu'))
        else:
            touch(load(sys.argv[1]))
    except Exception as err:
        print(f'{name}: refused: {type(err).__name__}: {err}'.replace('\\n', ' '))
    else:
        print(f'{name}: LOADED')
""", path)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    lines = [line for line in proc.stdout.splitlines() if ': refused: ' in line or 'LOADED' in line]
    assert len(lines) == 3 and all(': refused: ' in line for line in lines), proc.stdout
    # The plugin's loader names the file and what it refused.
    for line in lines[1:]:
        assert 'CheckpointRefusedError' in line and str(path) in line, line
        assert 'numpy' in line, line


def test_converter_refuses_crafted_files(tmp_path):
    for kind in ('object_forged_flags', 'float_forged_flags'):
        path = crafted_checkpoint(tmp_path, kind)
        out = tmp_path / f'{kind}_converted.pth'
        proc = subprocess.run(
            [sys.executable, str(ROOT / 'tools' / 'convert_checkpoint.py'), str(path), str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
        assert f'refused to load checkpoint {str(path)!r}' in proc.stderr
        assert not out.exists()


def test_resume_from_a_crafted_file_stops_with_the_reason(tmp_path, demo_video_dir):
    path = crafted_checkpoint(tmp_path, 'object_forged_flags')
    proc = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'train.py'),
         str(ROOT / 'configs' / 'pretrain' / 'videomaev2_vit-tiny_demo.py'), '--work-dir',
         str(tmp_path / 'work'), '--resume', str(path), '--cfg-options',
         f'train_dataloader.dataset.ann_file={demo_video_dir / "train_list.txt"}',
         f'train_dataloader.dataset.data_prefix.video={demo_video_dir}'],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-3000:])
    assert 'CheckpointRefusedError' in proc.stderr and str(path) in proc.stderr


class _OpenFile:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, 'w'))


class _GetattrChain:
    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return (getattr, (HistoryBuffer.mean, '__globals__'))


def test_code_in_a_checkpoint_does_not_run(tmp_path):
    target = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'meta': _OpenFile(str(target))}, path)
    with pytest.raises(CheckpointRefusedError, match="global '(io|builtins).open' is not allowed"):
        load_checkpoint_file(path)
    assert not target.exists()
    path = tmp_path / 'evil_getattr.pth'
    torch.save({'meta': _GetattrChain()}, path)
    with pytest.raises(CheckpointRefusedError, match='only HistoryBuffer statistics methods'):
        load_checkpoint_file(path)


def test_truncated_file_gets_a_clear_error(tmp_path):
    path = tmp_path / 'cut.pth'
    torch.save({'w': torch.ones(100)}, path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointRefusedError, match=f'cannot read checkpoint {str(path)!r}'):
        load_checkpoint_file(path)


def _module_state_dict():
    """A module's state dict: an OrderedDict with its ``_metadata``."""
    linear = torch.nn.Linear(2, 2)
    with torch.no_grad():
        linear.weight.copy_(torch.arange(4.).view(2, 2))
    return linear.state_dict()


def mmengine_checkpoint(path: Path) -> dict:
    """What mmengine's CheckpointHook writes besides tensors: the message
    hub with HistoryBuffers (numpy arrays inside) and numpy scalars."""
    from mmengine.logging import MessageHub
    hub = MessageHub('test_checkpoint_loading')
    for loss in (0.5, 0.25, 0.75):
        hub.update_scalar('train/loss', loss)
    hub.update_info('iter', np.int64(12))
    checkpoint = dict(
        meta=dict(epoch=3, iter=12, seed=np.int64(1234), message_hub=hub.state_dict(),
                  dataset_meta=None),
        state_dict=_module_state_dict(),
        optimizer=dict(state={}, param_groups=[dict(lr=0.1, betas=(0.9, 0.95))]))
    torch.save(checkpoint, path)
    return checkpoint


def check_mmengine_checkpoint(loaded):
    hub = loaded['meta']['message_hub']
    assert hub['log_scalars']['train/loss'].mean() == 0.5
    assert hub['log_scalars']['train/loss'].current() == 0.75
    iteration = hub['runtime_info']['iter']
    assert iteration == 12 and isinstance(iteration, np.int64)
    assert loaded['meta']['seed'] == 1234
    assert torch.equal(loaded['state_dict']['weight'], torch.tensor([[0., 1.], [2., 3.]]))
    assert loaded['state_dict']._metadata == {'': {'version': 1}}
    assert loaded['optimizer']['param_groups'][0]['betas'] == (0.9, 0.95)


def test_mmengine_checkpoints_load_through_the_plugin(tmp_path):
    from mmengine.runner import CheckpointLoader
    path = tmp_path / 'epoch_3.pth'
    mmengine_checkpoint(path)
    check_mmengine_checkpoint(load_checkpoint_file(path))
    with checkpoint_loading():
        check_mmengine_checkpoint(CheckpointLoader.load_checkpoint(str(path), map_location='cpu'))
    # Plain numpy values round trip exactly (dtype, byte order, memory order).
    values = {'f32': np.linspace(0, 1, 7, dtype=np.float32), 'be': np.arange(5, dtype='>i4'),
              'fortran': np.asfortranarray(np.arange(12.).reshape(3, 4)),
              'text': np.array(['ab', 'c']), 'empty': np.zeros((0, 3)), 'bool': np.bool_(True)}
    torch.save(values, tmp_path / 'numpy.pth')
    loaded = load_checkpoint_file(tmp_path / 'numpy.pth')
    for key, value in values.items():
        assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key], value), key
    assert loaded['fortran'].flags['F_CONTIGUOUS'] and loaded['f32'].flags['WRITEABLE']


def test_import_changes_nothing_in_torch_load(tmp_path):
    path = tmp_path / 'epoch_3.pth'
    mmengine_checkpoint(path)
    proc = run_python("""
import sys, torch
def not_torchs():  # torch registers its own (DTensor...) when its modules load
    return [g for g in torch.serialization.get_safe_globals()
            if not getattr(g, '__module__', '').startswith('torch')]
before = not_torchs()
import mmvmae2, mmaction.models, mmaction.utils  # noqa
mmaction.utils.register_all_modules()
assert not_torchs() == before == [], not_torchs()
try:
    torch.load(sys.argv[1])
except Exception as err:
    print('torch.load refused:', type(err).__name__)
from mmvmae2.compat import checkpoint_loading
with checkpoint_loading():
    pass
assert not_torchs() == before
print('unchanged')
""", path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == ['torch.load refused: UnpicklingError', 'unchanged']


def test_a_users_own_getattr_allowance_is_theirs_in_every_process(tmp_path):
    """A user who allows the real ``getattr`` for torch.load gets it, in every
    process (the plugin registers no stand-in under that name)."""
    path = tmp_path / 'getattr.pth'
    torch.save({'f': _GetattrOnInt()}, path)
    code = """
import sys, torch
import mmvmae2  # noqa
torch.serialization.add_safe_globals([getattr, int])
print(torch.load(sys.argv[1])['f'](3))
"""
    for _ in range(4):
        proc = run_python(code, path)
        assert proc.returncode == 0 and proc.stdout.strip() == '3', proc.stderr[-2000:]


class _GetattrOnInt:
    def __reduce__(self):
        return (getattr, (int, '__abs__'))


def test_users_safe_globals_changes_do_not_break_the_plugin(tmp_path):
    from mmengine.runner import CheckpointLoader
    path = tmp_path / 'epoch_3.pth'
    mmengine_checkpoint(path)
    torch.serialization.clear_safe_globals()
    with torch.serialization.safe_globals([collections.Counter]):
        with checkpoint_loading():
            check_mmengine_checkpoint(
                CheckpointLoader.load_checkpoint(str(path), map_location='cpu'))
    with checkpoint_loading():
        check_mmengine_checkpoint(CheckpointLoader.load_checkpoint(str(path), map_location='cpu'))


def test_checkpoint_loading_restores_mmengine_on_exit(tmp_path):
    from mmengine.runner.checkpoint import CheckpointLoader
    original = CheckpointLoader._schemes['']
    with pytest.raises(RuntimeError):
        with checkpoint_loading():
            assert CheckpointLoader._schemes[''] is not original
            raise RuntimeError('inside')
    assert CheckpointLoader._schemes[''] is original
    path = tmp_path / 'epoch_3.pth'
    mmengine_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError):  # torch's weights_only default refuses it
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
