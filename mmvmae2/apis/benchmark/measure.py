"""Measuring helpers of the benchmark: interleaved timing, counted FLOPs,
saved activations and a matrix-multiply peak, each a small function of a
callable so any model (the project's, the official code, HF) is measured the
same way."""
import statistics
import time
from typing import Callable, Dict, Iterable, List

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count


def _cpu_sdpa_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query, key, value)  # shapes


def _cpu_sdpa_backward_flops(grad_out, query, key, value, *args, out_shape=None,
                             **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out, query, key, value)  # shapes


# PyTorch's counter has formulas for the CUDA attention kernels only; the CPU
# kernel gets the same ones (without them CPU attention counts 0 FLOPs).
_CPU_ATTENTION = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flops,
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward:
    _cpu_sdpa_backward_flops,
}


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` as counted by PyTorch's dispatcher
    (``FlopCounterMode``: matmuls, convolutions, attention on CPU and CUDA; a
    multiply-add is 2 FLOPs; element-wise ops are not counted)."""
    with FlopCounterMode(display=False, custom_mapping=_CPU_ATTENTION) as counter:
        fn()
    return int(counter.get_total_flops())


def saved_activation_bytes(fn: Callable[[], object],
                           exclude: Iterable[torch.Tensor] = ()) -> int:
    """Bytes of the tensors autograd saves for backward while ``fn`` runs
    (its forward part), each storage once, parameters (``exclude``) left out.

    ``fn`` must build the graph inside the call (forward and backward in it
    are fine: the hooks record at pack time).
    """
    saved: Dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        saved[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    return sum(n for ptr, n in saved.items() if ptr not in skip)


def timed(fn: Callable[[], object], device: str = 'cpu') -> float:
    """Wall seconds of one call of ``fn`` (synchronized on CUDA)."""
    if device == 'cuda':
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device == 'cuda':
        torch.cuda.synchronize()
    return time.perf_counter() - start


def interleaved_times(steps: Dict[str, Callable[[], object]], rounds: int,
                      device: str = 'cpu', warmup: int = 1) -> Dict[str, List[float]]:
    """Time every step once per round, round robin, after ``warmup`` rounds,
    so that a slow spell of a shared machine hits all of them alike.

    Returns:
        dict: name -> list of ``rounds`` seconds.
    """
    if rounds < 1:
        raise ValueError(f'rounds must be >= 1, got {rounds}')
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for r in range(warmup + rounds):
        for name, fn in steps.items():
            seconds = timed(fn, device)
            if r >= warmup:
                times[name].append(seconds)
    return times


def matmul_step(n: int, device: str = 'cpu') -> Callable[[], torch.Tensor]:
    """A callable multiplying two fixed ``(n, n)`` fp32 matrices (``2 n^3``
    FLOPs): the peak the models' matmuls are compared with, measured on the
    same threads in the same run."""
    if n < 1:
        raise ValueError(f'matmul size must be >= 1, got {n}')
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device)
    b = torch.randn(n, n, generator=gen).to(device)
    return lambda: a @ b


def median(values: List[float]) -> float:
    return statistics.median(values)


def gflops_per_s(flops: int, seconds: float) -> float:
    return flops / seconds / 1e9
