"""Test a checkpoint with MMAction2's runner.

Same arguments and behaviour as MMAction2's ``tools/test.py``: ``--cfg-options``
are applied first, then the explicit arguments (the checkpoint, ``--work-dir``)
win; ``runner_type`` picks the runner. The checkpoint is read by the plugin's
restricted loader (mmengine checkpoints load under torch >= 2.6, a crafted
file cannot run code).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmvmae2  # noqa: E402,F401  (registers modules)
from mmengine.config import Config, DictAction  # noqa: E402

from mmvmae2.compat import checkpoint_loading  # noqa: E402
from mmvmae2.engine import build_runner  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save the evaluation metrics')
    parser.add_argument('--dump', type=str,
                        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument('--show-dir', help='directory where visualized results are saved')
    parser.add_argument('--show', action='store_true', help='show results')
    parser.add_argument('--interval', type=int, default=1, help='visualize every n samples')
    parser.add_argument('--wait-time', type=float, default=2, help='display time of a window')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    """Fold the command line into the config: ``--cfg-options`` first, then
    the explicit arguments, which win (as MMAction2)."""
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.show or args.show_dir:
        hooks = cfg.default_hooks
        if 'visualization' not in hooks:
            raise KeyError('--show/--show-dir need a "visualization" default hook in the config')
        hooks.visualization.enable = True
        hooks.visualization.show = args.show
        hooks.visualization.wait_time = args.wait_time
        hooks.visualization.out_dir = args.show_dir
        hooks.visualization.interval = args.interval
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump must end with .pkl or .pickle, got {args.dump}')
        dump = dict(type='DumpResults', out_file_path=args.dump)
        evaluator = cfg.test_evaluator
        cfg.test_evaluator = ([*evaluator, dump] if isinstance(evaluator, (list, tuple))
                              else [evaluator, dump])
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    with checkpoint_loading():
        build_runner(cfg).test()


if __name__ == '__main__':
    main()
