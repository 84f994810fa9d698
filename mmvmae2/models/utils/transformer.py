"""Transformer pieces shared by the video ViT encoder and the MAE decoder.

Parameter names follow the official VideoMAE / VideoMAE V2 code
(``attn.qkv``, ``attn.q_bias``, ``attn.v_bias``, ``mlp.fc1``, ``gamma_1``),
so official checkpoints convert by renaming prefixes only.
"""
from typing import List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule


def linear_drop_path_rates(max_rate: float, depth: int) -> List[float]:
    """Stochastic depth rising linearly from 0 at the first block to
    ``max_rate`` at the last (as ``torch.linspace``, in plain Python so that
    models can be built on the meta device)."""
    return [max_rate * i / (depth - 1) if depth > 1 else 0. for i in range(depth)]


class Attention(nn.Module):
    """Multi-head self-attention with a fused ``qkv`` projection.

    As in BEiT / VideoMAE, ``qkv`` is a Linear without bias; with
    ``qkv_bias=True`` the bias ``(q_bias, 0, v_bias)`` is added (the key bias
    is fixed at zero). MAE-ST's separate ``q``, ``k``, ``v`` Linear layers,
    each with a bias, are ``qkv_bias='qkv'``: the fused ``qkv`` Linear gets a
    full bias (``attn.qkv.bias``); the official weights convert exactly by
    concatenating q, k and v.

    Args:
        embed_dims (int): Token channels.
        num_heads (int): Attention heads.
        qkv_bias (bool | str): ``True``: learn ``q_bias`` and ``v_bias``;
            ``'qkv'``: a full bias on ``qkv``; ``False``: no bias.
            Defaults to True.
        attn_drop (float): Dropout on attention weights. Defaults to 0.
        proj_drop (float): Dropout after the output projection. Defaults to 0.
        head_dims (int, optional): Channels per head; ``embed_dims //
            num_heads`` when None. Defaults to None.
        use_sdpa (bool): Use ``F.scaled_dot_product_attention``; False runs
            the explicit ``softmax(q k^T * scale) v``. Defaults to True.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 qkv_bias: Union[bool, str] = True,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 head_dims: Optional[int] = None,
                 use_sdpa: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dims = head_dims or embed_dims // num_heads
        inner_dims = self.head_dims * num_heads
        self.scale = self.head_dims**-0.5
        self.use_sdpa = use_sdpa
        if not (isinstance(qkv_bias, bool) or qkv_bias == 'qkv'):
            raise ValueError(f'qkv_bias must be True, False or "qkv", got {qkv_bias!r}')
        self.qkv = nn.Linear(embed_dims, inner_dims * 3, bias=qkv_bias == 'qkv')
        if qkv_bias is True:
            self.q_bias = nn.Parameter(torch.zeros(inner_dims))
            self.v_bias = nn.Parameter(torch.zeros(inner_dims))
        else:
            self.q_bias = self.v_bias = None
        self.attn_drop = attn_drop
        self.proj = nn.Linear(inner_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args:
            x (torch.Tensor): Tokens ``(B, N, C)``.
            attn_mask (torch.Tensor, optional): Boolean ``(B, 1, 1, N)`` or
                ``(B, 1, N, N)``, True where a key may be attended to.

        Returns:
            torch.Tensor: ``(B, N, C)``.
        """
        B, N, _ = x.shape
        bias = self.qkv.bias
        if self.q_bias is not None:
            bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias)  # (B, N, 3*h*d)
        qkv = qkv.reshape(B, N, 3, self.num_heads, self.head_dims).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each (B, h, N, d)
        drop = self.attn_drop if self.training else 0.
        if self.use_sdpa:
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, dropout_p=drop, scale=self.scale)
        else:
            attn = (q * self.scale) @ k.transpose(-2, -1)  # (B, h, N, N)
            if attn_mask is not None:
                attn = attn.masked_fill(~attn_mask, float('-inf'))
            attn = F.dropout(attn.softmax(dim=-1), drop)
            out = attn @ v  # (B, h, N, d)
        out = out.transpose(1, 2).reshape(B, N, -1)  # (B, N, h*d)
        return self.proj_drop(self.proj(out))


