"""Where the time of one pretraining step goes: ``torch.profiler`` on the
project's model, by phase (encoder, decoder, target + loss, backward,
optimizer) and by kind of operator (matmul, attention, norm, ...)."""
from typing import Callable, Dict, List

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile, record_function

from .peers import official_kwargs
from .pretrain import build_project, make_masks, project_optimizer

PHASES = ('encoder', 'decoder', 'target + loss', 'backward', 'optimizer')

# operator kind -> substrings of aten op names (first match wins, self time)
KINDS = (
    ('matmul (linear, bmm)', ('addmm', 'aten::mm', 'bmm', 'aten::baddbmm')),
    ('attention kernel', ('scaled_dot_product', 'softmax')),
    ('patch-embed conv', ('convolution', 'conv3d', 'mkldnn')),
    ('layer norm', ('layer_norm', )),
    ('gelu', ('gelu', )),
    ('masking gathers / scatters', ('index', 'gather', 'scatter', 'masked', 'nonzero', 'sort',
                                    'take', 'where')),
    ('optimizer (foreach / adamw)', ('_foreach', 'adam', 'lerp', 'addcdiv', 'addcmul')),
    ('copies, cat, reshape', ('copy', 'clone', 'cat', 'contiguous', 'reshape', 'view', 'permute',
                              'transpose', 'expand', 'stack', 'cat')),
    ('element-wise, reductions', ('add', 'mul', 'div', 'sub', 'pow', 'sqrt', 'mean', 'sum',
                                  'var', 'std', 'rsqrt', 'fill', 'zero', 'neg', 'exp')),
)


def op_kind(name: str) -> str:
    """The kind of an aten operator name (see :data:`KINDS`), else ``'other'``."""
    for kind, keys in KINDS:
        if any(k in name for k in keys):
            return kind
    return 'other'


def profiled_step(mode: str, arch: str, frames: int, size: int, batch: int,
                  device: str = 'cpu') -> Callable[[], None]:
    """One tube + running-cell training step of the project's model in
    decoder ``mode``, its phases labelled for the profiler."""
    torch.manual_seed(0)
    model = build_project(official_kwargs(arch, frames, size), mode).to(device)
    optim = project_optimizer(model.parameters())
    grid = model.backbone.grid_size
    masks = make_masks('tube', 'cell', grid, batch, np.random.RandomState(0))
    enc, dec = (m.to(device) for m in masks)
    video = torch.randn(batch, 3, frames, size, size, device=device)

    def step():
        with record_function('encoder'):
            latent = model.backbone(video, mask=enc)
        with record_function('decoder'):
            pred, index, valid = model.neck(latent, enc, dec)
        with record_function('target + loss'):
            target_video = getattr(model, 'target_video', model.to_pixels)(video)
            loss = model.head.loss(pred, index, valid, target_video, enc)['loss']
        with record_function('backward'):
            loss.backward()
        with record_function('optimizer'):
            optim.step()
            optim.zero_grad(set_to_none=True)

    step()  # warm-up (allocator, optimizer state)
    return step


def profile_once(step: Callable[[], None]) -> Dict:
    """Profile one call of ``step``.

    Returns:
        dict: ``phases`` and ``kinds``, each name -> milliseconds (kinds:
        self CPU time of the operators, summed), and ``total`` ms.
    """
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = prof.key_averages()
    phases = {e.key: e.cpu_time_total / 1e3 for e in events if e.key in PHASES}
    kinds: Dict[str, float] = {}
    for e in events:
        if e.key in PHASES:
            continue
        kind = op_kind(e.key)
        kinds[kind] = kinds.get(kind, 0.) + e.self_cpu_time_total / 1e3
    return dict(phases=phases, kinds=kinds, total=sum(phases.values()))


def profile_modes(arch: str, frames: int, size: int, batch: int, rounds: int = 2,
                  device: str = 'cpu', modes=('official', 'efficient')) -> Dict[str, Dict]:
    """Profile each decoder mode ``rounds`` times, interleaved, and keep each
    mode's fastest step (the one a busy machine disturbed least)."""
    steps = {mode: profiled_step(mode, arch, frames, size, batch, device) for mode in modes}
    best: Dict[str, Dict] = {}
    for _ in range(rounds):
        for mode, step in steps.items():
            result = profile_once(step)
            if mode not in best or result['total'] < best[mode]['total']:
                best[mode] = result
    return best


def format_profile_table(results: Dict[str, Dict]) -> str:
    """One column per decoder mode: ms and share of the step."""
    modes = list(results)
    head = ['', *[f'{m} ms' for m in modes], *[f'{m} %' for m in modes]]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]

    def row(name: str, values: List[float], totals: List[float]) -> str:
        pct = [f'{100 * v / t:.1f}' for v, t in zip(values, totals)]
        return '| ' + ' | '.join([name, *[f'{v:.0f}' for v in values], *pct]) + ' |'

    totals = [results[m]['total'] for m in modes]
    lines.append('| **phase** |' + ' |' * (len(head) - 1))
    for phase in PHASES:
        lines.append(row(phase, [results[m]['phases'].get(phase, 0.) for m in modes], totals))
    lines.append(row('step (sum of phases)', totals, totals))
    lines.append('| **operator kind (self time)** |' + ' |' * (len(head) - 1))
    for kind in [k for k, _ in KINDS] + ['other']:
        lines.append(row(kind, [results[m]['kinds'].get(kind, 0.) for m in modes], totals))
    return '\n'.join(lines)
