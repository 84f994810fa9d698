"""Clip features for temporal action localization (mmvmae2/apis/features.py,
tools/extract_features.py)."""
import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope

import mmvmae2  # noqa: F401
from mmaction.registry import MODELS
from mmvmae2.apis import (VideoMAEFeatureExtractor, extract_videos, is_done, output_path,
                          save_atomic, shard, window_indices, window_starts)
from mmvmae2.apis import features as features_module

ROOT = Path(__file__).resolve().parents[1]
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
TINY_BACKBONE = dict(type='VideoMAEViT',
                     arch=dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96),
                     img_size=32, patch_size=16, num_frames=16, tubelet_size=2, final_norm=False,
                     with_fc_norm=True, out_type='avg')


def tiny_backbone():
    init_default_scope('mmaction')
    torch.manual_seed(0)
    backbone = MODELS.build(TINY_BACKBONE)
    backbone.init_weights()
    return backbone.eval()


def extractor(backbone, **kwargs):
    kwargs = dict(dict(frame_size=(32, 32), batch_size=4), **kwargs)
    return VideoMAEFeatureExtractor(backbone, MEAN, STD, **kwargs)


@pytest.mark.parametrize('frames,stride,expected', [
    (16, 4, [0]),                  # exactly one window
    (19, 4, [0]),                  # the tail after the last window is dropped
    (20, 4, [0, 4]),
    (64, 4, [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48]),  # 13 = (64 - 16) // 4 + 1
    (64, 16, [0, 16, 32, 48]),     # FineAction stride, an exact multiple
    (63, 16, [0, 16, 32]),
    (5, 4, [0]),                   # shorter than one window: one padded window
    (1, 16, [0]),
])
def test_window_starts(frames, stride, expected):
    assert window_starts(frames, 16, stride).tolist() == expected


def test_window_starts_match_official_range():
    # official extract_tad_feature.py: range(0, num_frames - 15, stride)
    for stride in (4, 16):
        for frames in range(16, 120):
            official = list(range(0, frames - 15, stride))
            assert window_starts(frames, 16, stride).tolist() == official


def test_window_indices_pad_and_interval():
    assert window_indices(5, window=8, stride=4).tolist() == [[0, 1, 2, 3, 4, 4, 4, 4]]
    # interval 2: a window of 4 spans 7 frames
    assert window_indices(10, window=4, stride=2, frame_interval=2).tolist() == [
        [0, 2, 4, 6], [2, 4, 6, 8]]
    for bad in (dict(num_frames=0), dict(num_frames=10, stride=0)):
        with pytest.raises(ValueError):
            window_starts(**bad)


def test_shard_and_output_path():
    items = list('abcdefg')
    assert shard(items, 0, 3) == ['a', 'd', 'g'] and shard(items, 2, 3) == ['c', 'f']
    assert sorted(sum((shard(items, r, 3) for r in range(3)), [])) == items
    with pytest.raises(ValueError):
        shard(items, 3, 3)
    assert output_path('out', 'sub/v.1.mp4') == os.path.join('out', 'sub', 'v.1.npy')
    with pytest.raises(ValueError):
        output_path('out', '../v.mp4')


def test_batched_equals_unbatched():
    backbone = tiny_backbone()
    frames = np.random.RandomState(0).randint(0, 256, (27, 40, 48, 3)).astype(np.uint8)
    one = extractor(backbone, batch_size=1).extract(frames)
    many = extractor(backbone, batch_size=5).extract(frames)
    assert one.shape == (3, 48) and one.dtype == np.float32  # (27 - 16) // 4 + 1 windows
    np.testing.assert_allclose(many, one, rtol=1e-5, atol=1e-5)


def official_input(frames: np.ndarray, start: int) -> torch.Tensor:
    """One window as the official script builds it: [0, 1] floats resized to
    32 x 32, ``(1, 3, 16, 32, 32)``."""
    clip = torch.from_numpy(frames[start:start + 16]).permute(3, 0, 1, 2).float() / 255
    return F.interpolate(clip, size=(32, 32), mode='bilinear', align_corners=False)[None]


def test_normalization_flag():
    backbone = tiny_backbone()
    frames = np.random.RandomState(1).randint(0, 256, (24, 36, 44, 3)).astype(np.uint8)
    raw = extractor(backbone, normalize=False).extract(frames)
    normed = extractor(backbone, normalize=True).extract(frames)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1, 1) / 255
    std = torch.tensor(STD).view(1, 3, 1, 1, 1) / 255
    with torch.no_grad():
        for row, start in enumerate((0, 4, 8)):
            x = official_input(frames, start)
            np.testing.assert_allclose(raw[row], backbone(x)[0].numpy(), atol=1e-4)
            np.testing.assert_allclose(normed[row], backbone((x - mean) / std)[0].numpy(),
                                       atol=1e-4)
    assert np.abs(raw - normed).max() > 0.1


def test_atomic_write_and_is_done(tmp_path, monkeypatch):
    path = str(tmp_path / 'a' / 'v.npy')
    save_atomic(path, np.ones((3, 8), np.float32))
    assert is_done(path, 8) and not is_done(path, 9)
    (tmp_path / 'junk.npy').write_bytes(b'not numpy')
    assert not is_done(str(tmp_path / 'junk.npy'), 8)

    def crash(f, array, **kwargs):
        f.write(b'\x93NUMPY half')
        raise KeyboardInterrupt

    monkeypatch.setattr(np, 'save', crash)
    target = str(tmp_path / 'b' / 'w.npy')
    with pytest.raises(KeyboardInterrupt):
        save_atomic(target, np.ones((3, 8), np.float32))
    assert os.listdir(tmp_path / 'b') == []


GOOD = ['video_000.mp4', 'video_001.mp4', 'video_002.mp4']


