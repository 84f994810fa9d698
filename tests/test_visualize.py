"""tools/visualize_reconstruction.py on several configs and videos."""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

import mmvmae2  # noqa: F401
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope

ROOT = Path(__file__).resolve().parents[1]
PRETRAIN = ROOT / 'configs' / 'pretrain'
GREY, CELL, PAD, LABEL_W, HEADER = 128, 160, 4, 150, 24  # compose_figure's layout


@pytest.fixture(scope='module')
def tool():
    from conftest import _load_tool
    return _load_tool('visualize_reconstruction')


@pytest.fixture(scope='module')
def odd_video(demo_data, tmp_path_factory):
    """A non-square 96 x 72 video of 40 frames, not the demo's size or length."""
    frames = demo_data.render_video(seed=5, num_frames=40, size=96)[:, :, 12:84]
    return str(demo_data.write_video(str(tmp_path_factory.mktemp('vis') / 'odd.mp4'), frames))


def save_random_checkpoint(cfg, path):
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return model


def tiny_config(tmp_path, base_name):
    """A real pretraining config with a tiny ViT (same grid, pipeline, masks)."""
    path = tmp_path / f'tiny_{base_name}'
    path.write_text(
        f'_base_ = [{str(PRETRAIN / base_name)!r}]\n'
        'model = dict(\n'
        '    backbone=dict(arch=dict(_delete_=True, embed_dims=32, num_layers=1, num_heads=2,\n'
        '                            feedforward_channels=64)),\n'
        '    neck=dict(arch=dict(_delete_=True, embed_dims=16, num_layers=1, num_heads=2)))\n')
    return Config.fromfile(str(path))


def decoder_row(image_bgr, num_slices):
    """The pixels of the decoder-mask tiles (last row), ``(num_slices, CELL, CELL)``."""
    top = HEADER + 3 * (CELL + 2 * PAD) + PAD
    tiles = []
    for i in range(num_slices):
        left = LABEL_W + i * (CELL + 2 * PAD) + PAD
        tiles.append(image_bgr[top:top + CELL, left:left + CELL, 0])
    return np.stack(tiles)


def test_demo_config_on_an_odd_video(tool, odd_video, tmp_path):
    cfg = Config.fromfile(str(PRETRAIN / 'videomaev2_vit-tiny_demo.py'))
    save_random_checkpoint(cfg, tmp_path / 'ckpt.pth')
    out = tmp_path / 'pic.png'
    result = tool.visualize(cfg, str(tmp_path / 'ckpt.pth'), odd_video, str(out), num_slices=4)
    assert np.isfinite(result['loss']) and result['out'] == str(out)
    image = cv2.imread(str(out))
    assert image.shape == (HEADER + 4 * (CELL + 2 * PAD), LABEL_W + 4 * (CELL + 2 * PAD), 3)
    # 4 x 8 x 8 tokens, the 4 slices drawn 8 x 8 tokens of 20 x 20 pixels each.
    # Tube masking at 0.9 leaves 64 - int(57.6) = 7 positions to the encoder, the
    # same in every slice (grey). Running-cell masking (2 x 2 cells, 0.5) drops
    # 32 positions per slice and each position in exactly 2 of any 4 consecutive
    # slices, so over the 4 slices the decoder drops 4 * 32 - 7 * 2 = 114 hidden
    # tokens (black) and keeps 4 * 57 - 114 = 114 hidden ones for the loss (white).
    tiles = decoder_row(image, 4)
    token_px = (CELL // 8)**2
    assert (tiles == GREY).sum((1, 2)).tolist() == [7 * token_px] * 4
    black, white = (tiles == 0).sum((1, 2)), (tiles == 255).sum((1, 2))
    assert (black + white).tolist() == [57 * token_px] * 4
    assert black.sum() == white.sum() == 114 * token_px


@pytest.mark.parametrize('base_name, decoder_drops', [
    ('maest_vit-base-p16_8xb2-100e_k400-16x4x1.py', False),
    ('videomaev2_vit-base-p16_8xb8-200e_k400-16x4x1_random-mask-ablation.py', False),
    ('videomaev2_vit-small-p16_8xb8-200e_hybrid-16x4x1.py', True),
])
def test_real_configs_from_the_command_line(odd_video, tmp_path, base_name, decoder_drops):
    """MAE-ST (random masks, no decoder masking, 8 of the 16 frames predicted),
    the random-mask ablation of VideoMAE V2 and the hybrid set (shared
    pipeline), 16 frames at 224 x 224, through the command line."""
    cfg = tiny_config(tmp_path, base_name)
    cfg_path = tmp_path / 'merged.py'
    cfg.dump(str(cfg_path))
    save_random_checkpoint(cfg, tmp_path / 'ckpt.pth')
    out = tmp_path / 'pic.png'
    proc = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'visualize_reconstruction.py'), str(cfg_path),
         str(tmp_path / 'ckpt.pth'), odd_video, '--out', str(out), '--num-slices', '3'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f'picture written to {out}' in proc.stdout
    tiles = decoder_row(cv2.imread(str(out)), 3)
    assert ((tiles == 0).any()) == decoder_drops  # black: dropped by the decoder mask
    assert (tiles == GREY).any() and (tiles == 255).any()


def test_clear_errors(tool, tmp_path):
    cfg = Config.fromfile(str(PRETRAIN / 'videomaev2_vit-tiny_demo.py'))
    with pytest.raises(FileNotFoundError, match='video not found: .*nope.mp4'):
        tool.visualize(cfg, 'unused.pth', str(tmp_path / 'nope.mp4'), str(tmp_path / 'x.png'))
    del cfg.train_dataloader.dataset['pipeline']
    cfg.pop('train_pipeline')
    with pytest.raises(KeyError, match='no training pipeline found'):
        tool.find_train_pipeline(cfg)
