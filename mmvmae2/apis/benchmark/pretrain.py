"""One pretraining step (forward, backward, AdamW) of the project's model under
each masking set-up, and of the peers (official VideoMAE V2, HF V1) on the
same input, masks and (for the official code) weights."""
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from mmaction.registry import MODELS

from mmvmae2.datasets.transforms.masking import (no_decoder_mask, random_mask,
                                                 running_cell_mask, tube_mask)
from mmvmae2.models.checkpoint_convert import convert_state_dict
from mmvmae2.models.necks.videomae_decoder import decoder_query_positions
from mmvmae2.models.official import pretrain_cfg_from_official
from . import measure, peers

# variant -> (project decoder mode or peer, encoder mask, decoder mask)
VARIANTS = {
    'v1': ('official', 'tube', 'none'),
    'v2-official': ('official', 'tube', 'cell'),
    'v2-efficient': ('efficient', 'tube', 'cell'),
    'v2-random': ('official', 'random', 'none'),
    'official-v2': ('peer', 'tube', 'cell'),
    'hf-v1': ('peer', 'tube', 'none'),
}


def make_masks(encoder: str, decoder: str, grid, batch: int, rng) -> tuple:
    """``(B, N)`` bool encoder / decoder masks: encoder ``'tube'`` or
    ``'random'`` 0.9, decoder ``'cell'`` (running cell 0.5) or ``'none'``."""
    enc, dec = [], []
    for _ in range(batch):
        e = tube_mask(grid, 0.9, rng=rng) if encoder == 'tube' else random_mask(grid, 0.9, rng=rng)
        enc.append(e)
        dec.append(running_cell_mask(grid, 0.5, rng=rng) if decoder == 'cell'
                   else no_decoder_mask(e))
    return torch.from_numpy(np.stack(enc)), torch.from_numpy(np.stack(dec))


def build_project(kwargs: Dict, mode: str) -> torch.nn.Module:
    """The project's pretrainer equivalent to the official model of ``kwargs``."""
    return MODELS.build(pretrain_cfg_from_official(kwargs, decoder_mode=mode))


def project_loss(model, video, enc, dec) -> torch.Tensor:
    """The pretrainer's loss path (``VideoMAEPretrainer.loss`` without the
    unpacking of data samples)."""
    pred, index, valid = model.reconstruct_tokens(video, enc, dec)
    target_video = getattr(model, 'target_video', model.to_pixels)(video)
    return model.head.loss(pred, index, valid, target_video, enc)['loss']


