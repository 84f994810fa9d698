"""What MMEngine's ``FSDPStrategy`` needs from the project, and its CPU setup.

The strategies are MMEngine's (``FSDPStrategy``, ``DeepSpeedStrategy``,
``DDPStrategy`` run by ``FlexibleRunner``); this module only provides

* :class:`VideoMAEFSDPStrategy`: MMEngine 0.10.7's ``FSDPStrategy`` with two
  fixes.

  - Parameter-wise optimizer settings: MMEngine builds the optimizer after
    wrapping, when every parameter is a 1-D view into its rank's shard and
    the names carry FSDP's ``_fsdp_wrapped_module.`` prefixes; the
    constructors decide weight decay by ``param.ndim`` (``flat_decay_mult``:
    every weight matrix would lose its decay) and layer-wise lr decay by
    name. It is built here inside ``FSDP.summon_full_params`` instead, where
    the same parameter objects have their full shapes and clean names.
  - Resume: MMEngine calls
    ``FSDP.optim_state_dict_to_load(optim_state_dict, model, optim)``, the
    argument order of torch 2.0; torch >= 2.1 takes ``(model, optim,
    optim_state_dict)`` (pytorch/pytorch#96534), and resuming fails with
    ``TypeError: unhashable type: 'dict'``. The optim wrapper's
    ``base_param_settings`` (the logged ``base_lr``) are saved beside FSDP's
    state, whose conversion drops them.

* :func:`wrap_transformer_blocks` (``auto_wrap_policy``) and
  :func:`is_transformer_block` (``activation_checkpointing.check_fn``): one
  FSDP unit / checkpoint per :class:`TransformerBlock` of the encoder and the
  decoder. Configs name them by import path (MMEngine's registries resolve
  a dotted path): ``'mmvmae2.engine.strategies.wrap_transformer_blocks'``.
* :func:`adapt_strategy_without_gpu`: on a machine without a GPU, MMEngine's
  ``DDPStrategy`` passes ``device_ids=[LOCAL_RANK]`` to DDP and
  ``FSDPStrategy`` passes ``device_id=LOCAL_RANK`` to FSDP; both name a CUDA
  device and fail on CPU builds of torch. The strategy config gets
  ``device_ids=None`` (DDP then uses the device of the parameters) and
  ``device_id='cpu'`` (torch's FSDP refuses parameters on CPU without an
  explicit CPU device: "FSDP needs a non-CPU accelerator device"), which
  MMEngine's default arguments do not override; FSDP's full checkpoints are
  gathered without CPU offload (:data:`FULL_STATE_DICT_ON_CPU`). Nothing else
  of the strategies changes.
"""
import copy
from typing import Optional

import torch.nn as nn
from mmengine._strategy import FSDPStrategy
from mmengine.registry import STRATEGIES
from torch.distributed.fsdp import FullyShardedDataParallel
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy

from ..models.utils.transformer import TransformerBlock

# The strategies whose default model wrapper names a CUDA device: the
# argument that names it, its CPU value, MMEngine's default wrapper.
_DEVICE_ARGUMENT = {
    'DDPStrategy': ('device_ids', None, dict(type='MMDistributedDataParallel',
                                             broadcast_buffers=False)),
    'FSDPStrategy': ('device_id', 'cpu', dict(type='MMFullyShardedDataParallel')),
}
_DEVICE_ARGUMENT['VideoMAEFSDPStrategy'] = _DEVICE_ARGUMENT['FSDPStrategy']

# MMEngine's `state_dict_cfg='full'` with `offload_to_cpu=False`: gathering
# full tensors with `offload_to_cpu=True` when they already live on the CPU
# crashes torch's FSDP (a segmentation fault while it clones them), and there
# is nothing to offload to.
FULL_STATE_DICT_ON_CPU = dict(
    state_dict_type='FULL_STATE_DICT',
    state_dict_config=dict(type='FullStateDictConfig', rank0_only=True, offload_to_cpu=False),
    optim_state_dict_config=dict(type='FullOptimStateDictConfig', rank0_only=True,
                                 offload_to_cpu=False))


def is_transformer_block(module: nn.Module) -> bool:
    """True for a :class:`TransformerBlock` (encoder or decoder block)."""
    return isinstance(module, TransformerBlock)