class Mlp(nn.Module):
    """Two-layer MLP ``fc1 -> GELU -> fc2 -> dropout``.

    As the official VideoMAE (V2) block: dropout only after ``fc2``, none
    between the GELU and ``fc2``.
    """

    def __init__(self, embed_dims: int, hidden_dims: int, drop: float = 0.) -> None:
        super().__init__()
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dims, embed_dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, C) -> (B, N, C)``."""
        return self.drop(self.fc2(self.act(self.fc1(x))))


class TransformerBlock(nn.Module):
    """Pre-norm transformer block with optional layer scale and drop path.

    Args:
        embed_dims (int): Token channels.
        num_heads (int): Attention heads.
        feedforward_channels (int, optional): Hidden width of the MLP;
            ``4 * embed_dims`` when None. Defaults to None.
        qkv_bias (bool | str): See :class:`Attention`. Defaults to True.
        drop_rate (float): Dropout after projections. Defaults to 0.
        attn_drop_rate (float): Attention dropout. Defaults to 0.
        drop_path_rate (float): Stochastic depth of this block. Defaults to 0.
        init_values (float): Layer-scale init; ``gamma_1``/``gamma_2`` exist
            only when > 0 (official recipes use 0). Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        use_sdpa (bool): See :class:`Attention`. Defaults to True.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 feedforward_channels: Optional[int] = None,
                 qkv_bias: Union[bool, str] = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 init_values: float = 0.,
                 norm_eps: float = 1e-6,
                 use_sdpa: bool = True) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.attn = Attention(embed_dims, num_heads, qkv_bias, attn_drop_rate, drop_rate,
                              use_sdpa=use_sdpa)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.mlp = Mlp(embed_dims, feedforward_channels or 4 * embed_dims, drop_rate)
        if init_values > 0:
            self.gamma_1 = nn.Parameter(init_values * torch.ones(embed_dims))
            self.gamma_2 = nn.Parameter(init_values * torch.ones(embed_dims))
        else:
            self.gamma_1 = self.gamma_2 = None

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(B, N, C) -> (B, N, C)``; ``attn_mask`` as in :class:`Attention`."""
        y = self.attn(self.norm1(x), attn_mask)
        x = x + self.drop_path(y if self.gamma_1 is None else self.gamma_1 * y)
        y = self.mlp(self.norm2(x))
        return x + self.drop_path(y if self.gamma_2 is None else self.gamma_2 * y)


class PatchEmbed3D(BaseModule):
    """Cube embedding: a Conv3d with kernel = stride = (tubelet, patch, patch).

    Args:
        in_channels (int): Input channels. Defaults to 3.
        embed_dims (int): Output channels. Defaults to 768.
        tubelet_size (int): Frames per token. Defaults to 2.
        patch_size (int | tuple): Pixels per token side. Defaults to 16.
    """

    def __init__(self,
                 in_channels: int = 3,
                 embed_dims: int = 768,
                 tubelet_size: int = 2,
                 patch_size: Union[int, Tuple[int, int]] = 16,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(patch_size, int):
            patch_size = (patch_size, patch_size)
        self.tubelet_size = tubelet_size
        self.patch_size = tuple(patch_size)
        self.proj = nn.Conv3d(in_channels, embed_dims, kernel_size=(tubelet_size, *patch_size),
                              stride=(tubelet_size, *patch_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args:
            x (torch.Tensor): Clip ``(B, C, T, H, W)``; T, H, W multiples of
                the tubelet and patch sizes (checked by the ViT's
                ``token_grid``).

        Returns:
            torch.Tensor: tokens ``(B, T'*H'*W', C)`` in ``(t h w)`` order.
        """
        x = self.proj(x)  # (B, C, T', H', W')
        return x.flatten(2).transpose(1, 2)  # (B, N, C)
