"""The fine-tuning demo (``make demo-finetune``): labeled demo videos, and a
pretrained encoder that learns them clearly faster than a random one.

The end-to-end test repeats the whole demo: ``make demo``'s pretraining (its
8 videos of 64 frames at 128 x 128, seed 0, the demo config's 80 epochs),
then ``tools/demo_finetune.py`` on labeled videos of another seed than
README's (1 instead of 0).
"""
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PRETRAIN_CFG = ROOT / 'configs' / 'pretrain' / 'videomaev2_vit-tiny_demo.py'


def test_labeled_videos_lists_and_light_side(demo_data, tmp_path):
    samples = demo_data.make_labeled_videos(str(tmp_path), num_train=8, num_val=4,
                                            num_frames=4, size=64, seed=3)
    assert samples['train'] == [(f'train/video_{i:03d}.mp4', i % 4) for i in range(8)]
    assert (tmp_path / 'val_list.txt').read_text().splitlines() == [
        'val/video_000.mp4 0', 'val/video_001.mp4 1', 'val/video_002.mp4 2',
        'val/video_003.mp4 3']
    assert all((tmp_path / name).is_file() for name, _ in samples['train'] + samples['val'])
    # The class is the side of the light: that half of the frame is brighter.
    for label, (lit, dark) in enumerate([((slice(None), slice(32, None)), (slice(None),
                                                                           slice(0, 32))),
                                         ((slice(32, None), ), (slice(0, 32), )),
                                         ((slice(None), slice(0, 32)), (slice(None),
                                                                        slice(32, None))),
                                         ((slice(0, 32), ), (slice(32, None), ))]):
        for seed in range(3):
            frame = demo_data.render_labeled_video(seed, label, num_frames=1,
                                                   size=64)[0].astype(float)
            assert frame[lit].mean() > frame[dark].mean() + 5, (label, seed)


def test_labeled_videos_keep_the_scene_and_reject_bad_labels(demo_data):
    import pytest
    a = demo_data.render_labeled_video(7, 0, num_frames=2, size=64)
    b = demo_data.render_labeled_video(7, 2, num_frames=2, size=64)
    assert a.shape == (2, 64, 64, 3) and not np.array_equal(a, b)
    with pytest.raises(ValueError, match='label 4 is outside'):
        demo_data.render_labeled_video(0, 4)
    with pytest.raises(ValueError, match='one video per class'):
        demo_data.make_labeled_videos('unused', num_train=3, num_val=8)


def run(cmd):
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200,
                          env=dict(__import__('os').environ, OMP_NUM_THREADS='2'))
    assert proc.returncode == 0, f'{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
    return proc.stdout


def test_pretrained_encoder_learns_the_labeled_videos_clearly_better(demo_data, tmp_path):
    """Measured (pretrained / scratch val top-1, %) from the `make demo`
    checkpoint on labeled videos of seeds 0-3: 90.6/53.1, 90.6/37.5,
    90.6/50.0, 87.5/50.0; the margin asked is 20 points."""
    pretrain_videos = tmp_path / 'pretrain'
    demo_data.make_demo_videos(str(pretrain_videos), seed=0)  # make demo's 8 x 64 x 128^2
    run([sys.executable, 'tools/train.py', str(PRETRAIN_CFG), '--work-dir',
         str(tmp_path / 'pretrain_run'), '--cfg-options',
         f'train_dataloader.dataset.ann_file={pretrain_videos / "train_list.txt"}',
         f'train_dataloader.dataset.data_prefix.video={pretrain_videos}'])
    labeled = tmp_path / 'labeled'
    demo_data.make_labeled_videos(str(labeled), num_frames=32, seed=1)
    out = run([sys.executable, 'tools/demo_finetune.py', '--data-root', str(labeled),
               '--pretrained', str(tmp_path / 'pretrain_run' / 'epoch_80.pth'), '--work-dir',
               str(tmp_path / 'finetune')])
    accuracies = {}
    for line in out.splitlines():
        if line.startswith('val top-1 accuracy'):
            kind = 'pretrained' if 'pretraining' in line else 'scratch'
            accuracies[kind] = float(line.split(': ')[1].split('%')[0])
    assert set(accuracies) == {'pretrained', 'scratch'}, out
    assert accuracies['pretrained'] >= accuracies['scratch'] + 20, accuracies
    assert accuracies['pretrained'] >= 70, accuracies
