"""Benchmark one pretraining step (forward + backward + AdamW) under
different masking set-ups and against other implementations, side by side in
one run, and write the tables to ``docs/benchmarks.md`` with the command and
machine that made them.

    python tools/benchmark.py [--arch small] [--batch 2] [--frames 16] [--size 224]
                              [--repeats 5] [--threads 1] [--official PATH] [--peer hf]
                              [--infer] [--data] [--out docs/benchmarks.md]

Variants (same model weights, same input):
  v1           tube 0.9, no decoder masking (VideoMAE V1: 1568 decoder tokens for ViT-B)
  v2-official  tube 0.9 + running cell 0.5, mask tokens at all decoder-kept positions
  v2-efficient tube 0.9 + running cell 0.5, mask tokens only at loss tokens
  v2-random    random 0.9, no decoder masking (the VideoMAE-with-random-masking ablation)
  official-v2  (--official PATH) the official VideoMAE V2 model of a local clone, the
               project's weights converted, v2-official's masks; its loss must equal
               the project's before anything is timed
  hf-v1        (--peer hf) HF transformers' VideoMAEForPreTraining, v1's encoder masks

FLOPs are counted by PyTorch (``FlopCounterMode``) on one step; "of matmul
peak" compares the achieved GF/s with a square fp32 matmul timed in the same
rounds. Timings interleave the variants (round robin) and report medians, so
the ratios are comparable on a noisy machine; absolute CPU times are not.
Memory is the bytes of activations autograd keeps for the backward pass
(each storage counted once), which does not depend on the device.

``--infer`` adds multi-view testing (5 clips x 3 crops) of a fine-tuned
recognizer, views batched vs one by one. ``--data`` adds the data side: the
real pretraining pipeline of ``configs/_base_/datasets/k400_pretrain.py`` on
generated 256 x 256 videos of 240 frames, with 1 and with ``num_sample`` (4)
augmented clips per decoded video (repeated augmentation), interleaved.
"""
import argparse
import os.path as osp
import platform
import random
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

# With transformers installed (--peer hf), MMAction2 imports its VindLU models, which
# need timm; the benchmark uses none of them, so they stay unregistered here.
import mmaction.utils.dependency as _mmaction_dependency  # noqa: E402

_mmaction_dependency.WITH_MULTIMODAL = False
import mmvmae2  # noqa: E402,F401,I100
from mmvmae2.apis.benchmark.inference import bench_multiview  # noqa: E402
from mmvmae2.apis.benchmark.inference import format_multiview_table  # noqa: E402
from mmvmae2.apis.benchmark.maest import bench_maest, format_maest_table  # noqa: E402
from mmvmae2.apis.benchmark.pretrain import bench_pretrain, format_pretrain_table  # noqa: E402
from mmvmae2.apis.benchmark.profile import format_profile_table, profile_modes  # noqa: E402

# Hand-written notes below this line of the output file survive regeneration.
NOTES_MARKER = '<!-- notes: kept by make benchmark -->'


def machine(device):
    return (f'{device}, torch {torch.__version__}, {torch.get_num_threads()} threads, '
            f'{platform.processor() or platform.machine()}')


def bench_arch(arch, args, device):
    """The pretraining table of one arch; returns ``(header, markdown)``."""
    result = bench_pretrain(arch, args.frames, args.size, args.batch, args.repeats, device,
                            official_root=args.official, hf='hf' in args.peer)
    header = (f'ViT-{arch} pretraining step, {args.frames}x{args.size}^2, batch {args.batch}, '
              f'{machine(device)}, {args.repeats} interleaved rounds; matmul peak '
              f'{result["matmul"][1]:.1f} GF/s ({result["matmul"][0]}^2 fp32); AdamW as each code '
              f'runs it (the project\'s schedules: fused; the peers: their default)')
    if result['official_loss_check']:
        header += ('; official loss {:.6f} = project loss {:.6f}'.format(
            *result['official_loss_check']))
    return header, format_pretrain_table(result)


def bench_maest_vs_v2(arch, args, device):
    result = bench_maest(arch, args.frames, args.size, args.batch, args.repeats, device)
    header = (f'ViT-{arch}: MAE-ST (random 0.9, MAE decoder 512x4 predicting every token, '
              f'{result["target_frames"]} target frames, one per token) vs VideoMAE V2 (tube '
              f'0.9 + running cell 0.5, efficient decoder), pretraining step, {args.frames}x'
              f'{args.size}^2, batch {args.batch}, {machine(device)}, {args.repeats} interleaved '
              'rounds')
    return header, format_maest_table(result)


def bench_profile(arch, args, device):
    results = profile_modes(arch, args.frames, args.size, args.batch, device=device)
    header = (f'Profile of one ViT-{arch} V2 step (tube 0.9 + running cell 0.5, AdamW), '
              f'{args.frames}x{args.size}^2, batch {args.batch}, torch.profiler, '
              f'{machine(device)}; ms of CPU time (phases: inclusive; operator kinds: self '
              'time; profiler overhead included; the faster of 2 interleaved profiles per mode)')
    return header, format_profile_table(results)


