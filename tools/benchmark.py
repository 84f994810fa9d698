"""Benchmark one pretraining step (forward + backward + AdamW) under
different masking set-ups, side by side in one run, and write the table to
``docs/benchmarks.md`` together with the command that made it.

    python tools/benchmark.py [--arch small] [--batch 2] [--frames 16] [--size 224]
                              [--repeats 5] [--out docs/benchmarks.md]

Variants (same model weights, same input):
  v1          tube 0.9, no decoder masking (VideoMAE V1: 1568 decoder tokens for ViT-B)
  v2-official tube 0.9 + running cell 0.5, mask tokens at all decoder-kept positions
  v2-efficient tube 0.9 + running cell 0.5, mask tokens only at loss tokens
  mae-st      random 0.9, no decoder masking

Timings interleave the variants (round robin) and report medians, so the
ratios are comparable even on a noisy machine; absolute CPU times are not.
Memory is reported as the bytes of activations autograd keeps for the
backward pass (each storage counted once), which does not depend on the
device; on a GPU the peak allocated memory is reported as well.

``--data`` adds the data side: the real pretraining pipeline of
``configs/_base_/datasets/k400_pretrain.py`` on generated 256 x 256 videos of
240 frames, with 1 and with ``num_sample`` (4) augmented clips per decoded
video (repeated augmentation), interleaved; it reports the time per clip.
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

import mmvmae2  # noqa: E402,F401
from mmaction.registry import MODELS  # noqa: E402
from mmvmae2.datasets.transforms.masking import (  # noqa: E402
    no_decoder_mask, random_mask, running_cell_mask, tube_mask)


def build_model(arch, frames, size, mode):
    # The decoder (the V2 decoder of `arch`) and the head take their sizes from the backbone.
    cfg = dict(
        type='VideoMAEPretrainer',
        backbone=dict(type='VideoMAEViT', arch=arch, img_size=size, num_frames=frames,
                      final_norm=True, out_type='raw'),
        neck=dict(type='VideoMAEPretrainDecoder', mode=mode),
        head=dict(type='VideoMAEPretrainHead'))
    return MODELS.build(cfg)


def make_masks(kind, grid, batch, rng):
    enc, dec = [], []
    for _ in range(batch):
        e = tube_mask(grid, 0.9, rng=rng) if kind != 'mae-st' else random_mask(grid, 0.9, rng=rng)
        d = running_cell_mask(grid, 0.5, rng=rng) if kind.startswith('v2') else no_decoder_mask(e)
        enc.append(e)
        dec.append(d)
    return torch.from_numpy(np.stack(enc)), torch.from_numpy(np.stack(dec))


def bench_arch(arch, args, device):
    """Measure all variants for one arch; returns ``(header, markdown table)``."""
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    official = build_model(arch, args.frames, args.size, 'official').to(device)
    efficient = build_model(arch, args.frames, args.size, 'efficient').to(device)
    efficient.load_state_dict(official.state_dict())
    grid = official.backbone.grid_size
    video = torch.randn(args.batch, 1, 3, args.frames, args.size, args.size, device=device)
    variants = {
        'v1': (official, 'v1'),
        'v2-official': (official, 'v2'),
        'v2-efficient': (efficient, 'v2'),
        'mae-st': (official, 'mae-st'),
    }
    masks = {name: make_masks(kind, grid, args.batch, rng) for name, (_, kind) in variants.items()}
    optims = {id(m): torch.optim.AdamW(m.parameters(), lr=1e-4) for m in (official, efficient)}

    def step(name):
        model, _ = variants[name]
        enc, dec = (m.to(device) for m in masks[name])
        optim = optims[id(model)]
        if device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        saved = {}

        def pack(t):
            # Activations kept for backward, one entry per storage (views share it).
            saved[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        start = time.perf_counter()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            pred, index, valid = model.reconstruct_tokens(video[:, 0], enc, dec)
            loss = model.head.loss(pred, index, valid, model.to_pixels(video[:, 0]),
                                   enc)['loss']
        loss.backward()
        optim.step()
        optim.zero_grad()
        if device == 'cuda':
            torch.cuda.synchronize()
        mem = torch.cuda.max_memory_allocated() / 2**20 if device == 'cuda' else float('nan')
        params = {p.untyped_storage().data_ptr() for p in model.parameters()}
        act = sum(n for ptr, n in saved.items() if ptr not in params) / 2**20
        return time.perf_counter() - start, mem, act, int(valid.shape[1]), int(
            (~enc[0]).sum()), float((enc & ~dec).sum(1).float().mean())

    for name in variants:  # warm-up
        step(name)
    times = {name: [] for name in variants}
    info = {}
    for _ in range(args.repeats):
        for name in variants:
            seconds, mem, act, queries, visible, loss_tokens = step(name)
            times[name].append(seconds)
            info[name] = (mem, act, queries, visible, loss_tokens)

    base = statistics.median(times['v1'])
    # per clip; the decoder sequence of the efficient mode is padded to the
    # clip of the batch with the most loss tokens
    lines = [
        '| variant | encoder tokens | decoder sequence | loss tokens | median step (s) | '
        'speed-up vs v1 | saved activations MiB | peak GPU MiB |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for name in variants:
        med = statistics.median(times[name])
        mem, act, queries, visible, loss_tokens = info[name]
        lines.append(f'| {name} | {visible} | {visible + queries} | {loss_tokens:g} | {med:.3f} | '
                     f'{base / med:.2f}x | {act:.0f} | {"-" if mem != mem else f"{mem:.0f}"} |')
    header = (f'ViT-{arch}, {args.frames}x{args.size}^2, batch {args.batch}, {device}, '
              f'torch {torch.__version__}, {torch.get_num_threads()} threads, '
              f'{platform.processor() or platform.machine()}, {args.repeats} interleaved repeats')
    return header, '\n'.join(lines)


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
    parser.add_argument('--data', action='store_true',
                        help='also time the data pipeline with and without repeated augmentation')
    parser.add_argument('--out', default=None, help='markdown file to (over)write')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    sections = []
    benches = [lambda arch=arch: bench_arch(arch, args, device) for arch in args.arch]
    for bench in benches + ([lambda: bench_data(args)] if args.data else []):
        header, table = bench()
        print(f'{header}\n{table}')
        sections.append(f'{header}\n\n{table}\n')
    command = 'python tools/benchmark.py ' + ' '.join(sys.argv[1:])
    if args.out:
        with open(args.out, 'w') as f:
            f.write('# Benchmarks\n\n'
                    'One pretraining step (forward, backward, AdamW) per masking set-up, measured '
                    'side by side in one run (variants interleaved, medians). Compare the ratios '
                    'within a table; absolute CPU times on shared machines are noisy. "saved '
                    'activations" is what autograd keeps for the backward pass.\n\n'
                    f'Command: `{command}`\n\n' + '\n'.join(sections))


if __name__ == '__main__':
    main()
