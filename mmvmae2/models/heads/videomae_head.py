"""Reconstruction target and loss of VideoMAE (V1/V2) and MAE-ST."""
from typing import Dict, Optional, Tuple

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule

NORM_PIX = ('per_channel', 'joint', None)
TARGET_SPACES = ('pixels', 'input')


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


def target_frame_indices(num_frames: int, target_frames: Optional[int]) -> torch.Tensor:
    """Frames MAE-ST's decoder predicts: ``linspace(0, T - 1, n)`` in float32,
    truncated (``[0, 2, 4, 6, 8, 10, 12, 15]`` for 8 of 16); all frames when
    ``target_frames`` is None.

    Returns:
        torch.Tensor: int64 ``(n, )`` frame indices.
    """
    if target_frames is None:
        return torch.arange(num_frames)
    return torch.linspace(0, num_frames - 1, target_frames).long()


def predicted_frames_per_token(target_frames: int, num_frames: int, tubelet_size: int) -> int:
    """MAE-ST's ``t_pred_patch_size = t_patch_size * pred_t_dim // num_frames``
    (1 for 8 of 16 frames with tubelets of 2); the division must be exact."""
    if (tubelet_size * target_frames) % num_frames:
        raise ValueError(f'head.target_frames={target_frames} of {num_frames} frames do not '
                         f'give a whole number of frames per {tubelet_size}-frame token')
    return tubelet_size * target_frames // num_frames


@MODELS.register_module()
class VideoMAEPretrainHead(BaseModule):
    """Builds the normalized-pixel target inside the model and computes MSE.

    The loss is averaged over the predicted tokens that are hidden from the
    encoder (and kept by the decoder): with running-cell masking this skips
    the ~10% of decoder queries the encoder saw; with no decoder masking it
    is exactly VideoMAE V1.

    MAE-ST's target is ``norm_pix='joint', target_space='input'`` and
    ``target_frames=pred_t_dim``: ``target_frames`` frames picked by
    :func:`target_frame_indices` from the normalized model input, each token
    predicting its ``tubelet_size * target_frames // T`` picked frames.

    Args:
        tubelet_size (int): Frames per token. Defaults to 2.
        patch_size (int): Pixels per token side. Defaults to 16.
        norm_pix (str | None): ``'per_channel'`` (VideoMAE), ``'joint'``
            (MAE-ST) or None. Defaults to ``'per_channel'``.
        target_frames (int, optional): Frames of the clip to predict (MAE-ST
            ``pred_t_dim``); all when None. Defaults to None.
        target_space (str): ``'pixels'`` (VideoMAE: pixels in [0, 1]) or
            ``'input'`` (MAE-ST: the normalized model input). The pretrainer
            hands the head the clip in this space. Defaults to ``'pixels'``.
        loss_weight (float): Scale of the loss. Defaults to 1.
    """

    def __init__(self,
                 tubelet_size: int = 2,
                 patch_size: int = 16,
                 norm_pix: Optional[str] = 'per_channel',
                 target_frames: Optional[int] = None,
                 target_space: str = 'pixels',
                 loss_weight: float = 1.,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if norm_pix not in NORM_PIX:
            raise ValueError(f'norm_pix must be one of {NORM_PIX}, got {norm_pix!r}')
        self.tubelet_size = tubelet_size
        self.patch_size = (patch_size, patch_size) if isinstance(patch_size, int) else tuple(
            patch_size)
        if target_space not in TARGET_SPACES:
            raise ValueError(f'target_space must be one of {TARGET_SPACES}, got '
                             f'{target_space!r}')
        self.norm_pix = norm_pix
        self.target_frames = target_frames
        self.target_space = target_space
        self.loss_weight = loss_weight

    def target_patches(self, video: torch.Tensor) -> Tuple[torch.Tensor, int]:
        """The target frames of a clip, cut into tokens.

        Args:
            video (torch.Tensor): ``(B, C, T, H, W)`` in ``target_space``.

        Returns:
            tuple: patches ``(B, N, u*ph*pw, C)`` (see :func:`patchify`) and
            ``u``, the target frames per token.
        """
        frames_per_token = self.tubelet_size if self.target_frames is None else \
            predicted_frames_per_token(self.target_frames, video.shape[2], self.tubelet_size)
        video = self.select_frames(video.float())  # (B, C, T_target, H, W)
        return patchify(video, frames_per_token, self.patch_size), frames_per_token

    def select_frames(self, video: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W) -> (B, C, T_target, H, W)``, the frames the
        decoder predicts (all of them unless ``target_frames`` is set)."""
        if self.target_frames is None:
            return video
        index = target_frame_indices(video.shape[2], self.target_frames).to(video.device)
        return video.index_select(2, index)

    def construct_target(self, video: torch.Tensor) -> torch.Tensor:
        """Normalized target of every token.

        Args:
            video (torch.Tensor): ``(B, C, T, H, W)`` in ``target_space``
                (pixels in [0, 1], or the normalized input).

        Returns:
            torch.Tensor: ``(B, N, u*ph*pw*C)``, channel fastest.
        """
        patches, _ = self.target_patches(video)  # (B, N, P, C)
        return normalize_patches(patches, self.norm_pix)[0]

    def loss(self, pred: torch.Tensor, index: torch.Tensor, valid: torch.Tensor,
             video: torch.Tensor, encoder_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """MSE over the loss tokens.

        Args:
            pred (torch.Tensor): Predictions ``(B, L, P*C)`` of the decoder
                query tokens.
            index (torch.Tensor): Their token indices ``(B, L)``.
            valid (torch.Tensor): ``(B, L)`` bool, False on padding rows.
            video (torch.Tensor): ``(B, C, T, H, W)`` in ``target_space``.
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
            video (torch.Tensor): ``(B, C, T, H, W)`` in ``target_space``.
            grid (tuple): The backbone's token grid ``(T', H', W')`` of
                ``video``.

        Returns:
            torch.Tensor: ``(B, C, T_target, H, W)`` (the frames of
            :meth:`select_frames`) in ``target_space``; pixels are clamped
            to [0, 1].
        """
        patches, frames_per_token = self.target_patches(video)  # (B, N, P, C)
        _, mean, scale = normalize_patches(patches, self.norm_pix)
        B, N, P, C = patches.shape
        pred = pred.float().reshape(B, -1, P, C)  # (B, L, P, C)
        gather = index[..., None, None].expand(-1, -1, P, C)
        mean = mean.expand_as(patches).gather(1, gather) if mean.dim() else mean
        scale = scale.expand_as(patches).gather(1, gather) if scale.dim() else scale
        values = torch.where(valid[..., None, None], pred * scale + mean, patches.gather(1, gather))
        recon = patches.scatter(1, gather, values)  # (B, N, P, C)
        recon = unpatchify(recon, frames_per_token, self.patch_size, grid)
        return recon.clamp(0, 1) if self.target_space == 'pixels' else recon
