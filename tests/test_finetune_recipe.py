"""Fine-tuning configs against the official VideoMAE V2 recipes.

Expected values are literals read from OpenGVLab/VideoMAEv2:
``scripts/finetune/vit_{b,l,h,g}_*_ft.sh`` (``--lr`` per 256 videos,
``--epochs``, ``--warmup_epochs``, ``--layer_decay``, ``--drop_path``,
``--head_drop_rate``, ``--weight_decay``, ``--clip_grad``, ``--batch_size``,
``--test_num_segment``) and the defaults of ``run_class_finetuning.py``
(``--warmup_epochs 5``, ``--min_lr 1e-6``, ``--drop_path 0.1``,
``--layer_decay 0.75``, ``--num_sample 2``, ``--aa rand-m7-n4-mstd0.5-inc1``,
``--smoothing 0.1``, ``--reprob 0.25``, ``--mixup 0.8``, ``--cutmix 1.0``,
``--opt_betas 0.9 0.999``, ``--init_scale 0.001``; lr scaled by
``batch_size * world_size / 256``). Rows marked ``adapted`` have no official
script (see each config's header). The configs state 8 GPUs.
"""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import FUNCTIONS, init_default_scope

import mmvmae2  # noqa: F401
from mmaction.registry import MODELS
from mmvmae2.models.backbones.vit import ARCH_SETTINGS

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / 'configs' / 'recognition' / 'videomaev2'

# stem: (lr per 256 videos, epochs, warmup, layer decay, drop path, head dropout,
#        weight decay, clip grad, videos per GPU)
RECIPES = {
    'vit-small-p16_k710-distill_8xb16-90e_k710': (7e-4, 90, 5, .75, .1, 0., .05, None, 16),  # ad.
    'vit-small-p16_k710-distill_8xb16-3e_k400': (1e-5, 3, 1, .75, .1, 0., .1, None, 16),  # adapted
    'vit-base-p16_hybrid-pre_8xb16-90e_k400': (7e-4, 90, 5, .75, .1, 0., .05, None, 16),
    'vit-base-p16_hybrid-pre_8xb16-90e_k600': (7e-4, 90, 5, .75, .1, 0., .05, None, 16),  # adapted
    'vit-base-p16_hybrid-pre_8xb16-90e_k700': (7e-4, 90, 5, .75, .1, 0., .05, None, 16),  # adapted
    'vit-base-p16_hybrid-pre_8xb16-90e_k710': (7e-4, 90, 5, .75, .1, 0., .05, None, 16),
    'vit-base-p16_hybrid-pre_8xb16-25e_ssv2': (2e-3, 25, 5, .65, .1, 0., .05, None, 16),
    'vit-base-p16_hybrid-pre_8xb16-25e_ssv1': (2e-3, 25, 5, .65, .1, 0., .05, None, 16),  # adapted
    'vit-base-p16_k710-distill_8xb16-50e_ucf101': (1e-3, 50, 5, .75, .1, .5, .05, None, 16),  # ad.
    'vit-base-p16_k710-distill_8xb16-15e_hmdb51': (5e-4, 15, 5, .75, .1, .5, .05, None, 16),  # ad.
    'vit-large-p16_hybrid-pre_8xb6-35e_k400': (2e-3, 35, 5, .75, .2, 0., .05, None, 6),
    'vit-large-p16_hybrid-pre_8xb6-20e_ssv2': (5e-4, 20, 5, .75, .2, 0., .05, None, 6),
    'vit-huge-p16_hybrid-pre_8xb4-40e_k400': (1e-3, 40, 5, .8, .2, .5, .05, None, 4),
    'vit-huge-p16_hybrid-pre_8xb4-40e_k600': (1e-3, 40, 5, .8, .2, .5, .05, None, 4),
    'vit-huge-p16_hybrid-pre_8xb4-40e_k710': (1e-3, 40, 5, .8, .2, .5, .05, None, 4),
    'vit-huge-p16_hybrid-pre_8xb4-20e_ssv2': (5e-4, 20, 5, .8, .2, 0., .05, None, 4),
    'vit-giant-p14_hybrid-pre_8xb3-30e_k400': (1e-3, 30, 5, .9, .2, 0., .1, None, 3),
    'vit-giant-p14_hybrid-pre_8xb3-35e_k710': (1e-3, 35, 5, .9, .3, 0., .1, 5., 3),
    'vit-giant-p14_k710-post_8xb3-3e_k400': (1e-5, 3, 1, .9, .25, 0., .1, None, 3),
    'vit-giant-p14_k710-post_8xb3-3e_k600': (1e-5, 3, 1, .9, .25, 0., .1, None, 3),
    'vit-giant-p14_k710-post_8xb3-3e_k700': (1e-5, 3, 1, .9, .25, 0., .1, None, 3),  # adapted
    'vit-giant-p14_hybrid-pre_8xb3-20e_ssv2': (3e-4, 20, 5, .9, .25, 0., .05, None, 3),
    'vit-giant-p14_hybrid-pre_8xb3-20e_ssv1': (3e-4, 20, 5, .9, .25, 0., .05, None, 3),  # adapted
    'vit-giant-p14_k710-post_8xb3-50e_ucf101': (1e-3, 50, 5, .9, .35, .5, .05, None, 3),
    'vit-giant-p14_k710-post_8xb3-15e_hmdb51': (5e-4, 15, 5, .9, .35, .5, .05, None, 3),
}
DEPTH = {'small': 12, 'base': 12, 'large': 24, 'huge': 32, 'giant': 40}
CLASSES = {'k400': 400, 'k600': 600, 'k700': 700, 'k710': 710, 'ssv1': 174, 'ssv2': 174,
           'ucf101': 101, 'hmdb51': 51}
