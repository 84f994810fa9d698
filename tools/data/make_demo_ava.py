"""Write a tiny AVA v2.2-format dataset from rendered demo videos.

Every video shows a textured, slowly drifting background and two "persons":
upright rounded blobs whose place the generator knows at every frame, so the
boxes and actions it writes are ground truth. Three actions (multi-label, as
AVA): ``1 lit`` (a bright person) or ``2 dark`` (a dark one), and ``3
moving`` (swaying left and right; otherwise the person stands still).

Layout (what MMAction2 1.2's ``AVADataset`` and ``AVAMetric`` read)::

    OUT_DIR/rawframes/<video_id>/img_00001.jpg ...   30 fps, frame 1 = second
                                                     ``timestamp_start``
    OUT_DIR/annotations/ava_{train,val}_v2.2.csv     video_id,timestamp,x1,y1,x2,y2,
                                                     action_id,person_id (boxes in [0, 1])
    OUT_DIR/annotations/ava_{train,val}_excluded_timestamps_v2.2.csv
    OUT_DIR/annotations/ava_dense_proposals_{train,val}.FAIR.recall_93.9.pkl
                                 '{video_id},{timestamp:04d}' -> (n, 5) x1 y1 x2 y2 score
    OUT_DIR/annotations/ava_action_list_v2.2_for_activitynet_2019.pbtxt
    OUT_DIR/frame_lists/{train,val}.csv              SlowFast frame lists

Keyframes are the whole seconds ``timestamp_start + 1 .. timestamp_end - 1``
(the dataset's ``timestamp_start`` / ``timestamp_end``, defaults 900 / 905, a
5 s cut like AVA's 900-1800 s one). Proposals are the true boxes jittered a
little (score 0.95-1.0) plus one background box of score 0.3 that the
dataset's ``person_det_score_thr=0.9`` drops. The first val keyframe of the
last val video is listed as excluded.

Usage::

    python tools/data/make_demo_ava.py OUT_DIR [--num-videos 8] [--num-val 4]
        [--height 64] [--width 80] [--seed 0]
"""
import argparse
import csv
import os
import os.path as osp
import pickle
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

FPS = 30
ACTIONS = ('lit', 'dark', 'moving')  # ids 1, 2, 3
PERSONS = 2
SWAY_PIXELS = 6.  # amplitude of a moving person's sway
SWAY_PERIOD = 1.5  # seconds


def person_tracks(rng: np.random.Generator, num_frames: int, height: int,
                  width: int) -> List[dict]:
    """Where the persons stand and what they do.

    Returns:
        list[dict]: Per person ``box`` ``(num_frames, 4)`` pixel x1 y1 x2 y2,
        ``lit`` and ``moving`` flags and a ``colour`` (RGB).
    """
    persons = []
    lane = width / PERSONS
    for i in range(PERSONS):
        h = rng.uniform(.45, .6) * height
        w = rng.uniform(.35, .45) * h
        x0 = lane * i + (lane - w) / 2 + rng.uniform(-2, 2)
        y0 = rng.uniform(.1, .9) * (height - h)
        moving = bool(rng.random() < .5)
        t = np.arange(num_frames) / FPS
        dx = SWAY_PIXELS * np.sin(2 * np.pi * t / SWAY_PERIOD + rng.uniform(0, 2 * np.pi))
        dx = dx if moving else np.zeros_like(t)
        x1 = np.clip(x0 + dx, 0, width - w)
        box = np.stack([x1, np.full_like(t, y0), x1 + w, np.full_like(t, y0 + h)], axis=1)
        lit = bool(rng.random() < .5)
        persons.append(dict(box=box, lit=lit, moving=moving, colour=rng.uniform(.6, 1., 3)))
    return persons


