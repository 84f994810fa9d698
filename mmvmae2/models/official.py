"""Model configs equivalent to the official VideoMAE V2 constructors.

``PretrainVisionTransformer(**kwargs)`` (``models/modeling_pretrain.py``) and
``VisionTransformer(**kwargs)`` (``models/modeling_finetune.py``) keyword
arguments are turned into mmvmae2 configs, so an official model definition
(or the kwargs stored beside a checkpoint) maps onto ``VideoMAEPretrainer`` /
``Recognizer3D`` without hand-copying sizes.
"""
from typing import Dict

_UNSUPPORTED = dict(qk_scale=None, cos_attn=False)


def _check_supported(kwargs: Dict) -> None:
    for key, default in _UNSUPPORTED.items():
        if kwargs.get(key, default) != default:
            raise ValueError(f'official kwarg {key}={kwargs[key]!r} is not supported '
                             f'(only {key}={default!r})')


def _native(kwargs: Dict, frames_key: str) -> Dict:
    return dict(
        img_size=kwargs.get('img_size', 224),
        num_frames=kwargs.get(frames_key, 16),
        tubelet_size=kwargs.get('tubelet_size', 2),
        patch_size=kwargs.get('patch_size', 16))


def _vit_cfg(kwargs: Dict, prefix: str, **outputs) -> Dict:
    """``VideoMAEViT`` config of an official ViT's kwargs; the pretraining
    model names its encoder sizes with ``prefix='encoder_'``. ``outputs`` sets
    the output-related arguments (``final_norm``, ``with_fc_norm``, ``out_type``)."""
    _check_supported(kwargs)
    dims = kwargs.get(f'{prefix}embed_dim', 768)
    return dict(
        type='VideoMAEViT',
        arch=dict(embed_dims=dims, num_layers=kwargs.get(f'{prefix}depth', 12),
                  num_heads=kwargs.get(f'{prefix}num_heads', 12),
                  feedforward_channels=int(dims * kwargs.get('mlp_ratio', 4.))),
        in_channels=kwargs.get(f'{prefix}in_chans', 3),
        qkv_bias=kwargs.get('qkv_bias', False),
        drop_rate=kwargs.get('drop_rate', 0.),
        attn_drop_rate=kwargs.get('attn_drop_rate', 0.),
        drop_path_rate=kwargs.get('drop_path_rate', 0.),
        init_values=kwargs.get('init_values', 0.),
        use_learnable_pos_emb=kwargs.get('use_learnable_pos_emb', False),
        with_cp=kwargs.get('with_cp', False),
        **outputs,
        **_native(kwargs, 'all_frames'))


def backbone_cfg_from_official(kwargs: Dict) -> Dict:
    """``VideoMAEViT`` config of an official fine-tuning ``VisionTransformer``."""
    mean_pool = kwargs.get('use_mean_pooling', True)
    return _vit_cfg(kwargs, '', final_norm=not mean_pool, with_fc_norm=mean_pool, out_type='avg')


