"""Run MMEngine's distributed training on machines without a GPU.

For the ``pytorch`` launcher MMEngine always calls ``torch.cuda.set_device``
and wraps the model in DDP with ``device_ids=[LOCAL_RANK]``; both fail on CPU
builds of torch. When no GPU is visible, :func:`init_dist_without_gpu` starts
the process group itself with ``gloo`` (the only CPU backend) and, unless the
config sets one, uses a CPU DDP wrapper (``device_ids=None``). The runner then
finds the group initialized and uses it, so ``tools/dist_train.sh`` works
unchanged on CPU machines. For ``FlexibleRunner`` configs the strategy's
model wrapper gets the same CPU device arguments
(:func:`~mmvmae2.engine.strategies.adapt_strategy_without_gpu`): MMEngine's
``DDPStrategy`` and ``FSDPStrategy`` then train on CPU with gloo unchanged.
"""
import os
import warnings

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from .strategies import adapt_strategy_without_gpu


def init_dist_without_gpu(cfg: Config) -> bool:
    """If ``cfg.launcher`` is ``pytorch`` and no GPU is available: adapt
    ``cfg.strategy`` (``FlexibleRunner``), start gloo unless a process group
    exists, and adapt ``cfg.model_wrapper_cfg`` (``Runner``). Returns True
    when it started the process group."""
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    if cfg.get('runner_type') == 'FlexibleRunner':
        cfg.strategy = adapt_strategy_without_gpu(cfg.get('strategy'), cfg.launcher)
    if torch_dist.is_initialized():
        return False
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg') or {})
    backend = dist_cfg.pop('backend', 'gloo')
    if backend != 'gloo':
        warnings.warn(f'no GPU: using the gloo backend instead of {backend!r}')
    torch_dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                                  world_size=int(os.environ['WORLD_SIZE']), **dist_cfg)
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None,
                                     broadcast_buffers=False,
                                     find_unused_parameters=cfg.get('find_unused_parameters',
                                                                    False))
    return True


def build_runner(cfg: Config):
    """Build the runner a config names, as MMAction2's tools do.

    ``runner_type`` in the config (e.g. ``'FlexibleRunner'`` with a
    ``strategy``, or a user's runner registered through ``custom_imports``)
    is built from MMAction2's ``RUNNERS`` registry; without it MMEngine's
    ``Runner``. On a machine without a GPU the ``pytorch`` launcher's process
    group is started first (:func:`init_dist_without_gpu`).
    """
    init_dist_without_gpu(cfg)
    if 'runner_type' not in cfg:
        from mmengine.runner import Runner
        return Runner.from_cfg(cfg)
    from mmaction.registry import RUNNERS
    return RUNNERS.build(cfg)
