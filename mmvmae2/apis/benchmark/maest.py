"""MAE-ST (random 0.9 masking, MAE decoder predicting every token for
``pred_t_dim`` frames) against VideoMAE V2 (tube 0.9 + running cell 0.5,
efficient decoder) at the same encoder size: step time, counted FLOPs and
saved activations, measured side by side."""
import os.path as osp
from typing import Dict

import numpy as np
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from . import measure
from .peers import official_kwargs
from .pretrain import build_project, make_masks, project_loss, project_optimizer, train_step

OPTIONS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'models',
                   'maest_options.py')


def maest_cfg(arch: str, frames: int, size: int, target_frames: int,
              options: str = OPTIONS) -> Dict:
    """``VideoMAEPretrainer`` config of MAE-ST at ``arch``, with the switches
    of ``configs/_base_/models/maest_options.py`` (one place for them)."""
    if not osp.isfile(options):
        raise FileNotFoundError(f'{options} not found (the MAE-ST switches of the configs)')
    opts = Config.fromfile(options)
    return dict(
        type='VideoMAEPretrainer',
        backbone=dict(type='VideoMAEViT', arch=arch, img_size=size, num_frames=frames,
                      final_norm=True, out_type='raw', **opts.maest_backbone),
        neck=dict(type='VideoMAEPretrainDecoder', **opts.maest_neck),
        head=dict(type='VideoMAEPretrainHead', target_frames=target_frames, **opts.maest_head),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=opts.maest_mean,
                               std=opts.maest_std, format_shape='NCTHW'))


def bench_maest(arch: str, frames: int, size: int, batch: int, rounds: int,
                device: str = 'cpu', target_frames: int = None) -> Dict:
    """Rows ``videomae-v2`` and ``mae-st`` (same input clip, own masks).

    ``target_frames`` defaults to half the frames (MAE-ST's ``pred_t_dim`` 8
    of 16: one predicted frame per two-frame token).
    """
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    target_frames = target_frames or frames // 2
    models = {
        'videomae-v2': build_project(official_kwargs(arch, frames, size), 'efficient'),
        'mae-st': MODELS.build(maest_cfg(arch, frames, size, target_frames)),
    }
    models = {n: m.to(device) for n, m in models.items()}
    grid = models['videomae-v2'].backbone.grid_size
    masks = {'videomae-v2': make_masks('tube', 'cell', grid, batch, rng),
             'mae-st': make_masks('random', 'none', grid, batch, rng)}
    masks = {n: tuple(m.to(device) for m in pair) for n, pair in masks.items()}
    video = torch.randn(batch, 3, frames, size, size, device=device)
    losses = {n: (lambda n=n: project_loss(models[n], video, *masks[n])) for n in models}
    steps = {n: train_step(losses[n], project_optimizer(models[n].parameters())) for n in models}
    times = measure.interleaved_times(steps, rounds, device)
    rows = []
    for n, model in models.items():
        enc, dec = masks[n]
        params = list(model.parameters())
        flops = measure.count_flops(steps[n])
        act = measure.saved_activation_bytes(lambda n=n: losses[n]().backward(), params)
        model.zero_grad(set_to_none=True)
        rows.append(dict(variant=n, visible=int((~enc[0]).sum()),
                         loss_tokens=float((enc & ~dec).sum(1).float().mean()),
                         seconds=measure.median(times[n]), gflops=flops / 1e9,
                         params_m=sum(p.numel() for p in params) / 1e6, act_mib=act / 2**20))
    return dict(rows=rows, target_frames=target_frames)


def format_maest_table(result: Dict) -> str:
    rows = {r['variant']: r for r in result['rows']}
    base = rows['mae-st']
    lines = ['| model | encoder tokens | loss tokens | params (M) | median step (s) | '
             'speed-up vs MAE-ST | GFLOPs/step (counted) | saved activations MiB | '
             'activations vs MAE-ST |', '|---|---|---|---|---|---|---|---|---|']
    for r in rows.values():
        lines.append(f"| {r['variant']} | {r['visible']} | {r['loss_tokens']:g} | "
                     f"{r['params_m']:.1f} | {r['seconds']:.3f} | "
                     f"{base['seconds'] / r['seconds']:.2f}x | {r['gflops']:.1f} | "
                     f"{r['act_mib']:.0f} | {r['act_mib'] / base['act_mib']:.2f}x |")
    return '\n'.join(lines)
