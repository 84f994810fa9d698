"""Draw a detector's person boxes and top actions on keyframes of a video.

As MMAction2's spatio-temporal detection demo (``demo/demo_spatiotemporal_det.py``):
each person box is drawn with its top actions (``name score``, highest
first, above ``--score-thr``) on a filled label plate. Person boxes come from
a proposal file in AVA's layout (``'{video_id},{timestamp:04d}' -> (n, 5)``,
by default the config's test proposal file), so no human detector is needed;
``video_id`` is the name of the frame directory (or the video's stem).

Usage::

    python tools/visualize_detections.py CONFIG CHECKPOINT VIDEO_OR_FRAMES --out out.png
        [--proposal-file PKL] [--timestamps 901 902] [--max-frames 4]
        [--score-thr 0.4] [--topk 3] [--scale 4] [--cfg-options ...]

``VIDEO_OR_FRAMES`` is a raw-frame directory (``img_00001.jpg`` = second
``timestamp_start`` at 30 fps, AVA's layout) or a video file (decoded to
such frames in a temporary directory). The clip of each keyframe goes through
the config's test pipeline, so the model sees what ``tools/test.py`` feeds it.
"""
import argparse
import os
import os.path as osp
import pickle
import tempfile
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmvmae2.compat import checkpoint_loading

BOX_COLOUR = (0, 255, 0)  # RGB of the box outlines
PLATE_COLOUR = (0, 96, 0)
TEXT_COLOUR = (255, 255, 255)


def top_actions(scores: np.ndarray, names: dict, topk: int = 3,
                thr: float = 0.4) -> List[Tuple[str, float]]:
    """The ``topk`` best actions of one box above ``thr``, highest first.

    Args:
        scores (np.ndarray): ``(num_classes, )`` with column 0 the background.
        names (dict): Class id -> name.
    """
    order = [int(i) for i in np.argsort(-scores) if i > 0 and scores[i] >= thr]
    return [(names.get(i, str(i)), float(scores[i])) for i in order[:topk]]


def draw_detections(frame: np.ndarray, boxes: np.ndarray,
                    labels: Sequence[List[Tuple[str, float]]], scale: int = 1) -> np.ndarray:
    """Draw boxes and their labels on an RGB frame.

    Args:
        frame (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        boxes (np.ndarray): ``(n, 4)`` x1 y1 x2 y2 in [0, 1].
        labels (Sequence[list]): Per box ``[(name, score), ...]``.
        scale (int): Upscaling of the frame before drawing. Defaults to 1.

    Returns:
        np.ndarray: ``(H * scale, W * scale, 3)`` uint8 RGB.
    """
    h, w = frame.shape[:2]
    img = cv2.resize(frame, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST)
    img = np.ascontiguousarray(img)
    size = np.array([w, h, w, h]) * scale
    for box, box_labels in zip(boxes, labels):
        x1, y1, x2, y2 = (int(round(v)) for v in np.asarray(box) * size)
        cv2.rectangle(img, (x1, y1), (x2, y2), BOX_COLOUR, 2)
        for row, (name, score) in enumerate(box_labels):
            text = f'{name} {score:.2f}'
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, .4, 1)
            top = y1 + 2 + row * (th + base + 2)
            cv2.rectangle(img, (x1 + 2, top), (x1 + 2 + tw, top + th + base), PLATE_COLOUR, -1)
            cv2.putText(img, text, (x1 + 2, top + th), cv2.FONT_HERSHEY_SIMPLEX, .4,
                        TEXT_COLOUR, 1, cv2.LINE_AA)
    return img


def extract_frames(video: str, out_dir: str) -> str:
    """Decode a video (the project's decord -> PyAV path) to
    ``out_dir/img_00001.jpg ...``."""
    from mmvmae2.apis import decode_all_frames
    for i, frame in enumerate(decode_all_frames(video)):  # (H, W, 3) RGB
        cv2.imwrite(osp.join(out_dir, f'img_{i + 1:05d}.jpg'), frame[..., ::-1])
    return out_dir


def keyframe_sample(frame_dir: str, video_id: str, timestamp: int, proposals: np.ndarray,
                    dataset_cfg: dict) -> dict:
    """The data info ``AVADataset`` would give for one keyframe."""
    num_frames = len([f for f in os.listdir(frame_dir) if f.endswith('.jpg')])
    if proposals.shape[-1] == 5:
        thr = min(dataset_cfg.get('person_det_score_thr', 0.9), proposals[:, 4].max())
        proposals = proposals[proposals[:, 4] >= thr]
    return dict(
        frame_dir=frame_dir, video_id=video_id, timestamp=timestamp,
        img_key=f'{video_id},{timestamp:04d}', shot_info=(0, num_frames), fps=30,
        timestamp_start=dataset_cfg.get('timestamp_start', 900),
        timestamp_end=dataset_cfg.get('timestamp_end', 1800),
        filename_tmpl=dataset_cfg.get('filename_tmpl', 'img_{:05}.jpg'),
        start_index=dataset_cfg.get('start_index', 1), modality='RGB',
        # No ground truth; empty boxes make the pipeline scale and pack the proposals.
        gt_bboxes=np.zeros((0, 4), np.float32), gt_labels=np.zeros((0, ), np.int64),
        proposals=proposals[:, :4].astype(np.float32), scores=proposals[:, 4]
        if proposals.shape[-1] == 5 else np.ones(len(proposals)))


