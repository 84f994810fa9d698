"""Write small synthetic videos with real motion for demos and tests.

Each video is a small lit scene: a cloudy background and a few shaded balls
moving at their own velocities, bouncing off the borders, under an off-screen
light, filmed by a swaying camera. Everything is deterministic per ``seed``
and differs between videos (light, colours, balls, motion). See
:func:`render_video` for why it looks the way it does.

Usage::

    python tools/make_demo_data.py OUT_DIR [--num-videos 8] [--num-frames 64]
        [--size 128] [--seed 0] [--with-bad]

Writes ``OUT_DIR/video_XXX.mp4`` (H.264, yuv420p) and ``OUT_DIR/train_list.txt``
in MMAction2's VideoDataset format (``video_000.mp4 LABEL``). ``--with-bad``
also writes broken entries and ``OUT_DIR/train_list_with_bad.txt``.

Labeled videos for the fine-tuning demo (``make demo-finetune``)::

    python tools/make_demo_data.py OUT_DIR --labeled [--num-videos 64]
        [--num-val 32] [--num-classes 4] [--num-frames 64] [--size 128] [--seed 0]

writes ``OUT_DIR/{train,val}/video_XXX.mp4`` whose class is the side the
scene is lit from (4 classes: light right of, below, left of, above the
frame) and
``OUT_DIR/{train,val}_list.txt`` (``train/video_000.mp4 0``).
"""
import argparse
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import av
import numpy as np


def _cloud_texture(rng: np.random.Generator, n: int, beta: float = 4.) -> np.ndarray:
    """A smooth random field with a natural-image-like power spectrum
    (power ~ 1/f^beta: mostly large-scale), zero mean, unit std. (n, n)."""
    fy = np.fft.fftfreq(n)[:, None] * n
    fx = np.fft.rfftfreq(n)[None, :] * n
    f = np.sqrt(fx**2 + fy**2)
    f[0, 0] = 1
    amp = f**(-beta / 2)
    amp[0, 0] = 0
    field = np.fft.irfft2(amp * (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)),
                          s=(n, n))
    return ((field - field.mean()) / field.std()).astype(np.float32)


def _light(rng: np.random.Generator, size: int, angle: Optional[float] = None):
    """An off-screen point light, fixed in the scene.

    Returns a function of the camera offset ``(x, y)`` (in pixels, from where
    the camera starts) that gives, per pixel of the frame, the irradiance
    (falling off with the distance to the light: about 1 nearest and 0.15-0.3
    farthest) and the unit vector to the light: ``(S, S)``, ``(S, S, 3)``.
    The light lies in the direction ``angle`` (radians, x right, y down) from
    the frame's centre; a random one when None.
    """
    theta = rng.uniform(0, 2 * np.pi) if angle is None else angle
    pos = size / 2 + size * rng.uniform(1.0, 1.5) * np.array([np.cos(theta), np.sin(theta)])
    height = size * rng.uniform(0.3, 0.6)
    falloff = rng.uniform(0.7, 0.85)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dist0 = np.sqrt((pos[0] - xx)**2 + (pos[1] - yy)**2 + height**2)
    near, far = dist0.min(), dist0.max()

    def at(offset):
        vec = np.stack([pos[0] - xx - offset[0], pos[1] - yy - offset[1],
                        np.full_like(xx, height)], -1)
        dist = np.linalg.norm(vec, axis=-1)
        irradiance = 1 - falloff * (dist - near) / (far - near)
        return irradiance.astype(np.float32), (vec / dist[..., None]).astype(np.float32)

    return at


def render_video(seed: int, num_frames: int = 64, size: int = 128) -> np.ndarray:
    """Render one synthetic video. Returns uint8 RGB frames ``(T, H, W, 3)``.

    A scene lit by one off-screen point light: a cloudy background (1/f^4
    texture with a faint fine grain) and 2-5 shaded balls with specular
    highlights that move at their own velocities and bounce off the borders,
    filmed by a camera that sways along a small circle at 1.5-3 px/frame. The
    light makes the scene brighter towards it and shades every ball on the
    side facing it; as the camera moves, the lighting of the frame changes.

    Why it looks like this: the pretraining target is each 2 x 8 x 8 token
    cube normalized by its own mean and std, predicted from the ~10% of
    tokens the encoder sees (a handful of positions on the demo's 8 x 8
    grid). Texture inside a patch that cannot be inferred from so few distant
    tokens (e.g. the phase of a mid-frequency pattern) only adds target
    variance nobody can predict, and a tiny model does not learn fine spatial
    interpolation in a few hundred steps. What it does learn quickly is
    structure it can infer from the visible tokens as a whole: here where the
    light is, which orients the shading ramp of most patches (background and
    ball interiors) within a video and differs between videos. So the
    texture is kept weak at the patch scale; balls' edges, highlights, the
    grain and the texture are what stays hard. The grain (faint, fine, mostly
    blurred away by the training crops' down-scaling) and the camera motion
    make every frame differ from the previous one.
    """
    return _film(_draw_scene(np.random.default_rng(seed), size), num_frames, size)