def render_frames(rng: np.random.Generator, persons: Sequence[dict], num_frames: int,
                  height: int, width: int) -> np.ndarray:
    """Frames ``(num_frames, height, width, 3)`` uint8 RGB of the persons over
    a drifting cloudy background; a lit person is bright, a dark one dim."""
    noise = rng.standard_normal((height // 4 + 2, width // 4 + 2, 3))
    background = cv2.resize(noise, (width + 8, height + 8), interpolation=cv2.INTER_CUBIC)
    background = 125 + 25 * background
    yy, xx = np.mgrid[:height, :width]
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    for f in range(num_frames):
        shift = int(4 + 3 * np.sin(2 * np.pi * f / (3 * FPS)))
        img = background[shift:shift + height, 4:4 + width].copy()
        for person in persons:
            x1, y1, x2, y2 = person['box'][f]
            cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
            inside = ((xx - cx) / rx)**4 + ((yy - cy) / ry)**4 <= 1  # rounded box
            level = 235. if person['lit'] else 35.
            img[inside] = level * person['colour']
        frames[f] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def keyframe_index(timestamp: int, timestamp_start: int) -> int:
    """0-based frame of a keyframe: ``AVADataset`` centres clips on frame
    ``FPS * (timestamp - timestamp_start)`` (+ its ``start_index``)."""
    return FPS * (timestamp - timestamp_start)


def normalized(box: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.clip(box / np.array([width, height, width, height]), 0., 1.)


def actions_of(person: dict) -> List[int]:
    return [1 if person['lit'] else 2] + ([3] if person['moving'] else [])


def write_label_map(path: str) -> None:
    """The pbtxt label map, as ``mmaction.evaluation.read_labelmap`` reads it."""
    with open(path, 'w') as f:
        for i, name in enumerate(ACTIONS, 1):
            f.write(f'item {{\n  name: "{name}"\n  id: {i}\n}}\n')


def make_video(root: str, video_id: str, seed: int, height: int, width: int,
               timestamp_start: int, timestamp_end: int) -> Tuple[list, dict]:
    """Render one video's frames; its annotation rows and proposals."""
    rng = np.random.default_rng(seed)
    num_frames = FPS * (timestamp_end - timestamp_start)
    persons = person_tracks(rng, num_frames, height, width)
    frames = render_frames(rng, persons, num_frames, height, width)
    frame_dir = osp.join(root, 'rawframes', video_id)
    os.makedirs(frame_dir, exist_ok=True)
    for f, frame in enumerate(frames):
        cv2.imwrite(osp.join(frame_dir, f'img_{f + 1:05d}.jpg'), frame[..., ::-1],
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
    rows, proposals = [], {}
    for ts in range(timestamp_start + 1, timestamp_end):
        f = keyframe_index(ts, timestamp_start)
        boxes = []
        for pid, person in enumerate(persons):
            box = normalized(person['box'][f], height, width)
            rows += [[video_id, f'{ts:04d}', *(f'{v:.3f}' for v in box), a, pid]
                     for a in actions_of(person)]
            jitter = np.clip(box + rng.uniform(-.01, .01, 4), 0., 1.)
            boxes.append([*jitter, rng.uniform(.95, 1.)])
        boxes.append([.0, .0, .3, .2, .3])  # a low-score false detection
        proposals[f'{video_id},{ts:04d}'] = np.array(boxes, np.float32)
    return rows, proposals


def make_demo_ava(out_dir: str, num_videos: int = 8, num_val: int = 4, seed: int = 0,
                  height: int = 64, width: int = 80, timestamp_start: int = 900,
                  timestamp_end: int = 905) -> Dict[str, str]:
    """Write the tiny AVA dataset (see the module docstring).

    Args:
        out_dir (str): Dataset root.
        num_videos (int): Train videos. Defaults to 8.
        num_val (int): Val videos. Defaults to 4.
        seed (int): Seed of the first video (video ``i`` uses ``seed + i``).
        height (int): Frame height. Defaults to 64.
        width (int): Frame width. Defaults to 80.
        timestamp_start (int): Second of frame 1. Defaults to 900.
        timestamp_end (int): End second of the cut. Defaults to 905.

    Returns:
        dict: Paths: ``data_root`` (raw frames), ``ann_file_{train,val}``,
        ``exclude_file_{train,val}``, ``proposal_file_{train,val}``,
        ``label_file``, ``frame_list_{train,val}``.
    """
    if num_videos < 1 or num_val < 1:
        raise ValueError(f'need at least one train and one val video, got {num_videos}, '
                         f'{num_val}')
    if timestamp_end - timestamp_start < 2:
        raise ValueError('timestamp_end - timestamp_start must be at least 2 s to hold a '
                         f'keyframe, got {timestamp_start}..{timestamp_end}')
    ann = osp.join(out_dir, 'annotations')
    os.makedirs(ann, exist_ok=True)
    paths = dict(data_root=osp.join(out_dir, 'rawframes'),
                 label_file=osp.join(ann, 'ava_action_list_v2.2_for_activitynet_2019.pbtxt'))
    write_label_map(paths['label_file'])
    splits = dict(train=range(num_videos), val=range(num_videos, num_videos + num_val))
    for split, indices in splits.items():
        rows, proposals, video_ids = [], {}, []
        for i in indices:
            video_id = f'demo_{split}_{i:03d}'
            video_rows, video_props = make_video(out_dir, video_id, seed + i, height, width,
                                                 timestamp_start, timestamp_end)
            rows += video_rows
            proposals.update(video_props)
            video_ids.append(video_id)
        paths[f'ann_file_{split}'] = osp.join(ann, f'ava_{split}_v2.2.csv')
        with open(paths[f'ann_file_{split}'], 'w', newline='') as f:
            csv.writer(f).writerows(rows)
        paths[f'exclude_file_{split}'] = osp.join(
            ann, f'ava_{split}_excluded_timestamps_v2.2.csv')
        with open(paths[f'exclude_file_{split}'], 'w') as f:
            if split == 'val':
                f.write(f'{video_ids[-1]},{timestamp_start + 1:04d}\n')
        paths[f'proposal_file_{split}'] = osp.join(
            ann, f'ava_dense_proposals_{split}.FAIR.recall_93.9.pkl')
        with open(paths[f'proposal_file_{split}'], 'wb') as f:
            pickle.dump(proposals, f)
        paths[f'frame_list_{split}'] = write_frame_list(
            out_dir, split, video_ids, FPS * (timestamp_end - timestamp_start))
    return paths


def write_frame_list(out_dir: str, split: str, video_ids: Sequence[str], num_frames: int) -> str:
    """SlowFast's ``frame_lists/{split}.csv``: ``original_vido_id video_idx
    frame_idx path labels`` (space separated, 0-based frame index)."""
    path = osp.join(out_dir, 'frame_lists', f'{split}.csv')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('original_vido_id video_idx frame_idx path labels\n')
        for idx, vid in enumerate(video_ids):
            for frame in range(num_frames):
                f.write(f'{vid} {idx} {frame} {vid}/img_{frame + 1:05d}.jpg ""\n')
    return path


def parse_args():
    parser = argparse.ArgumentParser(description='Write a tiny AVA v2.2-format dataset.')
    parser.add_argument('out_dir')
    parser.add_argument('--num-videos', type=int, default=8, help='train videos')
    parser.add_argument('--num-val', type=int, default=4, help='val videos')
    parser.add_argument('--height', type=int, default=64)
    parser.add_argument('--width', type=int, default=80)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    paths = make_demo_ava(args.out_dir, args.num_videos, args.num_val, args.seed, args.height,
                          args.width)
    print(f'wrote {args.num_videos} train and {args.num_val} val videos to '
          f'{paths["data_root"]}, annotations to {osp.dirname(paths["label_file"])}')


if __name__ == '__main__':
    main()