# dataset: (frame interval or None for sparse sampling, test clips, flip)
DATA = {'k400': (4, 5, True), 'k600': (4, 5, True), 'k700': (4, 5, True), 'k710': (4, 5, True),
        'ucf101': (4, 5, True), 'hmdb51': (2, 5, True), 'ssv2': (None, 2, False),
        'ssv1': (None, 2, False)}


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    init_default_scope('mmaction')


def find(pipeline, type_):
    return next(t for t in pipeline if t['type'] == type_)


def test_every_config_has_a_recipe_row():
    assert sorted(p.stem for p in CONFIG_DIR.glob('*.py')) == sorted(RECIPES)


def test_layer_decay_gives_the_official_scales():
    """MMAction2's LearningRateDecayOptimizerConstructor on VideoMAEViT, L = 4
    blocks, decay 0.75: block i (0-based) gets 0.75 ** (4 - i) of the lr, the
    patch embedding 0.75 ** 5, fc_norm and head 1 (official
    LayerDecayValueAssigner: decay ** (L + 1 - layer_id), layer_id = i + 1)."""
    model = MODELS.build(dict(
        type='Recognizer3D',
        backbone=dict(type='VideoMAEViT', arch=dict(embed_dims=48, num_layers=4, num_heads=3,
                                                    feedforward_channels=96),
                      img_size=32, patch_size=8, num_frames=4, final_norm=False,
                      with_fc_norm=True),
        cls_head=dict(type='TimeSformerHead', num_classes=5, in_channels=48)))
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', constructor='LearningRateDecayOptimizerConstructor',
        optimizer=dict(type='AdamW', lr=1., betas=(0.9, 0.999), weight_decay=0.05),
        paramwise_cfg=dict(decay_rate=0.75, decay_type='layer_wise', num_layers=4)))
    scale, decay = {}, {}
    for group in wrapper.optimizer.param_groups:
        for name in group['param_names']:
            scale[name], decay[name] = group['lr'], group['weight_decay']
    expected = {'backbone.patch_embed.proj.weight': 0.2373046875,
                'backbone.blocks.0.attn.qkv.weight': 0.31640625,
                'backbone.blocks.1.mlp.fc1.weight': 0.421875,
                'backbone.blocks.2.norm1.weight': 0.5625,
                'backbone.blocks.3.attn.q_bias': 0.75,
                'backbone.fc_norm.weight': 1., 'cls_head.fc_cls.weight': 1.}
    for name, value in expected.items():
        assert scale[name] == pytest.approx(value, rel=1e-12), name
    # No decay on 1-D parameters (norms, q/v biases) and biases; the fixed
    # position table is not a parameter at all.
    assert decay['backbone.blocks.3.attn.q_bias'] == 0 and decay['cls_head.fc_cls.bias'] == 0
    assert decay['backbone.blocks.0.attn.qkv.weight'] == 0.05
    assert 'backbone.pos_embed' not in scale and len(scale) == len(list(model.parameters()))