def _draw_scene(rng: np.random.Generator, size: int,
                light_angle: Optional[float] = None) -> dict:
    """Draw the scene of :func:`render_video`: light (in the direction
    ``light_angle`` when given), camera sway, background and balls."""
    light = _light(rng, size, light_angle)
    # The camera sways along a circle at a constant 1.5-3 px/frame.
    drift = rng.uniform(0.12, 0.2) * size
    omega = rng.choice([-1, 1]) * rng.uniform(1.5, 3.0) / drift  # rad/frame
    phase = rng.uniform(0, 2 * np.pi)
    pad = int(np.ceil(2 * drift)) + 2
    big = size + 2 * pad
    tint = rng.uniform(0.5, 1.0, 3)
    tint /= tint.max()
    albedo = rng.uniform(150, 220) * (1 + rng.uniform(0.05, 0.15) * _cloud_texture(rng, big))
    albedo *= 1 + 0.02 * _cloud_texture(rng, big, beta=1)  # faint fine grain (sand, paper)
    background = albedo[..., None] * tint
    balls = []
    for _ in range(rng.integers(2, 6)):
        color = rng.uniform(0.5, 1.0, 3)
        heading = rng.uniform(0, 2 * np.pi)
        balls.append(dict(
            pos=rng.uniform(0.15, 0.85, 2) * size,
            vel=rng.uniform(0.01, 0.03) * size * np.array([np.cos(heading), np.sin(heading)]),
            radius=rng.uniform(0.04, 0.1) * size, color=rng.uniform(170, 255) * color / color.max(),
            shine=rng.uniform(0, 0.4)))
    return dict(light=light, drift=drift, omega=omega, phase=phase, pad=pad,
                background=background, balls=balls)


