"""``VideoMAELayerDecayOptimizerConstructor``: MMAction2's groups for a
VideoMAE V2 ViT, and the official MAE-ST rule (mae_st util/lr_decay.py +
models_vit.no_weight_decay) for its separable tables and cls token."""
import pytest
import torch.nn as nn
from mmaction.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import init_default_scope

import mmvmae2  # noqa: F401

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
OPTIM = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
PARAMWISE = dict(num_layers=2, decay_rate=0.5, decay_type='layer_wise')


class Recognizer(nn.Module):
    """The parameter names of a recognizer (``backbone.*``, ``cls_head.*``)."""

    def __init__(self, **backbone):
        super().__init__()
        self.backbone = MODELS.build(dict(type='VideoMAEViT', arch=TINY, img_size=32,
                                          patch_size=16, num_frames=4, final_norm=False,
                                          with_fc_norm=True, **backbone))
        self.cls_head = nn.Linear(32, 3)


def groups_by_name(constructor, model):
    optim = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=constructor, optim_wrapper_cfg=OPTIM, paramwise_cfg=PARAMWISE))(model).optimizer
    return {name: (group['lr'], group['weight_decay'])
            for group in optim.param_groups for name in group['param_names']}


@pytest.fixture(scope='module', autouse=True)
def scope():
    init_default_scope('mmaction')


def test_videomae_v2_groups_equal_mmaction2s():
    model = Recognizer()
    ours = groups_by_name('VideoMAELayerDecayOptimizerConstructor', model)
    theirs = groups_by_name('LearningRateDecayOptimizerConstructor', model)
    assert ours == theirs


def test_maest_tables_and_cls_token_sit_in_layer_0_without_weight_decay():
    model = Recognizer(sep_pos_embed=True, with_cls_token=True, qkv_bias='qkv')
    groups = groups_by_name('VideoMAELayerDecayOptimizerConstructor', model)
    # 2 blocks: layer 0 gets 0.5 ** 3 of the lr, block i 0.5 ** (2 - i), the rest 1
    for name in ('cls_token', 'pos_embed_spatial', 'pos_embed_temporal', 'pos_embed_class'):
        assert groups[f'backbone.{name}'] == (1e-3 * 0.125, 0.), name
    assert groups['backbone.patch_embed.proj.weight'] == (1e-3 * 0.125, 0.05)
    assert groups['backbone.blocks.0.attn.qkv.weight'] == (1e-3 * 0.25, 0.05)
    assert groups['backbone.blocks.1.attn.qkv.bias'] == (1e-3 * 0.5, 0.)
    assert groups['backbone.fc_norm.weight'] == (1e-3, 0.)
    assert groups['cls_head.weight'] == (1e-3, 0.05)
    # MMAction2's rule misses them: full lr and weight decay on the 3-D tables
    theirs = groups_by_name('LearningRateDecayOptimizerConstructor', model)
    assert theirs['backbone.pos_embed_spatial'] == (1e-3, 0.05)


def test_missing_paramwise_cfg_is_a_clear_error():
    with pytest.raises(ValueError, match='needs paramwise_cfg with num_layers and decay_rate'):
        OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
            type='VideoMAELayerDecayOptimizerConstructor', optim_wrapper_cfg=OPTIM,
            paramwise_cfg=dict(decay_rate=0.5)))(Recognizer())
