"""Checkpoint conversion from official VideoMAE V1/V2, MMAction2 1.2.0, HF
transformers and mmvmae2 layouts, the safe loader and the CLI.

Source layouts are produced from a native mmvmae2 state dict with explicit
key maps written here, independently of the converter's regex tables. The
official reference tests build their models from the kwargs stored in the
reference file (``tests/data/reference/videomaev2_tiny_ref.pt`` or
``VIDEOMAE_REF``) and run on it and on a copy with other sizes."""
import argparse
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn as nn

import mmvmae2  # noqa: F401
from mmaction.registry import MODELS
from mmvmae2.compat import CheckpointRefusedError, load_checkpoint_file
from mmvmae2.models.backbones import VideoMAEViT
from mmvmae2.models.checkpoint_convert import convert_state_dict, detect_layout
from mmvmae2.models.official import backbone_cfg_from_official, pretrain_cfg_from_official

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Synthetic models for the layout round trips, with sizes of this file's own:
# 32 x 32 pixels, 8 x 8 patches, 4 frames, tubelet 2 -> 2 x 4 x 4 = 32 tokens;
# 3 blocks of width 32, 7 classes; a decoder of 2 blocks of width 16.
DIMS, LAYERS, CLASSES = 32, 3, 7
SYN_ARCH = dict(embed_dims=DIMS, num_layers=LAYERS, num_heads=2, feedforward_channels=64)
SYN_GEOMETRY = dict(img_size=32, patch_size=8, num_frames=4)
NUM_TOKENS = 32
DEC_DIMS, PATCH_DIMS = 16, 2 * 8 * 8 * 3
VIDEO_SHAPE = (2, 3, 4, 32, 32)


def syn_vit(**kwargs):
    kwargs = dict(dict(arch=SYN_ARCH, **SYN_GEOMETRY), **kwargs)
    return VideoMAEViT(**kwargs).eval()


