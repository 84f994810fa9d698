"""Other implementations the benchmark runs beside the project's model.

* The official VideoMAE V2 pretraining model (``models/modeling_pretrain.py``
  of OpenGVLab/VideoMAEv2), imported from a user's local clone; nothing of it
  is part of this project. Its loss is built the way its training loop builds
  it (target from the de-normalized clip, per-patch normalization, MSE over
  the loss tokens), written here from the documented conventions.
* HF transformers' ``VideoMAEForPreTraining`` (VideoMAE V1), when
  ``transformers`` is installed (``pip install -e .[hf]``).
"""
import importlib
import importlib.util
import os.path as osp
import sys
import types
from functools import partial
from typing import Dict

import torch
import torch.nn as nn

from mmvmae2.models.backbones.vit import ARCH_SETTINGS, arch_name
from mmvmae2.models.necks.videomae_decoder import DECODER_SETTINGS

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_OFFICIAL_PACKAGE = 'mmvmae2_benchmark_official_models'


def official_kwargs(arch: str, frames: int, size: int, patch: int = 16,
                    tubelet: int = 2) -> Dict:
    """Keyword arguments of the official ``PretrainVisionTransformer`` for the
    project's ``arch`` (encoder and its V2 decoder), as the official
    ``pretrain_videomae_*_patch16_224`` functions give them (``qkv_bias``
    True, no layer scale, fixed sin-cos tables); ``norm_layer`` is added by
    :func:`build_official`."""
    enc = ARCH_SETTINGS[arch_name(arch)]
    dec = DECODER_SETTINGS[arch_name(arch)]
    return dict(
        img_size=size, patch_size=patch, all_frames=frames, tubelet_size=tubelet,
        encoder_embed_dim=enc['embed_dims'], encoder_depth=enc['num_layers'],
        encoder_num_heads=enc['num_heads'],
        mlp_ratio=enc['feedforward_channels'] / enc['embed_dims'],
        decoder_embed_dim=dec['embed_dims'], decoder_depth=dec['num_layers'],
        decoder_num_heads=dec['num_heads'],
        decoder_num_classes=3 * tubelet * patch * patch, qkv_bias=True)


def _drop_path(x: torch.Tensor, drop_prob: float = 0., training: bool = False) -> torch.Tensor:
    """Stochastic depth (per sample), the function the official blocks call."""
    if drop_prob == 0. or not training:
        return x
    keep = 1 - drop_prob
    shape = (x.shape[0], ) + (1, ) * (x.dim() - 1)
    return x * x.new_empty(shape).bernoulli_(keep) / keep


def _to_2tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x, x)


def install_timm_stand_in() -> bool:
    """Make ``timm`` importable for the official model files when it is not
    installed: a minimal module with the four names they import
    (``drop_path``, ``to_2tuple``, ``trunc_normal_``, ``register_model``).

    Returns:
        bool: True when the stand-in was installed, False when a real timm
        is importable (it is then left alone).
    """
    try:
        importlib.import_module('timm.models.layers')
        importlib.import_module('timm.models.registry')
        return False
    except ImportError:
        pass
    layers = types.ModuleType('timm.models.layers')
    layers.drop_path, layers.to_2tuple = _drop_path, _to_2tuple
    layers.trunc_normal_ = nn.init.trunc_normal_
    registry = types.ModuleType('timm.models.registry')
    registry.register_model = lambda fn: fn
    models = types.ModuleType('timm.models')
    models.layers, models.registry = layers, registry
    timm = types.ModuleType('timm')
    timm.models = models
    sys.modules.update({'timm': timm, 'timm.models': models, 'timm.models.layers': layers,
                        'timm.models.registry': registry})
    return True


def import_official(root: str) -> types.ModuleType:
    """Import ``models/modeling_pretrain.py`` of an official VideoMAE V2 clone
    at ``root`` (under a private package name, so it cannot clash with any
    other ``models`` package).

    Raises:
        FileNotFoundError: ``root`` has no ``models/modeling_pretrain.py``.
        AttributeError: the module has no ``PretrainVisionTransformer``.
    """
    folder = osp.join(osp.abspath(root), 'models')
    if not osp.isfile(osp.join(folder, 'modeling_pretrain.py')):
        raise FileNotFoundError(
            f'{folder}/modeling_pretrain.py not found: --official takes the root of a clone of '
            'the official VideoMAE V2 repository (OpenGVLab/VideoMAEv2)')
    install_timm_stand_in()
    if _OFFICIAL_PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            _OFFICIAL_PACKAGE, osp.join(folder, '__init__.py'),
            submodule_search_locations=[folder])
        package = importlib.util.module_from_spec(spec)
        sys.modules[_OFFICIAL_PACKAGE] = package
        spec.loader.exec_module(package)
    module = importlib.import_module(f'{_OFFICIAL_PACKAGE}.modeling_pretrain')
    if not hasattr(module, 'PretrainVisionTransformer'):
        raise AttributeError(f'{module.__file__} has no PretrainVisionTransformer')
    return module


def build_official(module: types.ModuleType, kwargs: Dict) -> nn.Module:
    """The official model with the official LayerNorm (eps 1e-6)."""
    return module.PretrainVisionTransformer(
        norm_layer=partial(nn.LayerNorm, eps=1e-6), **kwargs)


