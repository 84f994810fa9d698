"""MMAction2's own shipped configs, read from the installed package
(``mmaction/.mim/configs``), through this project's ``tools/train.py`` and
``tools/test.py``, as an MMAction2 user runs them: no ``randomness`` in the
configs and no ``--seed`` (a random seed is drawn and logged), the runner the
config names (``runner_type``: MMEngine's ``FlexibleRunner``, a user's runner
from ``custom_imports``), and ``tools/test.py``'s explicit arguments winning
over ``--cfg-options``.

Each config is shrunk through ``--cfg-options`` only (batch 1, no workers, tiny
inputs, 1 epoch of 2 samples, no pretrained weights) and trained for 2
iterations on data generated here: videos (TSN), raw frames (TRN) and 2D
skeletons (ST-GCN).
"""
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import mmaction

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / 'tests' / 'data'
CONFIGS = Path(mmaction.__file__).parent / '.mim' / 'configs'
TSN_VIDEO = (CONFIGS / 'recognition' / 'tsn'
             / 'tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py')
TRN_FRAMES = (CONFIGS / 'recognition' / 'trn'
              / 'trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv1-rgb.py')
STGCN = CONFIGS / 'skeleton' / 'stgcn' / 'stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py'
# The AVA detector (MMAction2's shipped SlowOnly AVA config on the project's
# tiny AVA data, through the same tools) is in tests/test_detection.py.
STGCN_FLEXIBLE = DATA / 'mmaction_stgcn_flexible_runner.py'
STGCN_CUSTOM_RUNNER = DATA / 'mmaction_stgcn_custom_runner.py'

TINY_LOADER = ('batch_size=1', 'num_workers=0', 'persistent_workers=False')


def loader_options(*loaders: str) -> list:
    return [f'{loader}.{option}' for loader in loaders for option in TINY_LOADER]


