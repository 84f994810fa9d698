"""Plugin wiring: registries, custom_imports, the mmaction2 wheel work-around
and safe checkpoint loading under torch >= 2.6."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import mmvmae2
from mmaction.registry import MODELS

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_modules_are_registered_in_mmaction():
    for name in ('VideoMAEViT', 'VideoMAEPretrainDecoder', 'VideoMAEPretrainHead', 'VideoMAE'):
        assert MODELS.get(name) is not None, name


def test_another_config_uses_the_backbone_through_custom_imports():
    # A fresh interpreter that never imported mmvmae2 itself.
    result = run_python(
        'import torch\n'
        'from mmengine.config import Config\n'
        'from mmengine.registry import init_default_scope\n'
        'cfg = Config.fromfile("tests/data/custom_imports_recognizer.py")\n'
        'import sys; assert "mmvmae2" in sys.modules\n'
        'init_default_scope(cfg.default_scope)\n'
        'from mmaction.registry import MODELS\n'
        'model = MODELS.build(cfg.model).eval()\n'
        'out, _ = model.extract_feat(torch.randn(2, 1, 3, 4, 32, 32), stage="head")\n'
        'print(tuple(out.shape), type(model.backbone).__name__)\n')
    assert result.returncode == 0, result.stderr[-3000:]
    assert '(2, 5) VideoMAEVisionTransformer' in result.stdout


def test_mmaction_register_all_modules_works_despite_missing_drn():
    result = run_python(
        'import mmvmae2\n'
        'from mmaction.utils import register_all_modules\n'
        'register_all_modules()\n'
        'from mmaction.registry import MODELS\n'
        'import mmaction.models\n'
        'print("ok", MODELS.get("AVARoIHead") is not None or "no-mmdet")\n')
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith('ok')


def test_drn_stand_in_fails_clearly():
    from mmvmae2.compat.mmaction_drn import DRN
    with pytest.raises(ImportError, match='drn'):
        DRN()


def test_mmengine_checkpoint_metadata_loads_with_weights_only(tmp_path):
    from mmengine.logging.history_buffer import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(np.float64(0.5))
    checkpoint = dict(
        meta=dict(epoch=np.int64(3), message_hub=dict(log_scalars={'train/loss': buffer}),
                  seed=np.array([1, 2])),
        state_dict={'w': torch.ones(2)})
    path = tmp_path / 'epoch_3.pth'
    torch.save(checkpoint, path)
    loaded = torch.load(path, weights_only=True)  # torch's default since 2.6
    assert loaded['meta']['message_hub']['log_scalars']['train/loss'].current() == 0.5
    assert loaded['meta']['epoch'] == 3


class _Exploit:
    """A pickle payload that would create a file when unpickled."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, 'w'))


def test_malicious_checkpoint_is_refused(tmp_path):
    from mmengine.runner import load_checkpoint
    target = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _Exploit(str(target))}, path)
    with pytest.raises(Exception, match='(?i)weights_only|unsupported global'):
        load_checkpoint(torch.nn.Linear(1, 1), str(path))
    assert not target.exists()


def test_version():
    assert mmvmae2.__version__


class _GetattrExploit:
    """Reaches ``os.system`` through ``getattr`` chains if getattr were free."""

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return (getattr, (HistoryBuffer.mean, '__globals__'))


def test_getattr_is_limited_to_history_buffer_methods(tmp_path):
    path = tmp_path / 'evil_getattr.pth'
    torch.save({'meta': _GetattrExploit()}, path)
    with pytest.raises(Exception, match='refused getattr'):
        torch.load(path, weights_only=True)
