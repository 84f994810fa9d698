"""Write small synthetic videos with real motion for demos and tests.

Each video is a smooth colour texture that pans, with a few textured shapes
(discs, rotating polygons) moving at their own velocities, bouncing off the
borders. Everything is deterministic per ``seed`` and differs between videos.

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
import cv2
import numpy as np


def _background(rng: np.random.Generator, size: int, num_frames: int) -> np.ndarray:
    """A smooth texture larger than the frame, panned by the caller. (S, S, 3)."""
    big = size + num_frames * 2 + 1
    yy, xx = np.mgrid[0:big, 0:big].astype(np.float32) / size
    img = np.zeros((big, big, 3), np.float32)
    for c in range(3):
        for _ in range(3):
            fx, fy = rng.uniform(0.5, 3.0, 2)
            img[..., c] += np.sin(2 * np.pi * (fx * xx + fy * yy) + rng.uniform(0, 2 * np.pi))
    img = (img - img.min()) / (np.ptp(img) + 1e-6)
    low, high = sorted(rng.uniform(0, 255, 2))
    return (low * 0.5 + img * (high - low * 0.5)).astype(np.float32)


def _shape_mask(kind: str, size: int, center, radius: float, angle: float) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    cx, cy = center
    if kind == 'disc':
        cv2.circle(mask, (int(round(cx)), int(round(cy))), int(radius), 1, -1, cv2.LINE_AA)
    else:
        sides = {'triangle': 3, 'square': 4, 'pentagon': 5}[kind]
        phi = angle + np.arange(sides) * 2 * np.pi / sides
        pts = np.stack([cx + radius * np.cos(phi), cy + radius * np.sin(phi)], 1)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1, cv2.LINE_AA)
    return mask.astype(bool)


def render_video(seed: int, num_frames: int = 64, size: int = 128) -> np.ndarray:
    """Render one synthetic video. Returns uint8 RGB frames ``(T, H, W, 3)``."""
    rng = np.random.default_rng(seed)
    bg = _background(rng, size, num_frames)
    pan = rng.uniform(-2, 2, 2)  # background velocity in px/frame
    origin = np.array([num_frames, num_frames], np.float32)  # room to pan both ways
    yy, xx = np.mgrid[0:size, 0:size]
    shapes = []
    for _ in range(rng.integers(2, 5)):
        shapes.append(dict(
            kind=rng.choice(['disc', 'triangle', 'square', 'pentagon']),
            pos=rng.uniform(0.2, 0.8, 2) * size, vel=rng.uniform(-0.04, 0.04, 2) * size,
            radius=rng.uniform(0.08, 0.2) * size, angle=rng.uniform(0, np.pi),
            spin=rng.uniform(-0.25, 0.25), color=rng.uniform(30, 255, 3),
            stripe=rng.uniform(0.15, 0.6), stripe_dir=rng.uniform(0, np.pi)))
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for t in range(num_frames):
        ox, oy = np.clip(origin + pan * t, 0, 2 * num_frames).astype(int)
        img = bg[oy:oy + size, ox:ox + size].copy()
        for s in shapes:
            # bounce off the borders (reflect the unbounded trajectory)
            span = size - 2 * s['radius']
            p = s['pos'] - s['radius'] + s['vel'] * t
            p = np.abs((p + span) % (2 * span) - span) + s['radius']
            angle = s['angle'] + s['spin'] * t
            mask = _shape_mask(s['kind'], size, p, s['radius'], angle)
            # stripes that rotate with the shape: a texture, not a flat colour
            u = (xx - p[0]) * np.cos(angle + s['stripe_dir']) + (yy - p[1]) * np.sin(
                angle + s['stripe_dir'])
            shade = 0.7 + 0.3 * np.sin(u * s['stripe'])
            img[mask] = s['color'] * shade[mask, None]
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
