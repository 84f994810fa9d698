"""Every name mmvmae2 registers is its own: none is also registered by
MMAction2, MMDetection, MMEngine (or mmpretrain when installed) in any
registry, and each starts with a project prefix, so a future upstream class
cannot take it (two packages registering one name in one registry fail to
import together)."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Prefixes that say a name is this project's.
PROJECT_PREFIXES = ('VideoMAE', 'PackVideoMAE')

# What the project registers today (README "What is in the box"): the test
# must find at least these, in these registries, or it compares nothing.
EXPECTED = {
    'model': {'VideoMAEViT', 'VideoMAEPretrainDecoder', 'VideoMAEPretrainHead',
              'VideoMAEPretrainer', 'VideoMAEDistiller'},
    'transform': {'VideoMAEInit', 'VideoMAEDecode', 'VideoMAERepeatedAugment',
                  'PackVideoMAEInputs', 'VideoMAEMaskGenerator', 'VideoMAERandAugment',
                  'VideoMAERandomErasing', 'VideoMAERawFrameDecode'},
    'dataset': {'VideoMAEPretrainDataset', 'VideoMAEHybridPretrainDataset',
                'VideoMAEVideoDataset', 'VideoMAERawframeDataset'},
    'weight initializer': {'VideoMAEPretrained'},
    'optim_wrapper': {'VideoMAEAmpOptimWrapper'},
    'optimizer wrapper constructor': {'VideoMAELayerDecayOptimizerConstructor'},
    'strategy': {'VideoMAEFSDPStrategy'},
    'function': {'VideoMAERepeatedCollate'},
    'data sampler': {'VideoMAESeededSampler'},
    'loop': {'VideoMAEResumableTrainLoop'},
    'hook': {'VideoMAESkippedVideoHook', 'VideoMAEGeometryCheckHook'},
}

# Runs in a fresh interpreter: registries are process-wide.
_COLLECT = textwrap.dedent('''
    import gc, importlib, importlib.util, json, sys

    # MMAction2 1.2.0's models cannot be imported without the DRN stand-in
    # (see mmvmae2/compat/mmaction_drn.py): load it from its file, without
    # importing mmvmae2, so that the upstream snapshot holds no project name.
    spec = importlib.util.spec_from_file_location(
        '_standalone_drn', 'mmvmae2/compat/mmaction_drn.py')
    drn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(drn)
    drn.install_drn_stub()
    assert 'mmvmae2' not in sys.modules

    from mmengine.registry import Registry
    import mmengine.registry  # noqa
    from mmaction.utils import register_all_modules as mmaction_register
    mmaction_register(init_default_scope=False)
    import mmaction.apis  # noqa  (inferencers)
    from mmdet.utils import register_all_modules as mmdet_register
    mmdet_register(init_default_scope=False)
    import mmdet.apis  # noqa
    upstream_packages = ['mmengine', 'mmcv', 'mmaction', 'mmdet']
    if importlib.util.find_spec('mmpretrain') is not None:
        from mmpretrain.utils import register_all_modules as mmpretrain_register
        mmpretrain_register(init_default_scope=False)
        upstream_packages.append('mmpretrain')

    def snapshot():
        names = {}
        for registry in gc.get_objects():
            if isinstance(registry, Registry):
                where = f'{registry.scope}:{registry.name}'
                for key, obj in registry.module_dict.items():
                    module = getattr(obj, '__module__', '?')
                    names.setdefault(key, []).append([where, registry.name, module])
        return names

    before = snapshot()
    import mmvmae2  # noqa
    after = snapshot()
    added = {key: [entry for entry in entries if entry not in before.get(key, [])]
             for key, entries in after.items()}
    added = {key: entries for key, entries in added.items() if entries}
    stand_in = [entry for entries in before.values() for entry in entries
                if entry[2] == '_standalone_drn']
    print(json.dumps(dict(upstream=before, project=added, packages=upstream_packages,
                          stand_in=stand_in)))
''')


@pytest.fixture(scope='module')
def registered():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, '-c', _COLLECT], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_upstream_registries_were_read(registered):
    upstream = registered['upstream']
    # one well-known name of each upstream package, so an import that silently
    # registered nothing cannot make the comparison vacuous
    for name, package in (('Runner', 'mmengine'), ('FlexibleRunner', 'mmengine'),
                          ('DecordInit', 'mmaction'), ('Recognizer3D', 'mmaction'),
                          ('AVARoIHead', 'mmaction'), ('FasterRCNN', 'mmdet'),
                          ('PackDetInputs', 'mmdet'), ('LoadImageFromFile', 'mmcv')):
        assert any(module.startswith(package) for _, _, module in upstream.get(name, [])), name
    assert {'mmengine', 'mmaction', 'mmdet'} <= set(registered['packages'])


def test_the_project_names_were_found(registered):
    project = registered['project']
    for registry_name, names in EXPECTED.items():
        for name in names:
            entries = project.get(name, [])
            assert any(entry[1] == registry_name for entry in entries), (name, entries)
            assert all(entry[2].startswith('mmvmae2.') for entry in entries), (name, entries)


def test_no_project_name_is_registered_upstream(registered):
    upstream, project = registered['upstream'], registered['project']
    assert project
    clashes = {name: upstream[name] for name in project if name in upstream}
    assert not clashes, f'names registered by mmvmae2 and upstream: {clashes}'


def test_every_project_name_has_a_project_prefix(registered):
    bad = sorted(name for name in registered['project'] if not name.startswith(PROJECT_PREFIXES))
    assert not bad, f'registered names without a project prefix {PROJECT_PREFIXES}: {bad}'


def test_import_registers_nothing_outside_the_project(registered):
    # every entry that ``import mmvmae2`` adds comes from mmvmae2's own modules
    foreign = {name: entries for name, entries in registered['project'].items()
               if not all(entry[2].startswith('mmvmae2.') for entry in entries)}
    assert not foreign


def test_the_drn_stand_in_only_fills_mmactions_own_slot(registered):
    # The DRN stand-in is the one registration under an upstream name, on
    # purpose: it takes MMAction2's 'DRN' slot only when the real model is
    # missing (tests/test_compat_drn.py); it is not counted as a project name.
    stand_in = registered['stand_in']
    real = [entry for entry in registered['upstream'].get('DRN', [])
            if entry[2].startswith('mmaction.')]
    assert 'DRN' not in registered['project']
    if real:  # an mmaction2 that ships drn: no stand-in at all
        assert not stand_in
    else:
        assert stand_in == [['mmaction:model', 'model', '_standalone_drn']]