def _film(scene: dict, num_frames: int, size: int) -> np.ndarray:
    """Film a scene of :func:`_draw_scene`: uint8 RGB frames ``(T, H, W, 3)``."""
    light, drift, omega, phase, pad = (scene[k] for k in ('light', 'drift', 'omega', 'phase',
                                                          'pad'))
    background, balls = scene['background'], scene['balls']
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for t in range(num_frames):
        offset = drift * (np.array([np.cos(omega * t + phase), np.sin(omega * t + phase)]) -
                          np.array([np.cos(phase), np.sin(phase)]))
        irradiance, to_light = light(offset)
        # Blinn-Phong half vector, viewer straight above
        half = to_light + np.array([0, 0, 1], np.float32)
        half /= np.linalg.norm(half, axis=-1, keepdims=True)
        (ox, oy), (fx, fy) = np.divmod(pad + offset, 1)  # sub-pixel camera position
        ox, oy = int(ox), int(oy)
        crop = background[oy:oy + size + 1, ox:ox + size + 1]
        crop = (1 - fy) * crop[:-1] + fy * crop[1:]
        img = ((1 - fx) * crop[:, :-1] + fx * crop[:, 1:]) * irradiance[..., None]
        for b in balls:
            # bounce off the borders (reflect the unbounded trajectory)
            span = size - 2 * b['radius']
            p = b['pos'] - b['radius'] + b['vel'] * t
            p = np.abs((p + span) % (2 * span) - span) + b['radius']
            dx, dy = (xx - p[0]) / b['radius'], (yy - p[1]) / b['radius']
            r2 = dx * dx + dy * dy
            cover = np.clip((1 - np.sqrt(r2)) * b['radius'] + 0.5, 0, 1)[..., None]  # antialiased
            nz = np.sqrt(np.clip(1 - r2, 0, 1))
            cos = dx * to_light[..., 0] + dy * to_light[..., 1] + nz * to_light[..., 2]
            diffuse = 0.15 + 0.85 * (cos + 1) / 2  # wrapped Lambert: no flat unlit half
            spec = b['shine'] * np.clip(dx * half[..., 0] + dy * half[..., 1] + nz * half[..., 2],
                                        0, 1)**40
            ball = (b['color'] * diffuse[..., None] + 255 * spec[..., None]) * irradiance[..., None]
            img = img * (1 - cover) + ball * cover
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def write_video(path: str, frames: np.ndarray, fps: int = 25) -> str:
    """Encode ``(T, H, W, 3)`` uint8 RGB frames as H.264/yuv420p with PyAV."""
    with av.open(path, mode='w') as container:
        stream = container.add_stream('libx264', rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = 'yuv420p'
        stream.options = {'crf': '18', 'preset': 'veryfast'}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_demo_videos(out_dir: str, num_videos: int = 8, num_frames: int = 64, size: int = 128,
                     seed: int = 0, num_classes: int = 4,
                     list_name: Optional[str] = 'train_list.txt') -> List[str]:
    """Write ``num_videos`` demo videos and a VideoDataset list into ``out_dir``.

    Returns:
        list[str]: Absolute paths of the written videos.
    """
    os.makedirs(out_dir, exist_ok=True)
    paths, lines = [], []
    for i in range(num_videos):
        name = f'video_{i:03d}.mp4'
        paths.append(write_video(osp.join(out_dir, name),
                                 render_video(seed * 10007 + i, num_frames, size)))
        lines.append(f'{name} {i % num_classes}')
    if list_name:
        with open(osp.join(out_dir, list_name), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return [osp.abspath(p) for p in paths]


def light_angle(label: int, num_classes: int) -> float:
    """Direction of the light of class ``label`` from the frame's centre:
    ``2 pi label / num_classes`` radians (x right, y down). With 4 classes
    the light is 0: right, 1: below, 2: left, 3: above the frame."""
    if not 0 <= label < num_classes:
        raise ValueError(f'label {label} is outside [0, {num_classes})')
    return 2 * np.pi * label / num_classes


def render_labeled_video(seed, label: int, num_classes: int = 4, num_frames: int = 64,
                         size: int = 128) -> np.ndarray:
    """Render a video whose class is the side the scene is lit from.

    The scene of :func:`render_video` (background, 2-5 bouncing balls,
    swaying camera, one off-screen light), with the light in the direction
    :func:`light_angle` (``label``), give or take a quarter of the angle
    between two classes. The class shows in how the frame darkens away from
    the light and on which side every ball is shaded; as the camera sways,
    the lighting of the frame changes. It is what the demo pretraining learns
    to infer from the few tokens it sees (see :func:`render_video`).

    Args:
        seed (int | Sequence[int]): Seed of ``numpy.random.default_rng``.
        label (int): Class, in ``[0, num_classes)``.
        num_classes (int): Number of light directions. Defaults to 4.
        num_frames (int): Frames. Defaults to 64.
        size (int): Frame side in pixels. Defaults to 128.

    Returns:
        np.ndarray: uint8 RGB frames ``(T, H, W, 3)``.
    """
    angle = light_angle(label, num_classes)
    rng = np.random.default_rng(seed)
    spread = np.pi / num_classes / 2
    scene = _draw_scene(rng, size, angle + rng.uniform(-spread, spread))
    return _film(scene, num_frames, size)


def make_labeled_videos(out_dir: str, num_train: int = 64, num_val: int = 32,
                        num_frames: int = 64, size: int = 128, seed: int = 0,
                        num_classes: int = 4) -> Dict[str, List[Tuple[str, int]]]:
    """Write train and val videos labeled by the side they are lit from.

    Writes ``out_dir/{train,val}/video_XXX.mp4`` made by
    :func:`render_labeled_video` (classes in turn, so every class has the
    same number of videos, up to one) and the lists ``train_list.txt`` /
    ``val_list.txt`` in MMAction2's VideoDataset format
    (``train/video_000.mp4 0``, paths relative to ``out_dir``). The scenes
    are drawn from ``(seed, split, index, 1)`` (the last word keeps them apart
    from the integer seeds of :func:`make_demo_videos`, which numpy pads with
    zeros): train and val share no video.

    Returns:
        dict: ``{'train': [(path, label), ...], 'val': [...]}``, paths
        relative to ``out_dir``.
    """
    if num_train < num_classes or num_val < num_classes:
        raise ValueError(f'need at least one video per class in each split: num_classes='
                         f'{num_classes}, num_train={num_train}, num_val={num_val}')
    samples = {}
    for split_id, (split, count) in enumerate((('train', num_train), ('val', num_val))):
        os.makedirs(osp.join(out_dir, split), exist_ok=True)
        samples[split] = []
        for i in range(count):
            name, label = f'{split}/video_{i:03d}.mp4', i % num_classes
            frames = render_labeled_video([seed, split_id, i, 1], label, num_classes, num_frames,
                                          size)
            write_video(osp.join(out_dir, name), frames)
            samples[split].append((name, label))
        with open(osp.join(out_dir, f'{split}_list.txt'), 'w') as f:
            f.write(''.join(f'{name} {label}\n' for name, label in samples[split]))
    return samples


def make_bad_entries(out_dir: str, short_frames: int = 4, size: int = 64, seed: int = 0,
                     list_name: str = 'train_list_with_bad.txt',
                     good_list: str = 'train_list.txt') -> dict:
    """Add broken samples for robustness tests.

    Writes ``corrupt.mp4`` (random bytes), ``truncated.mp4`` (the first half of a
    real video), ``short.mp4`` (``short_frames`` frames) and a list ``list_name``
    holding the entries of ``good_list`` (if present) plus those three and
    ``missing.mp4``, which does not exist.

    Returns:
        dict: ``{'corrupt', 'truncated', 'short', 'missing'}`` -> relative path.
    """
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    with open(osp.join(out_dir, 'corrupt.mp4'), 'wb') as f:
        f.write(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    real = write_video(osp.join(out_dir, 'short.mp4'), render_video(seed + 999, 24, size))
    with open(real, 'rb') as f:
        data = f.read()
    with open(osp.join(out_dir, 'truncated.mp4'), 'wb') as f:
        f.write(data[:len(data) // 2])
    write_video(real, render_video(seed + 999, short_frames, size))
    bad = dict(corrupt='corrupt.mp4', truncated='truncated.mp4', short='short.mp4',
               missing='missing.mp4')
    good = []
    if osp.exists(osp.join(out_dir, good_list)):
        with open(osp.join(out_dir, good_list)) as f:
            good = [line.strip() for line in f if line.strip()]
    with open(osp.join(out_dir, list_name), 'w') as f:
        f.write('\n'.join(good + [f'{name} 0' for name in bad.values()]) + '\n')
    return bad


def parse_args():
    parser = argparse.ArgumentParser(description='Write synthetic demo videos with motion.')
    parser.add_argument('out_dir')
    parser.add_argument('--num-videos', type=int, default=None,
                        help='videos (with --labeled: train videos); defaults to 8 (64)')
    parser.add_argument('--num-frames', type=int, default=64)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--with-bad', action='store_true',
                        help='also write corrupt/truncated/short/missing entries and '
                        'train_list_with_bad.txt')
    parser.add_argument('--labeled', action='store_true',
                        help='write train/ and val/ videos labeled by the side the scene '
                        'is lit from, with train_list.txt and val_list.txt')
    parser.add_argument('--num-val', type=int, default=32, help='val videos (--labeled)')
    parser.add_argument('--num-classes', type=int, default=4,
                        help='light directions (--labeled)')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.labeled:
        if args.with_bad:
            raise SystemExit('--with-bad writes broken entries for the unlabeled demo only')
        samples = make_labeled_videos(args.out_dir, args.num_videos or 64, args.num_val,
                                      args.num_frames, args.size, args.seed, args.num_classes)
        print(f'wrote {len(samples["train"])} train and {len(samples["val"])} val videos in '
              f'{args.num_classes} classes (side of the light), train_list.txt and '
              f'val_list.txt to {args.out_dir}')
        return
    paths = make_demo_videos(args.out_dir, args.num_videos or 8, args.num_frames, args.size,
                             args.seed)
    print(f'wrote {len(paths)} videos and train_list.txt to {args.out_dir}')
    if args.with_bad:
        bad = make_bad_entries(args.out_dir, size=args.size, seed=args.seed)
        print(f'wrote bad entries {sorted(bad.values())} and train_list_with_bad.txt')


if __name__ == '__main__':
    main()
