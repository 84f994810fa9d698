"""Video-consistent RandAugment and clip random erasing (VideoMAE V2 fine-tuning).

Expected values come from the official recipe (``run_class_finetuning.py``:
``--aa rand-m7-n4-mstd0.5-inc1``, ``--reprob 0.25 --remode pixel
--recount 1``) and timm's level-to-argument rules in the official
``dataset/rand_augment.py`` (rotate 30 degrees, shear 0.3, translate 0.45 of
the size, enhance 1 +- 0.9 at level 10) and ``dataset/random_erasing.py``
(area 0.02-1/3, aspect 0.3-1/0.3, the same box on every frame).
"""
import math

import numpy as np
import pytest
from PIL import Image

import mmvmae2  # noqa: F401  (registers the transforms)
from mmaction.registry import TRANSFORMS
from mmvmae2.datasets.transforms.augment import (RAND_INCREASING_OPS, VideoMAERandAugment,
                                                 VideoMAERandomErasing, apply_op, op_arguments,
                                                 sample_erase_box, sample_ops)

MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])


def random_clip(num_frames=4, height=24, width=40, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randint(0, 256, (height, width, 3)).astype(np.uint8) for _ in range(num_frames)]


def run(transform, imgs, seed):
    np.random.seed(seed)
    return transform(dict(imgs=imgs))['imgs']


# ---------------------------------------------------------------- RandAugment


def test_registered_with_official_defaults():
    aug = TRANSFORMS.build(dict(type='VideoMAERandAugment'))
    assert (aug.magnitude, aug.num_layers, aug.magnitude_std, aug.op_prob) == (7, 4, 0.5, 0.5)
    assert aug.fill == (128, 128, 128) and aug.interpolation == 'bicubic'
    assert aug.ops == ('AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing',
                       'SolarizeIncreasing', 'SolarizeAdd', 'ColorIncreasing',
                       'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing',
                       'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel')
    erase = TRANSFORMS.build(dict(type='VideoMAERandomErasing'))
    assert (erase.erase_prob, erase.mode, erase.min_area, erase.max_count) == (
        0.25, 'pixel', 0.02, 1)
    assert erase.max_area == pytest.approx(1 / 3) and erase.aspect == pytest.approx((0.3, 1 / 0.3))
    assert 'VideoMAERandAugment' in repr(aug) and 'VideoMAERandomErasing' in repr(erase)


@pytest.mark.parametrize('name, negate, expected', [
    ('Rotate', False, 21.0), ('Rotate', True, -21.0),           # 7 / 10 * 30
    ('ShearX', False, 0.21), ('ShearY', True, -0.21),           # 7 / 10 * 0.3
    ('TranslateXRel', False, 31.5), ('TranslateYRel', True, -18.9),  # 0.315 * (100, 60)
    ('PosterizeIncreasing', False, 2),                          # 4 - int(2.8)
    ('SolarizeIncreasing', False, 77),                          # 256 - int(179.2)
    ('SolarizeAdd', False, 77),                                 # int(0.7 * 110)
    ('ColorIncreasing', False, 1.63), ('ContrastIncreasing', True, 0.37),
    ('BrightnessIncreasing', False, 1.63), ('SharpnessIncreasing', True, 0.37),
    ('Color', True, 1.36),                                      # 0.7 * 1.8 + 0.1, unsigned
    ('Posterize', False, 2), ('Solarize', False, 179),
])
def test_magnitude_7_gives_official_arguments(name, negate, expected):
    args = op_arguments(name, 7, negate, (100, 60))
    assert args == (pytest.approx(expected), )


def test_argument_free_ops_and_unknown_op():
    assert op_arguments('Equalize', 7, True, (10, 10)) == ()
    with pytest.raises(KeyError, match='Blur'):
        op_arguments('Blur', 7, False, (10, 10))


@pytest.mark.parametrize('name, args, before, after', [
    ('Invert', (), 10, 245),
    ('SolarizeAdd', (77, ), 100, 177),     # below 128: + 77
    ('SolarizeAdd', (77, ), 200, 200),     # from 128 up: kept
    ('SolarizeIncreasing', (77, ), 100, 155),  # from the threshold up: inverted
    ('SolarizeIncreasing', (77, ), 50, 50),
    ('PosterizeIncreasing', (2, ), 255, 192),  # 2 most significant bits
    ('PosterizeIncreasing', (2, ), 100, 64),
    ('PosterizeIncreasing', (0, ), 255, 0),    # level 10: no bit left
    ('BrightnessIncreasing', (1.63, ), 100, 163),
])
def test_pixel_ops_on_a_constant_frame(name, args, before, after):
    img = Image.fromarray(np.full((6, 8, 3), before, np.uint8))
    assert (np.asarray(apply_op(img, name, args)) == after).all()


