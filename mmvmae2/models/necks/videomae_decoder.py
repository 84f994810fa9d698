"""Light transformer decoder of VideoMAE V2 with dual masking (and of MAE-ST)."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from ..utils.pos_embed import separable_position_table, sinusoid_position_table
from ..utils.tokens import init_learned_tokens, mae_st_tokens, prepend_cls_token
from ..utils.transformer import TransformerBlock, linear_drop_path_rates

# The V2 decoder of each encoder size (official ``pretrain_videomae_*`` models
# in ``models/modeling_pretrain.py``). Its MLP has the encoder's ``mlp_ratio``:
# 4, except ViT-g's 48 / 11 (``int(512 * 48 / 11) = 2234``, like its
# encoder's 1408 -> 6144).
DECODER_SETTINGS: Dict[str, Dict] = {
    'small': dict(embed_dims=192, num_heads=3, num_layers=4, feedforward_channels=768),
    'base': dict(embed_dims=384, num_heads=6, num_layers=4, feedforward_channels=1536),
    'large': dict(embed_dims=512, num_heads=8, num_layers=4, feedforward_channels=2048),
    'huge': dict(embed_dims=512, num_heads=8, num_layers=4, feedforward_channels=2048),
    'giant': dict(embed_dims=512, num_heads=8, num_layers=4, feedforward_channels=2234),
}
MODES = ('official', 'efficient', 'mae')


def decoder_query_positions(encoder_mask: torch.Tensor, decoder_mask: torch.Tensor,
                            mode: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """Token indices that get a mask token in the decoder.

    ``'official'``: every position the decoder keeps (``~decoder_mask``),
    including the ~10% the encoder already saw (the official V2 forward).
    ``'efficient'`` and ``'mae'``: only positions hidden from the encoder
    and kept by the decoder, i.e. exactly the loss tokens. Their count may
    differ between samples (e.g. random encoder masks); rows are padded to
    the longest.

    Args:
        encoder_mask (torch.Tensor): ``(B, N)`` bool, True = hidden from the
            encoder.
        decoder_mask (torch.Tensor): ``(B, N)`` bool, True = not
            reconstructed.
        mode (str): ``'official'``, ``'efficient'`` or ``'mae'``.

    Returns:
        tuple: ``index`` ``(B, L)`` long token indices in ascending order and
        ``valid`` ``(B, L)`` bool (False on padding).
    """
    if mode == 'official':
        query = ~decoder_mask
    elif mode in ('efficient', 'mae'):
        query = encoder_mask & ~decoder_mask
    else:
        raise ValueError(f'decoder mode must be one of {MODES}, got {mode!r}')
    index, valid = selected_positions(query)
    if index.shape[1] == 0:
        raise ValueError('the decoder mask keeps no token to reconstruct')
    return index, valid


def selected_positions(selected: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Token indices of the True entries of each row, ascending.

    Args:
        selected (torch.Tensor): ``(B, N)`` bool.

    Returns:
        tuple: ``index`` ``(B, L)`` long, L the largest row count, and
        ``valid`` ``(B, L)`` bool (False on padding).
    """
    counts = selected.sum(dim=1)  # (B,)
    length = int(counts.max())
    # A stable sort puts the selected positions first, in ascending token order.
    order = torch.sort((~selected).to(torch.uint8), dim=1, stable=True).indices  # (B, N)
    valid = torch.arange(length, device=selected.device)[None] < counts[:, None]  # (B, L)
    return order[:, :length], valid


