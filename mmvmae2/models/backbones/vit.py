"""The one video ViT of mmvmae2: pretraining encoder, recognition backbone,
detection feature map and clip-feature extractor."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ..utils.pos_embed import (infer_source_grid, resize_pos_embed, resize_separable_tables,
                               separable_position_table, sinusoid_position_table)
from ..utils.tokens import init_learned_tokens, mae_st_tokens, prepend_cls_token
from ..utils.transformer import PatchEmbed3D, TransformerBlock, linear_drop_path_rates

# Official VideoMAE V2 sizes (see docs in README); giant uses 14x14 patches.
ARCH_SETTINGS: Dict[str, Dict] = {
    'small': dict(embed_dims=384, num_layers=12, num_heads=6, feedforward_channels=1536),
    'base': dict(embed_dims=768, num_layers=12, num_heads=12, feedforward_channels=3072),
    'large': dict(embed_dims=1024, num_layers=24, num_heads=16, feedforward_channels=4096),
    'huge': dict(embed_dims=1280, num_layers=32, num_heads=16, feedforward_channels=5120),
    'giant': dict(embed_dims=1408, num_layers=40, num_heads=16, feedforward_channels=6144,
                  patch_size=14),
}
ARCH_ALIASES = {'s': 'small', 'b': 'base', 'l': 'large', 'h': 'huge', 'g': 'giant'}
OUT_TYPES = ('avg', 'raw', 'featmap')


def arch_name(arch: str) -> str:
    """Canonical size name of ``arch`` (``'b'`` -> ``'base'``)."""
    name = ARCH_ALIASES.get(arch.lower(), arch.lower())
    if name not in ARCH_SETTINGS:
        raise ValueError(f'unknown arch {arch!r}; expected one of {sorted(ARCH_SETTINGS)} '
                         f'or a dict with embed_dims, num_layers, num_heads, '
                         f'feedforward_channels')
    return name


def _resolve_arch(arch: Union[str, Dict]) -> Dict:
    """Size table entry for ``arch`` (a name, an alias or a full dict)."""
    if isinstance(arch, str):
        return dict(ARCH_SETTINGS[arch_name(arch)])
    required = {'embed_dims', 'num_layers', 'num_heads', 'feedforward_channels'}
    missing = required - set(arch)
    if missing:
        raise ValueError(f'custom arch dict lacks keys {sorted(missing)} '
                         f'(needs {sorted(required)})')
    return dict(arch)


@MODELS.register_module(name='VideoMAEViT')
class VideoMAEVisionTransformer(BaseModule):
    """Video Vision Transformer of VideoMAE / VideoMAE V2 and MAE-ST.

    Cube embedding (``tubelet_size x patch x patch`` Conv3d), fixed 1-D
    sin-cos position table identical to the official one (optionally
    learnable), pre-norm blocks with ``q_bias``/``v_bias`` attention through
    ``scaled_dot_product_attention``, optional layer scale, linearly
    increasing drop path and activation checkpointing.

    The same class is MAE-ST's ViT with ``sep_pos_embed=True,
    with_cls_token=True, qkv_bias='qkv'`` (its fine-tuning model also with
    ``final_norm=False, with_fc_norm=True``): learned separable spatial +
    temporal (+ class) position tables, a cls token that is dropped from every
    output, and full q/k/v biases.

    Outputs (``out_type``):

    - ``'avg'``: mean over tokens, then ``fc_norm`` -> ``(B, C)``
      (recognition, clip features; the official fine-tuned model).
    - ``'raw'``: tokens ``(B, N, C)``.
    - ``'featmap'``: ``(B, C, T', H', W')`` (spatio-temporal detection).

    Given a boolean ``mask`` (True = hidden), only the visible tokens are
    encoded and ``(B, N_vis, C)`` is returned (pretraining encoder).

    Registered as ``VideoMAEViT``. The class name contains
    ``VisionTransformer`` because MMAction2's
    ``LearningRateDecayOptimizerConstructor`` picks its ViT layer-id rule by
    that substring; parameters are named ``patch_embed``, ``pos_embed`` and
    ``blocks.N`` for the same reason.

    Args:
        arch (str | dict): ``'small'``, ``'base'``, ``'large'``, ``'huge'``,
            ``'giant'`` (or ``s/b/l/h/g``), or a dict with ``embed_dims``,
            ``num_layers``, ``num_heads``, ``feedforward_channels`` and
            optionally ``patch_size``. Defaults to ``'base'``.
        img_size (int | tuple): Native input resolution. Defaults to 224.
        num_frames (int): Native input frames. Defaults to 16.
        tubelet_size (int): Frames per token. Defaults to 2.
        patch_size (int, optional): Pixels per token side; the arch's value
            (16, giant 14) when None. Defaults to None.
        in_channels (int): Input channels. Defaults to 3.
        qkv_bias (bool | str): ``True``: learn ``q_bias``/``v_bias``
            (VideoMAE); ``'qkv'``: a full q/k/v bias (MAE-ST); ``False``: no
            bias. Defaults to True.
        drop_rate (float): Dropout after projections. Defaults to 0.
        attn_drop_rate (float): Attention dropout. Defaults to 0.
        drop_path_rate (float): Stochastic depth of the last block, linearly
            increasing from 0. Defaults to 0.
        init_values (float): Layer-scale init (0 = no layer scale).
            Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        use_learnable_pos_emb (bool): Learn the position embedding instead
            of the fixed sin-cos table. Defaults to False.
        sep_pos_embed (bool): MAE-ST's learned separable tables
            ``pos_embed_spatial`` ``(1, H'*W', C)`` and ``pos_embed_temporal``
            ``(1, T', C)`` (plus ``pos_embed_class`` ``(1, 1, C)`` with a cls
            token) instead of ``pos_embed``; each is resized on its own axes
            for other grids. Defaults to False.
        with_cls_token (bool): Prepend a learned ``cls_token`` (position
            ``pos_embed_class`` with ``sep_pos_embed``, none otherwise) to the
            patch tokens. As MAE-ST, it is dropped after the blocks: every
            output holds patch tokens only and ``'avg'`` pools them.
            Defaults to False.
        pos_embed_interp (str): How the table is resized for other token
            grids: ``'trilinear'`` or ``'nearest'``. Defaults to
            ``'trilinear'``.
        final_norm (bool): LayerNorm ``norm`` over the tokens after the last
            block (pretraining encoder). Defaults to True.
        with_fc_norm (bool): LayerNorm ``fc_norm`` after mean pooling
            (official fine-tuning). Defaults to False.
        out_type (str): ``'avg'``, ``'raw'`` or ``'featmap'``. Defaults to
            ``'avg'``.
        with_cp (bool): Activation checkpointing of every block during
            training. Defaults to False.
        use_sdpa (bool): ``scaled_dot_product_attention`` (True) or the
            explicit attention (False). Defaults to True.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to truncated normal (std 0.02) Linear layers and unit
            LayerNorms, as the official fine-tuning ViT
            (``modeling_finetune.py``); the pretraining configs use
            Xavier-uniform Linear layers, as the official pretraining encoder.
    """

    def __init__(self,
                 arch: Union[str, Dict] = 'base',
                 img_size: Union[int, Tuple[int, int]] = 224,
                 num_frames: int = 16,
                 tubelet_size: int = 2,
                 patch_size: Optional[int] = None,
                 in_channels: int = 3,
                 qkv_bias: Union[bool, str] = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 init_values: float = 0.,
                 norm_eps: float = 1e-6,
                 use_learnable_pos_emb: bool = False,
                 sep_pos_embed: bool = False,
                 with_cls_token: bool = False,
                 pos_embed_interp: str = 'trilinear',
                 final_norm: bool = True,
                 with_fc_norm: bool = False,
                 out_type: str = 'avg',
                 with_cp: bool = False,
                 use_sdpa: bool = True,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = (
                     dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
                     dict(type='Constant', layer='LayerNorm', val=1., bias=0.)),
                 ) -> None:
        if isinstance(init_cfg, tuple):
            init_cfg = list(init_cfg)
        super().__init__(init_cfg=init_cfg)
        settings = _resolve_arch(arch)
        # The size name (None for a custom dict): pretraining picks its decoder by it.
        self.arch = arch_name(arch) if isinstance(arch, str) else None
        if out_type not in OUT_TYPES:
            raise ValueError(f'out_type must be one of {OUT_TYPES}, got {out_type!r}')
        self.embed_dims = settings['embed_dims']
        self.num_layers = settings['num_layers']
        self.num_heads = settings['num_heads']
        patch_size = patch_size or settings.get('patch_size', 16)
        self.patch_size = (patch_size, patch_size) if isinstance(patch_size, int) else tuple(
            patch_size)
        self.img_size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        self.num_frames = num_frames
        self.tubelet_size = tubelet_size
        self.in_channels = in_channels
        self.out_type = out_type
        self.with_cp = with_cp
        self.pos_embed_interp = pos_embed_interp
        self.grid_size = self.token_grid((num_frames, *self.img_size))
        self.num_patches = self.grid_size[0] * self.grid_size[1] * self.grid_size[2]

        self.patch_embed = PatchEmbed3D(in_channels, self.embed_dims, tubelet_size,
                                        self.patch_size)
        if use_learnable_pos_emb and sep_pos_embed:
            raise ValueError('use_learnable_pos_emb (one learned table) and sep_pos_embed '
                             '(separable learned tables) exclude each other')
        self.sep_pos_embed = sep_pos_embed
        self.with_cls_token = with_cls_token
        for name, param in mae_st_tokens(self.embed_dims, self.grid_size, sep_pos_embed,
                                         with_cls_token).items():
            setattr(self, name, param)
        if sep_pos_embed:
            self.pos_embed = None
        elif use_learnable_pos_emb:
            self.pos_embed = nn.Parameter(torch.zeros(1, self.num_patches, self.embed_dims))
        else:
            # Not saved: official checkpoints do not hold it, it is regenerated.
            self.register_buffer(
                'pos_embed', sinusoid_position_table(self.num_patches, self.embed_dims),
                persistent=False)
        self.pos_drop = nn.Dropout(drop_rate)

        dpr = linear_drop_path_rates(drop_path_rate, self.num_layers)
        self.blocks = nn.ModuleList([
            TransformerBlock(
                self.embed_dims,
                self.num_heads,
                feedforward_channels=settings['feedforward_channels'],
                qkv_bias=qkv_bias,
                drop_rate=drop_rate,
                attn_drop_rate=attn_drop_rate,
                drop_path_rate=dpr[i],
                init_values=init_values,
                norm_eps=norm_eps,
                use_sdpa=use_sdpa) for i in range(self.num_layers)
        ])
        self.norm = nn.LayerNorm(self.embed_dims, eps=norm_eps) if final_norm else nn.Identity()
        self.fc_norm = nn.LayerNorm(self.embed_dims, eps=norm_eps) if with_fc_norm else None
        # Resize a learnable table saved for another grid when loading.
        self._register_load_state_dict_pre_hook(self._resize_pos_embed_hook)

    def token_grid(self, clip_size: Sequence[int]) -> Tuple[int, int, int]:
        """Token grid ``(T', H', W')`` the cube embedding cuts a clip into.

        Args:
            clip_size (Sequence[int]): ``(T, H, W)`` frames, height, width.

        Returns:
            tuple: ``(T // tubelet, H // patch_h, W // patch_w)``.
        """
        T, H, W = (int(s) for s in clip_size)
        (ph, pw), tub = self.patch_size, self.tubelet_size
        if T % tub or H % ph or W % pw:
            raise ValueError(f'clip of {T}x{H}x{W} (frames x height x width) does not divide '
                             f'into tubelet {tub} x patch {self.patch_size}')
        return T // tub, H // ph, W // pw

    def init_weights(self) -> None:
        """Init from ``init_cfg``; learned position tables and the cls token
        get trunc-normal(.02) (as VideoMAE and MAE-ST) unless a checkpoint
        initializes them."""
        super().init_weights()
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg]
        loaders = ('Pretrained', 'VideoMAEPretrained')
        if not any(isinstance(c, dict) and c.get('type') in loaders for c in cfgs):
            init_learned_tokens(self)

    def _resize_pos_embed_hook(self, state_dict, prefix, *args, **kwargs) -> None:
        if self.sep_pos_embed:
            self._resize_separable_hook(state_dict, prefix)
            return
        key = prefix + 'pos_embed'
        if key not in state_dict:
            return
        if not isinstance(self.pos_embed, nn.Parameter):
            # A fixed table is regenerated; drop a stored copy (MMAction2 keeps one).
            state_dict.pop(key)
            return
        src = state_dict[key]
        if src.shape[1] != self.num_patches:
            src_grid = infer_source_grid(src.shape[1], self.grid_size)
            state_dict[key] = resize_pos_embed(src, src_grid, self.grid_size)

    def _resize_separable_hook(self, state_dict, prefix) -> None:
        """Fit stored separable tables of another grid to the model's."""
        spatial_key, temporal_key = prefix + 'pos_embed_spatial', prefix + 'pos_embed_temporal'
        if spatial_key not in state_dict or temporal_key not in state_dict:
            return  # reported as missing keys by load_state_dict
        spatial, temporal = state_dict[spatial_key], state_dict[temporal_key]
        src_grid = (temporal.shape[1], *square_grid(spatial.shape[1], spatial_key))
        state_dict[spatial_key], state_dict[temporal_key] = resize_separable_tables(
            spatial, temporal, src_grid, self.grid_size, self.pos_embed_interp)

    def position_embedding(self, grid: Sequence[int]) -> torch.Tensor:
        """Position table ``(1, T'*H'*W', C)`` for a token grid; the stored
        table(s) unchanged at the native grid, interpolated elsewhere."""
        if self.sep_pos_embed:
            spatial, temporal = resize_separable_tables(
                self.pos_embed_spatial, self.pos_embed_temporal, self.grid_size, grid,
                self.pos_embed_interp)
            return separable_position_table(spatial, temporal)
        return resize_pos_embed(self.pos_embed, self.grid_size, grid, self.pos_embed_interp)

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Encode a clip.

        Args:
            x (torch.Tensor): Clip ``(B, C, T, H, W)``.
            mask (torch.Tensor, optional): Boolean ``(B, N)``, True where a
                token is hidden; every sample must hide the same number.

        Returns:
            torch.Tensor: With a mask, visible tokens ``(B, N_vis, C)`` in
            ascending token order. Otherwise, by ``out_type``: ``(B, C)``,
            ``(B, N, C)`` or ``(B, C, T', H', W')``. A cls token is never
            part of the output.
        """
        grid = self.token_grid(x.shape[-3:])
        x = self.patch_embed(x)  # (B, N, C)
        x = x + self.position_embedding(grid).to(x.dtype)
        B, N, C = x.shape
        if mask is not None:
            x = x[~gather_check_mask(mask, B, N)].reshape(B, -1, C)  # (B, N_vis, C)
        if self.cls_token is not None:
            x = prepend_cls_token(x, self.cls_token, self.pos_embed_class)  # (B, 1 + N_vis, C)
        x = self.pos_drop(x)
        for block in self.blocks:
            if self.with_cp and self.training and x.requires_grad:
                x = cp.checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        x = self.norm(x)
        if self.cls_token is not None:
            x = x[:, 1:]  # patch tokens only, as MAE-ST
        if mask is not None or self.out_type == 'raw':
            return x
        if self.out_type == 'featmap':
            return x.transpose(1, 2).reshape(B, C, *grid)  # (B, C, T', H', W')
        x = x.mean(dim=1)  # (B, C)
        return self.fc_norm(x) if self.fc_norm is not None else x


def square_grid(num_positions: int, name: str) -> Tuple[int, int]:
    """``(H, W)`` of a stored square spatial table of ``num_positions`` rows."""
    side = round(num_positions**.5)
    if side * side != num_positions:
        raise ValueError(f'{name} holds {num_positions} positions, not a square grid; '
                         f'cannot resize it to the model\'s')
    return side, side


def gather_check_mask(mask: torch.Tensor, batch: int, num_tokens: int) -> torch.Tensor:
    """Validate a ``(B, N)`` hidden-token mask and return it as bool.

    ``x[~mask].reshape(B, -1, C)`` silently needs the same number of visible
    tokens in every sample; this makes that an explicit error.
    """
    if mask.shape != (batch, num_tokens):
        raise ValueError(f'mask of shape {tuple(mask.shape)} does not match the '
                         f'{batch} x {num_tokens} tokens of the clip')
    mask = mask.bool()
    visible = (~mask).sum(dim=1)
    if (visible != visible[0]).any():
        raise ValueError(f'every sample must keep the same number of visible tokens, got '
                         f'{visible.tolist()}')
    return mask


VideoMAEViT = VideoMAEVisionTransformer