def centroid(frame):
    ys, xs = np.nonzero(frame[..., 0] > 128)
    return xs.mean(), ys.mean()


def test_rotate_magnitude_7_turns_a_clip_by_21_degrees_on_every_frame():
    height, width = 61, 101  # non-square, odd: centre pixel (50, 30)
    frames = []
    for t in range(5):  # a dot 24 px right of the centre, frames differ in shade
        frame = np.full((height, width, 3), 20 + t, np.uint8)
        frame[28:33, 72:77] = 250 - t
        frames.append(frame)
    aug = VideoMAERandAugment(ops=['Rotate'], num_layers=1, op_prob=1, magnitude_std=0,
                              fill=(0, 0, 0))
    for seed in range(6):
        angles = []
        for frame in run(aug, frames, seed):
            x, y = centroid(frame)
            angles.append(math.degrees(math.atan2(-(y - 30), x - 50)))  # y points down
        assert abs(abs(angles[0]) - 21) < 1.5
        assert np.ptp(angles) < 1e-6  # the same rotation on every frame


def test_translate_magnitude_7_moves_by_0315_of_the_width():
    frame = np.zeros((30, 100, 3), np.uint8)
    frame[:, 48:52] = 255  # a vertical bar at x = 49.5
    aug = VideoMAERandAugment(ops=['TranslateXRel'], num_layers=1, op_prob=1, magnitude_std=0,
                              fill=(0, 0, 0), interpolation='nearest')
    shifts = set()
    for seed in range(8):
        out = run(aug, [frame, frame.copy()], seed)
        assert (out[0] == out[1]).all()
        shifts.add(round(centroid(out[0])[0] - 49.5, 1))
    assert shifts <= {31.5, -31.5, 31.0, -31.0, 32.0, -32.0} and len(shifts) >= 2


def test_identical_frames_stay_identical():
    frame = random_clip(1, 32, 48, seed=3)[0]
    aug = VideoMAERandAugment(op_prob=1)
    for seed in range(20):
        out = run(aug, [frame.copy() for _ in range(4)], seed)
        assert all((f == out[0]).all() for f in out)


def test_each_frame_gets_the_ops_of_the_clip():
    """Frame t of the clip = the same seed's result on the one-frame clip [frame t]:
    the ops are drawn once per clip, not once per frame."""
    clip = random_clip(4, 20, 28, seed=5)
    aug = VideoMAERandAugment(op_prob=1, magnitude_std=0.5)
    for seed in range(15):
        out = run(aug, list(clip), seed)
        assert not all((o == c).all() for o, c in zip(out, clip))
        for frame, single in zip(out, clip):
            assert (frame == run(aug, [single], seed)[0]).all()


def test_four_ops_drawn_per_clip_each_kept_with_half_probability():
    rng = np.random.RandomState(0)
    counts, names, levels = [], set(), []
    for _ in range(2000):
        steps = sample_ops(RAND_INCREASING_OPS, 4, 7, 0.5, 0.5, (10, 10), rng=rng)
        counts.append(len(steps))
        names.update(name for name, _ in steps)
        levels += [abs(args[0]) / 30 * 10 for name, args in steps if name == 'Rotate']
    assert max(counts) == 4 and min(counts) == 0
    # Binomial(4, 0.5): mean 2, std of the mean over 2000 clips 0.022
    assert abs(np.mean(counts) - 2) < 0.12
    assert names == set(RAND_INCREASING_OPS)  # drawn uniformly from all 15
    assert abs(np.mean(levels) - 7) < 0.1 and abs(np.std(levels) - 0.5) < 0.1  # N(7, 0.5)
    always = [len(sample_ops(RAND_INCREASING_OPS, 4, 7, 0.5, 1, (10, 10), rng=rng))
              for _ in range(50)]
    assert always == [4] * 50


