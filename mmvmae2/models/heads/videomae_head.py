"""Reconstruction target and loss of VideoMAE (V1/V2) and MAE-ST."""
from typing import Dict, Optional, Tuple

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule

NORM_PIX = ('per_channel', 'joint', None)


def patchify(video: torch.Tensor, tubelet_size: int,
             patch_size: Tuple[int, int]) -> torch.Tensor:
    """Cut a clip into token cubes.

    Args:
        video (torch.Tensor): ``(B, C, T, H, W)``.
        tubelet_size (int): Frames per cube.
        patch_size (tuple): ``(ph, pw)`` pixels per cube side.

    Returns:
        torch.Tensor: ``(B, N, tubelet*ph*pw, C)``, tokens in ``(t h w)``
        order, pixels in ``(p0 p1 p2)`` order, channel last.
    """
    B, C, T, H, W = video.shape
    p0, (p1, p2) = tubelet_size, patch_size
    t, h, w = T // p0, H // p1, W // p2
    x = video.reshape(B, C, t, p0, h, p1, w, p2)
    x = x.permute(0, 2, 4, 6, 3, 5, 7, 1)  # (B, t, h, w, p0, p1, p2, C)
    return x.reshape(B, t * h * w, p0 * p1 * p2, C)


def unpatchify(patches: torch.Tensor, tubelet_size: int, patch_size: Tuple[int, int],
               grid: Tuple[int, int, int]) -> torch.Tensor:
    """Inverse of :func:`patchify`.

    Args:
        patches (torch.Tensor): ``(B, N, tubelet*ph*pw, C)``.
        grid (tuple): Token grid ``(t, h, w)`` with ``t*h*w = N``.

    Returns:
        torch.Tensor: ``(B, C, T, H, W)``.
    """
    B, N, _, C = patches.shape
    p0, (p1, p2) = tubelet_size, patch_size
    t, h, w = grid
    x = patches.reshape(B, t, h, w, p0, p1, p2, C)
    x = x.permute(0, 7, 1, 4, 2, 5, 3, 6)  # (B, C, t, p0, h, p1, w, p2)
    return x.reshape(B, C, t * p0, h * p1, w * p2)