@MODELS.register_module()
class VideoMAEPretrainDecoder(BaseModule):
    """VideoMAE V2 decoder: visible latents plus mask tokens -> pixels.

    The visible encoder tokens are projected to the decoder width
    (``encoder_to_decoder``, no bias) and get the decoder's own sin-cos
    position table; a shared ``mask_token`` plus its position embedding is
    appended for every query position (see :func:`decoder_query_positions`).
    After the blocks and ``norm``, ``head`` predicts the
    ``tubelet * patch * patch * 3`` normalized pixels of the query tokens only.

    MAE-ST's decoder is ``mode='mae', sep_pos_embed=True,
    with_cls_token=True, embed_bias=True, qkv_bias='qkv'`` and
    ``pred_tubelet_size`` set by its ``pred_t_dim``: the sequence is the
    visible latents plus one mask token per hidden token (the official
    decoder, in another order; attention does not depend on it), a cls token
    in front that is dropped after ``norm``, and a prediction for every token,
    visible ones included.

    Args:
        arch (str | dict): Size name of the encoder (``'small'`` ...
            ``'giant'``, see ``DECODER_SETTINGS``) or a dict with
            ``embed_dims``, ``num_heads``, ``num_layers`` and optionally
            ``feedforward_channels`` (4 x ``embed_dims`` when left out).
            ``VideoMAEPretrainer`` passes the backbone's. Defaults to ``'base'``.
        encoder_embed_dims (int): Width of the encoder output. Defaults to 768.
        num_patches (int): Tokens of the native clip (position table size).
            Defaults to 1568.
        patch_size (int): Pixels per token side. Defaults to 16.
        tubelet_size (int): Frames per token. Defaults to 2.
        in_channels (int): Pixel channels. Defaults to 3.
        qkv_bias (bool | str): See :class:`VideoMAEViT`. Defaults to True.
        drop_path_rate (float): Stochastic depth of the last block.
            Defaults to 0.
        init_values (float): Layer scale init (0 = none). Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        mode (str): ``'official'`` (bit-compatible VideoMAE V2),
            ``'efficient'`` (no mask tokens at encoder-visible positions) or
            ``'mae'`` (as ``'efficient'``, and the visible tokens are
            predicted too, as MAE-ST). Defaults to ``'official'``.
        sep_pos_embed (bool): Learned separable position tables (MAE-ST)
            instead of the fixed sin-cos table; needs ``grid_size``.
            Defaults to False.
        with_cls_token (bool): A decoder cls token in front of the sequence,
            dropped before ``head``. Defaults to False.
        embed_bias (bool): Bias of ``encoder_to_decoder`` (MAE-ST's
            ``decoder_embed`` has one). Defaults to False.
        pred_tubelet_size (int, optional): Frames predicted per token; the
            tubelet size when None. MAE-ST predicts ``pred_t_dim`` of the
            ``num_frames`` frames: ``tubelet_size * pred_t_dim //
            num_frames``. Defaults to None.
        grid_size (Sequence[int], optional): Token grid ``(T', H', W')`` of
            the native clip (``VideoMAEPretrainer`` passes the backbone's).
            Defaults to None.
        with_cp (bool): Activation checkpointing. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
    """

    def __init__(self,
                 arch='base',
                 encoder_embed_dims: int = 768,
                 num_patches: int = 1568,
                 patch_size: int = 16,
                 tubelet_size: int = 2,
                 in_channels: int = 3,
                 qkv_bias: Union[bool, str] = True,
                 drop_path_rate: float = 0.,
                 init_values: float = 0.,
                 norm_eps: float = 1e-6,
                 mode: str = 'official',
                 sep_pos_embed: bool = False,
                 with_cls_token: bool = False,
                 embed_bias: bool = False,
                 pred_tubelet_size: Optional[int] = None,
                 grid_size: Optional[Sequence[int]] = None,
                 with_cp: bool = False,
                 init_cfg: Optional[Dict] = (
                     dict(type='Xavier', layer='Linear', distribution='uniform', bias=0.),
                     dict(type='Constant', layer='LayerNorm', val=1., bias=0.))) -> None:
        if isinstance(init_cfg, tuple):
            init_cfg = list(init_cfg)
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in DECODER_SETTINGS:
                raise ValueError(f'unknown decoder arch {arch!r}; expected one of '
                                 f'{sorted(DECODER_SETTINGS)} or a dict')
            arch = DECODER_SETTINGS[arch]
        if mode not in MODES:
            raise ValueError(f'decoder mode must be one of {MODES}, got {mode!r}')
        self.embed_dims = arch['embed_dims']
        self.mode = mode
        self.with_cp = with_cp
        self.num_patches = num_patches
        self.patch_dims = (pred_tubelet_size or tubelet_size) * patch_size**2 * in_channels

        self.encoder_to_decoder = nn.Linear(encoder_embed_dims, self.embed_dims, bias=embed_bias)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))
        self.sep_pos_embed = sep_pos_embed
        if sep_pos_embed and (grid_size is None
                              or grid_size[0] * grid_size[1] * grid_size[2] != num_patches):
            raise ValueError(f'sep_pos_embed needs grid_size (T\', H\', W\') holding the '
                             f'{num_patches} tokens, got {grid_size}')
        for name, param in mae_st_tokens(self.embed_dims, grid_size, sep_pos_embed,
                                         with_cls_token).items():
            setattr(self, name, param)
        if sep_pos_embed:
            self.pos_embed = None
        else:
            self.register_buffer('pos_embed', sinusoid_position_table(num_patches,
                                                                      self.embed_dims),
                                 persistent=False)
        dpr = linear_drop_path_rates(drop_path_rate, arch['num_layers'])
        self.blocks = nn.ModuleList([
            TransformerBlock(self.embed_dims, arch['num_heads'],
                             arch.get('feedforward_channels'), qkv_bias,
                             drop_path_rate=dpr[i], init_values=init_values, norm_eps=norm_eps)
            for i in range(arch['num_layers'])
        ])
        self.norm = nn.LayerNorm(self.embed_dims, eps=norm_eps)
        self.head = nn.Linear(self.embed_dims, self.patch_dims)

    def init_weights(self) -> None:
        """``init_cfg`` (Xavier-uniform Linear layers, unit LayerNorms, as the
        official decoder), then what the official ``PretrainVisionTransformer``
        does with the two parts it owns: ``encoder_to_decoder`` keeps
        PyTorch's default Linear init (its ``_init_weights`` is never applied
        there) and ``mask_token`` is drawn from a normal of std 0.02
        truncated at +-0.02 (its ``trunc_normal_`` passes ``a=-std, b=std``).
        """
        super().init_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            return
        if self.encoder_to_decoder.bias is None:
            self.encoder_to_decoder.reset_parameters()  # MAE-ST's decoder_embed: Xavier
        trunc_normal_(self.mask_token, std=.02, a=-.02, b=.02)
        init_learned_tokens(self)

    def position_table(self) -> torch.Tensor:
        """``(1, N, Cd)`` position table of the tokens."""
        if self.sep_pos_embed:
            return separable_position_table(self.pos_embed_spatial, self.pos_embed_temporal)
        return self.pos_embed

    def forward(self, latent: torch.Tensor, encoder_mask: torch.Tensor,
                decoder_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruct the query tokens.

        Args:
            latent (torch.Tensor): Visible encoder tokens ``(B, N_vis, C_enc)``
                in ascending token order.
            encoder_mask (torch.Tensor): ``(B, N)`` bool, True = hidden from
                the encoder.
            decoder_mask (torch.Tensor): ``(B, N)`` bool, True = not
                reconstructed.

        Returns:
            tuple: ``pred`` ``(B, L, P)`` pixels of the query tokens (in
            ``'mae'`` mode the visible tokens first, then the queries),
            ``index`` ``(B, L)`` their token indices and ``valid`` ``(B, L)``
            (False on padding rows), P = pred_tubelet * patch * patch * 3.
        """
        B, N = encoder_mask.shape
        if N != self.num_patches:
            raise ValueError(f'decoder built for {self.num_patches} tokens got masks over {N}')
        encoder_mask, decoder_mask = encoder_mask.bool(), decoder_mask.bool()
        pos = self.position_table().expand(B, -1, -1).to(latent.dtype)  # (B, N, Cd)
        x_vis = self.encoder_to_decoder(latent)  # (B, N_vis, Cd)
        x_vis = x_vis + pos[~encoder_mask].reshape(B, -1, self.embed_dims)
        index, valid = decoder_query_positions(encoder_mask, decoder_mask, self.mode)
        pos_query = torch.gather(pos, 1, index[..., None].expand(-1, -1, self.embed_dims))
        # (B, N_vis + L, Cd)
        x = torch.cat([x_vis, self.mask_token.to(latent.dtype) + pos_query], dim=1)

        keys = torch.cat([valid.new_ones(B, x_vis.shape[1]), valid], dim=1)  # (B, N_vis+L)
        if self.cls_token is not None:
            x = prepend_cls_token(x, self.cls_token, self.pos_embed_class)  # (B, 1+N_vis+L, Cd)
            keys = torch.cat([keys.new_ones(B, 1), keys], dim=1)
        attn_mask = None
        if not bool(keys.all()):  # padded queries must not be attended to
            attn_mask = keys[:, None, None, :]  # (B, 1, 1, keys)
        for block in self.blocks:
            if self.with_cp and self.training and x.requires_grad:
                x = torch.utils.checkpoint.checkpoint(block, x, attn_mask, use_reentrant=False)
            else:
                x = block(x, attn_mask)
        if self.mode == 'mae':  # every token: visible ones, then the queries
            visible = selected_positions(~encoder_mask)[0]  # (B, N_vis), the latent's order
            index = torch.cat([visible, index], dim=1)
            valid = keys[:, -index.shape[1]:]
        L = index.shape[1]
        pred = self.head(self.norm(x[:, -L:]))  # (B, L, P); the cls token is dropped
        return pred, index, valid