def official_target(video: torch.Tensor, tubelet: int, patch: int,
                    mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    """The official training loop's target: de-normalize the clip to [0, 1],
    cut it into ``tubelet x patch x patch`` tokens ordered ``(t h w)``,
    normalize each token per channel over its pixels (unbiased std + 1e-6),
    channel the fastest index.

    Args:
        video (torch.Tensor): ``(B, C, T, H, W)``, normalized with mean/std.

    Returns:
        torch.Tensor: ``(B, N, tubelet * patch * patch * C)``.
    """
    B, C, T, H, W = video.shape
    m = torch.as_tensor(mean, dtype=video.dtype, device=video.device).view(1, -1, 1, 1, 1)
    s = torch.as_tensor(std, dtype=video.dtype, device=video.device).view(1, -1, 1, 1, 1)
    pixels = video * s + m
    t, h, w = T // tubelet, H // patch, W // patch
    x = pixels.view(B, C, t, tubelet, h, patch, w, patch)
    x = x.permute(0, 2, 4, 6, 3, 5, 7, 1).reshape(B, t * h * w, -1, C)  # (B, N, P, C)
    x = (x - x.mean(dim=-2, keepdim=True)) / (x.var(dim=-2, unbiased=True, keepdim=True).sqrt()
                                              + 1e-6)
    return x.flatten(2)  # (B, N, P*C)


def official_loss(outputs: torch.Tensor, target: torch.Tensor, encoder_mask: torch.Tensor,
                  decoder_mask: torch.Tensor) -> torch.Tensor:
    """MSE over the decoder-kept tokens that the encoder did not see.

    Args:
        outputs (torch.Tensor): ``(B, N_dec, P)`` official predictions at the
            tokens kept by the decoder, ascending token order.
        target (torch.Tensor): ``(B, N, P)``, see :func:`official_target`.
        encoder_mask (torch.Tensor): ``(B, N)`` bool, True = hidden.
        decoder_mask (torch.Tensor): ``(B, N)`` bool, True = not reconstructed.
    """
    B = target.shape[0]
    labels = target[~decoder_mask].reshape(B, -1, target.shape[-1])
    per_token = ((outputs - labels)**2).mean(dim=-1)
    weight = encoder_mask[~decoder_mask].reshape(B, -1).to(per_token.dtype)
    return (per_token * weight).sum() / weight.sum()


def official_step_loss(model: nn.Module, video: torch.Tensor, encoder_mask: torch.Tensor,
                       decoder_mask: torch.Tensor, tubelet: int, patch: int) -> torch.Tensor:
    """Loss of one official training step (target under ``no_grad`` as the
    official loop builds it)."""
    with torch.no_grad():
        target = official_target(video, tubelet, patch)
    outputs = model(video, encoder_mask, decoder_mask)
    return official_loss(outputs, target, encoder_mask, decoder_mask)


def check_same_loss(official: float, ours: float, rtol: float = 1e-4) -> None:
    """Raise when the official model's loss differs from the project's."""
    if not abs(official - ours) <= rtol * max(abs(ours), 1e-12):
        raise AssertionError(
            f'the official model gives loss {official:.7g}, the project in official mode '
            f'{ours:.7g} (relative gap {abs(official - ours) / max(abs(ours), 1e-12):.2g} > '
            f'{rtol:g}) with the same weights and masks: the clone at --official does not match '
            'the conversion (another commit or a modified model?)')


def load_hf() -> types.ModuleType:
    """``transformers``, or a clear error telling how to install it."""
    try:
        return importlib.import_module('transformers')
    except ImportError as err:
        raise ImportError(
            '--peer hf needs HF transformers, an optional extra of mmvmae2 that is not '
            'installed: pip install -e ".[hf]"  (or pip install transformers)') from err


def build_hf(transformers: types.ModuleType, kwargs: Dict) -> nn.Module:
    """HF's ``VideoMAEForPreTraining`` (V1) with the sizes of
    :func:`official_kwargs` (normalized-pixel loss, as VideoMAE trains)."""
    enc_dims, dec_dims = kwargs['encoder_embed_dim'], kwargs['decoder_embed_dim']
    config = transformers.VideoMAEConfig(
        image_size=kwargs['img_size'], patch_size=kwargs['patch_size'], num_channels=3,
        num_frames=kwargs['all_frames'], tubelet_size=kwargs['tubelet_size'],
        hidden_size=enc_dims, num_hidden_layers=kwargs['encoder_depth'],
        num_attention_heads=kwargs['encoder_num_heads'],
        intermediate_size=int(enc_dims * kwargs['mlp_ratio']), qkv_bias=True,
        decoder_hidden_size=dec_dims, decoder_num_hidden_layers=kwargs['decoder_depth'],
        decoder_num_attention_heads=kwargs['decoder_num_heads'],
        decoder_intermediate_size=int(dec_dims * kwargs['mlp_ratio']), norm_pix_loss=True,
        layer_norm_eps=1e-6)
    return transformers.VideoMAEForPreTraining(config)


def hf_step_loss(model: nn.Module, video: torch.Tensor,
                 encoder_mask: torch.Tensor) -> torch.Tensor:
    """HF's loss (target built inside its forward); HF takes ``(B, T, C, H, W)``."""
    return model(pixel_values=video.transpose(1, 2), bool_masked_pos=encoder_mask).loss