def test_magnitude_is_clipped_to_10():
    rng = np.random.RandomState(1)
    for _ in range(200):
        for name, args in sample_ops(['Rotate'], 4, 10, 3.0, 1, (10, 10), rng=rng):
            assert abs(args[0]) <= 30.0


def test_randaugment_containers_dtypes_shapes_and_seed():
    clip = random_clip(3, 17, 30, seed=7)
    aug = VideoMAERandAugment(op_prob=1)
    out = run(aug, list(clip), 11)
    assert isinstance(out, list) and len(out) == 3
    assert all(f.dtype == np.uint8 and f.shape == (17, 30, 3) for f in out)
    stacked = run(aug, np.stack(clip), 11)
    assert isinstance(stacked, np.ndarray) and (stacked == np.stack(out)).all()
    one = run(aug, clip[:1], 11)
    assert len(one) == 1 and one[0].shape == (17, 30, 3)
    outs = [run(aug, list(clip), s) for s in (11, 12, 13)]
    assert (outs[0][0] == out[0]).all()  # same seed, same clip
    assert not all((outs[0][0] == o[0]).all() for o in outs[1:])
    assert (np.stack(clip) == np.stack(random_clip(3, 17, 30, seed=7))).all()  # input untouched


def test_no_op_when_op_prob_is_0():
    clip = random_clip()
    aug = VideoMAERandAugment(op_prob=0)
    for seed in range(10):
        assert all((o == c).all() for o, c in zip(run(aug, list(clip), seed), clip))


@pytest.mark.parametrize('kwargs, word', [
    (dict(magnitude=-1), 'magnitude'), (dict(magnitude=11), 'magnitude'),
    (dict(num_layers=0), 'num_layers'), (dict(num_layers=2.5), 'num_layers'),
    (dict(magnitude_std=-0.1), 'magnitude_std'), (dict(op_prob=1.5), 'op_prob'),
    (dict(ops=['Rotate', 'Blur']), 'Blur'), (dict(ops=[]), 'ops'),
    (dict(fill=(0, 0)), 'fill'), (dict(interpolation='random'), 'interpolation'),
])
def test_randaugment_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        VideoMAERandAugment(**kwargs)


def test_randaugment_bad_inputs():
    aug = VideoMAERandAugment()
    with pytest.raises(ValueError, match='uint8'):
        aug(dict(imgs=[np.zeros((8, 8, 3), np.float32)]))
    with pytest.raises(ValueError, match='FormatShape'):
        aug(dict(imgs=np.zeros((1, 3, 2, 8, 8), np.uint8), input_shape=(1, 3, 2, 8, 8)))
    with pytest.raises(ValueError, match='non-empty'):
        aug(dict(imgs=[]))


# ------------------------------------------------------------ random erasing


def erased_mask(before, after):
    """(T, H, W) bool: pixels that changed."""
    return np.stack([(np.asarray(a) != np.asarray(b)).any(-1) for a, b in zip(after, before)])


def box_of(mask):
    ys, xs = np.nonzero(mask)
    return ys.min(), xs.min(), ys.max() - ys.min() + 1, xs.max() - xs.min() + 1


def test_erase_probability_is_025():
    clip = [np.full((12, 16, 3), -1000., np.float32) for _ in range(2)]  # noise never hits it
    erase = VideoMAERandomErasing()
    erased = sum(erased_mask(clip, run(erase, clip, seed)).any() for seed in range(4000))
    # Binomial(4000, 0.25): mean 1000, std 27.4; 5 std
    assert 863 <= erased <= 1137


def test_same_box_on_every_frame_within_official_ranges():
    height, width = 48, 80
    clip = [np.full((height, width, 3), -1000., np.float32) for _ in range(3)]
    erase = VideoMAERandomErasing(erase_prob=1)
    areas = []
    for seed in range(300):
        mask = erased_mask(clip, run(erase, clip, seed))
        assert (mask == mask[0]).all()
        top, left, h, w = box_of(mask[0])
        assert mask[0].sum() == h * w  # one filled rectangle
        assert h < height and w < width  # strictly inside, as timm's rejection test
        # rounding of h and w to whole pixels: +-0.5 each
        assert (h - .5) * (w - .5) <= height * width / 3 and \
            (h + .5) * (w + .5) >= 0.02 * height * width
        assert (h - .5) / (w + .5) <= 1 / 0.3 and (h + .5) / (w - .5) >= 0.3
        areas.append(h * w / (height * width))
    assert min(areas) < 0.05 and max(areas) > 0.28  # the range is used