def read_names(label_file: Optional[str]) -> dict:
    if not label_file:
        return {}
    from mmaction.evaluation import read_labelmap
    with open(label_file) as f:
        labelmap, _ = read_labelmap(f)
    return {item['id']: item['name'] for item in labelmap}


def visualize_detections(cfg: Config, checkpoint: str, source: str, out: str,
                         proposal_file: Optional[str] = None,
                         timestamps: Optional[Sequence[int]] = None, max_frames: int = 4,
                         score_thr: float = 0.4, topk: int = 3, scale: int = 4) -> dict:
    """Detect on keyframes of ``source`` and write the picture to ``out``.

    Returns:
        dict: ``timestamps``, per keyframe ``boxes`` (``(n, 4)`` in [0, 1])
        and ``labels`` (per box ``[(name, score), ...]``), ``scale``.
    """
    from mmaction.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    dataset_cfg = cfg.test_dataloader.dataset
    proposal_file = proposal_file or dataset_cfg.get('proposal_file')
    if not proposal_file or not osp.isfile(proposal_file):
        raise FileNotFoundError(f'proposal file not found: {proposal_file!r}')
    with open(proposal_file, 'rb') as f:
        all_proposals = pickle.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        if osp.isdir(source):
            frame_dir, video_id = source, osp.basename(osp.normpath(source))
        elif osp.isfile(source):
            frame_dir = extract_frames(source, tmp)
            video_id = osp.splitext(osp.basename(source))[0]
        else:
            raise FileNotFoundError(f'video or frame directory not found: {source}')
        known = sorted(int(k.split(',')[1]) for k in all_proposals
                       if k.split(',')[0] == video_id)
        timestamps = list(timestamps or known[:max_frames])
        missing = [t for t in timestamps if f'{video_id},{t:04d}' not in all_proposals]
        if not timestamps or missing:
            raise ValueError(f'no person boxes for {video_id} at {missing or "any timestamp"} '
                             f'in {proposal_file}')
        model = MODELS.build(cfg.model)
        with checkpoint_loading():
            load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
        model.eval()
        pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
        names = read_names(dataset_cfg.get('label_file'))
        result = dict(timestamps=timestamps, boxes=[], labels=[], scale=scale)
        panels = []
        for ts in timestamps:
            info = keyframe_sample(frame_dir, video_id, ts,
                                   all_proposals[f'{video_id},{ts:04d}'], dataset_cfg)
            with torch.no_grad():
                (pred, ) = model.test_step(pseudo_collate([pipeline(info)]))
            boxes = pred.pred_instances.bboxes.numpy()
            scores = pred.pred_instances.scores.numpy()
            labels = [top_actions(s, names, topk, score_thr) for s in scores]
            key = 30 * (ts - info['timestamp_start']) + info['start_index']
            frame = cv2.imread(osp.join(frame_dir, info['filename_tmpl'].format(key)))
            panels.append(draw_detections(frame[..., ::-1], boxes, labels, scale))
            result['boxes'].append(boxes)
            result['labels'].append(labels)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    gap = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
    row = np.concatenate([p for panel in panels for p in (panel, gap)][:-1], axis=1)
    cv2.imwrite(out, row[..., ::-1])
    return result


def parse_args():
    parser = argparse.ArgumentParser(description='Draw detected boxes and actions.')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('source', help='raw-frame directory or video file')
    parser.add_argument('--out', required=True, help='output image (.png)')
    parser.add_argument('--proposal-file', help="defaults to the config's test proposals")
    parser.add_argument('--timestamps', type=int, nargs='+', help='keyframe seconds')
    parser.add_argument('--max-frames', type=int, default=4)
    parser.add_argument('--score-thr', type=float, default=0.4)
    parser.add_argument('--topk', type=int, default=3)
    parser.add_argument('--scale', type=int, default=4, help='upscaling of the frames')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    result = visualize_detections(cfg, args.checkpoint, args.source, args.out,
                                  args.proposal_file, args.timestamps, args.max_frames,
                                  args.score_thr, args.topk, args.scale)
    for ts, labels in zip(result['timestamps'], result['labels']):
        print(f'{ts}: ' + '; '.join(', '.join(f'{n} {s:.2f}' for n, s in box) or '-'
                                    for box in labels))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
