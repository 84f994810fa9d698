"""Plugin wiring: registries, custom_imports and the mmaction2 wheel
work-around (checkpoint loading: ``test_checkpoint_loading.py``)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mmvmae2
from mmaction.registry import MODELS

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_modules_are_registered_in_mmaction():
    for name in ('VideoMAEViT', 'VideoMAEPretrainDecoder', 'VideoMAEPretrainHead',
                 'VideoMAEPretrainer'):
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


def test_version():
    assert mmvmae2.__version__
