"""Conversion of official MAE-ST checkpoints (facebookresearch/mae_st).

The official state dicts come from the MAE-ST reference file
(``tests/data/reference/maest_tiny_ref.pt`` or ``MAEST_REF``, see its
README): pretraining ``MaskedAutoencoderViT`` and fine-tuning
``VisionTransformer`` with separate ``q``, ``k``, ``v`` projections. The
models are built from the stored kwargs; the tests that load run on the
official file and on a copy with other sizes (``conftest.widen_maest_reference``).
"""
import argparse
import os.path as osp
import re
import subprocess
import sys
from collections import Counter

import pytest
import torch

import mmvmae2  # noqa: F401
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmvmae2.compat import checkpoint_loading, load_checkpoint_file
from mmvmae2.models.checkpoint_convert import convert_state_dict
from mmvmae2.models.official import (maest_pretrain_cfg_from_official,
                                     maest_recognizer_cfg_from_official)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# official part -> (layout name, config of the model from the official kwargs)
PARTS = {
    'pretrain': ('maest_pretrain', maest_pretrain_cfg_from_official),
    'finetune': ('maest_finetune', maest_recognizer_cfg_from_official),
}
_QKV = re.compile(r'(.*\.attn\.)([qkv])\.(weight|bias)')


@pytest.fixture(scope='module')
def ref(any_maest_ref):
    init_default_scope('mmaction')
    return any_maest_ref


def build(ref, part):
    return MODELS.build(PARTS[part][1](ref[f'{part}_kwargs'])).eval()


def official_checkpoint(ref, part, container='model'):
    """A checkpoint as the official ``misc.save_model`` writes it."""
    return {container: dict(ref[f'{part}_state_dict']), 'epoch': 3,
            'args': argparse.Namespace(model='tiny', mask_ratio=0.9)}


def fingerprint(tensor):
    return tuple(tensor.shape), tensor.detach().contiguous().numpy().tobytes()


@pytest.mark.parametrize('part', list(PARTS))
@pytest.mark.parametrize('container', ['model', 'model_state'])
def test_layout_is_detected_and_loads_strictly(ref, part, container):
    """``main_finetune.py`` reads ``checkpoint['model']`` or, for the released
    models, ``checkpoint['model_state']``."""
    converted, layout = convert_state_dict(official_checkpoint(ref, part, container))
    assert layout == PARTS[part][0]
    result = build(ref, part).load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys


@pytest.mark.parametrize('part', list(PARTS))
def test_qkv_merge_is_exact_and_nothing_else_changes(ref, part):
    """Each block's ``q``, ``k``, ``v`` (weights and biases) become one
    ``attn.qkv`` Linear whose rows are q, then k, then v; every other tensor
    is carried over unchanged."""
    official = ref[f'{part}_state_dict']
    converted, _ = convert_state_dict(official)
    prefixes = sorted(m.group(1) for m in map(_QKV.fullmatch, official)
                      if m and m.group(2) == 'q' and m.group(3) == 'weight')
    assert prefixes  # every official block has them
    # official encoder 'blocks.i.' -> backbone, decoder 'decoder_blocks.i.' -> neck
    for prefix in prefixes:
        new = re.sub(r'^decoder_blocks\.', 'neck.blocks.', prefix)
        new = new if new.startswith('neck.') else 'backbone.' + new
        for kind in ('weight', 'bias'):
            expected = torch.cat([official[f'{prefix}{x}.{kind}'] for x in 'qkv'])
            assert torch.equal(converted[f'{new}qkv.{kind}'], expected), (prefix, kind)
    assert len(converted) == len(official) - 4 * len(prefixes)
    rest = Counter(fingerprint(v) for k, v in official.items() if not _QKV.fullmatch(k))
    kept = Counter(fingerprint(v) for k, v in converted.items()
                   if not re.fullmatch(r'.*\.attn\.qkv\.(weight|bias)', k))
    assert kept == rest