def normalize_patches(patches: torch.Tensor, norm_pix: Optional[str],
                      eps: float = 1e-6) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-patch pixel normalization of the target.

    ``'per_channel'`` (VideoMAE): each channel of a cube is normalized over
    its pixels with ``(x - mean) / (sqrt(unbiased var) + eps)``.
    ``'joint'`` (MAE / MAE-ST): the whole flattened cube with
    ``(x - mean) / sqrt(unbiased var + eps)``. ``None``: raw pixels.

    Args:
        patches (torch.Tensor): ``(B, N, P, C)`` from :func:`patchify`.
        norm_pix (str | None): See above.
        eps (float): Epsilon. Defaults to 1e-6.

    Returns:
        tuple: target ``(B, N, P*C)`` (channel fastest), and the ``mean`` and
        ``scale`` used (broadcastable to ``(B, N, P, C)``) so that
        ``target * scale + mean`` gives the pixels back.
    """
    B, N, P, C = patches.shape
    if norm_pix == 'per_channel':
        mean = patches.mean(dim=2, keepdim=True)  # (B, N, 1, C)
        scale = patches.var(dim=2, unbiased=True, keepdim=True).sqrt() + eps
    elif norm_pix == 'joint':
        mean = patches.mean(dim=(2, 3), keepdim=True)  # (B, N, 1, 1)
        scale = (patches.flatten(2).var(dim=-1, unbiased=True) + eps).sqrt()[..., None, None]
    elif norm_pix is None:
        mean, scale = patches.new_zeros(()), patches.new_ones(())
    else:
        raise ValueError(f'norm_pix must be one of {NORM_PIX}, got {norm_pix!r}')
    target = ((patches - mean) / scale).reshape(B, N, P * C)  # (B, N, P*C)
    return target, mean, scale


@MODELS.register_module()
class VideoMAEPretrainHead(BaseModule):
    """Builds the normalized-pixel target inside the model and computes MSE.

    The loss is averaged over the predicted tokens that are hidden from the
    encoder (and kept by the decoder): with running-cell masking this skips
    the ~10% of decoder queries the encoder saw; with no decoder masking it
    is exactly VideoMAE V1.

    Args:
        tubelet_size (int): Frames per token. Defaults to 2.
        patch_size (int): Pixels per token side. Defaults to 16.
        norm_pix (str | None): ``'per_channel'`` (VideoMAE), ``'joint'``
            (MAE-ST) or None. Defaults to ``'per_channel'``.
        loss_weight (float): Scale of the loss. Defaults to 1.
    """

    def __init__(self,
                 tubelet_size: int = 2,
                 patch_size: int = 16,
                 norm_pix: Optional[str] = 'per_channel',
                 loss_weight: float = 1.,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if norm_pix not in NORM_PIX:
            raise ValueError(f'norm_pix must be one of {NORM_PIX}, got {norm_pix!r}')
        self.tubelet_size = tubelet_size
        self.patch_size = (patch_size, patch_size) if isinstance(patch_size, int) else tuple(
            patch_size)
        self.norm_pix = norm_pix
        self.loss_weight = loss_weight

    def construct_target(self, video: torch.Tensor) -> torch.Tensor:
        """Normalized-pixel target of every token.

        Args:
            video (torch.Tensor): Pixels in [0, 1], ``(B, C, T, H, W)``.

        Returns:
            torch.Tensor: ``(B, N, tubelet*ph*pw*C)``.
        """
        patches = patchify(video.float(), self.tubelet_size, self.patch_size)  # (B, N, P, C)
        return normalize_patches(patches, self.norm_pix)[0]

    def loss(self, pred: torch.Tensor, index: torch.Tensor, valid: torch.Tensor,
             video: torch.Tensor, encoder_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """MSE over the loss tokens.

        Args:
            pred (torch.Tensor): Predictions ``(B, L, P*C)`` of the decoder
                query tokens.
            index (torch.Tensor): Their token indices ``(B, L)``.
            valid (torch.Tensor): ``(B, L)`` bool, False on padding rows.
            video (torch.Tensor): Pixels in [0, 1], ``(B, C, T, H, W)``.
            encoder_mask (torch.Tensor): ``(B, N)`` bool, True = hidden from
                the encoder.

        Returns:
            dict: ``loss``.
        """
        # Target and loss in fp32 whatever the autocast dtype of the training.
        with torch.autocast(device_type=pred.device.type, enabled=False):
            target = self.construct_target(video)  # (B, N, P*C) float32
            if target.shape[-1] != pred.shape[-1]:
                raise ValueError(f'decoder predicts {pred.shape[-1]} values per token, the '
                                 f'target has {target.shape[-1]}: check patch_size / '
                                 'tubelet_size')
            target = torch.gather(target, 1, index[..., None].expand(-1, -1, target.shape[-1]))
            weight = (torch.gather(encoder_mask.bool(), 1, index) & valid).float()  # (B, L)
            per_token = ((pred.float() - target)**2).mean(dim=-1)  # (B, L)
            loss = (per_token * weight).sum() / weight.sum().clamp(min=1.)
            return dict(loss=loss * self.loss_weight)

    @torch.no_grad()
    def reconstruct(self, pred: torch.Tensor, index: torch.Tensor, valid: torch.Tensor,
                    video: torch.Tensor, grid: Tuple[int, int, int]) -> torch.Tensor:
        """The clips with the query tokens replaced by the prediction, taken
        back from the normalized target space to pixels with each token's own
        mean and scale (see :func:`normalize_patches`).

        Args:
            pred (torch.Tensor): Predictions ``(B, L, P*C)`` of the decoder
                query tokens.
            index (torch.Tensor): Their token indices ``(B, L)``.
            valid (torch.Tensor): ``(B, L)`` bool, False on padding rows
                (those tokens keep their own pixels).
            video (torch.Tensor): Pixels in [0, 1], ``(B, C, T, H, W)``.
            grid (tuple): The backbone's token grid ``(T', H', W')`` of
                ``video``.

        Returns:
            torch.Tensor: ``(B, C, T, H, W)`` pixels clamped to [0, 1].
        """
        patches = patchify(video.float(), self.tubelet_size, self.patch_size)  # (B, N, P, C)
        _, mean, scale = normalize_patches(patches, self.norm_pix)
        B, N, P, C = patches.shape
        pred = pred.float().reshape(B, -1, P, C)  # (B, L, P, C)
        gather = index[..., None, None].expand(-1, -1, P, C)
        mean = mean.expand_as(patches).gather(1, gather) if mean.dim() else mean
        scale = scale.expand_as(patches).gather(1, gather) if scale.dim() else scale
        values = torch.where(valid[..., None, None], pred * scale + mean, patches.gather(1, gather))
        recon = patches.scatter(1, gather, values)  # (B, N, P, C)
        return unpatchify(recon, self.tubelet_size, self.patch_size, grid).clamp(0, 1)
