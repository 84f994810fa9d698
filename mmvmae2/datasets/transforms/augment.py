"""Clip augmentations of VideoMAE V2 fine-tuning that MMAction2 1.2 lacks.

The official recipe (``run_class_finetuning.py``: ``--aa rand-m7-n4-mstd0.5-inc1
--reprob 0.25 --remode pixel --recount 1``; ``dataset/datasets.py``,
``_aug_frame``) runs RandAugment on the decoded frames -> normalize -> random
resized crop (+ flip) -> random erasing of the ``(T, C, H, W)`` clip. Both
work on ``results['imgs']`` as a list of ``(H, W, C)`` frames or ``(T, H, W,
C)``; the erasing also after ``FormatShape('NCTHW')``.

The functions take ``rng``: ``None`` (the global ``np.random``, so mmengine's
and mmvmae2's per-sample seeding apply, as in MMAction2's transforms; the
transforms use it) or a ``np.random.RandomState``. The official code also
draws from Python's ``random``; here every draw is NumPy's.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image, ImageEnhance, ImageOps

from mmaction.registry import TRANSFORMS

RNG = Optional[np.random.RandomState]
Frames = Union[List[np.ndarray], np.ndarray]
Step = Tuple[str, Tuple[float, ...]]

MAX_LEVEL = 10.0
IMAGENET_MEAN = (123.675, 116.28, 103.53)  # RGB, pixel scale, as the data preprocessor
IMAGENET_STD = (58.395, 57.12, 57.375)

# timm's ``_RAND_TRANSFORMS`` and, for ``inc1``, ``_RAND_INCREASING_TRANSFORMS``.
RAND_OPS = ('AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize',
            'SolarizeAdd', 'Color', 'Contrast', 'Brightness', 'Sharpness', 'ShearX', 'ShearY',
            'TranslateXRel', 'TranslateYRel')
RAND_INCREASING_OPS = ('AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing',
                       'SolarizeIncreasing', 'SolarizeAdd', 'ColorIncreasing',
                       'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing',
                       'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel')
_ENHANCERS = dict(Color=ImageEnhance.Color, Contrast=ImageEnhance.Contrast,
                  Brightness=ImageEnhance.Brightness, Sharpness=ImageEnhance.Sharpness)
_SIGNED = {'Rotate', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel'} | {
    f'{name}Increasing' for name in _ENHANCERS}
_RESAMPLE = dict(nearest=Image.Resampling.NEAREST, bilinear=Image.Resampling.BILINEAR,
                 bicubic=Image.Resampling.BICUBIC)


def _rng(rng: RNG):
    return np.random if rng is None else rng


def _check_number(value, name: str, low: float, high: float = float('inf')) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not low <= value <= high:
        raise ValueError(f'{name} must be a number in [{low}, {high}], got {value!r}')
    return float(value)


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f'{name} must be an int >= {low}, got {value!r}')
    return int(value)


def op_arguments(name: str, level: float, negate: bool, size: Tuple[int, int],
                 translate_pct: float = 0.45) -> Tuple[float, ...]:
    """Arguments of op ``name`` at magnitude ``level`` (timm's level-to-arg rules).

    Args:
        name (str): An op of :data:`RAND_OPS` or :data:`RAND_INCREASING_OPS`.
        level (float): Magnitude in ``[0, 10]``.
        negate (bool): Flip the sign of a signed op (rotation, shear,
            translation, the ``*Increasing`` enhancements).
        size (tuple[int, int]): Frame ``(width, height)``, for translations.
        translate_pct (float): Translation at level 10, as a fraction of the
            frame size. Defaults to 0.45.

    Returns:
        tuple: The op's arguments, e.g. ``(21.0, )`` degrees for
        ``('Rotate', 7, False)``.
    """
    frac = level / MAX_LEVEL
    sign = -1.0 if negate and name in _SIGNED else 1.0
    if name in ('AutoContrast', 'Equalize', 'Invert'):
        return ()
    table = {
        'Rotate': lambda: (sign * frac * 30.0, ),  # degrees, counter-clockwise
        'ShearX': lambda: (sign * frac * 0.3, ), 'ShearY': lambda: (sign * frac * 0.3, ),
        'TranslateXRel': lambda: (sign * frac * translate_pct * size[0], ),
        'TranslateYRel': lambda: (sign * frac * translate_pct * size[1], ),
        'Posterize': lambda: (int(frac * 4), ),  # bits kept
        'PosterizeIncreasing': lambda: (4 - int(frac * 4), ),
        'Solarize': lambda: (int(frac * 256), ),  # threshold
        'SolarizeIncreasing': lambda: (256 - int(frac * 256), ),
        'SolarizeAdd': lambda: (int(frac * 110), ),
    }
    if name in table:
        return table[name]()
    if name in _ENHANCERS:
        return (frac * 1.8 + 0.1, )
    if name.endswith('Increasing') and name[:-len('Increasing')] in _ENHANCERS:
        return (1.0 + sign * frac * 0.9, )
    raise KeyError(f'unknown RandAugment op {name!r}')


def apply_op(img: Image.Image, name: str, args: Tuple[float, ...],
             fill: Tuple[int, int, int] = (128, 128, 128),
             resample: int = Image.Resampling.BICUBIC) -> Image.Image:
    """Apply one op with its arguments (from :func:`op_arguments`) to an RGB image.

    Geometric ops sample with ``resample`` and paint uncovered pixels ``fill``.
    """
    affine = dict(ShearX=lambda a: (1, a, 0, 0, 1, 0), ShearY=lambda a: (1, 0, 0, a, 1, 0),
                  TranslateXRel=lambda a: (1, 0, a, 0, 1, 0),
                  TranslateYRel=lambda a: (1, 0, 0, 0, 1, a))
    if name in affine:
        return img.transform(img.size, Image.Transform.AFFINE, affine[name](args[0]),
                             resample=resample, fillcolor=fill)
    if name == 'Rotate':
        return img.rotate(args[0], resample=resample, fillcolor=fill)
    if name in ('AutoContrast', 'Equalize', 'Invert'):
        return dict(AutoContrast=ImageOps.autocontrast, Equalize=ImageOps.equalize,
                    Invert=ImageOps.invert)[name](img)
    if name.startswith('Posterize'):  # keep the top bits (0 bits: black; Pillow >= 11 refuses 0)
        keep = 0xFF & ~(2 ** (8 - int(args[0])) - 1) if args[0] < 8 else 0xFF
        return img.point([i & keep for i in range(256)] * len(img.getbands()))
    if name.startswith('Solarize') and name != 'SolarizeAdd':
        return ImageOps.solarize(img, int(args[0]))
    if name == 'SolarizeAdd':  # below 128: add, saturating at 255
        lut = [min(255, i + int(args[0])) if i < 128 else i for i in range(256)]
        return img.point(lut * len(img.getbands()))
    enhancer = _ENHANCERS.get(name.replace('Increasing', ''))
    if enhancer is None:
        raise KeyError(f'unknown RandAugment op {name!r}')
    return enhancer(img).enhance(args[0])


def sample_ops(ops: Sequence[str], num_layers: int, magnitude: float, magnitude_std: float,
               op_prob: float, size: Tuple[int, int], translate_pct: float = 0.45,
               rng: RNG = None) -> List[Step]:
    """Draw the ops of one clip: ``num_layers`` picks, each kept with ``op_prob``.

    Args:
        ops (Sequence[str]): Op names to pick from (uniformly, with replacement).
        num_layers (int): Number of picks.
        magnitude (float): Mean magnitude in ``[0, 10]``.
        magnitude_std (float): Std of the magnitude noise (0: fixed).
        op_prob (float): Probability that a pick is applied.
        size (tuple[int, int]): Frame ``(width, height)``.
        translate_pct (float): See :func:`op_arguments`. Defaults to 0.45.
        rng (np.random.RandomState, optional): None: global ``np.random``.

    Returns:
        list[tuple[str, tuple]]: ``(name, args)`` of the applied ops, in order.
    """
    rng = _rng(rng)
    steps = []
    for index in rng.choice(len(ops), num_layers, replace=True):
        if rng.rand() >= op_prob:
            continue
        level = rng.normal(magnitude, magnitude_std) if magnitude_std > 0 else magnitude
        level = min(MAX_LEVEL, max(0.0, float(level)))
        negate = bool(rng.rand() < 0.5)
        steps.append((ops[index], op_arguments(ops[index], level, negate, size, translate_pct)))
    return steps


def _frames_of(results: dict, owner: str) -> Frames:
    if 'input_shape' in results:
        raise ValueError(f'{owner} works on frames (H, W, C): place it before FormatShape')
    imgs = results['imgs']
    if len(imgs) == 0 or any(np.ndim(f) != 3 for f in imgs):
        raise ValueError(f'{owner} needs a non-empty list of (H, W, C) frames or a '
                         f'(T, H, W, C) array, got {type(imgs).__name__} of '
                         f'{[np.shape(f) for f in imgs[:2]]}')
    return imgs


def _pack(frames: List[np.ndarray], like: Frames) -> Frames:
    return np.stack(frames) if isinstance(like, np.ndarray) else frames


@TRANSFORMS.register_module()
class VideoMAERandAugment(BaseTransform):
    """Video-consistent RandAugment (official ``rand-m7-n4-mstd0.5-inc1``).

    Per call, ``num_layers`` ops are drawn uniformly with replacement from
    15; each is applied with probability ``op_prob`` at a magnitude drawn
    from ``N(magnitude, magnitude_std)`` clipped to ``[0, 10]`` and with a
    random sign, the same op with the same arguments on every frame (ops that
    read the image, AutoContrast and Equalize, use each frame's own
    histogram, as the official per-frame PIL calls do). Place it after
    decoding and before the random resized crop, as the official code does.

    Required keys:

        - imgs: list of ``(H, W, 3)`` uint8 RGB frames or ``(T, H, W, 3)``

    Modified keys:

        - imgs: same container, shape and dtype

    Args:
        magnitude (float): Magnitude in ``[0, 10]`` (``m``). Defaults to 7.
        num_layers (int): Ops drawn per clip (``n``). Defaults to 4.
        magnitude_std (float): Magnitude noise (``mstd``). Defaults to 0.5.
        increasing (bool): Ops whose strength grows with the magnitude
            (``inc1``); False: timm's plain list. Defaults to True.
        op_prob (float): Probability that a drawn op is applied. Defaults to 0.5.
        ops (Sequence[str], optional): Op names to draw from instead of the
            list ``increasing`` selects. Defaults to None.
        fill (Sequence[int]): RGB colour of uncovered pixels. Defaults to
            ``(128, 128, 128)``.
        interpolation (str): ``'bicubic'`` (official ``train_interpolation``),
            ``'bilinear'`` or ``'nearest'``. Defaults to ``'bicubic'``.
        translate_pct (float): Translation at magnitude 10, as a fraction of
            the frame size. Defaults to 0.45.
    """

    def __init__(self, magnitude: float = 7, num_layers: int = 4, magnitude_std: float = 0.5,
                 increasing: bool = True, op_prob: float = 0.5,
                 ops: Optional[Sequence[str]] = None, fill: Sequence[int] = (128, 128, 128),
                 interpolation: str = 'bicubic', translate_pct: float = 0.45) -> None:
        self.magnitude = _check_number(magnitude, 'magnitude', 0, MAX_LEVEL)
        self.num_layers = _check_int(num_layers, 'num_layers', 1)
        self.magnitude_std = _check_number(magnitude_std, 'magnitude_std', 0)
        self.op_prob = _check_number(op_prob, 'op_prob', 0, 1)
        self.translate_pct = _check_number(translate_pct, 'translate_pct', 0)
        self.ops = tuple(ops) if ops is not None else (
            RAND_INCREASING_OPS if increasing else RAND_OPS)
        unknown = [o for o in self.ops if o not in RAND_OPS + RAND_INCREASING_OPS]
        if not self.ops or unknown:
            raise ValueError(f'ops must be a non-empty list of RandAugment ops, unknown: {unknown}')
        if len(fill) != 3 or not all(0 <= int(c) <= 255 for c in fill):
            raise ValueError(f'fill must be 3 ints in [0, 255], got {fill!r}')
        self.fill = tuple(int(c) for c in fill)
        if interpolation not in _RESAMPLE:
            raise ValueError(f'interpolation must be one of {sorted(_RESAMPLE)}, '
                             f'got {interpolation!r}')
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        imgs = _frames_of(results, self.__class__.__name__)
        if any(np.asarray(f).dtype != np.uint8 or np.shape(f)[2] != 3 for f in imgs):
            raise ValueError('VideoMAERandAugment needs uint8 RGB frames (H, W, 3)')
        height, width = np.shape(imgs[0])[:2]
        steps = sample_ops(self.ops, self.num_layers, self.magnitude, self.magnitude_std,
                           self.op_prob, (width, height), self.translate_pct)
        if steps:
            out = []
            for frame in imgs:
                img = Image.fromarray(np.ascontiguousarray(frame))
                for name, args in steps:
                    img = apply_op(img, name, args, self.fill, _RESAMPLE[self.interpolation])
                out.append(np.asarray(img).copy())
            results['imgs'] = _pack(out, imgs)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(magnitude={self.magnitude}, '
                f'num_layers={self.num_layers}, magnitude_std={self.magnitude_std}, '
                f'op_prob={self.op_prob}, ops={self.ops}, fill={self.fill}, '
                f'interpolation={self.interpolation!r}, translate_pct={self.translate_pct})')


def sample_erase_box(height: int, width: int, min_area: float = 0.02, max_area: float = 1 / 3,
                     aspect: Tuple[float, float] = (0.3, 1 / 0.3), count: int = 1,
                     max_attempts: int = 100, rng: RNG = None) -> Optional[Tuple[int, ...]]:
    """Draw one erasing box as timm does: rejection until it fits strictly inside.

    Args:
        height (int): Frame height ``H``.
        width (int): Frame width ``W``.
        min_area (float): Minimum box area / ``(H * W)``. Defaults to 0.02.
        max_area (float): Maximum box area / ``(H * W)``. Defaults to 1/3.
        aspect (tuple[float, float]): Range of ``h / w``, sampled
            log-uniformly. Defaults to ``(0.3, 1 / 0.3)``.
        count (int): Boxes of this call; each gets ``1 / count`` of the area.
            Defaults to 1.
        max_attempts (int): Draws before giving up. Defaults to 100.
        rng (np.random.RandomState, optional): None: global ``np.random``.

    Returns:
        tuple[int, int, int, int] | None: ``(top, left, h, w)`` with
        ``h < H`` and ``w < W``, or None when no draw fitted.
    """
    rng = _rng(rng)
    log_aspect = (np.log(aspect[0]), np.log(aspect[1]))
    for _ in range(max_attempts):
        area = rng.uniform(min_area, max_area) * height * width / count
        ratio = np.exp(rng.uniform(*log_aspect))
        h, w = int(round(np.sqrt(area * ratio))), int(round(np.sqrt(area / ratio)))
        if h < height and w < width:
            return rng.randint(0, height - h + 1), rng.randint(0, width - w + 1), h, w
    return None


def erase_fill(shape: Tuple[int, int, int], mode: str, mean: np.ndarray, std: np.ndarray,
               rng: RNG = None) -> np.ndarray:
    """Fill of one frame's box, float64 ``(h, w, C)`` in pixel scale.

    ``mean + std * z``: after the data preprocessor's ``(x - mean) / std`` it
    is ``z`` exactly, the official fill of the normalized clip: ``z`` per
    pixel (``'pixel'``), one ``z`` per channel (``'rand'``) or 0 (``'const'``).
    """
    noise_shape = dict(pixel=shape, rand=(1, 1, shape[2])).get(mode)
    z = np.zeros((1, 1, shape[2])) if noise_shape is None else \
        _rng(rng).standard_normal(noise_shape)
    return np.broadcast_to(mean + std * z, shape)


@TRANSFORMS.register_module()
class VideoMAERandomErasing(BaseTransform):
    """Random erasing of a clip as official VideoMAE V2 fine-tuning does it.

    With probability ``erase_prob`` a box (the same on every frame, timm's
    ``cube`` mode of the official ``(T, C, H, W)`` call) is filled with noise
    drawn anew for every frame. MMAction2 normalizes in the data
    preprocessor, after the pipeline, so the fill is made in pixel scale:
    ``mean + std * z`` becomes exactly the official ``z ~ N(0, 1)`` once the
    preprocessor (with the same ``mean``/``std``) normalizes it. Float frames
    keep this exactly; uint8 frames stay uint8, rounded and clipped to
    ``[0, 255]`` (``|z|`` above about 2.1, ~3% of noise values, is clipped;
    the erased content carries no signal either way).

    Place it after the crop and flip, before or after ``FormatShape('NCTHW')``
    (then each of the ``N`` clips is erased or not on its own draw); the data
    preprocessor must use the same ``mean`` and ``std``.

    Required keys:

        - imgs: list of ``(H, W, C)`` frames, ``(T, H, W, C)`` or, after
          FormatShape, ``(N, C, T, H, W)``

    Modified keys:

        - imgs: same container, shape and dtype

    Args:
        erase_prob (float): Probability of erasing a clip. Defaults to 0.25.
        mode (str): ``'pixel'`` (per-pixel noise), ``'rand'`` (one noise
            colour per frame) or ``'const'`` (the mean). Defaults to ``'pixel'``.
        min_area (float): Minimum box area / frame area. Defaults to 0.02.
        max_area (float): Maximum box area / frame area. Defaults to 1/3.
        min_aspect (float): Minimum ``h / w``. Defaults to 0.3.
        max_aspect (float, optional): Maximum ``h / w``; None: ``1 / min_aspect``.
            Defaults to None.
        min_count (int): Minimum boxes per erased clip. Defaults to 1.
        max_count (int): Maximum boxes per erased clip. Defaults to 1.
        mean (Sequence[float]): Per-channel mean of the data preprocessor.
            Defaults to the ImageNet RGB mean ``(123.675, 116.28, 103.53)``.
        std (Sequence[float]): Per-channel std of the data preprocessor.
            Defaults to ``(58.395, 57.12, 57.375)``.
        max_attempts (int): Box draws before a box is given up. Defaults to 100.
    """

    def __init__(self, erase_prob: float = 0.25, mode: str = 'pixel', min_area: float = 0.02,
                 max_area: float = 1 / 3, min_aspect: float = 0.3,
                 max_aspect: Optional[float] = None, min_count: int = 1, max_count: int = 1,
                 mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
                 max_attempts: int = 100) -> None:
        self.erase_prob = _check_number(erase_prob, 'erase_prob', 0, 1)
        if mode not in ('pixel', 'rand', 'const'):
            raise ValueError(f"mode must be 'pixel', 'rand' or 'const', got {mode!r}")
        self.mode = mode
        self.max_area = _check_number(max_area, 'max_area', 0, 1)
        self.min_area = _check_number(min_area, 'min_area', 0, self.max_area)
        if isinstance(min_aspect, bool) or not isinstance(min_aspect, (int, float)) \
                or min_aspect <= 0:
            raise ValueError(f'min_aspect must be a number > 0, got {min_aspect!r}')
        max_aspect = 1 / min_aspect if max_aspect is None else max_aspect
        self.aspect = (float(min_aspect),
                       _check_number(max_aspect, 'max_aspect', float(min_aspect)))
        self.min_count = _check_int(min_count, 'min_count', 1)
        self.max_count = _check_int(max_count, 'max_count', self.min_count)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape or (self.std <= 0).any():
            raise ValueError(f'mean and std must be equal-length lists with std > 0, '
                             f'got {mean!r}, {std!r}')
        self.max_attempts = _check_int(max_attempts, 'max_attempts', 1)

    def _boxes(self, height: int, width: int) -> List[Tuple[int, ...]]:
        count = self.min_count if self.min_count == self.max_count else \
            int(np.random.randint(self.min_count, self.max_count + 1))
        boxes = [sample_erase_box(height, width, self.min_area, self.max_area, self.aspect,
                                  count, self.max_attempts) for _ in range(count)]
        return [box for box in boxes if box is not None]

    def _erase(self, imgs: Frames) -> Frames:
        height, width, channels = np.shape(imgs[0])
        if channels != len(self.mean):
            raise ValueError(f'frames have {channels} channels, mean/std {len(self.mean)}')
        if np.random.rand() >= self.erase_prob:
            return imgs
        out = [np.array(frame) for frame in imgs]  # copies: the input is never written
        for top, left, h, w in self._boxes(height, width):
            for frame in out:
                fill = erase_fill((h, w, channels), self.mode, self.mean, self.std)
                if np.issubdtype(frame.dtype, np.integer):
                    info = np.iinfo(frame.dtype)
                    fill = np.clip(np.rint(fill), info.min, info.max)
                frame[top:top + h, left:left + w] = fill
        return _pack(out, imgs)

    def transform(self, results: dict) -> dict:
        if 'input_shape' not in results:
            results['imgs'] = self._erase(_frames_of(results, self.__class__.__name__))
            return results
        imgs = results['imgs']  # after FormatShape: (N, C, T, H, W), a draw per clip
        if np.ndim(imgs) != 5:
            raise ValueError("VideoMAERandomErasing after FormatShape needs 'NCTHW' clips "
                             f'(N, C, T, H, W), got shape {np.shape(imgs)}')
        results['imgs'] = np.stack(
            [np.moveaxis(self._erase(np.moveaxis(clip, 0, -1)), -1, 0) for clip in imgs])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(erase_prob={self.erase_prob}, mode={self.mode!r}, '
                f'min_area={self.min_area}, max_area={self.max_area}, aspect={self.aspect}, '
                f'count=({self.min_count}, {self.max_count}), mean={self.mean.tolist()}, '
                f'std={self.std.tolist()})')
