"""Encoder and decoder token masks for VideoMAE / VideoMAE V2 pretraining.

Every mask function returns a bool ndarray of shape ``(T * H * W, )`` for a
token grid ``(T, H, W)`` (temporal slices x patch rows x patch columns),
flattened in ``(t h w)`` order. ``True`` means *hidden from the encoder* for
an encoder mask and *not reconstructed* (dropped from the decoder) for a
decoder mask, the convention of the official VideoMAE V2 code.

``rng`` is ``None`` (the global ``np.random`` functions, so mmengine's
seeding applies, as in MMAction2's transforms), a ``np.random.RandomState``
or a ``np.random.Generator``. With ``None`` or a ``RandomState`` the tube and
running-cell masks make the same random draws as the official generators, so
they reproduce them bit for bit from the same NumPy state.
"""
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS

Grid = Tuple[int, int, int]
RNG = Union[None, np.random.RandomState, np.random.Generator]


def _check_grid(grid: Sequence[int]) -> Grid:
    grid = tuple(grid)
    if len(grid) != 3 or not all(isinstance(g, (int, np.integer)) and g > 0 for g in grid):
        raise ValueError(f'grid must be 3 positive ints (T, H, W), got {grid}')
    return tuple(int(g) for g in grid)


def _check_ratio(ratio: float, name: str = 'ratio') -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float, np.floating)) \
            or not 0 <= ratio < 1:
        raise ValueError(f'{name} must be a number in [0, 1), got {ratio!r}')
    return float(ratio)


def _randint(rng: RNG, high: int) -> int:
    """One integer in ``[0, high)``: ``randint`` (legacy API) or ``integers``."""
    if rng is None:
        return int(np.random.randint(high))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(high))
    return int(rng.randint(high))


def _shuffled_bits(n: int, k: int, rng: RNG) -> np.ndarray:
    """``(n, )`` bool with exactly ``k`` True at random positions.

    Same draws as the official ``np.random.shuffle(np.hstack([zeros(n-k),
    ones(k)]))`` (the shuffle only depends on the length, not the dtype).
    """
    bits = np.zeros(n, dtype=bool)
    bits[n - k:] = True
    (np.random if rng is None else rng).shuffle(bits)
    return bits


def tube_mask(grid: Sequence[int], ratio: float = 0.9, rng: RNG = None) -> np.ndarray:
    """VideoMAE tube masking: one random spatial mask repeated over time.

    Exactly ``int(ratio * (H * W))`` positions are hidden in every temporal
    slice, the official count (the product first: ``int(0.95 * 6 * 10)`` is
    56 in floating point, ``int(0.95 * 60)`` is 57). ViT-B 8x14x14 at 0.9:
    176 of 196, so 20 x 8 = 160 visible.

    Returns:
        np.ndarray: bool ``(T * H * W, )``, True = hidden.
    """
    t, h, w = _check_grid(grid)
    per_slice = _shuffled_bits(h * w, int(_check_ratio(ratio) * (h * w)), rng)
    return np.tile(per_slice, t)


def random_mask(grid: Sequence[int], ratio: float = 0.9, rng: RNG = None) -> np.ndarray:
    """MAE-ST random spacetime masking: hidden tokens anywhere.

    MAE-ST's count: ``int(N * (1 - ratio))`` tokens stay visible (official
    ``len_keep``), so 1568 tokens at 0.9 keep 156 and hide 1412.

    Returns:
        np.ndarray: bool ``(N, )`` with ``N = T * H * W``, True = hidden.
    """
    n = int(np.prod(_check_grid(grid)))
    return _shuffled_bits(n, n - int(n * (1 - _check_ratio(ratio))), rng)


def _cell_drops(ratio: float, cell_size: Sequence[int]) -> Tuple[int, int, int]:
    """Validate a running cell; returns ``(ch, cw, k)`` with k dropped per cell."""
    cell = tuple(cell_size)
    if len(cell) != 2 or not all(isinstance(c, (int, np.integer)) and c > 0 for c in cell):
        raise ValueError(f'cell_size must be 2 positive ints (ch, cw), got {cell_size}')
    ch, cw = int(cell[0]), int(cell[1])
    n = ch * cw
    k = int(_check_ratio(ratio) * n)  # official: int(4 * mask_ratio) for 2 x 2 cells
    if not 0 < k < n:
        allowed = ', '.join(f'{i}/{n}' for i in range(1, n)) or 'none'
        raise ValueError(
            f'running-cell ratio {ratio} drops {k} of the {n} positions of a {ch}x{cw} cell; '
            f'it must drop between 1 and {n - 1}: this cell allows ratios {allowed} '
            f'(k = int(ratio * {n}))')
    return ch, cw, k