def read_notes(path):
    """The hand-written part of an existing output file (from the marker on)."""
    if not path or not osp.isfile(path):
        return ''
    text = open(path).read()
    return text[text.index(NOTES_MARKER):] if NOTES_MARKER in text else ''


def bench_infer(arch, args, device):
    frames, size = args.infer_frames or args.frames, args.infer_size or args.size
    result = bench_multiview(arch, frames, size, rounds=args.repeats, device=device)
    header = (f'ViT-{arch} fine-tuned recognizer, multi-view testing (5 clips x 3 crops of '
              f'{frames}x{size}^2, Recognizer3D test_step, random weights), {machine(device)}, '
              f'{args.repeats} interleaved rounds; scores of both modes agree within '
              f'{result["max_abs_diff"]:.1e}')
    return header, format_multiview_table(result)


def bench_data(args):
    """Time per clip of the real pretraining pipeline with 1 and ``num_sample``
    clips per decoded video; returns ``(header, markdown table)``."""
    import copy
    import tempfile

    from make_demo_data import render_video, write_video  # tools/, this script's folder
    from mmengine.config import Config
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    cfg = Config.fromfile(osp.join(root, 'configs/_base_/datasets/k400_pretrain.py'))
    tmp = tempfile.TemporaryDirectory()
    videos = [write_video(osp.join(tmp.name, f'{i}.mp4'), render_video(i, 240, 256))
              for i in range(3)]
    variants = {}
    for repeats in (1, cfg.num_sample):
        pipeline = copy.deepcopy(cfg.train_pipeline)
        pipeline[3]['num_repeats'] = repeats  # VideoMAERepeatedAugment
        variants[repeats] = Compose(pipeline)
    times = {r: [] for r in variants}
    for round_ in range(args.repeats + 1):  # round 0 warms up (file cache, decoders)
        for repeats, pipeline in variants.items():
            np.random.seed(round_)  # the same frame offsets for both variants
            random.seed(round_)
            start = time.perf_counter()
            for video in videos:
                out = pipeline(dict(filename=video, start_index=0, modality='RGB', label=-1))
            if round_:
                times[repeats].append((time.perf_counter() - start) / (len(videos) * repeats))
            assert out['inputs'].shape[0] == repeats
    base = statistics.median(times[1])
    lines = ['| clips per decoded video | median time per clip (ms) | clips/s | speed-up |',
             '|---|---|---|---|']
    for repeats in variants:
        med = statistics.median(times[repeats])
        lines.append(f'| {repeats} | {1e3 * med:.1f} | {1 / med:.1f} | {base / med:.2f}x |')
    tmp.cleanup()
    header = (f'Data pipeline (k400_pretrain: decord, 16 frames at interval 4, multi-scale '
              f'crop to 224, masks, packing) on 256 x 256 x 240-frame H.264 videos, one '
              f'process, {platform.processor() or platform.machine()}, {args.repeats} '
              'interleaved repeats')
    return header, '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', nargs='+', default=['small'],
                        help='one or more archs, each measured in its own table')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--frames', type=int, default=16)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--official', default=None, metavar='PATH',
                        help='root of a local clone of the official VideoMAE V2 repository')
    parser.add_argument('--peer', nargs='*', default=[], choices=['hf'],
                        help='hf: HF transformers VideoMAEForPreTraining (needs transformers)')
    parser.add_argument('--maest', action='store_true',
                        help='also compare MAE-ST with VideoMAE V2 at the same size')
    parser.add_argument('--profile', action='store_true',
                        help='also profile one step (official vs efficient decoder)')
    parser.add_argument('--infer', action='store_true',
                        help='also time multi-view testing, views batched vs one by one')
    parser.add_argument('--infer-frames', type=int, default=None)
    parser.add_argument('--infer-size', type=int, default=None)
    parser.add_argument('--data', action='store_true',
                        help='also time the data pipeline with and without repeated augmentation')
    parser.add_argument('--out', default=None, help='markdown file to (over)write')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    benches = [lambda arch=arch: bench_arch(arch, args, device) for arch in args.arch]
    if args.maest:
        benches += [lambda arch=arch: bench_maest_vs_v2(arch, args, device) for arch in args.arch]
    if args.profile:
        benches += [lambda arch=arch: bench_profile(arch, args, device) for arch in args.arch]
    if args.infer:
        benches += [lambda arch=arch: bench_infer(arch, args, device) for arch in args.arch]
    if args.data:
        benches.append(lambda: bench_data(args))
    notes = read_notes(args.out)
    sections = []
    for bench in benches:
        header, table = bench()
        print(f'{header}\n{table}', flush=True)
        sections.append(f'{header}\n\n{table}\n')
    command = 'python tools/benchmark.py ' + ' '.join(sys.argv[1:])
    if args.out:
        with open(args.out, 'w') as f:
            f.write('# Benchmarks\n\n'
                    'Generated by `make benchmark`; every table below was measured by this '
                    'command, side by side in one run (variants interleaved, medians). Compare '
                    'the ratios within a table; absolute CPU times on shared machines are '
                    'noisy. "saved activations" is what autograd keeps for the backward pass.'
                    f'\n\nCommand: `{command}`\n\n' + '\n'.join(sections)
                    + (f'\n{notes}' if notes else ''))


if __name__ == '__main__':
    main()
