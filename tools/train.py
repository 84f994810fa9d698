"""Train a model (pretraining, recognition, detection) with MMAction2's runner.

Same arguments and behaviour as MMAction2's ``tools/train.py`` (a config
without ``randomness`` trains with a random seed, ``runner_type`` picks the
runner, ``--cfg-options`` are applied last), with two differences: ``--seed``
overrides a seed the config sets (MMAction2 keeps the config's), and
checkpoints (``load_from``, ``--resume``) are read by the plugin's restricted
loader, so mmengine's own checkpoints load under torch >= 2.6 and a crafted
file cannot run code.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmvmae2  # noqa: E402,F401  (registers modules)
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

from mmvmae2.compat import checkpoint_loading  # noqa: E402
from mmvmae2.engine import build_runner  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in work_dir when no '
        'path is given')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision training (VideoMAEAmpOptimWrapper: '
                        'autocast, dynamic loss scaling for fp16, non-finite steps skipped)')
    parser.add_argument('--amp-dtype', choices=['float16', 'bfloat16'], default=None,
                        help='autocast dtype of --amp (default: float16 on a GPU, bfloat16 '
                        'on CPU)')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr with the real total batch size '
                        '(auto_scale_lr.base_batch_size in the config)')
    parser.add_argument('--seed', type=int, default=None,
                        help='random seed (overrides the config\'s randomness.seed); without '
                        'either a random seed is drawn and logged')
    parser.add_argument('--diff-rank-seed', action='store_true',
                        help='give each rank a different seed')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic algorithms (slower)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, key=value, e.g. train_dataloader.batch_size=4')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    """Fold the command line into the config (as MMAction2 does)."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper in ('AmpOptimWrapper', 'VideoMAEAmpOptimWrapper'):
            print('AMP is already enabled in the config')
        elif wrapper != 'OptimWrapper':
            raise ValueError(f'--amp needs an OptimWrapper, the config uses {wrapper}')
        else:
            # MMEngine's AmpOptimWrapper plus a non-finite step guard, and bf16 on CPU.
            cfg.optim_wrapper.type = 'VideoMAEAmpOptimWrapper'
            cfg.optim_wrapper.dtype = args.amp_dtype or (
                'float16' if torch.cuda.is_available() else 'bfloat16')
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    # As MMAction2: no seed anywhere means seed=None, a random (logged) seed.
    randomness = dict(cfg.get('randomness', None) or dict())
    randomness.setdefault('seed', None)
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    if args.deterministic:
        randomness['deterministic'] = True
    cfg.randomness = randomness
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    if cfg.randomness.get('deterministic'):
        # Deterministic cuBLAS kernels need a workspace size (CUDA >= 10.2).
        os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
    with checkpoint_loading():
        runner = build_runner(cfg)
        runner.train()


if __name__ == '__main__':
    main()
