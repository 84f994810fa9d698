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
"""
import argparse
import os.path as osp
import platform
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import mmvmae2  # noqa: E402,F401
from mmaction.registry import MODELS  # noqa: E402
from mmvmae2.datasets.transforms.masking import (no_decoder_mask, random_mask,  # noqa: E402
                                                  running_cell_mask, tube_mask)


def build_model(arch, frames, size, mode):
    cfg = dict(
        type='VideoMAE',
        backbone=dict(type='VideoMAEViT', arch=arch, img_size=size, num_frames=frames,
                      final_norm=True, out_type='raw'),
        neck=dict(type='VideoMAEPretrainDecoder', arch=arch, mode=mode),
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
            (~enc[0]).sum()), int((enc & ~dec)[0].sum())

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
    lines = [
        '| variant | encoder tokens | decoder sequence | loss tokens | median step (s) | '
        'speed-up vs v1 | saved activations MiB | peak GPU MiB |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for name in variants:
        med = statistics.median(times[name])
        mem, act, queries, visible, loss_tokens = info[name]
        lines.append(f'| {name} | {visible} | {visible + queries} | {loss_tokens} | {med:.3f} | '
                     f'{base / med:.2f}x | {act:.0f} | {"-" if mem != mem else f"{mem:.0f}"} |')
    header = (f'ViT-{arch}, {args.frames}x{args.size}^2, batch {args.batch}, {device}, '
              f'torch {torch.__version__}, {torch.get_num_threads()} threads, '
              f'{platform.processor() or platform.machine()}, {args.repeats} interleaved repeats')
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
    parser.add_argument('--out', default=None, help='markdown file to (over)write')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    sections = []
    for arch in args.arch:
        header, table = bench_arch(arch, args, device)
        print(header)
        print(table)
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