def project_optimizer(params) -> torch.optim.Optimizer:
    """AdamW as the project's schedules run it (``fused=True``; the default
    loop on a torch or device without a fused kernel). The peers keep their
    code's default AdamW."""
    try:
        return torch.optim.AdamW(params, lr=1e-4, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(params, lr=1e-4)


def train_step(loss_fn: Callable[[], torch.Tensor], optim) -> Callable[[], float]:
    """Forward + backward + AdamW step of ``loss_fn``."""

    def step():
        loss = loss_fn()
        loss.backward()
        optim.step()
        optim.zero_grad(set_to_none=True)
        return float(loss.detach())

    return step


def bench_pretrain(arch: str, frames: int, size: int, batch: int, rounds: int,
                   device: str = 'cpu', official_root: Optional[str] = None,
                   hf: bool = False, matmul_size: Optional[int] = None) -> Dict:
    """Measure every variant side by side.

    Returns:
        dict: ``rows`` (one dict per variant), ``peers`` (names of the peers
        run), ``matmul`` (size and median GF/s of the square fp32 matmul),
        ``official_loss_check`` (the two losses compared, when run).
    """
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    kwargs = peers.official_kwargs(arch, frames, size)
    models = {mode: build_project(kwargs, mode).to(device) for mode in ('official', 'efficient')}
    official = None
    if official_root is not None:
        official = peers.build_official(peers.import_official(official_root), kwargs).to(device)
        state_dict, _ = convert_state_dict(official.state_dict())
        models['official'].load_state_dict(state_dict, strict=True)
    models['efficient'].load_state_dict(models['official'].state_dict())
    grid = models['official'].backbone.grid_size
    video = torch.randn(batch, 3, frames, size, size, device=device)
    tubelet, patch = kwargs['tubelet_size'], kwargs['patch_size']

    names = [n for n, (kind, _, _) in VARIANTS.items() if kind != 'peer']
    masks = {n: make_masks(VARIANTS[n][1], VARIANTS[n][2], grid, batch, rng) for n in names}
    masks = {n: tuple(m.to(device) for m in pair) for n, pair in masks.items()}
    losses: Dict[str, Callable[[], torch.Tensor]] = {}
    params: Dict[str, List[torch.Tensor]] = {}
    for n in names:
        model = models[VARIANTS[n][0]]
        losses[n] = (lambda model=model, m=masks[n]: project_loss(model, video, *m))
        params[n] = list(model.parameters())
    result = dict(peers=[], official_loss_check=None)
    if official is not None:
        masks['official-v2'] = masks['v2-official']
        losses['official-v2'] = lambda m=masks['official-v2']: peers.official_step_loss(
            official, video, *m, tubelet, patch)
        params['official-v2'] = list(official.parameters())
        with torch.no_grad():
            ours, theirs = float(losses['v2-official']()), float(losses['official-v2']())
        peers.check_same_loss(theirs, ours)
        result['official_loss_check'] = (theirs, ours)
        result['peers'].append('official-v2')
    if hf:
        hf_model = peers.build_hf(peers.load_hf(), kwargs).to(device)
        masks['hf-v1'] = masks['v1']
        losses['hf-v1'] = lambda m=masks['hf-v1']: peers.hf_step_loss(hf_model, video, m[0])
        params['hf-v1'] = list(hf_model.parameters())
        result['peers'].append('hf-v1')

    optims = {}
    for n, ps in params.items():  # one AdamW per model: the project's, or the peer's default
        key = id(ps[0])
        if key not in optims:
            optims[key] = torch.optim.AdamW(ps, lr=1e-4) if VARIANTS[n][0] == 'peer' \
                else project_optimizer(ps)
    steps = {n: train_step(losses[n], optims[id(params[n][0])]) for n in losses}
    # the size of the MLP matmuls' work (ViT-B: 2048, about the FLOPs of one fc1 on 3136 tokens)
    matmul_size = matmul_size or int(kwargs['encoder_embed_dim'] * kwargs['mlp_ratio'] * 2 / 3)
    steps['matmul'] = measure.matmul_step(matmul_size, device)
    times = measure.interleaved_times(steps, rounds, device)
    peak = measure.gflops_per_s(2 * matmul_size**3, measure.median(times.pop('matmul')))
    result['matmul'] = (matmul_size, peak)

    rows = []
    for n, fn in losses.items():
        enc, dec = masks[n]
        flops = measure.count_flops(steps[n])
        act = measure.saved_activation_bytes(lambda fn=fn: fn().backward(), params[n])
        for p in params[n]:
            p.grad = None
        mode = VARIANTS[n][0] if VARIANTS[n][0] != 'peer' else 'official'
        # decoder queries per clip, padded to the batch's largest count
        queries = decoder_query_positions(enc, dec, mode)[0].shape[1]
        seconds = measure.median(times[n])
        rows.append(dict(
            variant=n, visible=int((~enc[0]).sum()),
            sequence=int((~enc[0]).sum()) + queries,
            loss_tokens=float((enc & ~dec).sum(1).float().mean()), seconds=seconds,
            gflops=flops / 1e9, gflops_per_s=measure.gflops_per_s(flops, seconds),
            act_mib=act / 2**20))
    result['rows'] = rows
    return result


def format_pretrain_table(result: Dict) -> str:
    """Markdown table of :func:`bench_pretrain`'s result."""
    rows = {r['variant']: r for r in result['rows']}
    base = rows['v1']['seconds']
    peak = result['matmul'][1]
    peer_cols = [f'vs {p}' for p in result['peers']]
    head = ['variant', 'encoder tokens', 'decoder sequence', 'loss tokens', 'median step (s)',
            'speed-up vs v1', 'GFLOPs/step (counted)', 'GF/s', 'of matmul peak',
            'saved activations MiB'] + peer_cols
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in rows.values():
        cells = [r['variant'], r['visible'], r['sequence'], f"{r['loss_tokens']:g}",
                 f"{r['seconds']:.3f}", f"{base / r['seconds']:.2f}x", f"{r['gflops']:.1f}",
                 f"{r['gflops_per_s']:.1f}", f"{100 * r['gflops_per_s'] / peak:.0f}%",
                 f"{r['act_mib']:.0f}"]
        cells += [f"{rows[p]['seconds'] / r['seconds']:.2f}x" for p in result['peers']]
        lines.append('| ' + ' | '.join(map(str, cells)) + ' |')
    return '\n'.join(lines)
