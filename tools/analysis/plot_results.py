"""Draw training curves and confusion matrices as PNG.

    python tools/analysis/plot_results.py curves WORK_DIR_or_scalars.json --out curves.png
    python tools/analysis/plot_results.py confusion DUMP.pkl --out cm.png [--label-map FILE]

``curves`` reads mmengine's ``vis_data/scalars.json`` (for a work dir, the
newest run folder that has one) and draws the losses, the learning rate and
the accuracies over the iterations (validation over epochs when the run logs
by epoch). ``confusion`` reads the file of ``tools/test.py --dump`` (one dict
per video with ``pred_score`` and ``gt_label``) and draws the confusion matrix
normalized per true class: row ``i`` holds the fraction of the videos of
class ``i`` predicted as each class.
"""
import argparse
import glob
import json
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

Series = Dict[str, Tuple[List[float], List[float]]]


# ------------------------------------------------------------------ curves


def find_scalars(path: str) -> str:
    """``path`` if it is a file, else the newest ``*/vis_data/scalars.json``
    under the work dir ``path`` (run folders are named by their start time)."""
    if osp.isfile(path):
        return path
    found = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {path} (is it a work dir of '
                                f'tools/train.py with LocalVisBackend?)')
    return found[-1]


def read_scalars(path: str) -> Tuple[List[dict], List[dict]]:
    """The records of mmengine's ``scalars.json``, split into training
    (those with ``lr``) and validation (the others: ``acc/top1``...)."""
    train, val = [], []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}, line {lineno}: not JSON ({err})') from None
            (train if 'lr' in record else val).append(record)
    if not train and not val:
        raise ValueError(f'{path} has no records')
    return train, val


def collect_series(records: Sequence[dict], keys: Sequence[str], x_key: str) -> Series:
    """``{key: (xs, ys)}`` of the ``keys`` present in ``records``, x from
    ``x_key`` (``step`` when a record lacks it)."""
    series: Series = {}
    for record in records:
        x = record.get(x_key, record.get('step'))
        for key in keys:
            if key in record:
                xs, ys = series.setdefault(key, ([], []))
                xs.append(x)
                ys.append(float(record[key]))
    return series


def curve_panels(train: Sequence[dict], val: Sequence[dict]) -> List[Tuple[str, str, Series]]:
    """``(title, x label, series)`` of the panels to draw: losses and lr over
    iterations, accuracies (training batch and validation)."""
    train_keys = sorted({k for r in train for k in r})
    losses = [k for k in train_keys if 'loss' in k]
    train_acc = [k for k in train_keys if 'acc' in k]
    val_keys = sorted({k for r in val for k in r if 'acc' in k or 'mean' in k})
    by_epoch = any('epoch' in r for r in train)
    panels = [('loss', 'iteration', collect_series(train, losses, 'iter')),
              ('learning rate', 'iteration', collect_series(train, ['lr'], 'iter'))]
    if train_acc:
        panels.append(('training accuracy', 'iteration',
                       collect_series(train, train_acc, 'iter')))
    if val_keys:
        panels.append(('validation', 'epoch' if by_epoch else 'iteration',
                       collect_series(val, val_keys, 'step')))
    return [panel for panel in panels if panel[2]]