def test_interrupted_run_resumes_to_identical_files(demo_video_dir, tmp_path):
    ext = extractor(tiny_backbone())
    full = extract_videos(ext, GOOD, str(demo_video_dir), str(tmp_path / 'full'), 48,
                          num_workers=1)
    assert full['written'] == GOOD and not full['failed']

    def stop(video, path):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract_videos(ext, GOOD, str(demo_video_dir), str(tmp_path / 'part'), 48, on_saved=stop)
    assert sorted(os.listdir(tmp_path / 'part')) == ['video_000.npy']
    resumed = extract_videos(ext, GOOD, str(demo_video_dir), str(tmp_path / 'part'), 48)
    assert resumed['skipped'] == GOOD[:1] and resumed['written'] == GOOD[1:]
    for video in GOOD:
        name = video.replace('.mp4', '.npy')
        assert (tmp_path / 'part' / name).read_bytes() == (tmp_path / 'full' / name).read_bytes()
        assert np.load(tmp_path / 'full' / name).shape == (5, 48)  # 32 frames: (32-16)//4+1


def test_bad_videos_are_reported_and_others_written(demo_video_dir, tmp_path):
    ext = extractor(tiny_backbone())
    videos = ['corrupt.mp4', GOOD[0], 'missing.mp4', 'short.mp4', GOOD[1]]
    summary = extract_videos(ext, videos, str(demo_video_dir), str(tmp_path), 48,
                             num_workers=2, min_frames=8)
    assert summary['written'] == GOOD[:2]
    reasons = dict(summary['failed'])
    assert sorted(reasons) == ['corrupt.mp4', 'missing.mp4', 'short.mp4']
    assert 'VideoReadError' in reasons['corrupt.mp4'] and 'cannot open' in reasons['corrupt.mp4']
    assert 'VideoReadError' in reasons['missing.mp4']
    assert reasons['short.mp4'] == 'too short: 4 frames, min_frames=8'
    assert sorted(os.listdir(tmp_path)) == ['video_000.npy', 'video_001.npy']
    # by default a 4-frame video gives one window of its frames, the last repeated
    summary = extract_videos(ext, ['short.mp4'], str(demo_video_dir), str(tmp_path), 48)
    assert summary['written'] == ['short.mp4'] and np.load(tmp_path / 'short.npy').shape == (1, 48)


def load_tool():
    spec = importlib.util.spec_from_file_location('extract_features',
                                                  ROOT / 'tools' / 'extract_features.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_tiny_setup(tmp_path: Path, videos) -> tuple:
    """A tiny recognizer checkpoint, a feature config for it and a video list."""
    init_default_scope('mmaction')
    torch.manual_seed(3)
    recognizer = MODELS.build(dict(
        type='Recognizer3D', backbone=TINY_BACKBONE,
        cls_head=dict(type='TimeSformerHead', num_classes=4, in_channels=48)))
    checkpoint = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=recognizer.state_dict()), checkpoint)
    config = tmp_path / 'feat.py'
    config.write_text(
        f'model = dict(type="Recognizer3D", backbone={TINY_BACKBONE!r},\n'
        f'             data_preprocessor=dict(type="ActionDataPreprocessor", mean={MEAN},\n'
        f'                                    std={STD}, format_shape="NCTHW"))\n'
        'feature_cfg = dict(window=16, stride=8, frame_size=(32, 32))\n')
    (tmp_path / 'list.txt').write_text(''.join(f'{v} 0\n' for v in videos))
    return recognizer, config, checkpoint, tmp_path / 'list.txt'


def test_cli_end_to_end(demo_video_dir, tmp_path, capsys):
    recognizer, config, checkpoint, video_list = write_tiny_setup(tmp_path, GOOD + ['corrupt.mp4'])
    out = tmp_path / 'out'
    argv = [str(config), str(checkpoint), '--video-list', str(video_list),
            '--video-root', str(demo_video_dir), '--out-dir', str(out), '--num-workers', '1',
            '--stride', '4', '--batch-size', '3', '--device', 'cpu']
    tool = load_tool()
    assert tool.main(argv) == 0
    log = capsys.readouterr().out
    assert 'wrote 3, skipped 0 already done, failed 1 of 4 videos' in log and 'videos/s' in log
    assert (out / 'failures.txt').read_text().startswith('corrupt.mp4\tVideoReadError')
    expected = extractor(recognizer.backbone.eval(), stride=4)
    for video in GOOD:
        feats = np.load(out / video.replace('.mp4', '.npy'))
        frames = features_module.decode_all_frames(str(demo_video_dir / video))
        np.testing.assert_allclose(feats, expected.extract(frames), atol=1e-5)
    assert tool.main(argv + ['--no-normalize']) == 0  # all done: nothing rewritten
    assert 'wrote 0, skipped 3 already done' in capsys.readouterr().out


def test_cli_pytorch_launcher_splits_the_list(demo_video_dir, tmp_path):
    """Two gloo processes (torchrun): rank r takes videos r::2, together all."""
    _, config, checkpoint, video_list = write_tiny_setup(tmp_path, GOOD)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    out = tmp_path / 'out'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
           '--master_port', str(port), str(ROOT / 'tools' / 'extract_features.py'), str(config),
           str(checkpoint), '--video-list', str(video_list), '--video-root', str(demo_video_dir),
           '--out-dir', str(out), '--num-workers', '0', '--launcher', 'pytorch', '--device',
           'cpu']
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert '[rank 0/2] wrote 2, skipped 0 already done, failed 0 of 2 videos' in log
    assert '[rank 1/2] wrote 1, skipped 0 already done, failed 0 of 1 videos' in log
    assert sorted(os.listdir(out)) == ['video_000.npy', 'video_001.npy', 'video_002.npy']
