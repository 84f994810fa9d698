"""VideoMAE (V1 / V2 dual masking / MAE-ST) self-supervised pretraining."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModel

from ..heads.videomae_head import predicted_frames_per_token

SampleList = List


def _with_geometry(cfg: Dict, geometry: Dict, name: str) -> Dict:
    """Fill the token geometry of the backbone into a neck/head config; a
    value given explicitly must agree with it (checked before training)."""
    cfg = dict(cfg)
    for key, value in geometry.items():
        given = cfg.setdefault(key, value)
        if given != value:
            raise ValueError(f'{name}.{key}={given!r} disagrees with the backbone ({value!r}); '
                             f'leave it out to take the backbone\'s value')
    return cfg


@MODELS.register_module()
class VideoMAEPretrainer(BaseModel):
    """Masked video autoencoder trained in MMAction2's runner.

    The masks come from the data pipeline on each data sample
    (``encoder_mask``, ``decoder_mask``: ``(S, N)`` bool, True = hidden /
    not reconstructed, S clips per video with repeated augmentation). The
    loss path is ``backbone`` (visible tokens only) -> ``neck`` (decoder) ->
    ``head`` (target + MSE).

    Args:
        backbone (dict): :class:`VideoMAEViT` config.
        neck (dict): :class:`VideoMAEPretrainDecoder` config; its
            ``encoder_embed_dims``, ``num_patches``, ``grid_size``,
            ``patch_size``, ``tubelet_size`` and ``in_channels`` are the
            backbone's, its ``arch`` defaults to the backbone's size name (the
            V2 decoder of that size) and its ``pred_tubelet_size`` follows the
            head's ``target_frames`` (MAE-ST ``pred_t_dim``).
        head (dict): :class:`VideoMAEPretrainHead` config; ``patch_size`` and
            ``tubelet_size`` default to the backbone's. Its ``target_space``
            says whether it gets the clip as pixels in [0, 1] or as the
            normalized input.
        data_preprocessor (dict, optional): Defaults to MMAction2's
            ``ActionDataPreprocessor`` with ImageNet mean/std (0-255) and
            ``NCTHW`` format.
        pixel_scale (float): Value of white in the un-normalized input; the
            target is built from pixels in [0, 1] as officially. Defaults to
            255.
        compile (bool | dict): ``torch.compile`` the backbone and the
            decoder in place (``nn.Module.compile``: parameter names and
            checkpoints are unchanged); a dict is passed as its options, e.g.
            ``dict(mode='max-autotune')``. The loss, the target and the
            optimizer stay eager. MMEngine's runner-level ``compile=True``
            compiles the whole ``train_step`` instead. Defaults to False.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 backbone: Dict,
                 neck: Dict,
                 head: Dict,
                 data_preprocessor: Optional[Dict] = None,
                 pixel_scale: float = 255.,
                 compile: Union[bool, Dict] = False,
                 init_cfg: Optional[Dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(
                type='ActionDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                format_shape='NCTHW')
        if isinstance(data_preprocessor, dict):  # MMAction2's registry, whatever the scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if self.backbone.patch_size[0] != self.backbone.patch_size[1]:
            # The decoder and head are built for square patches only.
            raise ValueError(f'VideoMAE pretraining needs square patches, the backbone has '
                             f'{self.backbone.patch_size}')
        geometry = dict(
            encoder_embed_dims=self.backbone.embed_dims,
            num_patches=self.backbone.num_patches,
            grid_size=tuple(self.backbone.grid_size),
            patch_size=self.backbone.patch_size[0],
            tubelet_size=self.backbone.tubelet_size,
            in_channels=self.backbone.in_channels)
        neck = dict(neck)
        if head.get('target_frames') is not None:  # MAE-ST pred_t_dim
            neck.setdefault('pred_tubelet_size', predicted_frames_per_token(
                head['target_frames'], self.backbone.num_frames, self.backbone.tubelet_size))
        if 'arch' not in neck:
            if self.backbone.arch is None:
                raise ValueError('the backbone has a custom arch dict: give the decoder size '
                                 'as neck.arch (a dict with embed_dims, num_heads, num_layers)')
            neck['arch'] = self.backbone.arch
        self.neck = MODELS.build(_with_geometry(neck, geometry, 'neck'))
        self.head = MODELS.build(
            _with_geometry(head, dict(patch_size=geometry['patch_size'],
                                      tubelet_size=geometry['tubelet_size']), 'head'))
        self.pixel_scale = pixel_scale
        if compile:
            options = {} if compile is True else dict(compile)
            self.backbone.compile(**options)
            self.neck.compile(**options)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict[str, torch.Tensor], tuple, SampleList]:
        """``mode='loss'``: loss dict; ``'tensor'``: ``(pred, index, valid)``
        of :meth:`reconstruct_tokens`; ``'predict'``: data samples with the
        reconstruction (see :meth:`predict`)."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        video, encoder_mask, decoder_mask = self.unpack(inputs, data_samples)
        if mode == 'tensor':
            return self.reconstruct_tokens(video, encoder_mask, decoder_mask)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'invalid mode {mode!r}: expected "loss", "predict" or "tensor"')

    def loss(self, inputs: torch.Tensor, data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """Normalized-pixel MSE over tokens hidden from the encoder and kept
        by the decoder. ``inputs``: ``(B, S, C, T, H, W)`` or ``(B, C, T, H, W)``."""
        video, encoder_mask, decoder_mask = self.unpack(inputs, data_samples)
        pred, index, valid = self.reconstruct_tokens(video, encoder_mask, decoder_mask)
        with torch.autocast(device_type=video.device.type, enabled=False):  # fp32 target
            target_video = self.target_video(video.float())
        return self.head.loss(pred, index, valid, target_video, encoder_mask)

    def target_video(self, video: torch.Tensor) -> torch.Tensor:
        """The clip in the head's ``target_space``: pixels in [0, 1]
        (VideoMAE) or the normalized input itself (MAE-ST)."""
        return video if self.head.target_space == 'input' else self.to_pixels(video)

    def reconstruct_tokens(self, video: torch.Tensor, encoder_mask: torch.Tensor,
                           decoder_mask: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Encoder on visible tokens, then decoder.

        Args:
            video (torch.Tensor): Normalized clip ``(B, C, T, H, W)``.
            encoder_mask (torch.Tensor): ``(B, N)`` bool.
            decoder_mask (torch.Tensor): ``(B, N)`` bool.

        Returns:
            tuple: ``pred (B, L, P)``, ``index (B, L)``, ``valid (B, L)`` as
            returned by the decoder.
        """
        t, h, w = self.backbone.token_grid(video.shape[-3:])
        for name, mask in (('encoder_mask', encoder_mask), ('decoder_mask', decoder_mask)):
            if mask.shape[-1] != t * h * w:
                raise ValueError(
                    f'{name} covers {mask.shape[-1]} tokens but the backbone cuts the '
                    f'{"x".join(map(str, video.shape[-3:]))} clip into {t * h * w} tokens '
                    f'(tubelet {self.backbone.tubelet_size}, patch {self.backbone.patch_size}; '
                    f'backbone.num_patches={self.backbone.num_patches}): set patch_size / '
                    'tubelet_size of VideoMAEMaskGenerator to the backbone\'s')
        latent = self.backbone(video, mask=encoder_mask)  # (B, N_vis, C)
        return self.neck(latent, encoder_mask, decoder_mask)

    def to_pixels(self, video: torch.Tensor) -> torch.Tensor:
        """Undo the data preprocessor's normalization; pixels in [0, 1].

        Args:
            video (torch.Tensor): ``(B, C, T, H, W)``.
        """
        pre = self.data_preprocessor
        if getattr(pre, '_enable_normalize', False):
            video = video * pre.std.view(1, -1, 1, 1, 1) + pre.mean.view(1, -1, 1, 1, 1)
        return video / self.pixel_scale

    @staticmethod
    def unpack(inputs: torch.Tensor,
               data_samples: SampleList) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Flatten repeated clips and stack the masks of the data samples.

        Args:
            inputs (torch.Tensor): ``(B, S, C, T, H, W)`` or ``(B, C, T, H, W)``.
            data_samples (list): One sample per video with ``encoder_mask``
                and ``decoder_mask`` of shape ``(S, N)`` or ``(N,)``.

        Returns:
            tuple: video ``(B*S, C, T, H, W)``, encoder and decoder masks
            ``(B*S, N)`` bool.
        """
        if data_samples is None:
            raise ValueError('VideoMAE needs data samples carrying encoder_mask/decoder_mask '
                             '(add VideoMAEMaskGenerator and PackVideoMAEInputs to the pipeline)')
        masks = []
        for key in ('encoder_mask', 'decoder_mask'):
            if not all(key in sample for sample in data_samples):
                raise KeyError(f'data sample without {key!r}: the pipeline must generate masks')
            mask = torch.stack([torch.as_tensor(s.get(key)) for s in data_samples])
            masks.append(mask.to(inputs.device).bool().flatten(0, -2))  # (B*S, N)
        video = inputs.flatten(0, inputs.dim() - 5)  # (B*S, C, T, H, W)
        if video.shape[0] != masks[0].shape[0]:
            raise ValueError(f'{video.shape[0]} clips but {masks[0].shape[0]} masks')
        return video, masks[0], masks[1]

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: SampleList) -> SampleList:
        """Reconstruct the clips; each data sample gets ``pred_video``
        (``(S, C, T, H, W)`` pixels in [0, 1], query tokens replaced by the
        de-normalized prediction, see :meth:`VideoMAEPretrainHead.reconstruct`)
        and ``input_video`` (the original). With MAE-ST's ``target_frames``
        both hold the predicted frames only."""
        video, encoder_mask, decoder_mask = self.unpack(inputs, data_samples)
        pred, index, valid = self.reconstruct_tokens(video, encoder_mask, decoder_mask)
        video = video.float()
        grid = self.backbone.token_grid(video.shape[-3:])
        recon_video = self.head.reconstruct(pred, index, valid, self.target_video(video), grid)
        if self.head.target_space == 'input':
            recon_video = self.to_pixels(recon_video).clamp(0, 1)
        pixels = self.head.select_frames(self.to_pixels(video))
        S = recon_video.shape[0] // len(data_samples)
        for i, sample in enumerate(data_samples):
            sample.set_field(recon_video[i * S:(i + 1) * S].cpu(), 'pred_video')
            sample.set_field(pixels[i * S:(i + 1) * S].cpu(), 'input_video')
        return data_samples
