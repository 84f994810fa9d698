"""``VideoMAEPretrained``: encoder weights from every checkpoint layout into
a recognizer's ``VideoMAEViT`` (surviving MMEngine's init order), position
tables for other inputs, what is left out, refusals, and the K710 -> K400
classifier slice through a recognizer built from a config dict."""
import json
import math

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope

import mmvmae2  # noqa: F401
import mmvmae2.models.pretrained as pretrained_module
from mmvmae2.compat import CheckpointRefusedError

# 4 frames x 32 px, tubelet 2, patch 8 -> grid 2 x 4 x 4 = 32 tokens.
TINY = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)
GEOMETRY = dict(arch=TINY, img_size=32, patch_size=8, num_frames=4)
# Per block: norm1 (2) qkv.weight q_bias v_bias (3) proj (2) norm2 (2) fc1 fc2 (4).
PER_BLOCK = 13


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    init_default_scope('mmaction')


@pytest.fixture
def logs(monkeypatch):
    lines = []
    monkeypatch.setattr(pretrained_module, 'print_log', lambda msg, **kw: lines.append(msg))
    return lines


def randomize(module, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    return module


def recognizer(checkpoint, num_classes=4, head='UniFormerHead', head_init=None, **backbone):
    backbone = dict(dict(GEOMETRY, final_norm=False, with_fc_norm=True), **backbone)
    cls_head = dict(type=head, num_classes=num_classes, in_channels=TINY['embed_dims'])
    if head_init is not None:
        cls_head['init_cfg'] = head_init
    model = MODELS.build(dict(
        type='Recognizer3D',
        backbone=dict(type='VideoMAEViT',
                      init_cfg=dict(type='VideoMAEPretrained', checkpoint=str(checkpoint)),
                      **backbone),
        cls_head=cls_head,
        data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW')))
    model.init_weights()
    return model


def pretrainer_state_dict(seed=0):
    model = MODELS.build(dict(
        type='VideoMAEPretrainer',
        backbone=dict(type='VideoMAEViT', out_type='raw', **GEOMETRY),
        neck=dict(type='VideoMAEPretrainDecoder',
                  arch=dict(embed_dims=16, num_heads=2, num_layers=1)),
        head=dict(type='VideoMAEPretrainHead')))
    return {k: v.clone() for k, v in randomize(model, seed).state_dict().items()}


def recognizer_state_dict(num_classes=7, seed=0, **backbone):
    vit = MODELS.build(dict(type='VideoMAEViT', **dict(
        dict(GEOMETRY, final_norm=False, with_fc_norm=True), **backbone)))
    sd = {f'backbone.{k}': v.clone() for k, v in randomize(vit, seed).state_dict().items()}
    gen = torch.Generator().manual_seed(seed + 1)
    sd['cls_head.fc_cls.weight'] = torch.randn(num_classes, TINY['embed_dims'], generator=gen)
    sd['cls_head.fc_cls.bias'] = torch.randn(num_classes, generator=gen)
    return sd


def assert_backbone_equals(model, sd, prefix='backbone.', skip=()):
    own = model.backbone.state_dict()
    keys = [k for k in sd if k.startswith(prefix) and k[len(prefix):] in own and k not in skip]
    assert keys
    for key in keys:
        assert torch.equal(own[key[len(prefix):]], sd[key]), key


# --------------------------------------------------------------- layouts
def test_project_pretraining_checkpoint_encoder_only(tmp_path, logs):
    sd = pretrainer_state_dict()
    path = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': sd, 'meta': {'epoch': 1, 'iter': 4, 'seed': 0}}, path)
    model = recognizer(path)
    # The loaded weights survive the init of the backbone's children and the head.
    assert_backbone_equals(model, sd)
    fc_norm = model.backbone.fc_norm  # not in a pretraining checkpoint: unit LayerNorm
    assert torch.equal(fc_norm.weight, torch.ones(48))
    assert torch.equal(fc_norm.bias, torch.zeros(48))
    loaded = [m for m in logs if 'loaded' in m]
    assert len(loaded) == 1 and f'loaded {2 + 2 * PER_BLOCK} keys' in loaded[0]
    left = [m for m in logs if 'left out' in m]
    num_neck = sum(k.startswith('neck.') for k in sd)
    assert len(left) == 1 and f'left out {num_neck + 2} checkpoint keys' in left[0]
    assert f'neck: {num_neck}' in left[0] and 'backbone: 2' in left[0]  # encoder's norm
    assert 'kept as initialized: fc_norm.weight, fc_norm.bias' in ' '.join(logs)


def test_official_pretrain_layout(tmp_path, logs):
    sd = pretrainer_state_dict(seed=3)
    official = {}
    for key, value in sd.items():
        if key.startswith('backbone.'):
            official['encoder.' + key[len('backbone.'):]] = value
        elif key.startswith('neck.blocks.') or key.startswith(('neck.norm.', 'neck.head.')):
            official['decoder.' + key[len('neck.'):]] = value
        elif key in ('neck.encoder_to_decoder.weight', 'neck.mask_token'):
            official[key[len('neck.'):]] = value
    path = tmp_path / 'vit_t_pretrain.pth'
    torch.save({'model': official, 'epoch': 3}, path)
    model = recognizer(path)
    assert_backbone_equals(model, sd)
    assert any('layout official_pretrain' in m for m in logs)


def test_official_finetuned_layout_backbone_and_head(tmp_path, logs):
    sd = recognizer_state_dict(num_classes=4, seed=5)
    official = {(k[len('backbone.'):] if k.startswith('backbone.') else
                 k.replace('cls_head.fc_cls.', 'head.')): v for k, v in sd.items()}
    path = tmp_path / 'vit_t_k400_ft.pth'
    torch.save({'module': official}, path)
    model = recognizer(path, head_init=dict(type='VideoMAEPretrained', checkpoint=str(path)))
    assert_backbone_equals(model, sd)  # fc_norm included
    assert torch.equal(model.cls_head.fc_cls.weight, sd['cls_head.fc_cls.weight'])
    assert torch.equal(model.cls_head.fc_cls.bias, sd['cls_head.fc_cls.bias'])
    left = [m for m in logs if 'left out' in m]
    assert 'left out 2 checkpoint keys' in left[0] and 'cls_head: 2' in left[0]


# ------------------------------------------------------- position tables
def test_learnable_table_16_to_8_frames(tmp_path, logs):
    sd = recognizer_state_dict(num_frames=16, use_learnable_pos_emb=True)
    table = sd['backbone.pos_embed']
    assert table.shape == (1, 8 * 4 * 4, 48)
    torch.save({'state_dict': sd}, tmp_path / 'k.pth')
    model = recognizer(tmp_path / 'k.pth', num_frames=8, use_learnable_pos_emb=True)
    volume = table.reshape(1, 8, 4, 4, 48).permute(0, 4, 1, 2, 3)
    expected = F.interpolate(volume, size=(4, 4, 4), mode='trilinear', align_corners=False)
    expected = expected.permute(0, 2, 3, 4, 1).reshape(1, 64, 48)
    # not overwritten by the backbone's trunc-normal init of a learnable table
    assert torch.allclose(model.backbone.pos_embed, expected, atol=1e-6)
    assert_backbone_equals(model, sd, skip=('backbone.pos_embed', ))
    assert any('pos_embed (1, 128, 48) -> (1, 64, 48)' in m for m in logs)


def test_learnable_table_32_to_48_pixels(tmp_path):
    sd = recognizer_state_dict(use_learnable_pos_emb=True)
    torch.save({'state_dict': sd}, tmp_path / 'k.pth')
    model = recognizer(tmp_path / 'k.pth', img_size=48, use_learnable_pos_emb=True)
    volume = sd['backbone.pos_embed'].reshape(1, 2, 4, 4, 48).permute(0, 4, 1, 2, 3)
    expected = F.interpolate(volume, size=(2, 6, 6), mode='trilinear', align_corners=False)
    expected = expected.permute(0, 2, 3, 4, 1).reshape(1, 72, 48)
    assert torch.allclose(model.backbone.pos_embed, expected, atol=1e-6)


def test_fixed_table_is_regenerated_for_48_pixels_and_8_frames(tmp_path, logs):
    sd = recognizer_state_dict()  # fixed table: not stored
    torch.save({'state_dict': sd}, tmp_path / 'k.pth')
    model = recognizer(tmp_path / 'k.pth', img_size=48, num_frames=8)
    table = model.backbone.pos_embed[0]  # (4 * 6 * 6, 48)
    assert table.shape == (144, 48)
    for pos, j in ((0, 0), (0, 1), (7, 10), (143, 47), (100, 3)):
        angle = pos / 10000**(2 * (j // 2) / 48)
        assert table[pos, j].item() == pytest.approx(
            math.sin(angle) if j % 2 == 0 else math.cos(angle), abs=1e-6)
    assert_backbone_equals(model, sd)


def test_learnable_model_from_fixed_table_checkpoint(tmp_path, logs):
    sd = recognizer_state_dict()
    torch.save({'state_dict': sd}, tmp_path / 'k.pth')
    model = recognizer(tmp_path / 'k.pth', use_learnable_pos_emb=True)
    table = model.backbone.pos_embed[0]
    assert table[0, 1].item() == 1.0 and table[1, 0].item() == pytest.approx(math.sin(1.))


# ------------------------------------------------------------- refusals
def test_other_width_is_refused_naming_key_and_shapes(tmp_path):
    sd = recognizer_state_dict()
    torch.save({'state_dict': sd}, tmp_path / 'k.pth')
    with pytest.raises(ValueError, match=r'backbone\.patch_embed\.proj\.weight has shape '
                       r'\(48, 3, 2, 8, 8\) in the checkpoint and \(32, 3, 2, 8, 8\)'):
        recognizer(tmp_path / 'k.pth',
                   arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64))


def test_fewer_blocks_in_checkpoint_is_refused(tmp_path):
    sd = recognizer_state_dict()
    torch.save({'state_dict': sd}, tmp_path / 'k.pth')
    with pytest.raises(ValueError, match=r'lacks blocks\.2\.'):
        recognizer(tmp_path / 'k.pth', arch=dict(TINY, num_layers=3))
    with pytest.raises(ValueError, match=r'backbone\.blocks\.1\.norm1\.weight .*no counterpart'):
        recognizer(tmp_path / 'k.pth', arch=dict(TINY, num_layers=1))


def test_learned_table_into_fixed_table_model_is_refused(tmp_path):
    torch.save({'state_dict': recognizer_state_dict(use_learnable_pos_emb=True)},
               tmp_path / 'k.pth')
    with pytest.raises(ValueError, match='use_learnable_pos_emb=True'):
        recognizer(tmp_path / 'k.pth')


def test_missing_file_names_path_and_converter(tmp_path):
    path = tmp_path / 'nowhere' / 'vit_b_k710.pth'
    with pytest.raises(FileNotFoundError) as err:
        recognizer(path)
    assert str(path) in str(err.value) and 'tools/convert_checkpoint.py' in str(err.value)


class _Payload:

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


def test_crafted_file_is_refused(tmp_path):
    target = tmp_path / 'pwned.txt'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': recognizer_state_dict(), 'meta': _Payload(str(target))}, path)
    with pytest.raises(CheckpointRefusedError, match='not allowed'):
        recognizer(path)
    assert not target.exists()


# ------------------------------------------------------ K710 -> K400 slice
CLASS_MAP = [5, 0, 3, 6]  # head class i <- checkpoint class CLASS_MAP[i]


def test_k710_classifier_slice_through_config(tmp_path, logs):
    sd = recognizer_state_dict(num_classes=7, seed=9)
    path = tmp_path / 'k710.pth'
    torch.save({'state_dict': sd, 'meta': {}}, path)
    map_file = tmp_path / 'label_710to400.json'
    map_file.write_text(json.dumps(CLASS_MAP, indent=2))
    model = recognizer(path, num_classes=4, head_init=dict(
        type='VideoMAEPretrained', checkpoint=str(path), class_map=str(map_file)))
    weight, bias = model.cls_head.fc_cls.weight, model.cls_head.fc_cls.bias
    for i, j in enumerate(CLASS_MAP):
        assert torch.equal(weight[i], sd['cls_head.fc_cls.weight'][j])
        assert torch.equal(bias[i], sd['cls_head.fc_cls.bias'][j])
    assert_backbone_equals(model, sd)
    assert any('rows picked by class_map (7 -> 4)' in m for m in logs)


def test_timesformer_head_ignores_init_cfg(tmp_path):
    # Why the slice needs a head that runs its init_cfg (UniFormerHead).
    sd = recognizer_state_dict(num_classes=4)
    torch.save({'state_dict': sd}, tmp_path / 'k.pth')
    model = recognizer(tmp_path / 'k.pth', head='TimeSformerHead', head_init=dict(
        type='VideoMAEPretrained', checkpoint=str(tmp_path / 'k.pth')))
    assert not torch.equal(model.cls_head.fc_cls.weight, sd['cls_head.fc_cls.weight'])


@pytest.mark.parametrize('head_init,message', [
    (dict(), r'shape \(7, 48\), the head \(4, 48\); give class_map'),
    (dict(class_map=[0, 1, 2]), 'class_map has 3 entries, the head 4 classes'),
    (dict(class_map=[0, 1, 2, 7]), r'indices \[7\] outside the 7 classes'),
])
def test_classifier_refusals(tmp_path, head_init, message):
    torch.save({'state_dict': recognizer_state_dict(num_classes=7)}, tmp_path / 'k.pth')
    head_init = dict(type='VideoMAEPretrained', checkpoint=str(tmp_path / 'k.pth'), **head_init)
    with pytest.raises(ValueError, match=message):
        recognizer(tmp_path / 'k.pth', head_init=head_init)


def test_class_map_on_the_backbone_is_refused(tmp_path):
    torch.save({'state_dict': recognizer_state_dict()}, tmp_path / 'k.pth')
    vit = MODELS.build(dict(type='VideoMAEViT', init_cfg=dict(
        type='VideoMAEPretrained', checkpoint=str(tmp_path / 'k.pth'), class_map=[0]),
        **GEOMETRY))
    with pytest.raises(ValueError, match='model.cls_head.init_cfg'):
        vit.init_weights()


def test_head_from_pretraining_checkpoint_is_refused(tmp_path):
    torch.save({'state_dict': pretrainer_state_dict()}, tmp_path / 'p.pth')
    with pytest.raises(ValueError, match='no classifier'):
        recognizer(tmp_path / 'p.pth', head_init=dict(type='VideoMAEPretrained',
                                                      checkpoint=str(tmp_path / 'p.pth')))


@pytest.mark.parametrize('leaf,classes', [
    ('vit-giant-p14_k710-post_8xb3-3e_k400.py', 400),
    ('vit-giant-p14_k710-post_8xb3-3e_k700.py', 700),
])
def test_k710_slice_through_the_shipped_leaf_config(tmp_path, leaf, classes):
    """The K710 -> K400/700 leaf config as shipped (only the sizes shrunk
    and the two paths pointed at test files): row i of its classifier is
    row map[i] of the K710 checkpoint's, and the encoder is the K710 one."""
    from pathlib import Path

    from mmengine.config import Config
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[1] / 'configs' / 'recognition' /
                              'videomaev2' / leaf))
    sd = recognizer_state_dict(num_classes=710, seed=3, patch_size=8)
    torch.save({'state_dict': sd, 'meta': {}}, tmp_path / 'k710.pth')
    class_map = torch.randperm(710, generator=torch.Generator().manual_seed(1))[:classes]
    (tmp_path / 'map.json').write_text(json.dumps(class_map.tolist()))
    model_cfg = cfg.model
    model_cfg.backbone.update(GEOMETRY, drop_path_rate=0.)
    model_cfg.backbone.init_cfg.checkpoint = str(tmp_path / 'k710.pth')
    model_cfg.cls_head.in_channels = TINY['embed_dims']
    model_cfg.cls_head.init_cfg.update(checkpoint=str(tmp_path / 'k710.pth'),
                                       class_map=str(tmp_path / 'map.json'))
    model = MODELS.build(model_cfg)
    model.init_weights()
    weight, bias = model.cls_head.fc_cls.weight, model.cls_head.fc_cls.bias
    assert weight.shape == (classes, TINY['embed_dims'])
    for i, j in enumerate(class_map.tolist()):
        assert torch.equal(weight[i], sd['cls_head.fc_cls.weight'][j])
        assert torch.equal(bias[i], sd['cls_head.fc_cls.bias'][j])
    assert_backbone_equals(model, sd)