def running_cell_mask(grid: Sequence[int],
                      ratio: float = 0.5,
                      cell_size: Sequence[int] = (2, 2),
                      start: Optional[int] = None,
                      rng: RNG = None) -> np.ndarray:
    """VideoMAE V2 running-cell decoder masking, for any cell and allowed ratio.

    The ``H x W`` grid is tiled with ``ch x cw`` cells (``n = ch * cw``
    positions) and every cell drops ``k = int(ratio * n)`` positions
    (``0 < k < n``, else ``ValueError``). With ``queue = [1] * k + [0] * (n - k)``,
    raster position ``j`` of the cell is dropped in temporal slice ``t`` iff
    ``queue[(j + start + t + 1) % n]``, so the pattern moves by one position
    per slice and over any ``n`` consecutive slices every position is dropped
    exactly ``k`` times. ``start`` (random phase) is drawn with one
    ``randint(n)`` when None: the official generator's only draw, so this
    reproduces it exactly (2x2 cell, ratios 1/4, 2/4, 3/4).

    On grids that are a multiple of the cell every slice drops exactly
    ``k * H * W / n``. Other grids are tiled with ``ceil`` many cells and
    cropped: every position keeps the balance above (dropped ``k`` times in
    any ``n`` consecutive slices, so any ``n`` consecutive slices drop
    exactly ``k * H * W`` in all), but one slice drops ``k`` per full cell
    plus a phase-dependent share of the cropped cells (2x2 at 0.5 on 7x7:
    25, 21, 24, 28, ... per slice, 98 per 4 slices).

    Returns:
        np.ndarray: bool ``(T * H * W, )``, True = dropped (not reconstructed).
    """
    t, h, w = _check_grid(grid)
    ch, cw, k = _cell_drops(ratio, cell_size)
    n = ch * cw
    start = _randint(rng, n) if start is None else int(start)
    queue = np.arange(n) < k
    phase = np.arange(n)[None, :] + start + np.arange(t)[:, None] + 1  # (T, n)
    cells = queue[phase % n].reshape(t, ch, cw)
    tiled = np.tile(cells, (1, -(-h // ch), -(-w // cw)))[:, :h, :w]
    return tiled.reshape(-1)


def frame_decoder_mask(grid: Sequence[int],
                       ratio: float = 0.5,
                       start: Optional[int] = None,
                       rng: RNG = None) -> np.ndarray:
    """Frame decoder masking (ablation): drop whole temporal slices.

    Exactly ``d = int(ratio * T)`` evenly spaced slices are dropped: slice
    ``t`` is dropped iff ``u = (t + start) % T`` has
    ``(u + 1) * d // T > u * d // T`` (ratio 0.5: every other slice; an even
    ``start`` drops the odd slices). ``start`` is drawn with one
    ``randint(T)`` when None.

    Returns:
        np.ndarray: bool ``(T * H * W, )``, True = dropped (not reconstructed).
    """
    t, h, w = _check_grid(grid)
    d = int(_check_ratio(ratio) * t)
    start = _randint(rng, t) if start is None else int(start)
    u = (np.arange(t) + start) % t
    dropped = (u + 1) * d // t > u * d // t
    return np.repeat(dropped, h * w)


def random_decoder_mask(grid: Sequence[int], ratio: float = 0.5, rng: RNG = None) -> np.ndarray:
    """Random decoder masking (ablation): exactly ``int(ratio * N)`` dropped anywhere.

    Returns:
        np.ndarray: bool ``(N, )``, True = dropped (not reconstructed).
    """
    n = int(np.prod(_check_grid(grid)))
    return _shuffled_bits(n, int(_check_ratio(ratio) * n), rng)


def no_decoder_mask(encoder_mask: np.ndarray) -> np.ndarray:
    """VideoMAE V1 (no decoder masking): reconstruct exactly the hidden tokens.

    Returns:
        np.ndarray: ``~encoder_mask`` (same shape, bool).
    """
    return ~np.asarray(encoder_mask, dtype=bool)


ENCODER_MASKS: Dict[str, Callable[..., np.ndarray]] = dict(tube=tube_mask, random=random_mask)
DECODER_TYPES = ('running_cell', 'none', 'frame', 'random')


def _pair(x: Union[int, Sequence[int]]) -> Tuple[int, int]:
    return (x, x) if isinstance(x, (int, np.integer)) else tuple(x)


@TRANSFORMS.register_module()
class VideoMAEMaskGenerator(BaseTransform):
    """Draw the VideoMAE (V2) encoder and decoder masks of every clip.

    The token grid ``(T // tubelet_size, H // ph, W // pw)`` is read from
    ``imgs``: either the ``(num_clips, C, T, H, W)`` array made by
    ``FormatShape('NCTHW')`` (one draw per clip) or, before it, a list of
    ``H x W x C`` frames (one clip of ``len(imgs)`` frames). Per clip the
    encoder mask is drawn first, then the decoder mask, with the global
    ``np.random`` (the official order, seeded by mmengine).

    Required keys:

        - imgs

    Added keys:

        - encoder_mask: bool ``(num_clips, N)``, True = hidden from the encoder
        - decoder_mask: bool ``(num_clips, N)``, True = not reconstructed

    ``N = T * H * W / (tubelet_size * ph * pw)``, flattened in ``(t h w)``
    order.

    Args:
        encoder_type (str): ``'tube'`` (VideoMAE) or ``'random'`` (MAE-ST).
            Defaults to ``'tube'``.
        encoder_ratio (float): Hidden fraction, in [0, 1). Defaults to 0.9.
        decoder_type (str): ``'running_cell'`` (VideoMAE V2), ``'none'``
            (V1: reconstruct all hidden tokens, ``decoder_ratio`` unused),
            ``'frame'`` or ``'random'`` (ablations).
            Defaults to ``'running_cell'``.
        decoder_ratio (float): Dropped fraction, in [0, 1). Defaults to 0.5.
        cell_size (tuple[int]): Running cell ``(ch, cw)``. Defaults to (2, 2).
        patch_size (int | tuple[int]): Spatial patch size. Defaults to 16.
        tubelet_size (int): Frames per token. Defaults to 2.
    """

    def __init__(self,
                 encoder_type: str = 'tube',
                 encoder_ratio: float = 0.9,
                 decoder_type: str = 'running_cell',
                 decoder_ratio: float = 0.5,
                 cell_size: Sequence[int] = (2, 2),
                 patch_size: Union[int, Sequence[int]] = 16,
                 tubelet_size: int = 2) -> None:
        if encoder_type not in ENCODER_MASKS:
            raise ValueError(f'encoder_type must be one of {tuple(ENCODER_MASKS)}, '
                             f'got {encoder_type!r}')
        if decoder_type not in DECODER_TYPES:
            raise ValueError(f'decoder_type must be one of {DECODER_TYPES}, got {decoder_type!r}')
        self.encoder_type, self.decoder_type = encoder_type, decoder_type
        self.encoder_ratio = _check_ratio(encoder_ratio, 'encoder_ratio')
        self.decoder_ratio = _check_ratio(decoder_ratio, 'decoder_ratio')
        self.cell_size = tuple(cell_size)
        if decoder_type == 'running_cell':
            _cell_drops(decoder_ratio, self.cell_size)
        self.patch_size = _pair(patch_size)
        self.tubelet_size = int(tubelet_size)
        if len(self.patch_size) != 2 or min(self.patch_size + (self.tubelet_size, )) < 1:
            raise ValueError(f'bad patch_size {patch_size} / tubelet_size {tubelet_size}')

    def token_grid(self, imgs) -> Tuple[int, Grid]:
        """``(num_clips, (T, H, W) token grid)`` of ``NCTHW`` clips or a frame list."""
        if isinstance(imgs, (list, tuple)):
            num_clips, (t, h, w) = 1, (len(imgs), ) + tuple(np.shape(imgs[0])[:2])
        elif getattr(imgs, 'ndim', None) == 5:
            num_clips, (t, h, w) = imgs.shape[0], imgs.shape[2:]
        else:
            raise ValueError('imgs must be a list of HxWxC frames or an (N, C, T, H, W) '
                             f"array (after FormatShape('NCTHW')), got {type(imgs).__name__} "
                             f'of shape {getattr(imgs, "shape", None)}')
        (ph, pw), pt = self.patch_size, self.tubelet_size
        if t % pt or h % ph or w % pw:
            raise ValueError(f'clips of {t} frames of {h}x{w} pixels do not split into '
                             f'tokens of {pt} frames x {ph}x{pw} pixels (tubelet_size x '
                             'patch_size must divide T x H x W)')
        return int(num_clips), (t // pt, h // ph, w // pw)

    def draw(self, grid: Grid) -> Tuple[np.ndarray, np.ndarray]:
        """One ``(encoder_mask, decoder_mask)`` pair, each bool ``(N, )``."""
        enc = ENCODER_MASKS[self.encoder_type](grid, self.encoder_ratio)
        if self.decoder_type == 'none':
            dec = no_decoder_mask(enc)
        elif self.decoder_type == 'running_cell':
            dec = running_cell_mask(grid, self.decoder_ratio, self.cell_size)
        elif self.decoder_type == 'frame':
            dec = frame_decoder_mask(grid, self.decoder_ratio)
        else:
            dec = random_decoder_mask(grid, self.decoder_ratio)
        return enc, dec

    def transform(self, results: dict) -> dict:
        num_clips, grid = self.token_grid(results['imgs'])
        encs, decs = zip(*(self.draw(grid) for _ in range(num_clips)))
        results['encoder_mask'] = np.stack(encs)
        results['decoder_mask'] = np.stack(decs)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(encoder_type={self.encoder_type!r}, '
                f'encoder_ratio={self.encoder_ratio}, decoder_type={self.decoder_type!r}, '
                f'decoder_ratio={self.decoder_ratio}, cell_size={self.cell_size}, '
                f'patch_size={self.patch_size}, tubelet_size={self.tubelet_size})')
