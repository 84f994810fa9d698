"""Print the top classes of a video file with a trained recognizer.

    python tools/infer.py CONFIG CHECKPOINT VIDEO [--label-map FILE] [--device cpu]

Runs MMAction2's ``init_recognizer`` and ``inference_recognizer`` with the
plugin: the checkpoint is read by the plugin's restricted loader (mmengine's
own ``torch.load`` refuses mmengine checkpoints under torch >= 2.6) and must
match the model (strict: a pretraining checkpoint is no recognizer). The
video goes through the test pipeline of ``test_dataloader.dataset`` (all its
clips and crops, averaged as the head's ``average_clips`` says); a raw-frame
pipeline (SSv1) is switched to reading the video file. The label map has one
class name per line, line ``i`` naming class ``i`` (MMAction2's
``label_map_k400.txt`` format).
"""
import argparse
import copy
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmvmae2  # noqa: E402,F401  (registers modules)
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

from mmvmae2.compat import checkpoint_loading  # noqa: E402
from mmvmae2.datasets.list_file import read_class_names  # noqa: E402

VIDEO_READERS = ('VideoMAEInit', 'DecordInit', 'PyAVInit', 'OpenCVInit')
FRAME_READERS = ('VideoMAERawFrameDecode', 'RawFrameDecode')


def _type(transform: dict) -> str:
    """A transform's type without a scope (``'mmaction.DecordInit'``)."""
    return str(transform.get('type', '')).split('.')[-1]


def video_test_pipeline(cfg: Config) -> List[dict]:
    """The test pipeline of ``cfg`` that reads a video file.

    Takes ``test_dataloader.dataset.pipeline`` (what ``tools/test.py`` runs),
    else the config's ``test_pipeline``. A pipeline that decodes raw frames
    gets ``VideoMAEInit`` first and ``VideoMAEDecode`` for the frame decoder.

    Raises:
        KeyError: The config has no test pipeline.
        ValueError: The pipeline reads neither videos nor raw frames.
    """
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    pipeline = dataset.get('pipeline', cfg.get('test_pipeline'))
    if not pipeline:
        raise KeyError('the config has neither test_dataloader.dataset.pipeline nor '
                       'test_pipeline')
    pipeline = [copy.deepcopy(dict(t)) for t in pipeline]
    types = [_type(t) for t in pipeline]
    if any(t in VIDEO_READERS for t in types):
        return pipeline
    frames = [i for i, t in enumerate(types) if t in FRAME_READERS]
    if not frames:
        raise ValueError(f'the test pipeline {types} opens no video ({VIDEO_READERS}) and '
                         f'decodes no raw frames ({FRAME_READERS})')
    pipeline[frames[0]] = dict(type='VideoMAEDecode')
    return [dict(type='VideoMAEInit')] + pipeline


def read_label_map(path: str) -> List[str]:
    """Class names, one per non-blank line; line ``i`` names class ``i``."""
    names = read_class_names(path)
    if not names:
        raise ValueError(f'label map {path} has no class names')
    return names


def top_k(scores: torch.Tensor, k: int = 5,
          names: Optional[Sequence[str]] = None) -> List[Tuple[int, str, float]]:
    """The ``k`` best classes of ``scores`` (shape ``(num_classes, )``), best
    first, as ``(index, name, score)``; the name is the index without
    ``names``.

    Raises:
        ValueError: ``names`` has fewer entries than there are classes.
    """
    scores = scores.detach().float().cpu().reshape(-1)
    if names is not None and len(names) < scores.numel():
        raise ValueError(f'the label map has {len(names)} names, the model {scores.numel()} '
                         f'classes')
    values, indices = scores.topk(min(k, scores.numel()))
    return [(i, names[i] if names is not None else str(i), v)
            for i, v in zip(indices.tolist(), values.tolist())]


def format_top_k(video: str, rows: List[Tuple[int, str, float]]) -> str:
    """``top-5 of VIDEO:`` and one ``rank. name (index): score`` per class."""
    lines = [f'top-{len(rows)} of {video}:']
    for rank, (index, name, score) in enumerate(rows, 1):
        label = name if name == str(index) else f'{name} ({index})'
        lines.append(f'{rank:>3}. {label}: {score:.4f}')
    return '\n'.join(lines)


def load_recognizer(cfg: Config, checkpoint: str, device: str) -> torch.nn.Module:
    """MMAction2's ``init_recognizer`` with a strict, restricted load of the
    checkpoint (``init_recognizer`` itself only warns on missing keys)."""
    from mmaction.apis import init_recognizer
    from mmengine.runner import load_checkpoint
    model = init_recognizer(cfg, None, device='cpu')
    try:
        with checkpoint_loading():
            load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    except RuntimeError as err:
        raise RuntimeError(f'{checkpoint} does not fit the recognizer of the config (is it a '
                           f'fine-tuned checkpoint of this model? a pretraining checkpoint '
                           f'only starts a fine-tuning): {err}') from None
    return model.to(device).eval()


def predict(cfg: Config, checkpoint: str, video: str, device: str = 'cpu') -> torch.Tensor:
    """The class scores ``(num_classes, )`` of ``video``."""
    from mmaction.apis import inference_recognizer
    from mmengine.dataset import Compose
    if not osp.isfile(video):
        raise FileNotFoundError(f'video {video} does not exist')
    model = load_recognizer(cfg, checkpoint, device)
    result = inference_recognizer(model, video, Compose(video_test_pipeline(cfg)))
    return result.pred_score


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Print the top classes of a video')
    parser.add_argument('config', help='recognizer config file')
    parser.add_argument('checkpoint', help='recognizer checkpoint')
    parser.add_argument('video', help='video file')
    parser.add_argument('--label-map', help='class names, one per line (line i = class i)')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu',
                        help='device, e.g. cpu or cuda:0 (default: cuda:0 when available)')
    parser.add_argument('--top-k', type=int, default=5, help='how many classes to print')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    names = read_label_map(args.label_map) if args.label_map else None
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    scores = predict(cfg, args.checkpoint, os.fspath(args.video), args.device)
    print(format_top_k(args.video, top_k(scores, args.top_k, names)))


if __name__ == '__main__':
    main()