def test_box_touches_every_edge_sometimes():
    rng = np.random.RandomState(0)
    boxes = [sample_erase_box(10, 12, rng=rng) for _ in range(3000)]
    assert min(t for t, _, _, _ in boxes) == 0 and min(l for _, l, _, _ in boxes) == 0
    assert max(t + h for t, _, h, _ in boxes) == 10 and max(l + w for _, l, _, w in boxes) == 12


def test_box_gives_up_when_nothing_fits():
    # 2 x 2 frame, area >= 0.9: no h < 2, w < 2 box has that area
    assert sample_erase_box(2, 2, 0.9, 1.0, rng=np.random.RandomState(0)) is None


def test_pixel_noise_is_normalized_standard_normal_per_frame():
    clip = np.zeros((2, 64, 96, 3), np.float32)
    erase = VideoMAERandomErasing(erase_prob=1, min_area=0.3, max_area=0.3)
    out = run(erase, clip, 0)
    mask = erased_mask(clip, out)
    z = (out - MEAN) / STD  # what the data preprocessor makes of it
    first, second = z[0][mask[0]], z[1][mask[1]]  # (n, 3) each
    assert first.shape[0] > 1500
    assert np.abs(first.mean(0)).max() < 0.06 and np.abs(first.std(0) - 1).max() < 0.05
    assert abs(np.corrcoef(first[:, 0], second[:, 0])[0, 1]) < 0.1  # fresh noise per frame
    assert out.dtype == np.float32 and isinstance(out, np.ndarray)


def test_pixel_noise_uint8_is_rounded_and_clipped():
    clip = [np.ones((64, 96, 3), np.uint8) for _ in range(2)]  # (1, 1, 1): ~never noise
    erase = VideoMAERandomErasing(erase_prob=1, min_area=0.3, max_area=0.3)
    out = run(erase, clip, 1)
    assert all(f.dtype == np.uint8 for f in out)
    mask = erased_mask(clip, out)
    assert mask.sum() == 2 * box_of(mask[0])[2] * box_of(mask[0])[3]
    z = (np.stack(out)[mask] - MEAN) / STD
    # N(0, 1) clipped at (0 - mean) / std ~ -2.1 and (255 - mean) / std ~ 2.2
    assert np.abs(z.mean(0)).max() < 0.06 and (0.93 < z.std(0)).all() and (z.std(0) < 1).all()
    assert (np.stack(out)[mask] == 0).any() and (np.stack(out)[mask] == 255).any()


def test_const_and_rand_modes():
    clip = [np.zeros((20, 30, 3), np.uint8) for _ in range(3)]
    const = run(VideoMAERandomErasing(erase_prob=1, mode='const'), clip, 0)
    mask = erased_mask(clip, const)
    assert (const[0][mask[0]] == [124, 116, 104]).all()  # rounded ImageNet mean = normalized 0
    rand = run(VideoMAERandomErasing(erase_prob=1, mode='rand'), clip, 0)
    colours = [np.unique(f[m], axis=0) for f, m in zip(rand, erased_mask(clip, rand))]
    assert all(len(c) == 1 for c in colours)  # one colour per frame ...
    assert len({tuple(c[0]) for c in colours}) == 3  # ... drawn anew for every frame


def test_erasing_no_op_at_prob_0_and_input_never_written():
    clip = random_clip(2, 9, 13)
    copies = [c.copy() for c in clip]
    erase0 = VideoMAERandomErasing(erase_prob=0)
    for seed in range(50):
        assert all((o == c).all() for o, c in zip(run(erase0, clip, seed), copies))
    run(VideoMAERandomErasing(erase_prob=1), clip, 0)
    assert all((c == k).all() for c, k in zip(clip, copies))


def test_erasing_one_frame_non_square_and_seeded():
    clip = random_clip(1, 31, 57, seed=2)
    erase = VideoMAERandomErasing(erase_prob=1)
    a, b, c = run(erase, clip, 4), run(erase, clip, 4), run(erase, clip, 5)
    assert len(a) == 1 and a[0].shape == (31, 57, 3) and a[0].dtype == np.uint8
    assert (a[0] == b[0]).all() and not (a[0] == c[0]).all()


