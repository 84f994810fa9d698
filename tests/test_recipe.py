"""Every pretraining config against the official VideoMAE V2 recipe.

The expected values are literals read from the official code
(OpenGVLab/VideoMAEv2): ``scripts/pretrain/vit_{b,l,h,g}_hybrid_pt.sh`` (per
size: ``--lr``, ``--warmup_epochs``, ``--epochs``, ``--clip_grad``,
``--opt_betas``, ``--with_checkpoint``), ``run_mae_pretraining.py`` (defaults
``--min_lr 1e-5``, ``--warmup_lr 1e-6``, ``--weight_decay 0.05``; every lr
multiplied by ``batch_size * world_size / 256`` with ``batch_size`` counting
videos; fp16 autocast with ``NativeScaler``, i.e. ``torch.cuda.amp.GradScaler``
with its dynamic defaults, for every model), ``utils.cosine_scheduler``
(per-iteration warmup then cosine) and ``models/modeling_pretrain.py`` (ViT-g
``mlp_ratio=48 / 11`` for encoder and decoder). The configs train on 8 GPUs x
8 videos = 64 videos, a quarter of the 256 the official lrs are given for.
The official repository has no ViT-S pretraining script; ViT-S follows ViT-B.
"""
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope

import mmvmae2  # noqa: F401
from mmaction.registry import MODELS

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / 'configs' / 'pretrain'
# VideoMAE V2's recipes (MAE-ST's: tests/test_maest_recipe.py)
RECIPES = sorted(p for p in CONFIG_DIR.glob('videomaev2_*.py') if 'demo' not in p.stem)
DEMO = CONFIG_DIR / 'videomaev2_vit-tiny_demo.py'

# Official value per 256 videos x 64 / 256 videos.
LR = {'small': 2.5e-4, 'base': 2.5e-4, 'large': 2.5e-4, 'huge': 2.5e-4,
      'giant': 1.5e-4}  # --lr 1e-3, ViT-g 6e-4
MIN_LR = 2.5e-6  # --min_lr 1e-5
WARMUP_LR = 2.5e-7  # --warmup_lr 1e-6
EPOCHS = {'small': (200, 20), 'base': (200, 20), 'large': (300, 30), 'huge': (300, 30),
          'giant': (300, 30)}  # (--epochs, --warmup_epochs)
WITH_CP = {'small': False, 'base': False, 'large': False, 'huge': True, 'giant': True}
# Decoder MLP width: 4 x 384 (ViT-B), int(512 * 48 / 11) = 2234 (ViT-g).
DECODER_MLP = {'small': 768, 'base': 1536, 'large': 2048, 'huge': 2048, 'giant': 2234}
ENCODER_MLP = {'small': 1536, 'base': 3072, 'large': 4096, 'huge': 5120, 'giant': 6144}


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    init_default_scope('mmaction')


def size_of(path: Path) -> str:
    return next(s for s in LR if f'vit-{s}' in path.stem)


