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
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

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


def _light(rng: np.random.Generator, size: int):
    """An off-screen point light, fixed in the scene.

    Returns a function of the camera offset ``(x, y)`` (in pixels, from where
    the camera starts) that gives, per pixel of the frame, the irradiance
    (falling off with the distance to the light: about 1 nearest and 0.15-0.3
    farthest) and the unit vector to the light: ``(S, S)``, ``(S, S, 3)``.
    """
    theta = rng.uniform(0, 2 * np.pi)
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
    rng = np.random.default_rng(seed)
    light = _light(rng, size)
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
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    balls = []
    for _ in range(rng.integers(2, 6)):
        color = rng.uniform(0.5, 1.0, 3)
        heading = rng.uniform(0, 2 * np.pi)
        balls.append(dict(
            pos=rng.uniform(0.15, 0.85, 2) * size,
            vel=rng.uniform(0.01, 0.03) * size * np.array([np.cos(heading), np.sin(heading)]),
            radius=rng.uniform(0.04, 0.1) * size, color=rng.uniform(170, 255) * color / color.max(),
            shine=rng.uniform(0, 0.4)))
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
    parser.add_argument('--num-videos', type=int, default=8)
    parser.add_argument('--num-frames', type=int, default=64)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--with-bad', action='store_true',
                        help='also write corrupt/truncated/short/missing entries and '
                        'train_list_with_bad.txt')
    return parser.parse_args()


def main():
    args = parse_args()
    paths = make_demo_videos(args.out_dir, args.num_videos, args.num_frames, args.size,
                             args.seed)
    print(f'wrote {len(paths)} videos and train_list.txt to {args.out_dir}')
    if args.with_bad:
        bad = make_bad_entries(args.out_dir, size=args.size, seed=args.seed)
        print(f'wrote bad entries {sorted(bad.values())} and train_list_with_bad.txt')


if __name__ == '__main__':
    main()