def test_erasing_several_boxes():
    clip = [np.full((40, 40, 3), -1000., np.float32)]
    erase = VideoMAERandomErasing(erase_prob=1, min_count=3, max_count=3, max_area=0.05)
    mask = erased_mask(clip, run(erase, clip, 0))[0]
    # three boxes of at most 0.05 / 3 of the area each (+ rounding)
    assert 0 < mask.sum() <= 3 * (math.sqrt(0.05 / 3 * 1600 / 0.3) + .5) * (
        math.sqrt(0.05 / 3 * 1600 * 0.3) + .5)


@pytest.mark.parametrize('kwargs, word', [
    (dict(erase_prob=1.5), 'erase_prob'), (dict(erase_prob=-0.1), 'erase_prob'),
    (dict(mode='noise'), 'mode'), (dict(max_area=1.5), 'max_area'),
    (dict(min_area=0.5), 'min_area'), (dict(min_aspect=0), 'min_aspect'),
    (dict(min_aspect=2, max_aspect=1), 'max_aspect'), (dict(max_count=0), 'max_count'),
    (dict(min_count=0), 'min_count'), (dict(std=(1, 0, 1)), 'std'),
    (dict(mean=(1, 2)), 'mean'), (dict(max_attempts=0), 'max_attempts'),
])
def test_erasing_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        VideoMAERandomErasing(**kwargs)


def test_erasing_after_format_shape_ncthw():
    clip = random_clip(3, 20, 30, seed=4)
    erase = VideoMAERandomErasing(erase_prob=1)
    before = run(erase, list(clip), 6)
    formatted = np.stack(clip).transpose(3, 0, 1, 2)[None]  # (1, C, T, H, W)
    np.random.seed(6)
    after = erase(dict(imgs=formatted, input_shape=formatted.shape))['imgs']
    assert after.shape == (1, 3, 3, 20, 30) and after.dtype == np.uint8
    assert (after[0].transpose(1, 2, 3, 0) == np.stack(before)).all()  # the same erasing
    # N clips (e.g. num_clips x num_crops): each on its own draw
    many = np.repeat(formatted, 200, axis=0)
    np.random.seed(0)
    out = VideoMAERandomErasing()(dict(imgs=many, input_shape=many.shape))['imgs']
    erased = (out != many).reshape(200, -1).any(1).sum()
    assert 20 <= erased <= 80  # Binomial(200, 0.25): mean 50, std 6.1


def test_erasing_bad_inputs():
    erase = VideoMAERandomErasing(erase_prob=1)
    with pytest.raises(ValueError, match='NCTHW'):
        erase(dict(imgs=np.zeros((2, 3, 8, 8), np.uint8), input_shape=(2, 3, 8, 8)))
    with pytest.raises(ValueError, match='channels'):
        erase(dict(imgs=[np.zeros((8, 8, 1), np.uint8)]))
    with pytest.raises(ValueError, match=r'\(H, W, C\)'):
        erase(dict(imgs=[np.zeros((8, 8), np.uint8)]))


def test_pipeline_order_of_the_official_recipe():
    """RandAugment -> crop -> erasing -> FormatShape through MMAction2's registry."""
    pipeline = [TRANSFORMS.build(t) for t in [
        dict(type='VideoMAERandAugment'),
        dict(type='RandomResizedCrop'), dict(type='Resize', scale=(16, 16), keep_ratio=False),
        dict(type='VideoMAERandomErasing', erase_prob=1),
        dict(type='FormatShape', input_format='NCTHW'),
    ]]
    results = dict(imgs=random_clip(4, 24, 32), img_shape=(24, 32), modality='RGB',
                   num_clips=1, clip_len=4)
    np.random.seed(0)
    for t in pipeline:
        results = t(results)
    assert results['imgs'].shape == (1, 3, 4, 16, 16) and results['imgs'].dtype == np.uint8


def test_repeated_clips_get_their_own_augmentation():
    repeat = TRANSFORMS.build(dict(
        type='VideoMAERepeatedAugment', num_repeats=2, transforms=[
            dict(type='VideoMAERandAugment', op_prob=1),
            dict(type='FormatShape', input_format='NCTHW')]))
    np.random.seed(0)
    imgs = repeat(dict(imgs=random_clip(2, 16, 16), num_clips=1, clip_len=2))['imgs']
    assert imgs.shape == (2, 3, 2, 16, 16) and not (imgs[0] == imgs[1]).all()