def recognizer_cfg_from_official(kwargs: Dict) -> Dict:
    """``Recognizer3D`` config (backbone + ``TimeSformerHead``)."""
    backbone = backbone_cfg_from_official(kwargs)
    return dict(
        type='Recognizer3D',
        backbone=backbone,
        cls_head=dict(
            type='TimeSformerHead',
            num_classes=kwargs.get('num_classes', 1000),
            in_channels=backbone['arch']['embed_dims'],
            dropout_ratio=kwargs.get('head_drop_rate', 0.),
            average_clips='prob'),
        data_preprocessor=dict(
            type='ActionDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            format_shape='NCTHW'))


def pretrain_cfg_from_official(kwargs: Dict, decoder_mode: str = 'official') -> Dict:
    """``VideoMAEPretrainer`` config of an official ``PretrainVisionTransformer``."""
    backbone = _vit_cfg(kwargs, 'encoder_', final_norm=True, with_fc_norm=False, out_type='raw')
    dims = backbone['arch']['embed_dims']
    native = _native(kwargs, 'all_frames')
    img = native['img_size']
    img = (img, img) if isinstance(img, int) else img
    num_patches = (native['num_frames'] // native['tubelet_size']) * \
        (img[0] // native['patch_size']) * (img[1] // native['patch_size'])
    dec_dims = kwargs.get('decoder_embed_dim', 384)
    patch_dims = native['tubelet_size'] * native['patch_size']**2 * kwargs.get(
        'encoder_in_chans', 3)
    if kwargs.get('decoder_num_classes', patch_dims) != patch_dims:
        raise ValueError(f"decoder_num_classes={kwargs['decoder_num_classes']} differs from "
                         f'tubelet*patch*patch*channels={patch_dims}')
    neck = dict(
        type='VideoMAEPretrainDecoder',
        arch=dict(embed_dims=dec_dims, num_heads=kwargs.get('decoder_num_heads', 6),
                  num_layers=kwargs.get('decoder_depth', 4),
                  feedforward_channels=int(dec_dims * kwargs.get('mlp_ratio', 4.))),
        encoder_embed_dims=dims,
        num_patches=num_patches,
        patch_size=native['patch_size'],
        tubelet_size=native['tubelet_size'],
        in_channels=kwargs.get('encoder_in_chans', 3),
        qkv_bias=kwargs.get('qkv_bias', False),
        init_values=kwargs.get('init_values', 0.),
        mode=decoder_mode,
        with_cp=kwargs.get('with_cp', False))
    head = dict(type='VideoMAEPretrainHead', tubelet_size=native['tubelet_size'],
                patch_size=native['patch_size'], norm_pix='per_channel')
    return dict(type='VideoMAEPretrainer', backbone=backbone, neck=neck, head=head)


# Constructor defaults of facebookresearch/mae_st ``MaskedAutoencoderViT``
# (models_mae.py) and ``VisionTransformer`` (models_vit.py); the factories
# set the sizes and LayerNorm eps 1e-6, ``main_pretrain.py`` /
# ``main_finetune.py`` set ``t_patch_size=2``, ``sep_pos_embed``,
# ``cls_embed`` and ``pred_t_dim``.
_MAEST_PRETRAIN_DEFAULTS = dict(
    img_size=224, patch_size=16, in_chans=3, embed_dim=1024, depth=24, num_heads=16,
    decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4.,
    norm_pix_loss=False, num_frames=16, t_patch_size=4, no_qkv_bias=False, sep_pos_embed=False,
    cls_embed=False, pred_t_dim=8)
_MAEST_FINETUNE_DEFAULTS = dict(
    img_size=224, patch_size=16, in_chans=3, num_classes=400, embed_dim=768, depth=12,
    num_heads=12, mlp_ratio=4., no_qkv_bias=False, drop_rate=0., attn_drop_rate=0.,
    drop_path_rate=0., dropout=0.5, sep_pos_embed=False, cls_embed=False)
# MAE-ST's input normalization (util/kinetics.py: 0.45 / 0.225 of 1), in 0-255 units.
MAEST_DATA_PREPROCESSOR = dict(
    type='ActionDataPreprocessor', mean=[114.75] * 3, std=[57.375] * 3, format_shape='NCTHW')


def _maest_kwargs(kwargs: Dict, defaults: Dict) -> Dict:
    """Official kwargs completed with the constructor defaults; only the
    layouts of the released models (separable tables, cls token) map."""
    kw = dict(defaults, **kwargs)
    if not kw['sep_pos_embed'] or not kw['cls_embed']:
        raise ValueError('only MAE-ST models with sep_pos_embed=True and cls_embed=True (the '
                         'official main_pretrain.py / main_finetune.py defaults and every '
                         f'released model) are supported, got sep_pos_embed='
                         f'{kw["sep_pos_embed"]}, cls_embed={kw["cls_embed"]}')
    if kw.get('qk_scale') is not None:
        raise ValueError(f'qk_scale={kw["qk_scale"]!r} is not supported (only None)')
    return kw


def _maest_vit_cfg(kw: Dict, **outputs) -> Dict:
    dims = kw['embed_dim']
    return dict(
        type='VideoMAEViT',
        arch=dict(embed_dims=dims, num_layers=kw['depth'], num_heads=kw['num_heads'],
                  feedforward_channels=int(dims * kw['mlp_ratio'])),
        img_size=kw['img_size'],
        num_frames=kw['num_frames'],
        tubelet_size=kw['t_patch_size'],
        patch_size=kw['patch_size'],
        in_channels=kw['in_chans'],
        qkv_bias=False if kw['no_qkv_bias'] else 'qkv',
        sep_pos_embed=True,
        with_cls_token=True,
        **outputs)


def maest_pretrain_cfg_from_official(kwargs: Dict) -> Dict:
    """``VideoMAEPretrainer`` config of an official MAE-ST
    ``MaskedAutoencoderViT(**kwargs)``.

    The encoder drops its cls token after ``norm``; the decoder (``'mae'``
    mode) has its own cls token, a biased ``decoder_embed`` and predicts
    ``t_patch_size * pred_t_dim // num_frames`` frames per token for every
    token; the target is the ``pred_t_dim`` frames picked by ``linspace`` from
    the normalized input (``norm_pix_loss``: joint over the patch).
    """
    kw = _maest_kwargs(kwargs, _MAEST_PRETRAIN_DEFAULTS)
    backbone = _maest_vit_cfg(kw, final_norm=True, with_fc_norm=False, out_type='raw',
                              init_cfg=[dict(type='Xavier', layer='Linear',
                                             distribution='uniform', bias=0.),
                                        dict(type='Constant', layer='LayerNorm', val=1.,
                                             bias=0.)])
    dec_dims = kw['decoder_embed_dim']
    neck = dict(
        type='VideoMAEPretrainDecoder',
        arch=dict(embed_dims=dec_dims, num_heads=kw['decoder_num_heads'],
                  num_layers=kw['decoder_depth'],
                  feedforward_channels=int(dec_dims * kw['mlp_ratio'])),
        qkv_bias=backbone['qkv_bias'],
        mode='mae',
        sep_pos_embed=True,
        with_cls_token=True,
        embed_bias=True)
    head = dict(type='VideoMAEPretrainHead', norm_pix='joint' if kw['norm_pix_loss'] else None,
                target_frames=kw['pred_t_dim'], target_space='input')
    return dict(type='VideoMAEPretrainer', backbone=backbone, neck=neck, head=head,
                data_preprocessor=dict(MAEST_DATA_PREPROCESSOR))


def maest_recognizer_cfg_from_official(kwargs: Dict) -> Dict:
    """``Recognizer3D`` config of an official MAE-ST fine-tuning
    ``VisionTransformer(**kwargs)``: no sequence norm, the mean of the patch
    tokens through ``norm`` (our ``fc_norm``), dropout and ``head``."""
    kw = _maest_kwargs(kwargs, _MAEST_FINETUNE_DEFAULTS)
    backbone = _maest_vit_cfg(kw, final_norm=False, with_fc_norm=True, out_type='avg',
                              drop_rate=kw['drop_rate'], attn_drop_rate=kw['attn_drop_rate'],
                              drop_path_rate=kw['drop_path_rate'])
    return dict(
        type='Recognizer3D',
        backbone=backbone,
        cls_head=dict(type='TimeSformerHead', num_classes=kw['num_classes'],
                      in_channels=kw['embed_dim'], dropout_ratio=kw['dropout'],
                      average_clips='prob'),
        data_preprocessor=dict(MAEST_DATA_PREPROCESSOR))
