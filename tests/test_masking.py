"""Encoder / decoder masks: exact counts, structure, and bit parity with the
official VideoMAE V2 generators (``tests/data/reference/masks_ref.pt``, or the
path in ``VIDEOMAE_MASKS_REF``; fixture ``masks_ref`` of ``conftest.py``).

Expected counts are literals: the official generators hide
``int(ratio * (H * W))`` positions of each slice (``TubeMaskingGenerator``) and
``int(ratio * T * H * W)`` tokens (``RandomMaskingGenerator``), worked out by
hand here, not recomputed with the code under test."""
import numpy as np
import pytest

from mmvmae2.datasets.transforms.masking import (VideoMAEMaskGenerator, frame_decoder_mask,
                                                 no_decoder_mask, random_decoder_mask,
                                                 random_mask, running_cell_mask, tube_mask)

GRID = (8, 14, 14)  # ViT-B, 16 frames 224x224


@pytest.fixture(scope='module')
def ref(masks_ref):
    return masks_ref


@pytest.fixture(scope='module')
def ref_window(ref):
    """The official generators' window and ratios, as stored in the file."""
    return tuple(ref['window_size']), ref['tube_mask_ratio'], ref['running_cell_mask_ratio']


def slices(mask, grid):
    return mask.reshape(grid[0], -1)


# --------------------------------------------------------------- encoder masks
# grid, ratio, hidden positions per slice: int(ratio * (H * W))
TUBE_COUNTS = [
    (GRID, 0.0, 0), (GRID, 0.5, 98), (GRID, 0.75, 147), (GRID, 0.9, 176),  # 176.4
    ((8, 7, 7), 0.5, 24), ((8, 7, 7), 0.75, 36), ((8, 7, 7), 0.9, 44),  # 24.5, 36.75, 44.1
    ((4, 5, 9), 0.5, 22), ((4, 5, 9), 0.75, 33), ((4, 5, 9), 0.9, 40),  # 22.5, 33.75, 40.5
    ((1, 1, 3), 0.5, 1), ((1, 1, 3), 0.75, 2), ((1, 1, 3), 0.9, 2),
    ((2, 6, 10), 0.9, 54),
]


@pytest.mark.parametrize('grid, ratio, hidden', TUBE_COUNTS)
def test_tube_counts_exact_and_identical_over_time(grid, ratio, hidden):
    rng = np.random.RandomState(1)
    for _ in range(3):
        m = slices(tube_mask(grid, ratio, rng), grid)
        assert m.dtype == bool
        assert m.sum(1).tolist() == [hidden] * grid[0]
        assert (m == m[0]).all()


def test_tube_count_is_the_official_int_of_ratio_times_slice():
    """Official ``TubeMaskingGenerator``: ``int(mask_ratio * num_patches_per_frame)``,
    i.e. ``int(0.95 * 60) = 57`` on a 6 x 10 grid (0.95 * 60 is exactly 57.0 in floats,
    while ``0.95 * 6 * 10`` is 56.99999999999999 and would give 56)."""
    m = slices(tube_mask((3, 6, 10), 0.95, np.random.RandomState(0)), (3, 6, 10))
    assert m.sum(1).tolist() == [57, 57, 57]


# grid, ratio, hidden tokens: N - len_keep with MAE-ST's len_keep = int(N * (1 - ratio))
RANDOM_COUNTS = [
    (GRID, 0.5, 784), (GRID, 0.75, 1176), (GRID, 0.9, 1412),  # keeps int(156.8) = 156
    ((8, 7, 7), 0.5, 196), ((8, 7, 7), 0.75, 294), ((8, 7, 7), 0.9, 353),  # keeps 39
    ((4, 5, 9), 0.5, 90), ((4, 5, 9), 0.75, 135), ((4, 5, 9), 0.9, 163),  # 180 * 0.1 = 17.99..
]


@pytest.mark.parametrize('grid, ratio, hidden', RANDOM_COUNTS)
def test_random_mask_count_exact_and_not_tube_shaped(grid, ratio, hidden):
    rng = np.random.RandomState(2)
    masks = [random_mask(grid, ratio, rng) for _ in range(3)]
    assert [m.sum() for m in masks] == [hidden] * 3
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
# cell, ratio, cell positions n, of which k are dropped in each slice
@pytest.mark.parametrize('cell, ratio, n, k', [((2, 2), 0.25, 4, 1), ((2, 2), 0.5, 4, 2),
                                               ((2, 2), 0.75, 4, 3), ((3, 3), 1 / 3, 9, 3),
                                               ((1, 4), 0.5, 4, 2), ((2, 3), 0.5, 6, 3)])
@pytest.mark.parametrize('hw', [(12, 12), (7, 7), (5, 9)])
def test_running_cell_balance(cell, ratio, n, k, hw):
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
def test_tube_parity_with_official(ref, ref_window):
    grid, ratio, _ = ref_window
    rng = np.random.RandomState(0)
    for i, expected in enumerate(ref['tube_masks']):
        mask = tube_mask(grid, ratio, rng)
        assert (mask == expected.numpy()).all()
        assert (~mask).sum() == ref['tube_visible_counts'][i]
        assert mask.sum() == ref['tube_masked_counts'][i]
    np.random.seed(0)  # the global RNG path gives the same draws
    assert (tube_mask(grid, ratio) == ref['tube_masks'][0].numpy()).all()


def test_running_cell_parity_with_official(ref, ref_window):
    grid, _, ratio = ref_window
    for start, expected in enumerate(ref['running_cell_all_mask_maps']):
        assert (running_cell_mask(grid, ratio, start=start) == expected.reshape(-1).numpy()).all()
    rng = np.random.RandomState(0)
    for i, expected in enumerate(ref['running_cell_masks']):
        mask = running_cell_mask(grid, ratio, rng=rng)
        assert (mask == expected.numpy()).all()
        assert (~mask).sum() == ref['cell_reconstructed_counts'][i]
        per_frame = list(ref['cell_reconstructed_per_frame'][i])
        assert (~slices(mask, grid)).sum(1).tolist() == per_frame
        start = ref['running_cell_start_ptrs'][i]  # the official draw picked this map
        assert (mask == running_cell_mask(grid, ratio, start=start)).all()


def test_interleaved_dataset_order_parity_with_official(ref, ref_window):
    grid, enc_ratio, dec_ratio = ref_window
    rng = np.random.RandomState(0)
    for sample in ref['interleaved_dataset_order_seed0']:
        enc, dec = tube_mask(grid, enc_ratio, rng), running_cell_mask(grid, dec_ratio, rng=rng)
        assert (enc == sample['encoder_mask'].numpy()).all()
        assert (dec == sample['decoder_mask'].numpy()).all()
        assert (~enc).sum() == sample['n_enc_visible']
        assert (~dec).sum() == sample['n_dec_reconstructed']
        assert (enc & ~dec).sum() == sample['n_loss_tokens']


def test_transform_matches_official_order(ref, ref_window):
    """The transform (ViT-B defaults: 16 x 2 frames, 16 x 16 patches, 0.9 / 0.5)
    draws the official masks in the official order."""
    grid, enc_ratio, dec_ratio = ref_window
    gen = VideoMAEMaskGenerator(encoder_ratio=enc_ratio, decoder_ratio=dec_ratio)
    clips = len(ref['interleaved_dataset_order_seed0'])
    imgs = np.broadcast_to(np.zeros((), np.uint8), (clips, 3, 2 * grid[0], 16 * grid[1],
                                                    16 * grid[2]))
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
    assert out['decoder_mask'].sum() == 70  # 0.25 * 4 * 7 * 10
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