@pytest.mark.parametrize('part,key', [
    ('pretrain', 'blocks.0.attn.extra.weight'),
    ('pretrain', 'decoder_unused'),
    ('finetune', 'blocks.0.attn.rel_pos'),
    ('finetune', 'fc_norm.weight'),
])
def test_extra_key_is_named(maest_ref, part, key):
    sd = dict(maest_ref[f'{part}_state_dict'])
    sd[key] = torch.zeros(3)
    with pytest.raises(ValueError, match=re.escape(key)):
        convert_state_dict({'model': sd})


@pytest.mark.parametrize('part,key', [
    ('pretrain', 'blocks.0.attn.k.bias'),
    ('pretrain', 'decoder_blocks.0.attn.q.weight'),
    ('pretrain', 'pos_embed_temporal'),
    ('pretrain', 'decoder_norm.bias'),
    ('pretrain', 'decoder_blocks.0.mlp.fc1.bias'),
    ('finetune', 'blocks.0.attn.v.weight'),
    ('finetune', 'blocks.0.mlp.fc2.bias'),
    ('finetune', 'cls_token'),
])
def test_missing_key_is_named(maest_ref, part, key):
    sd = dict(maest_ref[f'{part}_state_dict'])
    del sd[key]
    with pytest.raises(ValueError, match=re.escape(key)):
        convert_state_dict({'model': sd})


@pytest.mark.parametrize('part', list(PARTS))
def test_a_parameter_missing_from_every_block_is_named(maest_ref, part):
    """Blocks that all lack the same tensor are as incomplete as one that does."""
    sd = {k: v for k, v in maest_ref[f'{part}_state_dict'].items()
          if not k.endswith('.norm1.weight')}
    with pytest.raises(ValueError, match=re.escape('blocks.0.norm1.weight')):
        convert_state_dict({'model': sd})


def test_cli_converts_a_finetuned_checkpoint_that_gives_the_official_logits(ref, tmp_path):
    src, dst = tmp_path / 'maest_ft.pth', tmp_path / 'maest_ft_mmvmae2.pth'
    torch.save(official_checkpoint(ref, 'finetune'), src)
    run = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'convert_checkpoint.py'),
                          str(src), str(dst)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert 'layout: maest_finetune' in run.stdout, run.stdout
    # every official tensor but the q/k/v triples (merged two by two) is written
    blocks = ref['finetune_kwargs']['depth']
    written = len(ref['finetune_state_dict']) - 4 * blocks
    assert f'keys written: {written}' in run.stdout, run.stdout
    assert load_checkpoint_file(dst)['meta']['converted_from'] == 'maest_finetune'

    model = build(ref, 'finetune')
    with checkpoint_loading():
        load_checkpoint(model, str(dst), map_location='cpu', strict=True)
    with torch.no_grad():
        logits, _ = model.extract_feat(ref['input_video'][:, None], stage='head')
    # as in test_maest_parity.py: 10 x (stored fp32-vs-fp64 + SDPA gaps) + 1e-6
    atol = 10 * (ref['fp32_vs_fp64']['finetune_logits'] +
                 ref.get('sdpa_vs_official_fp32', {}).get('finetune_logits', 0.)) + 1e-6
    err = (logits - ref['finetune_logits']).abs().max().item()
    assert err <= atol, f'logits of the converted file: max abs error {err:.3g} > {atol:.3g}'


def test_cli_names_the_missing_key_and_writes_nothing(maest_ref, tmp_path):
    checkpoint = official_checkpoint(maest_ref, 'pretrain')
    del checkpoint['model']['blocks.0.attn.k.bias']
    src, dst = tmp_path / 'broken.pth', tmp_path / 'out.pth'
    torch.save(checkpoint, src)
    run = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'convert_checkpoint.py'),
                          str(src), str(dst)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1
    assert 'blocks.0.attn.k.bias' in run.stderr, run.stderr
    assert not dst.exists()
