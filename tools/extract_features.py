"""Extract clip features for temporal action localization (ActionFormer).

    python tools/extract_features.py CONFIG CHECKPOINT --video-list LIST \\
        --video-root ROOT --out-dir DIR [--stride 4] [--batch-size 8] \\
        [--num-workers 2] [--no-normalize] [--launcher pytorch] [--device cpu]

Writes ``DIR/<video>.npy`` ``(N, C)`` float32 per video of LIST (first field
of each line, relative to ROOT): one row per 16-frame window every
``stride`` frames (:mod:`mmvmae2.apis.features`). Window, stride, frame size
and normalization come from the config's ``feature_cfg`` (see
``configs/localization/``); the arguments override them. Videos already done
are skipped, files appear atomically, and videos that fail are listed at the
end and in ``DIR/failures[_rankR].txt`` without stopping the run.
``--launcher pytorch`` (``torchrun``) gives process ``r`` the videos
``r::world_size``; without a GPU the processes use gloo.
"""
import argparse
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmvmae2  # noqa: E402,F401  (registers modules)
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

from mmvmae2.apis import (FEATURE_DEFAULTS, VideoMAEFeatureExtractor, build_backbone,  # noqa: E402
                          extract_videos, read_video_list, shard)
from mmvmae2.compat import checkpoint_loading  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Extract VideoMAE clip features (TAL).')
    parser.add_argument('config', help='recognizer config with a feature_cfg')
    parser.add_argument('checkpoint', help='checkpoint of any layout VideoMAEPretrained reads')
    parser.add_argument('--video-list', required=True, help='one video per line')
    parser.add_argument('--video-root', default='', help='folder the list is relative to')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--stride', type=int, default=None, help='overrides feature_cfg')
    parser.add_argument('--window', type=int, default=None, help='overrides feature_cfg')
    parser.add_argument('--batch-size', type=int, default=8, help='windows per forward')
    parser.add_argument('--num-workers', type=int, default=2, help='decoding processes')
    parser.add_argument('--no-normalize', action='store_true',
                        help='feed x / 255 without mean/std, as the official script (for '
                        'compatibility with the published features)')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    parser.add_argument('--device', default=None, help='defaults to cuda if available')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def feature_settings(cfg: Config, args) -> dict:
    """``FEATURE_DEFAULTS`` updated by ``cfg.feature_cfg`` and the arguments."""
    settings = dict(FEATURE_DEFAULTS, **cfg.get('feature_cfg', {}))
    unknown = set(settings) - set(FEATURE_DEFAULTS)
    if unknown:
        raise ValueError(f'unknown feature_cfg keys {sorted(unknown)}; known: '
                         f'{sorted(FEATURE_DEFAULTS)}')
    if args.stride is not None:
        settings['stride'] = args.stride
    if args.window is not None:
        settings['window'] = args.window
    if args.no_normalize:
        settings['normalize'] = False
    return settings


def init_launcher(launcher: str):
    """``(rank, world_size)``; starts the process group for ``pytorch``
    (nccl with a GPU, gloo without)."""
    if launcher == 'none':
        return 0, 1
    import torch.distributed as dist
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)))
        dist.init_process_group(backend='nccl' if torch.cuda.is_available() else 'gloo')
    return dist.get_rank(), dist.get_world_size()


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    settings = feature_settings(cfg, args)
    rank, world_size = init_launcher(args.launcher)
    device = args.device or (f'cuda:{torch.cuda.current_device()}'
                             if torch.cuda.is_available() else 'cpu')
    with checkpoint_loading():
        backbone = build_backbone(cfg.model, args.checkpoint)
    preprocessor = cfg.model.get('data_preprocessor') or {}
    if settings['normalize'] and not {'mean', 'std'} <= set(preprocessor):
        raise ValueError('normalize needs model.data_preprocessor mean and std in the config')
    min_frames = settings.pop('min_frames')
    extractor = VideoMAEFeatureExtractor(
        backbone, preprocessor.get('mean', (0., ) * 3), preprocessor.get('std', (1., ) * 3),
        batch_size=args.batch_size, device=device, **settings)
    videos = shard(read_video_list(args.video_list), rank, world_size)
    start = time.time()
    summary = extract_videos(extractor, videos, args.video_root, args.out_dir,
                             dims=backbone.embed_dims, num_workers=args.num_workers,
                             min_frames=min_frames, progress=True)
    seconds = time.time() - start
    done = len(summary['written'])
    print(f'\n[rank {rank}/{world_size}] wrote {done}, skipped {len(summary["skipped"])} '
          f'already done, failed {len(summary["failed"])} of {len(videos)} videos in '
          f'{seconds:.1f} s ({done / max(seconds, 1e-9):.2f} videos/s)')
    if summary['failed']:
        name = 'failures.txt' if world_size == 1 else f'failures_rank{rank}.txt'
        os.makedirs(args.out_dir, exist_ok=True)
        with open(osp.join(args.out_dir, name), 'w') as f:
            f.write(''.join(f'{video}\t{reason}\n' for video, reason in summary['failed']))
        print('failed videos:')
        for video, reason in summary['failed']:
            print(f'  {video}: {reason}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
