"""Position embeddings of the video ViT: the official 1-D sinusoid table of
VideoMAE, MAE-ST's learned separable (spatial + temporal) tables, and their
resizing to other token grids."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F


def sinusoid_position_table(num_positions: int, embed_dims: int) -> torch.Tensor:
    """The fixed transformer sin-cos table used by VideoMAE (V1 and V2).

    Entry ``(pos, j)`` is ``pos / 10000 ** (2 * (j // 2) / embed_dims)``,
    passed through ``sin`` on even channels and ``cos`` on odd ones. It is
    computed in float64, as the official numpy code does, then cast to float32.

    Args:
        num_positions (int): Number of (flattened ``t h w``) token positions.
        embed_dims (int): Channels of the table.

    Returns:
        torch.Tensor: Table of shape ``(1, num_positions, embed_dims)``.
    """
    position = torch.arange(num_positions, dtype=torch.float64)[:, None]  # (N, 1)
    exponent = 2 * (torch.arange(embed_dims) // 2).to(torch.float64) / embed_dims
    angles = position / torch.pow(10000.0, exponent)[None]  # (N, C)
    table = angles.clone()
    table[:, 0::2] = torch.sin(angles[:, 0::2])
    table[:, 1::2] = torch.cos(angles[:, 1::2])
    return table.float().unsqueeze(0)


def resize_pos_embed(pos_embed: torch.Tensor,
                     src_grid: Sequence[int],
                     dst_grid: Sequence[int],
                     mode: str = 'trilinear') -> torch.Tensor:
    """Resize a ``(1, T*H*W, C)`` position embedding to another token grid.

    The table is viewed as a ``(C, T, H, W)`` volume and interpolated in time
    and space at once, so clips with other frame counts or resolutions than
    the pretraining ones get a smooth table. At the native grid the input is
    returned unchanged (bit for bit).

    Args:
        pos_embed (torch.Tensor): Table of shape ``(1, T*H*W, C)``.
        src_grid (Sequence[int]): ``(T, H, W)`` the table was made for.
        dst_grid (Sequence[int]): ``(T', H', W')`` wanted.
        mode (str): ``'trilinear'`` or ``'nearest'``. Defaults to
            ``'trilinear'``.

    Returns:
        torch.Tensor: Table of shape ``(1, T'*H'*W', C)``.
    """
    src_grid, dst_grid = tuple(src_grid), tuple(dst_grid)
    num_src = src_grid[0] * src_grid[1] * src_grid[2]
    if pos_embed.shape[1] != num_src:
        raise ValueError(f'pos_embed has {pos_embed.shape[1]} positions, but the '
                         f'source grid {src_grid} has {num_src}')
    if src_grid == dst_grid:
        return pos_embed
    channels = pos_embed.shape[-1]
    volume = pos_embed.reshape(1, *src_grid, channels).permute(0, 4, 1, 2, 3)  # (1, C, T, H, W)
    kwargs = dict(align_corners=False) if mode == 'trilinear' else {}
    volume = F.interpolate(volume.float(), size=dst_grid, mode=mode, **kwargs)
    resized = volume.permute(0, 2, 3, 4, 1).flatten(1, 3)  # (1, T'*H'*W', C)
    return resized.to(pos_embed.dtype)


def separable_position_table(spatial: torch.Tensor, temporal: torch.Tensor) -> torch.Tensor:
    """MAE-ST's token table from its separable parts.

    Entry ``t * (H*W) + s`` is ``spatial[s] + temporal[t]`` (tokens in
    ``(t h w)`` order), as the official ``pos_embed_spatial.repeat(1, T, 1) +
    pos_embed_temporal.repeat_interleave(H*W, 1)``.

    Args:
        spatial (torch.Tensor): ``(1, H*W, C)``.
        temporal (torch.Tensor): ``(1, T, C)``.

    Returns:
        torch.Tensor: ``(1, T*H*W, C)``.
    """
    table = temporal[:, :, None, :] + spatial[:, None, :, :]  # (1, T, H*W, C)
    return table.flatten(1, 2)  # (1, T*H*W, C)


def resize_separable_tables(spatial: torch.Tensor, temporal: torch.Tensor,
                            src_grid: Sequence[int], dst_grid: Sequence[int],
                            mode: str = 'trilinear') -> Tuple[torch.Tensor, torch.Tensor]:
    """Resize MAE-ST's tables separately: the spatial one over ``(H, W)``
    (bilinear for ``'trilinear'``), the temporal one over ``T`` (linear).

    Args:
        spatial (torch.Tensor): ``(1, H*W, C)``.
        temporal (torch.Tensor): ``(1, T, C)``.
        src_grid (Sequence[int]): ``(T, H, W)`` the tables were made for.
        dst_grid (Sequence[int]): ``(T', H', W')`` wanted.
        mode (str): ``'trilinear'`` or ``'nearest'``. Defaults to
            ``'trilinear'``.

    Returns:
        tuple: ``(1, H'*W', C)`` and ``(1, T', C)``; unchanged (bit for bit)
        along an axis whose size does not change.
    """
    (t, h, w), (t2, h2, w2) = tuple(src_grid), tuple(dst_grid)
    spatial = resize_pos_embed(spatial, (1, h, w), (1, h2, w2), mode)
    temporal = resize_pos_embed(temporal, (t, 1, 1), (t2, 1, 1), mode)
    return spatial, temporal


def token_grid(input_shape: Sequence[int], tubelet_size: int,
               patch_size: Tuple[int, int]) -> Tuple[int, int, int]:
    """Token grid ``(T', H', W')`` of a ``(..., T, H, W)`` clip."""
    t, h, w = input_shape[-3:]
    return t // tubelet_size, h // patch_size[0], w // patch_size[1]


def infer_source_grid(num_positions: int,
                      target_grid: Sequence[int],
                      source_grid: Optional[Sequence[int]] = None) -> Tuple[int, int, int]:
    """Token grid ``(T', H', W')`` of a stored position table.

    Args:
        num_positions (int): Rows of the stored table.
        target_grid (Sequence[int]): The model's grid.
        source_grid (Sequence[int], optional): The grid given in the config;
            checked against ``num_positions``. Defaults to None (guess: the
            model's frame count with a square frame, then the model's frame
            size with another frame count).

    Returns:
        tuple: The source grid.
    """
    if source_grid is not None:
        grid = tuple(int(s) for s in source_grid)
        if len(grid) != 3 or grid[0] * grid[1] * grid[2] != num_positions:
            raise ValueError(f'source_grid={source_grid} does not hold the {num_positions} '
                             f'positions of the stored pos_embed')
        return grid
    t, h, w = target_grid
    side = round((num_positions / t)**.5) if num_positions % t == 0 else 0
    if side and side * side * t == num_positions:
        return t, side, side
    if num_positions % (h * w) == 0:
        return num_positions // (h * w), h, w
    raise ValueError(f'cannot tell the token grid of a stored pos_embed with {num_positions} '
                     f'positions (model grid {tuple(target_grid)}); set source_grid=(T, H, W) '
                     f'of the pretraining tokens in the VideoMAEPretrained init_cfg')
