"""Layer-wise lr decay with the official rules of VideoMAE (V2) and MAE-ST.

MMAction2's ``LearningRateDecayOptimizerConstructor`` knows the parameter
names ``cls_token``, ``mask_token`` and ``pos_embed`` only: MAE-ST's
separable tables (``pos_embed_spatial`` / ``_temporal`` / ``_class``) then
fall into the head's group (full lr) and, like the cls token, are weight
decayed. The official code (mae_st ``util/lr_decay.py``, VideoMAE V2
``optim_factory.py``) puts every position table and token in layer 0 and
exempts them from weight decay (``no_weight_decay()``). For a VideoMAE V2 ViT
the groups equal MMAction2's.
"""
from typing import Dict, List

import torch.nn as nn
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor

# Parameters without weight decay besides 1-D ones and biases (official
# ``no_weight_decay()`` of both codes).
NO_WEIGHT_DECAY = ('cls_token', 'pos_embed', 'pos_embed_spatial', 'pos_embed_temporal',
                   'pos_embed_class')


def vit_layer_id(name: str, num_layers: int) -> int:
    """Layer of a parameter for lr decay.

    Args:
        name (str): Parameter name in the model (``backbone.blocks.3...``).
        num_layers (int): Blocks of the ViT.

    Returns:
        int: 0 for the tokens, position tables and patch embedding, ``i + 1``
        for block ``i``, ``num_layers + 1`` for everything else (final
        norms, heads).
    """
    if not name.startswith('backbone.'):
        return num_layers + 1
    name = name[len('backbone.'):]
    if name in ('cls_token', 'mask_token') or name.startswith(('pos_embed', 'patch_embed')):
        return 0
    if name.startswith('blocks.'):
        return int(name.split('.')[1]) + 1
    return num_layers + 1


def is_decayed(name: str, ndim: int) -> bool:
    """Whether weight decay applies (not to 1-D tensors, biases, tokens and
    position tables)."""
    return not (ndim == 1 or name.endswith('.bias') or name.split('.')[-1] in NO_WEIGHT_DECAY)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class VideoMAELayerDecayOptimizerConstructor(DefaultOptimWrapperConstructor):
    """Parameter groups ``layer_{id}_{decay|no_decay}`` with lr
    ``base_lr * decay_rate ** (num_layers + 1 - id)`` (see :func:`vit_layer_id`
    and :func:`is_decayed`).

    ``paramwise_cfg``: ``num_layers`` (blocks of the ViT) and ``decay_rate``,
    as MMAction2's constructor (``decay_type='layer_wise'`` only).
    """

    def add_params(self, params: List[dict], module: nn.Module, **kwargs) -> None:
        """Append the groups of ``module``'s trainable parameters to ``params``."""
        cfg = self.paramwise_cfg
        missing = [k for k in ('num_layers', 'decay_rate') if k not in cfg]
        if missing or cfg.get('decay_type', 'layer_wise') != 'layer_wise':
            raise ValueError(f'VideoMAELayerDecayOptimizerConstructor needs paramwise_cfg with '
                             f'num_layers and decay_rate (layer_wise), got {dict(cfg)}')
        num_layers, decay_rate = cfg['num_layers'], cfg['decay_rate']
        groups: Dict[str, dict] = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            layer_id = vit_layer_id(name, num_layers)
            decayed = is_decayed(name, param.ndim)
            key = f'layer_{layer_id}_{"decay" if decayed else "no_decay"}'
            if key not in groups:
                scale = decay_rate**(num_layers + 1 - layer_id)
                groups[key] = dict(params=[], param_names=[], group_name=key, lr_scale=scale,
                                   lr=scale * self.base_lr,
                                   weight_decay=self.base_wd if decayed else 0.)
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        print_log(f'layer-wise lr decay {decay_rate} over {num_layers} blocks: '
                  f'{len(groups)} groups', logger='current')
        params.extend(groups.values())
