"""Fine-tune the demo pretraining and the same model from scratch; print both.

The second half of the CPU demo (``make demo-finetune``, after ``make demo``):
trains the tiny recognizer of ``configs/recognition/demo/`` on the labeled
demo videos (``tools/make_demo_data.py DATA_ROOT --labeled``) twice with
``tools/train.py``, once initialized from the demo pretraining checkpoint and
once at random, with the same data, schedule and seed, and prints the val
top-1 accuracy of both runs after the last epoch.

Usage::

    python tools/demo_finetune.py [--data-root data/demo/lighting]
        [--pretrained work_dirs/videomaev2_vit-tiny_demo/epoch_80.pth]
        [--work-dir work_dirs/demo_finetune]

Each run's log and checkpoint are in ``WORK_DIR/{pretrained,scratch}/``.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(ROOT, 'configs', 'recognition', 'demo')
CONFIGS = {
    'pretrained': osp.join(CONFIG_DIR, 'videomaev2_vit-tiny_demo-pretrained_demo-lighting.py'),
    'scratch': osp.join(CONFIG_DIR, 'videomaev2_vit-tiny_scratch_demo-lighting.py'),
}
DESCRIPTIONS = {
    'pretrained': 'fine-tuned from the demo pretraining',
    'scratch': 'trained from random initialization',
}


def train_command(config: str, work_dir: str, data_root: str,
                  pretrained: Optional[str] = None, options: Sequence[str] = ()) -> List[str]:
    """The ``tools/train.py`` command of one run, data from ``data_root``
    (``train_list.txt``, ``val_list.txt``), the backbone initialized from
    ``pretrained`` when given, further ``--cfg-options`` from ``options``."""
    cfg_options = [
        f'train_dataloader.dataset.ann_file={osp.join(data_root, "train_list.txt")}',
        f'train_dataloader.dataset.data_prefix.video={data_root}',
        f'val_dataloader.dataset.ann_file={osp.join(data_root, "val_list.txt")}',
        f'val_dataloader.dataset.data_prefix.video={data_root}',
    ]
    if pretrained is not None:
        cfg_options.append(f'model.backbone.init_cfg.checkpoint={pretrained}')
    return [sys.executable, osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', work_dir,
            '--cfg-options', *cfg_options, *options]


def val_accuracies(work_dir: str) -> List[float]:
    """Val top-1 accuracies (``acc/top1``) in the order they were logged, read
    from the ``scalars.json`` files of the runs in ``work_dir``."""
    records = []
    for run in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                records += [json.loads(line) for line in f if line.strip()]
    return [r['acc/top1'] for r in records if 'acc/top1' in r]


def run_training(cmd: List[str], log_path: str) -> None:
    """Run one training command, its output into ``log_path``; a failure
    raises with the end of the log."""
    with open(log_path, 'w') as log:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log_path) as f:
            tail = f.read()[-4000:]
        raise RuntimeError(f'{" ".join(cmd)} failed with code {proc.returncode}; end of '
                           f'{log_path}:\n{tail}')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Fine-tune the demo pretraining and train from scratch on labeled demo '
        'videos; print both val accuracies.')
    parser.add_argument('--data-root', default='data/demo/lighting',
                        help='folder of tools/make_demo_data.py --labeled')
    parser.add_argument('--pretrained', default='work_dirs/videomaev2_vit-tiny_demo/epoch_80.pth',
                        help='demo pretraining checkpoint (make demo)')
    parser.add_argument('--work-dir', default='work_dirs/demo_finetune')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides for both runs')
    return parser.parse_args()


def main():
    args = parse_args()
    for path, hint in ((args.pretrained, 'run `make demo` first'),
                       (osp.join(args.data_root, 'train_list.txt'),
                        f'run `python tools/make_demo_data.py {args.data_root} --labeled`')):
        if not osp.isfile(path):
            raise SystemExit(f'{path} not found: {hint}')
    results = {}
    for name, config in CONFIGS.items():
        work_dir = osp.join(args.work_dir, name)
        os.makedirs(work_dir, exist_ok=True)
        log_path = osp.join(args.work_dir, f'{name}.log')
        print(f'training {name} ({osp.relpath(config, ROOT)}), log: {log_path}', flush=True)
        start = time.time()
        run_training(train_command(config, work_dir, args.data_root,
                                   args.pretrained if name == 'pretrained' else None,
                                   args.cfg_options), log_path)
        accuracies = val_accuracies(work_dir)
        if not accuracies:
            raise SystemExit(f'no val accuracy was logged in {work_dir}')
        results[name] = (accuracies[-1], time.time() - start)
    for name, (accuracy, seconds) in results.items():
        print(f'val top-1 accuracy {DESCRIPTIONS[name]}: {100 * accuracy:.1f}% '
              f'({seconds:.0f} s)')


if __name__ == '__main__':
    main()