def run_tool(tool: str, config: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``tools/<tool>.py`` as a user would (``tests/data`` on the path for
    the configs' ``custom_imports``); fail with the output's end if it fails."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(DATA)]))
    cmd = [sys.executable, str(ROOT / 'tools' / f'{tool}.py'), str(config), *map(str, args)]
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f'{" ".join(cmd)}\n{output[-6000:]}'
    return result


def run_log(work_dir: Path) -> str:
    """Text of the one run log mmengine writes under ``work_dir/<timestamp>/``."""
    logs = sorted(work_dir.glob('*/*.log'))
    assert len(logs) == 1, logs
    return logs[0].read_text()


def drawn_seed(log: str) -> int:
    """The random seed a run drew, from its environment log; the config had
    none (``seed: None`` in its randomness)."""
    numpy_seed = re.search(r'^\s*numpy_random_seed: (\d+)$', log, re.M)
    assert numpy_seed, 'no numpy_random_seed in the log'
    return int(numpy_seed.group(1))


def assert_trained_with_random_seed(work_dir: Path, iters: int = 2) -> int:
    """Training finished ``iters`` iterations, wrote ``epoch_1.pth`` and
    logged the random seed it drew (MMAction2's behaviour without a seed)."""
    assert (work_dir / 'epoch_1.pth').is_file(), sorted(p.name for p in work_dir.iterdir())
    assert Path((work_dir / 'last_checkpoint').read_text().strip()) == work_dir / 'epoch_1.pth'
    log = run_log(work_dir)
    assert f'Epoch(train) [1][{iters}/{iters}]' in log
    assert 'Saving checkpoint at 1 epochs' in log
    seed = drawn_seed(log)
    runtime = log.split('Runtime environment:', 1)[1].split('-' * 60, 1)[0]
    if 'FlexibleRunner' not in log:  # MMEngine's Runner logs the seed it drew
        assert re.search(rf'^\s*seed: {seed}$', runtime, re.M), runtime
    assert dumped_config(work_dir).get('randomness', {}).get('seed') is None
    return seed


def dumped_config(work_dir: Path):
    """The config a run used, as the runner dumped it into ``work_dir``."""
    from mmengine.config import Config
    dumps = list(work_dir.glob('*.py'))
    assert len(dumps) == 1, dumps
    return Config.fromfile(dumps[0], import_custom_modules=False)


def assert_tested(work_dir: Path, checkpoint: Path, metric: str, stdout: str) -> float:
    """tools/test.py loaded ``checkpoint``, evaluated it and wrote ``metric``."""
    log = run_log(work_dir)
    assert f'Load checkpoint from {checkpoint}' in log
    assert re.search(rf'Epoch\(test\) \[\d+/\d+\]\s+{re.escape(metric)}: [\d.]+', log), log[-2000:]
    assert metric in stdout
    results = sorted(work_dir.glob('*/*.json'))
    assert len(results) == 1, results
    value = json.loads(results[0].read_text())[metric]
    assert 0 <= value <= 1
    return value


# ---------------------------------------------------------------- data


@pytest.fixture(scope='module')
def videos(demo_data, tmp_path_factory) -> Path:
    """2 videos (16 frames, 64 x 64) and ``train_list.txt`` (``name label``)."""
    out = tmp_path_factory.mktemp('mmaction_videos')
    demo_data.make_demo_videos(str(out), num_videos=2, num_frames=16, size=64, seed=5)
    return out


@pytest.fixture(scope='module')
def rawframes(tmp_path_factory) -> Path:
    """2 folders of 10 jpg frames (32 x 40, ``00001.jpg``...: the configs'
    ``{:05}.jpg`` template) and ``list.txt`` (``frame_dir total_frames label``)."""
    out = tmp_path_factory.mktemp('mmaction_rawframes')
    rng = np.random.default_rng(0)
    lines = []
    for i in range(2):
        folder = out / f'clip_{i}'
        folder.mkdir()
        for t in range(1, 11):  # RawframeDataset starts at index 1
            frame = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
            assert cv2.imwrite(str(folder / f'{t:05}.jpg'), frame)
        lines.append(f'clip_{i} 10 {i}')
    (out / 'list.txt').write_text('\n'.join(lines) + '\n')
    return out


@pytest.fixture(scope='module')
def skeletons(tmp_path_factory) -> Path:
    """A PoseDataset pickle in MMAction2's format: ``split`` (``xsub_train``,
    ``xsub_val``) and ``annotations`` of 2 one-person clips of 20 frames with
    17 COCO keypoints (x, y) and their scores."""
    rng = np.random.default_rng(1)
    annotations = [
        dict(frame_dir=f'skeleton_{i}', label=i, img_shape=(64, 64), original_shape=(64, 64),
             total_frames=20,
             keypoint=rng.uniform(0, 64, (1, 20, 17, 2)).astype(np.float32),
             keypoint_score=rng.uniform(0.5, 1, (1, 20, 17)).astype(np.float32))
        for i in range(2)]
    names = [ann['frame_dir'] for ann in annotations]
    path = tmp_path_factory.mktemp('mmaction_skeletons') / 'skeletons_2d.pkl'
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(xsub_train=names, xsub_val=names), annotations=annotations), f)
    return path


# ---------------------------------------------------------------- shrinking


def tsn_video_options(videos: Path) -> dict:
    ann = f'ann_file={videos / "train_list.txt"}'
    root = f'data_prefix.video={videos}'
    return dict(
        train=['model.backbone.pretrained=None', 'train_cfg.max_epochs=1',
               'default_hooks.logger.interval=1',
               *loader_options('train_dataloader', 'val_dataloader'),
               f'train_dataloader.dataset.{ann}', f'train_dataloader.dataset.{root}',
               'train_dataloader.dataset.pipeline.3.scale=(-1,40)',  # Resize
               'train_dataloader.dataset.pipeline.4.input_size=32',  # MultiScaleCrop
               'train_dataloader.dataset.pipeline.5.scale=(32,32)',  # Resize
               f'val_dataloader.dataset.{ann}', f'val_dataloader.dataset.{root}',
               'val_dataloader.dataset.pipeline.3.scale=(-1,40)',
               'val_dataloader.dataset.pipeline.4.crop_size=32'],  # CenterCrop
        test=['model.backbone.pretrained=None', *loader_options('test_dataloader'),
              f'test_dataloader.dataset.{ann}', f'test_dataloader.dataset.{root}',
              'test_dataloader.dataset.pipeline.1.num_clips=2',  # SampleFrames (25)
              'test_dataloader.dataset.pipeline.3.scale=(-1,40)',
              'test_dataloader.dataset.pipeline.4.crop_size=32'])  # TenCrop