def wrap_transformer_blocks(module: nn.Module, recurse: bool, nonwrapped_numel: int) -> bool:
    """FSDP ``auto_wrap_policy``: every :class:`TransformerBlock` becomes an
    FSDP unit (its parameters are gathered only while it runs); the rest
    (patch embedding, norms, decoder head, mask token) stays in the root
    unit.

    Args:
        module (nn.Module): The module FSDP asks about.
        recurse (bool): Whether FSDP asks if it should descend into it.
        nonwrapped_numel (int): Parameters not yet wrapped below it.

    Returns:
        bool: Descend (``recurse``) or wrap (otherwise).
    """
    return transformer_auto_wrap_policy(module, recurse, nonwrapped_numel,
                                        transformer_layer_cls={TransformerBlock})


@STRATEGIES.register_module()
class VideoMAEFSDPStrategy(FSDPStrategy):
    """MMEngine's ``FSDPStrategy`` (same arguments) that builds parameter-wise
    optimizer settings from the unsharded parameters and resumes the
    optimizer state with torch >= 2.1's ``optim_state_dict_to_load``.

    Building the optimizer gathers the full parameters once (in their
    training dtype, on their device: 4 GB for ViT-g in fp32) and frees them.
    Needs ``use_orig_params=True`` (MMEngine's default) in ``model_wrapper``.
    """

    def build_optim_wrapper(self, optim_wrapper, model: Optional[nn.Module] = None):
        """See :meth:`FSDPStrategy.build_optim_wrapper`; a config is built
        with the full parameters in view."""
        if not isinstance(optim_wrapper, dict) or model is None:
            return super().build_optim_wrapper(optim_wrapper, model)
        if not getattr(model, '_use_orig_params', True):
            raise ValueError('VideoMAEFSDPStrategy builds the optimizer on the original '
                             'parameters: set model_wrapper.use_orig_params=True')
        with FullyShardedDataParallel.summon_full_params(model, writeback=False):
            return super().build_optim_wrapper(optim_wrapper, model)

    def optim_state_dict(self) -> dict:
        """FSDP's optimizer state dict, plus the optim wrapper's
        ``base_param_settings`` (the scheduled ``base_lr`` of the log), which
        FSDP's conversion drops."""
        state_dict = super().optim_state_dict()
        settings = getattr(self.optim_wrapper, 'base_param_settings', None)
        if settings is not None:
            state_dict['base_param_settings'] = settings
        return state_dict

    def load_optim_state_dict(self, state_dict: dict) -> None:
        """Load an optimizer state saved by :meth:`optim_state_dict`.

        Args:
            state_dict (dict): Full (``state_dict_cfg='full'``) or local
                optimizer state dict.
        """
        settings = state_dict.pop('base_param_settings', None)
        optim_state_dict = FullyShardedDataParallel.optim_state_dict_to_load(
            self.model, self.optim_wrapper.optimizer, state_dict)
        if settings is not None:
            optim_state_dict['base_param_settings'] = settings
        self.optim_wrapper.load_state_dict(optim_state_dict)


def _strategy_type(strategy: dict) -> str:
    type_ = strategy.get('type', 'DDPStrategy')
    return type_.rsplit('.', 1)[-1] if isinstance(type_, str) else type_.__name__


def adapt_strategy_without_gpu(strategy: Optional[dict], launcher: str) -> Optional[dict]:
    """The strategy config with CPU device arguments for its model wrapper.

    Args:
        strategy (dict, optional): ``cfg.strategy`` of a ``FlexibleRunner``
            config; None is MMEngine's default, ``DDPStrategy`` when the
            launcher is not ``'none'``.
        launcher (str): ``cfg.launcher``.

    Returns:
        dict | None: A copy with ``model_wrapper.device_ids=None`` (DDP) or
        ``model_wrapper.device_id='cpu'`` and ``state_dict_cfg='full'`` as
        :data:`FULL_STATE_DICT_ON_CPU` (FSDP); other strategies (e.g.
        ``DeepSpeedStrategy``, which needs a GPU anyway) and ``launcher='none'``
        unchanged.
    """
    if strategy is None:
        if launcher == 'none':
            return None
        strategy = dict(type='DDPStrategy')
    name = _strategy_type(strategy)
    if name not in _DEVICE_ARGUMENT:
        return strategy
    argument, value, default_wrapper = _DEVICE_ARGUMENT[name]
    strategy = copy.deepcopy(dict(strategy))
    wrapper = dict(strategy.get('model_wrapper') or default_wrapper)
    wrapper.setdefault(argument, value)
    strategy['model_wrapper'] = wrapper
    if argument == 'device_id' and strategy.get('state_dict_cfg') == 'full':
        strategy['state_dict_cfg'] = FULL_STATE_DICT_ON_CPU
    return strategy