def randomized(module, seed=0):
    """Distinct random values everywhere, so that any swapped tensor shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    return module


def native_state_dict(parts=('backbone', 'neck', 'cls_head'), **vit_kwargs):
    """A state dict in mmvmae2's layout; the neck is 2 decoder blocks of width
    ``DEC_DIMS`` (built from a VideoMAEViT's block tensors)."""
    gen = torch.Generator().manual_seed(1)
    vit_kwargs = dict(dict(final_norm=True, with_fc_norm=True), **vit_kwargs)
    sd = {}
    if 'backbone' in parts:
        backbone = randomized(syn_vit(**vit_kwargs))
        sd.update({f'backbone.{k}': v for k, v in backbone.state_dict().items()})
    if 'neck' in parts:
        dec = randomized(syn_vit(arch=dict(embed_dims=DEC_DIMS, num_layers=2, num_heads=2,
                                           feedforward_channels=4 * DEC_DIMS)), seed=2)
        sd.update({f'neck.{k}': v for k, v in dec.state_dict().items()
                   if k.startswith(('blocks.', 'norm.'))})
        sd['neck.encoder_to_decoder.weight'] = torch.randn(DEC_DIMS, DIMS, generator=gen)
        sd['neck.mask_token'] = torch.randn(1, 1, DEC_DIMS, generator=gen)
        sd['neck.head.weight'] = torch.randn(PATCH_DIMS, DEC_DIMS, generator=gen)
        sd['neck.head.bias'] = torch.randn(PATCH_DIMS, generator=gen)
    if 'cls_head' in parts:
        sd['cls_head.fc_cls.weight'] = torch.randn(CLASSES, DIMS, generator=gen)
        sd['cls_head.fc_cls.bias'] = torch.randn(CLASSES, generator=gen)
    return sd


def replace_all(key, pairs):
    for old, new in pairs:
        if key.startswith(old):
            return new + key[len(old):]
    return key


def sub_all(key, pairs):
    for old, new in pairs:
        key = key.replace(old, new)
    return key


def mmaction_sin_cos(num_positions, dims):
    """The table MMAction2's ``get_sinusoid_encoding`` stores as a buffer."""
    exponent = torch.arange(dims, dtype=torch.float64)
    exponent = (exponent - exponent % 2) / dims
    angles = torch.arange(num_positions)[:, None] * torch.pow(10000, -exponent)[None]
    angles[:, 0::2].sin_()
    angles[:, 1::2].cos_()
    return angles.float()[None]


HF_BLOCK = [('norm1.', 'layernorm_before.'), ('norm2.', 'layernorm_after.'),
            ('attn.proj.', 'attention.output.dense.'),
            ('attn.q_bias', 'attention.attention.q_bias'),
            ('attn.v_bias', 'attention.attention.v_bias'), ('mlp.fc1.', 'intermediate.dense.'),
            ('mlp.fc2.', 'output.dense.')]
PRETRAIN_MAP = [('backbone.', 'encoder.'), ('neck.encoder_to_decoder.', 'encoder_to_decoder.'),
                ('neck.mask_token', 'mask_token'), ('neck.', 'decoder.')]


def to_source(sd, layout):
    """Rename a native state dict into ``layout`` (explicit maps)."""
    out = {}
    for key, value in sd.items():
        if layout == 'official_pretrain':
            out[replace_all(key, PRETRAIN_MAP)] = value
        elif layout == 'official_finetune':
            out[replace_all(key, [('backbone.', ''), ('cls_head.fc_cls.', 'head.')])] = value
        elif layout == 'mmaction2':
            key = key.replace('patch_embed.proj.', 'patch_embed.projection.')
            out[sub_all(key, [('.mlp.fc1.', '.mlp.layers.0.0.'),
                              ('.mlp.fc2.', '.mlp.layers.1.')])] = value
        elif layout == 'hf':
            key = replace_all(key, [
                ('backbone.patch_embed.proj.', 'videomae.embeddings.patch_embeddings.projection.'),
                ('backbone.blocks.', 'videomae.encoder.layer.'), ('backbone.norm.',
                                                                  'videomae.layernorm.'),
                ('backbone.fc_norm.', 'fc_norm.'), ('cls_head.fc_cls.', 'classifier.'),
                ('neck.blocks.', 'decoder.decoder_layers.'), ('neck.norm.', 'decoder.norm.'),
                ('neck.head.', 'decoder.head.'), ('neck.', '')
            ])
            if key.endswith('attn.qkv.weight'):
                prefix = key[:-len('attn.qkv.weight')] + 'attention.attention.'
                for name, part in zip(('query', 'key', 'value'), value.chunk(3)):
                    out[f'{prefix}{name}.weight'] = part
                continue
            out[sub_all(key, HF_BLOCK)] = value
        else:
            out[key] = value
    return out


def assert_same(converted, expected):
    assert sorted(converted) == sorted(expected)
    for key, value in expected.items():
        assert torch.equal(converted[key], value), key


def backbone_part(sd):
    return {k[len('backbone.'):]: v for k, v in sd.items() if k.startswith('backbone.')}


# ---------------------------------------------------------------- round trips
CASES = [
    ('official_pretrain', ('backbone', 'neck'), {}),
    ('official_finetune', ('backbone', 'cls_head'), {}),
    ('mmaction2', ('backbone', 'cls_head'), {}),
    ('hf', ('backbone', 'neck'), dict(with_fc_norm=False)),  # VideoMAEForPreTraining
    ('hf', ('backbone', 'cls_head'), dict(final_norm=False)),  # VideoMAEForVideoClassification
    ('mmvmae2', ('backbone', 'neck', 'cls_head'), {}),
]


@pytest.mark.parametrize('layout,parts,vit_kwargs', CASES)
def test_round_trip_every_layout(layout, parts, vit_kwargs):
    native = native_state_dict(parts, **vit_kwargs)
    source = to_source(native, layout)
    assert detect_layout(source) == layout
    converted, detected = convert_state_dict(source)
    assert detected == layout
    assert_same(converted, native)
    # The same with the layout named explicitly.
    assert_same(convert_state_dict(source, layout)[0], native)
    model = syn_vit(**dict(dict(final_norm=True, with_fc_norm=True), **vit_kwargs))
    result = model.load_state_dict(backbone_part(converted), strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_hf_qkv_merge_gives_identical_backbone_outputs():
    native = native_state_dict(('backbone', ), final_norm=False)
    source = to_source(native, 'hf')
    assert 'videomae.encoder.layer.1.attention.attention.key.weight' in source
    assert not any('qkv' in k for k in source)
    original, restored = syn_vit(final_norm=False, with_fc_norm=True), syn_vit(
        final_norm=False, with_fc_norm=True)
    original.load_state_dict(backbone_part(native))
    restored.load_state_dict(backbone_part(convert_state_dict(source)[0]))
    video = torch.randn(VIDEO_SHAPE)
    with torch.no_grad():
        assert torch.equal(original(video), restored(video))


def test_hf_plain_linear_biases_and_key_bias():
    native = native_state_dict(('backbone', ), with_fc_norm=False)
    source = to_source(native, 'hf')
    for key in [k for k in source if k.endswith(('.q_bias', '.v_bias'))]:
        name = 'query' if key.endswith('q_bias') else 'value'
        source[key.rsplit('.', 1)[0] + f'.{name}.bias'] = source.pop(key)
        source[key.rsplit('.', 1)[0] + '.key.bias'] = torch.zeros(DIMS)
    assert_same(convert_state_dict(source, 'hf')[0], native)

    source['videomae.encoder.layer.0.attention.attention.key.bias'] = torch.ones(DIMS)
    with pytest.raises(ValueError, match='key.bias'):
        convert_state_dict(source)


def test_hf_missing_third_of_qkv_is_an_error():
    source = to_source(native_state_dict(('backbone', ), with_fc_norm=False), 'hf')
    del source['videomae.encoder.layer.1.attention.attention.value.weight']
    with pytest.raises(ValueError, match=r"blocks\.1\.attn\.qkv\.weight.*\['k', 'q'\]"):
        convert_state_dict(source)


def test_timm_style_qkv_bias_is_split():
    native = native_state_dict(('backbone', 'cls_head'))
    source = to_source(native, 'official_finetune')
    for i in range(LAYERS):
        q, v = source.pop(f'blocks.{i}.attn.q_bias'), source.pop(f'blocks.{i}.attn.v_bias')
        source[f'blocks.{i}.attn.qkv.bias'] = torch.cat([q, torch.zeros_like(q), v])
    assert_same(convert_state_dict(source)[0], native)
    source['blocks.0.attn.qkv.bias'][DIMS + 5] = 1.  # the key's third
    with pytest.raises(ValueError, match='key third'):
        convert_state_dict(source)


# ---------------------------------------------------------- position tables
def test_fixed_tables_are_dropped_learnable_ones_kept():
    native = native_state_dict(('backbone', 'cls_head'))
    source = to_source(native, 'mmaction2')
    # MMAction2 stores its fixed table as a persistent buffer
    source['backbone.pos_embed'] = mmaction_sin_cos(NUM_TOKENS, DIMS)
    assert_same(convert_state_dict(source)[0], native)

    pretrain = to_source(native_state_dict(('backbone', 'neck')), 'official_pretrain')
    pretrain['encoder.pos_embed'] = mmaction_sin_cos(NUM_TOKENS, DIMS)
    pretrain['decoder.pos_embed'] = mmaction_sin_cos(NUM_TOKENS, DEC_DIMS)
    converted = convert_state_dict(pretrain)[0]
    assert not any('pos_embed' in k for k in converted)

    hf = to_source(native_state_dict(('backbone', 'neck'), with_fc_norm=False), 'hf')
    hf['videomae.embeddings.position_embeddings'] = mmaction_sin_cos(NUM_TOKENS, DIMS)
    hf['position_embeddings'] = mmaction_sin_cos(NUM_TOKENS, DEC_DIMS)
    assert not any('pos' in k for k in convert_state_dict(hf)[0])

    learnable = native_state_dict(('backbone', ), use_learnable_pos_emb=True)
    assert 'backbone.pos_embed' in learnable
    for layout in ('official_finetune', 'mmaction2'):
        converted = convert_state_dict(to_source(learnable, layout))[0]
        assert_same(converted, learnable)
        syn_vit(use_learnable_pos_emb=True, with_fc_norm=True).load_state_dict(
            backbone_part(converted))
    pretrain['encoder.pos_embed'] = learnable['backbone.pos_embed']
    assert torch.equal(convert_state_dict(pretrain)[0]['backbone.pos_embed'],
                       learnable['backbone.pos_embed'])


# ------------------------------------------------------- wrappers, containers
@pytest.mark.parametrize('wrap', [
    lambda sd: {'model': sd, 'epoch': 3, 'args': argparse.Namespace(lr=1e-3)},
    lambda sd: {'module': sd, 'global_steps': 10},  # DeepSpeed
    lambda sd: {'state_dict': sd, 'meta': {'epoch': 1}},  # mmengine
    lambda sd: {'state_dict': {'module': sd}},
    lambda sd: {f'module.{k}': v for k, v in sd.items()},  # DDP
    lambda sd: {f'_orig_mod.{k}': v for k, v in sd.items()},  # torch.compile
    lambda sd: {f'module._orig_mod.{k}': v for k, v in sd.items()},
    lambda sd: {'model': {f'_orig_mod.{k}': v for k, v in sd.items()}},
])
def test_containers_and_wrapper_prefixes(wrap):
    native = native_state_dict(('backbone', 'neck'), with_fc_norm=False)
    converted, layout = convert_state_dict(wrap(to_source(native, 'official_pretrain')))
    assert layout == 'official_pretrain'
    assert_same(converted, native)
    own, layout = convert_state_dict(wrap(native))
    assert layout == 'mmvmae2'
    assert_same(own, native)


def test_no_state_dict_in_checkpoint():
    with pytest.raises(ValueError, match='no state dict'):
        convert_state_dict({'epoch': 3, 'optimizer': {}})


# ----------------------------------------------------------------- errors
def test_unknown_layout_lists_the_keys():
    sd = {f'weird.layer{i}.weight': torch.zeros(1) for i in range(3)}
    with pytest.raises(ValueError) as err:
        convert_state_dict(sd)
    message = str(err.value)
    assert 'unknown checkpoint layout' in message and 'official_pretrain' in message
    assert 'weird.layer0.weight' in message and '3 keys' in message


def test_unmapped_keys_are_listed_and_truncated():
    source = to_source(native_state_dict(('backbone', 'cls_head')), 'official_finetune')
    extra = [f'blocks.0.attn.extra{i}' for i in range(15)] + ['dist_head.weight']
    source.update({k: torch.zeros(1) for k in extra})
    with pytest.raises(ValueError) as err:
        convert_state_dict(source)
    message = str(err.value)
    assert "'official_finetune'" in message and '16 keys' in message
    assert 'blocks.0.attn.extra0' in message and 'and 6 more' in message
    assert 'dist_head.weight' not in message  # truncated
    with pytest.raises(ValueError, match="layout 'hf'"):
        convert_state_dict(source, 'hf')
    with pytest.raises(ValueError, match='source must be'):
        convert_state_dict(source, 'timm')


# --------------------------------------------------- official reference data
BLOCK_TENSORS = ['norm1.weight', 'norm1.bias', 'attn.q_bias', 'attn.v_bias', 'attn.qkv.weight',
                 'attn.proj.weight', 'attn.proj.bias', 'norm2.weight', 'norm2.bias',
                 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias']


@pytest.fixture(scope='module')
def ref(any_videomae_ref):
    """The official reference, then a copy with other sizes (``conftest.py``)."""
    return any_videomae_ref


def test_official_finetune_reference_logits(ref):
    checkpoint = {'module': ref['finetune_state_dict']}  # DeepSpeed container
    converted, layout = convert_state_dict(checkpoint)
    assert layout == 'official_finetune'
    model = MODELS.build(backbone_cfg_from_official(ref['finetune_kwargs'])).eval()
    result = model.load_state_dict(backbone_part(converted), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in ref['finetune_state_dict'].items():
        new = 'cls_head.fc_cls.' + key[5:] if key.startswith('head.') else 'backbone.' + key
        assert converted[new] is value
    with torch.no_grad():
        feats = model(ref['input_video'])
        logits = feats @ converted['cls_head.fc_cls.weight'].t() + converted['cls_head.fc_cls.bias']
    # official fp32 logits are within 1.1e-6 of float64 (``fp32_vs_fp64``)
    torch.testing.assert_close(logits, ref['finetune_logits'], atol=1e-5, rtol=1e-5)


def test_official_pretrain_reference(tmp_path, ref):
    sd = {f'_orig_mod.{k}': v for k, v in ref['pretrain_state_dict'].items()}
    path = tmp_path / 'checkpoint-99.pth'
    torch.save({'model': sd, 'epoch': 99, 'args': argparse.Namespace(model='tiny', lr=1e-3)},
               path)
    converted, layout = convert_state_dict(load_checkpoint_file(path))
    assert layout == 'official_pretrain'
    cfg = pretrain_cfg_from_official(ref['pretrain_kwargs'])
    model = MODELS.build(cfg['backbone']).eval()
    result = model.load_state_dict(backbone_part(converted), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    with torch.no_grad():
        latent = model(ref['input_video'], ref['encoder_mask'])
    torch.testing.assert_close(latent, ref['pretrain_encoder_output'], atol=1e-5, rtol=1e-5)

    # The official decoder's tensors, by the official names (README of the reference).
    expected_neck = {'neck.encoder_to_decoder.weight', 'neck.mask_token', 'neck.norm.weight',
                     'neck.norm.bias', 'neck.head.weight', 'neck.head.bias'}
    expected_neck |= {f'neck.blocks.{i}.{name}' for name in BLOCK_TENSORS
                      for i in range(ref['pretrain_kwargs']['decoder_depth'])}
    assert {k for k in converted if k.startswith('neck.')} == expected_neck
    expected_backbone = {'backbone.patch_embed.proj.weight', 'backbone.patch_embed.proj.bias',
                         'backbone.norm.weight', 'backbone.norm.bias'}
    expected_backbone |= {f'backbone.blocks.{i}.{name}' for name in BLOCK_TENSORS
                          for i in range(ref['pretrain_kwargs']['encoder_depth'])}
    assert set(converted) == expected_neck | expected_backbone
    for key, value in ref['pretrain_state_dict'].items():
        new = ('backbone.' + key[8:] if key.startswith('encoder.') else
               'neck.' + key[8:] if key.startswith('decoder.') else 'neck.' + key)
        assert torch.equal(converted[new], value), key


def test_official_pretrain_reference_loads_into_decoder(ref):
    from mmvmae2.models.necks import VideoMAEPretrainDecoder
    converted = convert_state_dict(ref['pretrain_state_dict'])[0]
    neck = MODELS.build(pretrain_cfg_from_official(ref['pretrain_kwargs'])['neck'])
    assert isinstance(neck, VideoMAEPretrainDecoder)
    neck_sd = {k[len('neck.'):]: v for k, v in converted.items() if k.startswith('neck.')}
    result = neck.load_state_dict(neck_sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys


# ------------------------------------------------------------ loader, CLI
class _CreatesFile:

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


def test_malicious_pickle_is_refused(tmp_path):
    target = tmp_path / 'pwned.txt'
    path = tmp_path / 'evil.pth'
    torch.save({'model': {'w': torch.zeros(1)}, 'payload': _CreatesFile(str(target))}, path)
    assert not target.exists()
    with pytest.raises(CheckpointRefusedError) as err:
        load_checkpoint_file(path)
    assert not target.exists()
    message = str(err.value)
    assert str(path) in message and 'io.open' in message  # the file and what it calls


def test_cli_round_trip(tmp_path):
    native = native_state_dict(('backbone', 'cls_head'), final_norm=False)
    src, dst = tmp_path / 'ft.pth', tmp_path / 'ft_mmvmae2.pth'
    torch.save({'module': to_source(native, 'official_finetune')}, src)
    run = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'convert_checkpoint.py'),
                          str(src), str(dst)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    # patch embed 2 + 3 blocks x 13 + fc_norm 2 + head 2
    assert 'official_finetune' in run.stdout and 'keys written: 45' in run.stdout

    saved = torch.load(dst, map_location='cpu', weights_only=True)
    assert saved['meta'] == {'converted_from': 'official_finetune', 'source_file': str(src)}
    assert_same(saved['state_dict'], native)

    from mmengine.runner import load_checkpoint
    recognizer = nn.Module()
    recognizer.backbone = syn_vit(final_norm=False, with_fc_norm=True)
    recognizer.cls_head = nn.Module()
    recognizer.cls_head.fc_cls = nn.Linear(DIMS, CLASSES)
    load_checkpoint(recognizer, str(dst), map_location='cpu', strict=True)
    assert_same({k: v for k, v in recognizer.state_dict().items()}, native)

    # A layout that does not fit fails cleanly.
    run = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'convert_checkpoint.py'),
                          str(src), str(tmp_path / 'x.pth'), '--source', 'hf'],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "layout 'hf'" in run.stderr
    assert not (tmp_path / 'x.pth').exists()