def lr_curve(cfg: Config, epoch_length: int, lr_scale: float = 1.) -> list:
    """The lr of every training iteration, from mmengine's schedulers built
    the way the runner builds them (``convert_to_iter_based``), stepped the way
    ``ParamSchedulerHook`` steps them (after each iteration)."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=cfg.optim_wrapper.optimizer.lr * lr_scale)
    schedulers = []
    for sched in cfg.param_scheduler:
        sched = dict(sched)
        cls = PARAM_SCHEDULERS.get(sched.pop('type'))
        assert sched.pop('convert_to_iter_based') and sched['by_epoch']
        schedulers.append(cls.build_iter_from_epoch(optimizer, epoch_length=epoch_length,
                                                    **sched))
    curve = []
    for _ in range(cfg.train_cfg.max_epochs * epoch_length):
        curve.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for s in schedulers:
            s.step()
    return curve


def official_cosine(base, final, epochs, niter, warmup_epochs, start_warmup=0.):
    """``utils.cosine_scheduler`` of the official code, written out."""
    warmup_iters = warmup_epochs * niter
    warmup = [start_warmup + (base - start_warmup) * i / (warmup_iters - 1)
              for i in range(warmup_iters)]  # np.linspace(start, base, warmup_iters)
    rest = epochs * niter - warmup_iters
    return warmup + [final + 0.5 * (base - final) * (1 + math.cos(math.pi * i / rest))
                     for i in range(rest)]


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: p.stem)
def test_optimizer_and_precision(path):
    cfg = Config.fromfile(str(path))
    size = size_of(path)
    optim = cfg.optim_wrapper
    assert optim.type == 'AmpOptimWrapper' and optim.loss_scale == 'dynamic'
    assert optim.optimizer.type == 'AdamW'
    assert optim.optimizer.lr == pytest.approx(LR[size], rel=1e-12)
    assert optim.optimizer.betas == (0.9, 0.95) and optim.optimizer.weight_decay == 0.05
    if size == 'giant':
        assert optim.clip_grad == dict(max_norm=0.02)
    else:
        assert optim.get('clip_grad') is None
    # The stated batch: 8 GPUs x 8 videos (x 4 clips each) = the 64 videos the lr is for.
    assert '_8xb8-' in path.stem and cfg.train_dataloader.batch_size == 8
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=64)
    repeat = next(t for t in cfg.train_pipeline if t['type'] == 'VideoMAERepeatedAugment')
    assert repeat['num_repeats'] == 4  # --num_sample 4


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: p.stem)
def test_schedule(path):
    cfg = Config.fromfile(str(path))
    size = size_of(path)
    epochs, warmup = EPOCHS[size]
    assert cfg.train_cfg.max_epochs == epochs and f'-{epochs}e_' in path.stem
    linear, cosine = cfg.param_scheduler
    assert (linear.type, linear.begin, linear.end) == ('LinearLR', 0, warmup)
    assert (cosine.type, cosine.begin, cosine.end) == ('CosineAnnealingLR', warmup, epochs)

    niter = 50  # iterations per epoch
    curve = lr_curve(cfg, niter)
    official = official_cosine(LR[size], MIN_LR, epochs, niter, warmup)
    w = warmup * niter
    assert curve[0] == pytest.approx(WARMUP_LR, rel=1e-9)
    # mmengine's LinearLR reaches the peak one iteration after the official
    # linspace does: 1 / (warmup iterations) apart, nothing at real epoch lengths.
    assert curve[w - 1] == pytest.approx(LR[size], rel=1.01 / w)
    assert curve[w] == pytest.approx(LR[size], rel=1.01 / w)
    assert max(curve) <= LR[size] * (1 + 1e-12)
    assert curve[-1] == pytest.approx(MIN_LR, rel=1e-3)
    # Per iteration, the cosine part follows the official schedule.
    for i in range(w, len(curve), 97):
        assert curve[i] == pytest.approx(official[i], rel=1.01 / w), i
    assert curve[-1] == pytest.approx(official[-1], rel=1e-5)
    assert all(a <= b for a, b in zip(curve[:w], curve[1:w + 1]))  # warmup rises

    # --auto-scale-lr multiplies the optimizer lr; the whole curve follows.
    doubled = lr_curve(cfg, 5, lr_scale=2.)
    assert doubled[0] == pytest.approx(2 * WARMUP_LR, rel=1e-9)
    assert doubled[-1] == pytest.approx(2 * MIN_LR, rel=2e-2)


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: p.stem)
def test_model_and_data(path):
    cfg = Config.fromfile(str(path))
    size = size_of(path)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert model.backbone.with_cp is WITH_CP[size] and model.neck.with_cp is WITH_CP[size]
    assert model.backbone.blocks[0].mlp.fc1.out_features == ENCODER_MLP[size]
    assert model.neck.blocks[0].mlp.fc1.out_features == DECODER_MLP[size]
    aug = next(t for t in cfg.train_pipeline if t['type'] == 'VideoMAERepeatedAugment')
    crop = next(t for t in aug['transforms'] if t['type'] == 'MultiScaleCrop')
    # more_fix_crop=True of the official GroupMultiScaleCrop: 13 fixed positions.
    assert crop['num_fixed_crops'] == 13 and crop['random_crop'] is False
    assert crop['scales'] == (1, .875, .75, .66) and crop['max_wh_scale_gap'] == 1
    if size == 'giant':
        masker = next(t for t in cfg.train_pipeline if t['type'] == 'VideoMAEMaskGenerator')
        assert masker['patch_size'] == 14 and model.backbone.patch_size == (14, 14)


def test_giant_decoder_alone_has_the_official_mlp():
    """The ViT-g decoder (the size table, without the 1B encoder) has the
    official 512 -> 2234 MLP and loads an official-shaped decoder block."""
    neck = MODELS.build(dict(type='VideoMAEPretrainDecoder', arch='giant',
                             encoder_embed_dims=1408, num_patches=2048, patch_size=14))
    fc1 = neck.blocks[0].mlp.fc1
    assert (fc1.in_features, fc1.out_features) == (512, 2234)
    assert neck.blocks[0].mlp.fc2.out_features == 512 and neck.head.out_features == 1176
    official_block = {'mlp.fc1.weight': torch.zeros(2234, 512), 'mlp.fc1.bias': torch.zeros(2234),
                      'mlp.fc2.weight': torch.zeros(512, 2234)}
    neck.blocks[0].load_state_dict(official_block, strict=False)


def test_demo_trains_in_fp32_on_the_recipe_schedule():
    cfg = Config.fromfile(str(DEMO))
    assert cfg.optim_wrapper.type == 'OptimWrapper' and 'loss_scale' not in cfg.optim_wrapper
    assert cfg.optim_wrapper.optimizer.betas == (0.9, 0.95)
    curve = lr_curve(cfg, 4)
    assert curve[0] == pytest.approx(5e-6, rel=1e-9)  # start_factor 1e-2 of 5e-4
    assert curve[-1] == pytest.approx(5e-6, rel=2e-2)  # cosine to min_lr / lr = 1e-2
