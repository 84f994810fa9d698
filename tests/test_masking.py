"""Encoder / decoder masks: exact counts, structure, and bit parity with the
official VideoMAE V2 generators (``shared/reference/masks_ref.pt``)."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from mmvmae2.datasets.transforms.masking import (VideoMAEMaskGenerator, frame_decoder_mask,
                                                 no_decoder_mask, random_decoder_mask,
                                                 random_mask, running_cell_mask, tube_mask)

GRID = (8, 14, 14)  # ViT-B, 16 frames 224x224
REF_PATH = Path(os.environ.get(
    'VIDEOMAE_MASKS_REF',
    Path(__file__).resolve().parents[1].parent / 'shared' / 'reference' / 'masks_ref.pt'))


@pytest.fixture(scope='module')
def ref():
    if not REF_PATH.is_file():
        pytest.skip(f'official masks reference not found at {REF_PATH} '
                    '(set VIDEOMAE_MASKS_REF to its path)')
    return torch.load(REF_PATH, weights_only=True)


def slices(mask, grid):
    return mask.reshape(grid[0], -1)


# --------------------------------------------------------------- encoder masks
@pytest.mark.parametrize('grid', [GRID, (8, 7, 7), (4, 5, 9), (1, 1, 3)])
@pytest.mark.parametrize('ratio', [0.0, 0.5, 0.75, 0.9])
def test_tube_counts_exact_and_identical_over_time(grid, ratio):
    rng = np.random.RandomState(1)
    for _ in range(3):
        m = slices(tube_mask(grid, ratio, rng), grid)
        assert m.dtype == bool
        assert (m.sum(1) == int(ratio * grid[1] * grid[2])).all()
        assert (m == m[0]).all()


@pytest.mark.parametrize('grid', [GRID, (8, 7, 7), (4, 5, 9)])
@pytest.mark.parametrize('ratio', [0.5, 0.75, 0.9])
def test_random_mask_count_exact_and_not_tube_shaped(grid, ratio):
    n = int(np.prod(grid))
    rng = np.random.RandomState(2)
    masks = [random_mask(grid, ratio, rng) for _ in range(3)]
    assert all(m.sum() == int(ratio * n) for m in masks)
    assert not all((slices(m, grid) == slices(m, grid)[0]).all() for m in masks)
    assert len({m.tobytes() for m in masks}) == 3


def test_generator_and_global_rng_are_accepted():
    g = np.random.default_rng(0)
    assert tube_mask(GRID, 0.9, g).sum() == 1408
    assert running_cell_mask(GRID, 0.5, rng=g).sum() == 784
    assert frame_decoder_mask(GRID, 0.5, rng=g).sum() == 784
    np.random.seed(3)
    a = random_mask(GRID, 0.9)
    np.random.seed(3)
    assert (a == random_mask(GRID, 0.9)).all()


# ----------------------------------------------------------------- running cell
@pytest.mark.parametrize('cell, ratio', [((2, 2), 0.25), ((2, 2), 0.5), ((2, 2), 0.75),
                                         ((3, 3), 1 / 3), ((1, 4), 0.5), ((2, 3), 0.5)])
@pytest.mark.parametrize('hw', [(12, 12), (7, 7), (5, 9)])
def test_running_cell_balance(cell, ratio, hw):
    n = cell[0] * cell[1]
    k = int(ratio * n)
    grid = (2 * n, ) + hw
    for start in range(n):
        m = slices(running_cell_mask(grid, ratio, cell, start=start), grid)
        # every position dropped exactly k times in any n consecutive slices
        for t0 in range(n + 1):
            assert (m[t0:t0 + n].sum(0) == k).all()
        if hw[0] % cell[0] == 0 and hw[1] % cell[1] == 0:
            assert (m.sum(1) == k * hw[0] * hw[1] // n).all()
            # every cell drops k
            cells = m.reshape(grid[0], hw[0] // cell[0], cell[0], hw[1] // cell[1], cell[1])
            assert (cells.sum((2, 4)) == k).all()


def test_running_cell_rotates_one_raster_position_per_slice():
    m = running_cell_mask((4, 2, 2), 0.5, start=0).reshape(4, 2, 2).astype(int)
    assert m.tolist() == [[[1, 0], [0, 1]], [[0, 0], [1, 1]], [[0, 1], [1, 0]], [[1, 1], [0, 0]]]
    m3 = running_cell_mask((9, 3, 3), 1 / 3, (3, 3), start=0).reshape(9, 9)
    assert (m3.sum(1) == 3).all() and all((np.roll(m3[t], -1) == m3[t + 1]).all()
                                          for t in range(8))


def test_running_cell_odd_grid_documented_counts():
    m = slices(running_cell_mask((8, 7, 7), 0.5, start=0), (8, 7, 7))
    assert m.sum(1).tolist() == [25, 21, 24, 28] * 2
    assert m.sum() == 8 * 49 // 2


def test_running_cell_start_is_one_randint_draw():
    rng, probe = np.random.RandomState(5), np.random.RandomState(5)
    for _ in range(4):
        start = probe.randint(4)
        assert (running_cell_mask(GRID, 0.5, rng=rng) == running_cell_mask(GRID, 0.5,
                                                                           start=start)).all()
    assert rng.randint(1 << 30) == probe.randint(1 << 30)  # same number of draws


@pytest.mark.parametrize('cell, ratio', [((2, 2), 0.1), ((2, 2), 0.0), ((3, 3), 0.1),
                                         ((1, 1), 0.5)])
def test_running_cell_ratio_the_cell_cannot_express_raises(cell, ratio):
    with pytest.raises(ValueError, match='allows ratios'):
        running_cell_mask(GRID, ratio, cell)


@pytest.mark.parametrize('bad', [1.0, -0.1, 1.5, '0.5', None, True])
def test_invalid_ratio_raises(bad):
    for fn in (tube_mask, random_mask, running_cell_mask, frame_decoder_mask,
               random_decoder_mask):
        with pytest.raises(ValueError, match=r'\[0, 1\)'):
            fn(GRID, bad)


@pytest.mark.parametrize('grid', [(8, 14), (0, 14, 14), (8, -1, 14), (8, 14.0, 14)])
def test_invalid_grid_raises(grid):
    with pytest.raises(ValueError, match='3 positive ints'):
        tube_mask(grid, 0.9)


# ------------------------------------------------------------- other decoders
@pytest.mark.parametrize('t, ratio, dropped',
                         [(8, 0.5, 4), (8, 0.75, 6), (8, 0.25, 2), (5, 0.5, 2), (8, 0.0, 0)])
def test_frame_decoder_drops_whole_evenly_spaced_slices(t, ratio, dropped):
    grid = (t, 7, 7)
    for start in range(t):
        m = slices(frame_decoder_mask(grid, ratio, start=start), grid)
        assert ((m.sum(1) == 0) | (m.sum(1) == 49)).all()
        assert m.all(1).sum() == dropped
    m = slices(frame_decoder_mask((8, 2, 2), 0.5, start=0), (8, 2, 2))
    assert m.all(1).tolist() == [False, True] * 4


def test_random_decoder_and_no_decoder():
    m = random_decoder_mask((4, 5, 9), 0.5, np.random.RandomState(0))
    assert m.sum() == 90
    enc = tube_mask(GRID, 0.9, np.random.RandomState(0))
    assert (no_decoder_mask(enc) == ~enc).all() and (enc & ~no_decoder_mask(enc)).sum() == 1408


def test_loss_token_count_is_704_for_any_tube_draw():
    rng = np.random.RandomState(7)
    for _ in range(20):
        enc, dec = tube_mask(GRID, 0.9, rng), running_cell_mask(GRID, 0.5, rng=rng)
        assert (~enc).sum() == 160 and (~dec).sum() == 784
        assert (enc & ~dec).sum() == 704


# --------------------------------------------------------- official parity
def test_tube_parity_with_official(ref):
    rng = np.random.RandomState(0)
    for i in range(3):
        assert (tube_mask(GRID, 0.9, rng) == ref['tube_masks'][i].numpy()).all()
    np.random.seed(0)  # the global RNG path gives the same draws
    assert (tube_mask(GRID, 0.9) == ref['tube_masks'][0].numpy()).all()


def test_running_cell_parity_with_official(ref):
    for start in range(4):
        expected = ref['running_cell_all_mask_maps'][start].reshape(-1).numpy()
        assert (running_cell_mask(GRID, 0.5, start=start) == expected).all()
    rng = np.random.RandomState(0)
    for i in range(3):
        assert (running_cell_mask(GRID, 0.5, rng=rng) == ref['running_cell_masks'][i].numpy()).all()


def test_interleaved_dataset_order_parity_with_official(ref):
    rng = np.random.RandomState(0)
    for sample in ref['interleaved_dataset_order_seed0']:
        enc, dec = tube_mask(GRID, 0.9, rng), running_cell_mask(GRID, 0.5, rng=rng)
        assert (enc == sample['encoder_mask'].numpy()).all()
        assert (dec == sample['decoder_mask'].numpy()).all()
        assert (~enc).sum() == sample['n_enc_visible']
        assert (~dec).sum() == sample['n_dec_reconstructed']
        assert (enc & ~dec).sum() == sample['n_loss_tokens']


def test_transform_matches_official_order(ref):
    gen = VideoMAEMaskGenerator()
    imgs = np.broadcast_to(np.zeros((), np.uint8), (3, 3, 16, 224, 224))
    np.random.seed(0)
    out = gen(dict(imgs=imgs))
    for i, sample in enumerate(ref['interleaved_dataset_order_seed0']):
        assert (out['encoder_mask'][i] == sample['encoder_mask'].numpy()).all()
        assert (out['decoder_mask'][i] == sample['decoder_mask'].numpy()).all()


# ------------------------------------------------------------------ transform
def test_transform_on_formatshape_array():
    imgs = np.broadcast_to(np.zeros((), np.float32), (4, 3, 16, 224, 224))
    out = VideoMAEMaskGenerator()(dict(imgs=imgs))
    enc, dec = out['encoder_mask'], out['decoder_mask']
    assert enc.shape == dec.shape == (4, 1568) and enc.dtype == dec.dtype == bool
    assert (enc.sum(1) == 1408).all() and (dec.sum(1) == 784).all()
    assert ((enc & ~dec).sum(1) == 704).all()
    assert len({e.tobytes() for e in enc}) == 4  # independent draws per clip


def test_transform_on_frame_list_and_other_settings():
    frames = [np.zeros((112, 160, 3), np.uint8)] * 8
    gen = VideoMAEMaskGenerator('random', 0.75, 'frame', 0.5, patch_size=(16, 32), tubelet_size=2)
    out = gen(dict(imgs=frames))
    grid = (4, 7, 5)
    assert out['encoder_mask'].shape == out['decoder_mask'].shape == (1, 140)
    assert out['encoder_mask'].sum() == 105
    assert slices(out['decoder_mask'][0], grid).all(1).sum() == 2
    out = VideoMAEMaskGenerator(decoder_type='none')(dict(imgs=frames[:4] * 4))
    assert (out['decoder_mask'] == ~out['encoder_mask']).all()
    out = VideoMAEMaskGenerator(decoder_type='random', decoder_ratio=0.25)(dict(imgs=frames))
    assert out['decoder_mask'].sum() == int(0.25 * 4 * 7 * 10)
    assert 'running_cell' in repr(VideoMAEMaskGenerator())


def test_transform_rejects_bad_inputs():
    gen = VideoMAEMaskGenerator()
    with pytest.raises(ValueError, match='do not split'):
        gen(dict(imgs=np.zeros((1, 3, 15, 32, 32), np.uint8)))
    with pytest.raises(ValueError, match='do not split'):
        gen(dict(imgs=[np.zeros((40, 32, 3), np.uint8)] * 4))
    with pytest.raises(ValueError, match='NCTHW'):
        gen(dict(imgs=np.zeros((3, 16, 32, 32), np.uint8)))
    with pytest.raises(ValueError, match='encoder_type'):
        VideoMAEMaskGenerator(encoder_type='block')
    with pytest.raises(ValueError, match='decoder_type'):
        VideoMAEMaskGenerator(decoder_type='cell')
    with pytest.raises(ValueError, match='allows ratios'):
        VideoMAEMaskGenerator(decoder_ratio=0.1)
    with pytest.raises(ValueError, match='encoder_ratio'):
        VideoMAEMaskGenerator(encoder_ratio=1.0)


def test_transform_is_registered():
    from mmaction.registry import TRANSFORMS
    gen = TRANSFORMS.build(dict(type='VideoMAEMaskGenerator', encoder_ratio=0.75))
    assert isinstance(gen, VideoMAEMaskGenerator) and gen.encoder_ratio == 0.75
