"""Multi-view testing of a fine-tuned recognizer (``Recognizer3D`` + the
project's ViT + ``TimeSformerHead``, random weights): all views of a video in
one batch vs one view at a time (MMAction2's ``max_testing_views``)."""
from typing import Dict

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope

from . import measure


def recognizer_cfg(arch: str, frames: int, size: int, views_per_batch=None) -> Dict:
    """A VideoMAE V2 fine-tuned recognizer config (mean-pooled ``fc_norm``
    features, linear head); ``views_per_batch`` sets ``max_testing_views``
    (None: all views at once)."""
    test_cfg = None if views_per_batch is None else dict(max_testing_views=views_per_batch)
    return dict(
        type='Recognizer3D',
        backbone=dict(type='VideoMAEViT', arch=arch, img_size=size, num_frames=frames,
                      final_norm=False, with_fc_norm=True, out_type='avg'),
        cls_head=dict(type='TimeSformerHead', num_classes=400, in_channels=0,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
        test_cfg=test_cfg)


def build_recognizer(arch: str, frames: int, size: int, views_per_batch=None):
    init_default_scope('mmaction')
    cfg = recognizer_cfg(arch, frames, size, views_per_batch)
    probe = MODELS.build(cfg['backbone'])
    cfg['cls_head']['in_channels'] = probe.embed_dims
    return MODELS.build(cfg).eval()


def bench_multiview(arch: str, frames: int, size: int, clips: int = 5, crops: int = 3,
                    rounds: int = 2, device: str = 'cpu') -> Dict:
    """Seconds per video of ``test_step`` on ``clips x crops`` views, batched
    and one by one (same weights), and the counted forward FLOPs.

    Returns:
        dict: ``views``, ``seconds`` (mode -> median s per video), ``gflops``,
        ``max_abs_diff`` between the two modes' scores.
    """
    torch.manual_seed(0)
    models = {'batched': build_recognizer(arch, frames, size).to(device)}
    models['one by one'] = build_recognizer(arch, frames, size, 1).to(device)
    models['one by one'].load_state_dict(models['batched'].state_dict())
    views = clips * crops
    video = torch.randint(0, 256, (views, 3, frames, size, size), dtype=torch.uint8)
    data = dict(inputs=[video.to(device)], data_samples=[ActionDataSample()])
    scores = {}

    def step(name):
        with torch.no_grad():
            scores[name] = models[name].test_step(data)[0].pred_score

    steps = {name: (lambda name=name: step(name)) for name in models}
    times = measure.interleaved_times(steps, rounds, device)
    flops = measure.count_flops(steps['batched'])
    diff = float((scores['batched'] - scores['one by one']).abs().max())
    return dict(views=views, seconds={n: measure.median(t) for n, t in times.items()},
                gflops=flops / 1e9, max_abs_diff=diff)


def format_multiview_table(result: Dict) -> str:
    base = result['seconds']['one by one']
    lines = ['| views | median s per video | GFLOPs (counted) | GF/s | speed-up |',
             '|---|---|---|---|---|']
    for name, seconds in result['seconds'].items():
        lines.append(f"| {result['views']} {name} | {seconds:.3f} | {result['gflops']:.1f} | "
                     f"{result['gflops'] / seconds:.1f} | {base / seconds:.2f}x |")
    return '\n'.join(lines)