def plot_curves(scalars: str, out: str) -> List[str]:
    """Draw the panels of :func:`curve_panels` into ``out``; returns their titles."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    panels = curve_panels(*read_scalars(scalars))
    if not panels:
        raise ValueError(f'{scalars} has no loss, lr or accuracy records')
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.5), squeeze=False)
    for ax, (title, x_label, series) in zip(axes[0], panels):
        for key, (xs, ys) in series.items():
            ax.plot(xs, ys, label=key, marker='.' if len(xs) < 30 else None)
        ax.set(title=title, xlabel=x_label)
        if title == 'learning rate':
            ax.ticklabel_format(axis='y', style='sci', scilimits=(-3, 3))
        ax.legend(fontsize='small')
        ax.grid(alpha=.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return [title for title, _, _ in panels]


# --------------------------------------------------------------- confusion


def read_dump(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """``(scores (N, num_classes), labels (N, ))`` of a ``--dump`` file.

    Raises:
        ValueError: The file holds no per-video ``pred_score`` and single
            ``gt_label`` (e.g. a multi-label dump).
    """
    # A dump is a pickle written by your own tools/test.py run: read it as one.
    with open(path, 'rb') as f:
        results = pickle.load(f)
    if not isinstance(results, list) or not results:
        raise ValueError(f'{path}: expected a non-empty list of per-video results')
    scores, labels = [], []
    for i, result in enumerate(results):
        if 'pred_score' not in result or 'gt_label' not in result:
            raise ValueError(f'{path}, item {i}: no pred_score/gt_label (keys: '
                             f'{sorted(result)})')
        label = np.asarray(result['gt_label']).reshape(-1)
        if label.size != 1:
            raise ValueError(f'{path}, item {i}: {label.size} labels; the confusion matrix '
                             f'needs single-label results')
        scores.append(np.asarray(result['pred_score'], dtype=np.float64).reshape(-1))
        labels.append(int(label[0]))
    return np.stack(scores), np.asarray(labels, dtype=np.int64)


def confusion_matrix(labels: Sequence[int], preds: Sequence[int],
                     num_classes: int) -> np.ndarray:
    """Row-normalized confusion matrix ``(num_classes, num_classes)``: entry
    ``[i, j]`` is the fraction of the samples of true class ``i`` predicted
    as ``j``; a class without samples has a row of zeros.

    Example:
        >>> confusion_matrix([0, 0, 1], [0, 1, 1], 2).tolist()
        [[0.5, 0.5], [0.0, 1.0]]
    """
    labels, preds = np.asarray(labels, np.int64), np.asarray(preds, np.int64)
    if labels.shape != preds.shape:
        raise ValueError(f'{labels.size} labels but {preds.size} predictions')
    for name, values in (('label', labels), ('prediction', preds)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f'a {name} is outside [0, {num_classes})')
    counts = np.zeros((num_classes, num_classes), np.float64)
    np.add.at(counts, (labels, preds), 1.)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def plot_confusion(dump: str, out: str, label_map: Optional[str] = None) -> np.ndarray:
    """Draw the confusion matrix of a dump into ``out``; returns it."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    scores, labels = read_dump(dump)
    num_classes = scores.shape[1]
    matrix = confusion_matrix(labels, scores.argmax(axis=1), num_classes)
    names = [str(i) for i in range(num_classes)]
    if label_map:
        from mmvmae2.datasets.list_file import read_class_names
        names = read_class_names(label_map)
        if len(names) < num_classes:
            raise ValueError(f'{label_map} names {len(names)} classes, the dump has '
                             f'{num_classes}')
    size = min(4 + .35 * num_classes, 40)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(matrix, cmap='Blues', vmin=0., vmax=1.)
    fig.colorbar(image, ax=ax, fraction=.046, pad=.04)
    accuracy = float((scores.argmax(axis=1) == labels).mean())
    ax.set(title=f'{len(labels)} videos, top-1 {accuracy:.2%}', xlabel='predicted',
           ylabel='true')
    if num_classes <= 60:  # names and values stay readable
        ax.set_xticks(range(num_classes), names[:num_classes], rotation=90)
        ax.set_yticks(range(num_classes), names[:num_classes])
        for (i, j), value in np.ndenumerate(matrix):
            if value > 0:
                ax.text(j, i, f'{value:.2f}', ha='center', va='center', fontsize=7,
                        color='white' if value > .5 else 'black')
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return matrix


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Training curves and confusion matrices')
    sub = parser.add_subparsers(dest='command', required=True)
    curves = sub.add_parser('curves', help='loss, lr and accuracy of a training run')
    curves.add_argument('scalars', help='work dir of tools/train.py or its scalars.json')
    curves.add_argument('--out', default='curves.png', help='PNG file to write')
    confusion = sub.add_parser('confusion', help='confusion matrix of a tools/test.py --dump')
    confusion.add_argument('dump', help='the .pkl of tools/test.py --dump')
    confusion.add_argument('--out', default='confusion.png', help='PNG file to write')
    confusion.add_argument('--label-map', help='class names, one per line')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.command == 'curves':
        scalars = find_scalars(args.scalars)
        titles = plot_curves(scalars, args.out)
        print(f'{", ".join(titles)} of {scalars} -> {args.out}')
    else:
        matrix = plot_confusion(args.dump, args.out, args.label_map)
        print(f'{matrix.shape[0]}-class confusion matrix of {args.dump} -> {args.out}')


if __name__ == '__main__':
    main()
