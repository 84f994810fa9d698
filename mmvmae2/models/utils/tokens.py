"""MAE-ST's learned tokens, shared by the encoder and the decoder: a cls token
and separable (spatial + temporal + class) position tables, their init and
the cls token in front of a sequence."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_

# Names of the learned tokens and position tables a ViT part may hold (a
# fixed sin-cos ``pos_embed`` is a buffer, not one of them).
LEARNED_TOKENS = ('pos_embed', 'pos_embed_spatial', 'pos_embed_temporal', 'pos_embed_class',
                  'cls_token')


def mae_st_tokens(embed_dims: int, grid: Optional[Sequence[int]], separable: bool,
                  with_cls_token: bool) -> Dict[str, Optional[nn.Parameter]]:
    """Zero-initialized parameters (None where absent), by attribute name.

    Args:
        embed_dims (int): Channels.
        grid (Sequence[int], optional): Token grid ``(T', H', W')``; needed
            when ``separable``.
        separable (bool): ``pos_embed_spatial`` ``(1, H'*W', C)`` and
            ``pos_embed_temporal`` ``(1, T', C)``, plus ``pos_embed_class``
            ``(1, 1, C)`` with a cls token.
        with_cls_token (bool): ``cls_token`` ``(1, 1, C)``.

    Returns:
        dict: ``cls_token``, ``pos_embed_spatial``, ``pos_embed_temporal``,
        ``pos_embed_class``.
    """
    def zeros(*shape):
        return nn.Parameter(torch.zeros(1, *shape, embed_dims))

    t, h, w = grid if separable else (0, 0, 0)
    return dict(
        cls_token=zeros(1) if with_cls_token else None,
        pos_embed_spatial=zeros(h * w) if separable else None,
        pos_embed_temporal=zeros(t) if separable else None,
        pos_embed_class=zeros(1) if separable and with_cls_token else None)


def init_learned_tokens(module: nn.Module) -> None:
    """Trunc-normal(.02) every learned token / position table of ``module``
    (VideoMAE's learnable table, MAE-ST's ``initialize_weights``)."""
    for name in LEARNED_TOKENS:
        param = getattr(module, name, None)
        if isinstance(param, nn.Parameter):
            trunc_normal_(param, std=.02)


def prepend_cls_token(x: torch.Tensor, cls_token: torch.Tensor,
                      pos_embed_class: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``(B, N, C) -> (B, 1 + N, C)``: ``cls_token`` (plus its position
    ``pos_embed_class`` when given) first."""
    cls = cls_token if pos_embed_class is None else cls_token + pos_embed_class
    return torch.cat([cls.to(x.dtype).expand(x.shape[0], -1, -1), x], dim=1)