@pytest.mark.parametrize('stem', sorted(RECIPES))
def test_recipe(stem):
    cfg = Config.fromfile(str(CONFIG_DIR / f'{stem}.py'))
    lr256, epochs, warmup, layer_decay, drop_path, head_drop, wd, clip, per_gpu = RECIPES[stem]
    size = stem.split('_')[0].split('-')[1]
    data = stem.split('_')[-1]
    videos = 8 * per_gpu

    optim = cfg.optim_wrapper
    assert optim.type == 'AmpOptimWrapper'
    assert optim.constructor == 'LearningRateDecayOptimizerConstructor'
    assert optim.optimizer.type == 'AdamW' and optim.optimizer.betas == (0.9, 0.999)
    assert optim.optimizer.lr == pytest.approx(lr256 * videos / 256, rel=1e-12)
    assert optim.optimizer.weight_decay == wd
    assert optim.paramwise_cfg.decay_rate == layer_decay
    assert optim.paramwise_cfg.num_layers == DEPTH[size]
    assert optim.get('clip_grad') == (dict(max_norm=clip) if clip else None)
    assert cfg.train_dataloader.batch_size == per_gpu and f'_8xb{per_gpu}-' in stem
    assert cfg.auto_scale_lr.base_batch_size == videos

    linear, cosine = cfg.param_scheduler
    assert (linear.type, linear.begin, linear.end) == ('LinearLR', 0, warmup)
    assert (cosine.type, cosine.begin, cosine.end) == ('CosineAnnealingLR', warmup, epochs)
    assert cosine.eta_min_ratio == pytest.approx(1e-6 / lr256, rel=1e-12)  # --min_lr 1e-6
    assert cfg.train_cfg.max_epochs == epochs and f'-{epochs}e_' in stem

    model = cfg.model
    assert model.backbone.drop_path_rate == drop_path
    assert model.backbone.init_cfg.type == 'VideoMAEPretrained'
    assert model.backbone.out_type == 'avg' and model.backbone.with_fc_norm
    assert not model.backbone.final_norm
    head = model.cls_head
    assert head.dropout_ratio == head_drop and head.num_classes == CLASSES[data]
    assert head.label_smooth_eps == 0.1 and head.average_clips == 'prob'
    assert head.type == 'UniFormerHead'  # its init_weights runs init_cfg
    if 'k710-' in stem and data in ('k400', 'k600', 'k700'):
        assert head.init_cfg.type == 'VideoMAEPretrained'
        assert head.init_cfg.class_map.endswith(f'label_710to{data[1:]}.json')
        assert set(head.init_cfg) == {'type', 'checkpoint', 'class_map'}
    else:
        assert head.init_cfg == dict(type='TruncNormal', layer='Linear', std=0.02 * 0.001, bias=0)
    arch = ARCH_SETTINGS[model.backbone.arch]
    assert arch['num_layers'] == DEPTH[size] and head.in_channels == arch['embed_dims']

    mixup, cutmix = model.data_preprocessor.blending.augments
    assert (mixup.type, mixup.alpha, mixup.num_classes) == ('MixupBlending', .8, CLASSES[data])
    assert (cutmix.type, cutmix.alpha, cutmix.num_classes) == ('CutmixBlending', 1., CLASSES[data])

    interval, test_clips, flip = DATA[data]
    train = cfg.train_dataloader.dataset.pipeline
    repeat = find(train, 'VideoMAERepeatedAugment')
    assert repeat['num_repeats'] == 2 == cfg.train_dataloader.collate_fn.num_repeats
    aug = repeat['transforms']
    rand = find(aug, 'VideoMAERandAugment')
    assert (rand['magnitude'], rand['num_layers']) == (7, 4)
    crop = find(aug, 'RandomResizedCrop')
    assert crop['area_range'] == (0.08, 1.) and crop['aspect_ratio_range'] == (3 / 4, 4 / 3)
    assert any(t['type'] == 'Flip' for t in aug) is flip
    erase = find(aug, 'VideoMAERandomErasing')
    assert (erase['erase_prob'], erase['mode']) == (0.25, 'pixel')
    test = cfg.test_dataloader.dataset.pipeline
    if interval is None:  # sparse: 16 segments, one frame each
        assert find(train, 'UniformSample')['clip_len'] == 16
        assert find(test, 'UniformSample')['num_clips'] == test_clips
    else:
        sampler = find(train, 'SampleFrames')
        assert (sampler['clip_len'], sampler['frame_interval']) == (16, interval)
        assert find(test, 'SampleFrames')['num_clips'] == test_clips
    assert find(test, 'ThreeCrop')['crop_size'] == 224
    val = cfg.val_dataloader.dataset.pipeline
    assert find(val, 'CenterCrop')['crop_size'] == 224
    assert cfg.val_cfg.type == 'ValLoop' and cfg.train_cfg.val_interval == 1


def test_repeated_clips_collate_is_registered():
    """The training batches count videos; each gives 2 clips that the collate
    function named in the configs turns into samples of their own (official
    multiple_samples_collate). It is part of the library."""
    cfg = Config.fromfile(str(CONFIG_DIR / 'vit-base-p16_hybrid-pre_8xb16-90e_k400.py'))
    name = cfg.train_dataloader.collate_fn.type
    assert FUNCTIONS.get(name) is not None, (
        f'collate function {name!r} is not registered: mmvmae2 must register it in mmengine\'s '
        f'FUNCTIONS (COLLATE_FUNCTIONS) registry')
