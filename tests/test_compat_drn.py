"""The DRN stand-in (``mmvmae2/compat/mmaction_drn.py``) for the mmaction2
1.2.0 wheel that lacks ``mmaction.models.localizers.drn``: registered under
MMAction2's name so a DRN config fails with a clear message, with module specs,
and harmless to MMAction2's own imports in any order. Each case runs in a fresh
interpreter, since imports and registries are process-wide."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DRN = 'mmaction.models.localizers.drn'
DRN_CONFIG = 'localization/drn/drn_2xb16-4096-10e_c3d-feature_first.py'


def run_python(code: str, pythonpath=(str(ROOT),)) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(pythonpath))
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def check(code: str, **kwargs) -> str:
    result = run_python(code, **kwargs)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def test_the_installed_wheel_lacks_drn():
    # The premise of the stand-in; if a fixed mmaction2 is installed this fails
    # and the stand-in (and these tests) can go.
    out = check('''
        import importlib.util, os
        root = importlib.util.find_spec('mmaction').submodule_search_locations[0]
        print(os.path.isdir(os.path.join(root, 'models', 'localizers', 'drn')))
        try:
            import mmaction.models
        except ModuleNotFoundError as error:
            print('fails:', error.name)
        ''')
    assert out.split() == ['False', 'fails:', DRN]


def test_stand_in_modules_have_specs():
    out = check(f'''
        import importlib.util, sys
        import mmvmae2
        for name in ('{DRN}', '{DRN}.drn'):
            spec = importlib.util.find_spec(name)  # raised ValueError without a spec
            module = sys.modules[name]
            assert spec is module.__spec__ and spec.name == name, (spec, name)
            assert module.__loader__ is spec.loader
            assert 'mmvmae2 stand-in' in spec.origin, spec.origin
        assert importlib.util.find_spec('{DRN}').submodule_search_locations == []
        assert sys.modules['{DRN}'].__package__ == '{DRN}'
        assert sys.modules['{DRN}.drn'].__package__ == '{DRN}'
        from mmaction.models.localizers.drn.drn import DRN
        from mmvmae2.compat.mmaction_drn import DRN as StandIn
        assert DRN is StandIn
        print('ok')
        ''')
    assert out.split() == ['ok']


def test_building_drn_from_mmactions_registry_fails_clearly():
    out = check('''
        import mmvmae2
        from mmaction.registry import MODELS
        from mmvmae2.compat.mmaction_drn import DRN
        assert MODELS.module_dict['DRN'] is DRN
        assert MODELS.get('DRN') is DRN
        try:
            MODELS.build(dict(type='DRN'))
        except ImportError as error:
            print(error)
        else:
            raise AssertionError('built the DRN stand-in')
        ''')
    # says what is missing and how to get it (not "DRN is not in the registry")
    assert 'not in the' not in out
    assert DRN in out
    assert 'pip install -e' in out and 'github.com/open-mmlab/mmaction2' in out


def test_mmaction_drn_config_fails_clearly():
    # MMAction2's own DRN config, read from the installed package
    out = check(f'''
        import os
        import mmvmae2
        import mmaction
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        from mmaction.registry import MODELS
        configs = os.path.join(os.path.dirname(mmaction.__file__), '.mim', 'configs')
        cfg = Config.fromfile(os.path.join(configs, '{DRN_CONFIG}'))
        assert cfg.model.type == 'DRN'
        init_default_scope('mmaction')
        try:
            MODELS.build(cfg.model)
        except ImportError as error:
            print(error)
        ''')
    assert DRN in out and 'pip install -e' in out


def test_mmaction_models_import_after_mmvmae2():
    out = check('''
        import mmvmae2
        import mmaction.models
        from mmaction.utils import register_all_modules
        register_all_modules()
        from mmaction.registry import MODELS
        from mmvmae2.compat.mmaction_drn import DRN
        assert MODELS.get('DRN') is DRN and MODELS.get('BMN') is not None
        assert MODELS.get('VideoMAEViT') is not None
        print('ok')
        ''')
    assert out.split() == ['ok']


def test_mmaction_imported_before_mmvmae2():
    # mmaction, its registries and the modules that do not need drn first
    out = check('''
        import mmaction
        from mmaction.registry import MODELS
        import mmaction.datasets, mmaction.engine, mmaction.evaluation  # noqa
        import mmvmae2
        import mmaction.models
        from mmaction.utils import register_all_modules
        register_all_modules()
        from mmvmae2.compat.mmaction_drn import DRN
        assert MODELS.get('DRN') is DRN and MODELS.get('TSNHead') is not None
        print('ok')
        ''')
    assert out.split() == ['ok']


def test_a_failed_mmaction_models_import_is_repaired_by_mmvmae2():
    out = check(f'''
        try:
            import mmaction.models
        except ModuleNotFoundError as error:
            assert error.name == '{DRN}', error
        else:
            raise AssertionError('mmaction.models imported without the stand-in')
        import mmvmae2
        import mmaction.models
        from mmaction.utils import register_all_modules
        register_all_modules()
        from mmaction.registry import MODELS
        assert MODELS.get('DRN') is not None and MODELS.get('Recognizer3D') is not None
        print('ok')
        ''')
    assert out.split() == ['ok']


def test_install_is_idempotent():
    out = check('''
        import mmvmae2
        from mmvmae2.compat import install_drn_stub
        from mmaction.registry import MODELS
        assert install_drn_stub() is False  # already installed
        assert list(MODELS.module_dict).count('DRN') == 1
        print('ok')
        ''')
    assert out.split() == ['ok']


def test_nothing_is_installed_when_mmaction_has_drn(tmp_path):
    # A fake mmaction whose drn folder exists: the stand-in stays out and
    # registers nothing (loaded from its file, mmvmae2 needs the real mmaction).
    drn_dir = tmp_path / 'mmaction' / 'models' / 'localizers' / 'drn'
    drn_dir.mkdir(parents=True)
    (tmp_path / 'mmaction' / '__init__.py').write_text('')
    (tmp_path / 'mmaction' / 'registry.py').write_text('raise AssertionError("registered")\n')
    out = check(f'''
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location(
            'standalone_drn', {str(ROOT / 'mmvmae2' / 'compat' / 'mmaction_drn.py')!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert module._drn_is_missing() is False
        assert module.install_drn_stub() is False
        assert '{DRN}' not in sys.modules and 'mmaction.registry' not in sys.modules
        print('ok')
        ''', pythonpath=(str(tmp_path),))
    assert out.split() == ['ok']