def trn_frames_options(rawframes: Path) -> dict:
    ann = f'ann_file={rawframes / "list.txt"}'
    root = f'data_prefix.img={rawframes}'
    return dict(
        train=['model.backbone.pretrained=None', 'train_cfg.max_epochs=1',
               'default_hooks.logger.interval=1', *loader_options('train_dataloader'),
               f'train_dataloader.dataset.{ann}', f'train_dataloader.dataset.{root}',
               'train_dataloader.dataset.pipeline.2.scale=(-1,32)',  # Resize
               'train_dataloader.dataset.pipeline.3.input_size=32',  # MultiScaleCrop
               'train_dataloader.dataset.pipeline.4.scale=(32,32)'],  # Resize
        test=['model.backbone.pretrained=None', *loader_options('test_dataloader'),
              f'test_dataloader.dataset.{ann}', f'test_dataloader.dataset.{root}',
              'test_dataloader.dataset.pipeline.2.scale=(-1,32)',
              'test_dataloader.dataset.pipeline.3.crop_size=32'])  # ThreeCrop


def stgcn_options(skeletons: Path, validate: bool = True) -> dict:
    val = [*loader_options('val_dataloader'), f'val_dataloader.dataset.ann_file={skeletons}',
           'val_dataloader.dataset.pipeline.2.clip_len=8'] if validate else []
    return dict(
        train=['train_cfg.max_epochs=1', 'default_hooks.logger.interval=1',
               *loader_options('train_dataloader'),
               'train_dataloader.dataset.times=1',  # RepeatDataset (5)
               f'train_dataloader.dataset.dataset.ann_file={skeletons}',
               'train_dataloader.dataset.dataset.pipeline.2.clip_len=8',  # UniformSampleFrames
               *val],
        test=[*loader_options('test_dataloader'), f'test_dataloader.dataset.ann_file={skeletons}',
              'test_dataloader.dataset.pipeline.2.clip_len=8',
              'test_dataloader.dataset.pipeline.2.num_clips=2'])  # (10)


# ---------------------------------------------------------------- trained runs


def train(config: Path, options: list, work_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return run_tool('train', config, '--work-dir', work_dir, *args, '--cfg-options', *options,
                    cwd=work_dir.parent)


@pytest.fixture(scope='module')
def tsn_video_run(videos, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('mmaction_tsn') / 'work'
    options = tsn_video_options(videos)
    train(TSN_VIDEO, options['train'], work_dir)  # with its (tiny) validation
    return work_dir, options


@pytest.fixture(scope='module')
def trn_frames_run(rawframes, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('mmaction_trn') / 'work'
    options = trn_frames_options(rawframes)
    train(TRN_FRAMES, options['train'], work_dir, '--no-validate')
    return work_dir, options


@pytest.fixture(scope='module')
def stgcn_run(skeletons, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('mmaction_stgcn') / 'work'
    options = stgcn_options(skeletons)
    train(STGCN, options['train'], work_dir)
    return work_dir, options


def test_configs_have_no_randomness():
    # the premise: these are configs that crashed tools/train.py without --seed
    from mmengine.config import Config
    for config in (TSN_VIDEO, TRN_FRAMES, STGCN, STGCN_FLEXIBLE, STGCN_CUSTOM_RUNNER):
        assert config.is_file(), config
        assert 'randomness' not in Config.fromfile(config, import_custom_modules=False), config


def test_tsn_on_videos_trains_and_tests(tsn_video_run):
    work_dir, options = tsn_video_run
    assert_trained_with_random_seed(work_dir)
    assert re.search(r'Epoch\(val\) \[1\]\[2/2\]\s+acc/top1: [\d.]+', run_log(work_dir))
    checkpoint = work_dir / 'epoch_1.pth'
    test_dir = work_dir.parent / 'test'
    result = run_tool('test', TSN_VIDEO, checkpoint, '--work-dir', test_dir,
                      '--cfg-options', *options['test'], cwd=work_dir.parent)
    assert_tested(test_dir, checkpoint, 'acc/top1', result.stdout + result.stderr)


def test_trn_on_raw_frames_trains_and_tests(trn_frames_run):
    work_dir, options = trn_frames_run
    assert_trained_with_random_seed(work_dir)
    checkpoint = work_dir / 'epoch_1.pth'
    test_dir = work_dir.parent / 'test'
    result = run_tool('test', TRN_FRAMES, checkpoint, '--work-dir', test_dir,
                      '--cfg-options', *options['test'], cwd=work_dir.parent)
    assert_tested(test_dir, checkpoint, 'acc/top1', result.stdout + result.stderr)


def test_stgcn_on_skeletons_trains_and_tests(stgcn_run):
    work_dir, options = stgcn_run
    assert_trained_with_random_seed(work_dir)
    checkpoint = work_dir / 'epoch_1.pth'
    test_dir = work_dir.parent / 'test'
    result = run_tool('test', STGCN, checkpoint, '--work-dir', test_dir,
                      '--cfg-options', *options['test'], cwd=work_dir.parent)
    assert_tested(test_dir, checkpoint, 'acc/top1', result.stdout + result.stderr)


def test_each_run_draws_its_own_seed(tsn_video_run, trn_frames_run, stgcn_run):
    seeds = [drawn_seed(run_log(run[0])) for run in (tsn_video_run, trn_frames_run, stgcn_run)]
    assert len(set(seeds)) == len(seeds), seeds


def test_test_tool_explicit_arguments_win_over_cfg_options(stgcn_run):
    # MMAction2's order: --cfg-options first, then the checkpoint argument
    # (load_from) and --work-dir, which win.
    work_dir, options = stgcn_run
    checkpoint = work_dir / 'epoch_1.pth'
    test_dir, other_dir = work_dir.parent / 'explicit', work_dir.parent / 'from_cfg_options'
    missing = work_dir.parent / 'missing.pth'
    result = run_tool('test', STGCN, checkpoint, '--work-dir', test_dir, '--cfg-options',
                      *options['test'], f'load_from={missing}', f'work_dir={other_dir}',
                      cwd=work_dir.parent)
    assert_tested(test_dir, checkpoint, 'acc/top1', result.stdout + result.stderr)
    assert not other_dir.exists()
    assert dumped_config(test_dir).load_from == str(checkpoint)
    assert dumped_config(test_dir).work_dir == str(test_dir)


def test_flexible_runner_trains_and_tests(skeletons, tmp_path):
    # runner_type='FlexibleRunner' (SingleDeviceStrategy) on the shipped ST-GCN
    # config; the probe hook of tests/data/mmaction_runner_probe.py records the
    # runner class that really ran.
    work_dir = tmp_path / 'work'
    options = stgcn_options(skeletons, validate=False)
    train(STGCN_FLEXIBLE, options['train'], work_dir, '--no-validate')
    seed = assert_trained_with_random_seed(work_dir)
    probe = json.loads((work_dir / 'runner_probe_train.json').read_text())
    assert probe['runner'] == 'FlexibleRunner' and 'Runner' not in probe['mro'], probe
    assert probe['strategy'] == 'SingleDeviceStrategy' and probe['iter'] == 2, probe
    assert probe['seed'] == seed

    checkpoint = work_dir / 'epoch_1.pth'
    test_dir = tmp_path / 'test'
    result = run_tool('test', STGCN_FLEXIBLE, checkpoint, '--work-dir', test_dir,
                      '--cfg-options', *options['test'], cwd=tmp_path)
    probe = json.loads((test_dir / 'runner_probe_test.json').read_text())
    assert probe['runner'] == 'FlexibleRunner', probe
    assert 'acc/top1' in result.stdout + result.stderr
    assert list(test_dir.glob('*/*.json'))


def test_a_users_runner_from_custom_imports_is_built(skeletons, tmp_path):
    work_dir = tmp_path / 'work'
    options = stgcn_options(skeletons, validate=False)
    train(STGCN_CUSTOM_RUNNER, options['train'], work_dir, '--no-validate')
    assert_trained_with_random_seed(work_dir)
    assert 'MMActionTestsCustomRunner built from the config' in run_log(work_dir)
    probe = json.loads((work_dir / 'runner_probe_train.json').read_text())
    assert probe['runner'] == 'MMActionTestsCustomRunner' and probe['iter'] == 2, probe
