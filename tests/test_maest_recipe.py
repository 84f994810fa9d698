"""The MAE-ST configs against the official recipes, value by value.

Pretraining: facebookresearch/mae_st PRETRAIN.md (ViT-L command: --batch_size
2 --epochs 100 --warmup_epochs 5 --blr 1.6e-3 --mask_ratio 0.9 --pred_t_dim 8
--clip_grad 0.02 --decoder_depth 4 --repeat_aug 4 --num_frames 16
--sampling_rate 4 --norm_pix_loss), main_pretrain.py defaults (betas 0.9/0.95,
weight decay 0.05, decoder 512 wide, 16 heads, t_patch_size 2) and
util/kinetics.py (mean 0.45, std 0.225). Fine-tuning: FINETUNE.md ViT-L
(--blr 2.4e-3 --epochs 50 --layer_decay 0.75 --drop_path_rate 0.2 --dropout
0.3 --repeat_aug 2 --clip_grad 5.0) and PySlowFast's ViT-H
k400_VIT_H_16x4_FT.yaml (75 epochs, layer decay 0.8, dropout 0.5,
BASE_LR 3e-4 for 16 clips)."""
from pathlib import Path

import pytest
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmvmae2  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
PRETRAIN = sorted((ROOT / 'configs' / 'pretrain').glob('maest_vit-*-p16_*.py'))
FINETUNE = sorted((ROOT / 'configs' / 'recognition' / 'maest').glob('*.py'))
SIZES = dict(base=(768, 12), large=(1024, 24), huge=(1280, 32))


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    init_default_scope('mmaction')


def transform(pipeline, name):
    return next(t for t in pipeline if t['type'] == name)


def test_every_size_has_a_pretraining_config():
    sizes = [p.stem.split('_')[1] for p in PRETRAIN]
    assert sizes == ['vit-base-p16', 'vit-huge-p16', 'vit-large-p16']
    assert len(FINETUNE) == 4


@pytest.mark.parametrize('path', PRETRAIN, ids=lambda p: p.stem)
def test_pretraining_recipe(path):
    cfg = Config.fromfile(str(path))
    optim = cfg.optim_wrapper
    assert optim.type == 'OptimWrapper'  # --fp32 (official default)
    # --blr 1.6e-3 per 256 videos x 8 GPUs x 2 videos = 1e-4
    assert optim.optimizer.lr == pytest.approx(1e-4, rel=1e-12)
    assert optim.optimizer.betas == (0.9, 0.95) and optim.optimizer.weight_decay == 0.05
    assert optim.clip_grad == dict(max_norm=0.02)
    assert cfg.train_dataloader.batch_size == 2 and '_8xb2-100e_' in path.stem
    assert cfg.train_cfg.max_epochs == 100
    warmup, cosine = cfg.param_scheduler
    assert warmup.end == 5 and cosine.begin == 5 and cosine.eta_min == 0.

    pipeline = cfg.train_pipeline
    frames = transform(pipeline, 'SampleFrames')
    assert (frames.clip_len, frames.frame_interval) == (16, 4)
    assert transform(pipeline, 'VideoMAERepeatedAugment').num_repeats == 4
    masker = transform(pipeline, 'VideoMAEMaskGenerator')
    assert (masker.encoder_type, masker.encoder_ratio, masker.decoder_type) == \
        ('random', 0.9, 'none')

    model = MODELS.build(cfg.model)
    size = next(s for s in SIZES if f'vit-{s}' in path.stem)
    assert (model.backbone.embed_dims, model.backbone.num_layers) == SIZES[size]
    assert model.backbone.patch_size == (16, 16) and model.backbone.tubelet_size == 2
    assert model.backbone.sep_pos_embed and model.backbone.with_cls_token
    assert model.backbone.blocks[0].attn.qkv.bias is not None
    neck = model.neck
    assert (neck.embed_dims, len(neck.blocks), neck.blocks[0].attn.num_heads) == (512, 4, 16)
    assert neck.blocks[0].mlp.fc1.out_features == 2048 and neck.mode == 'mae'
    assert neck.encoder_to_decoder.bias is not None
    # pred_t_dim 8 of 16 frames: one frame of 16 x 16 x 3 per token
    assert model.head.target_frames == 8 and neck.patch_dims == 768
    assert model.head.norm_pix == 'joint' and model.head.target_space == 'input'
    pre = model.data_preprocessor
    assert pre.mean.flatten().tolist() == [114.75] * 3
    assert pre.std.flatten().tolist() == [57.375] * 3


@pytest.mark.parametrize('path', FINETUNE, ids=lambda p: p.stem)
def test_finetuning_recipe(path):
    cfg = Config.fromfile(str(path))
    large = 'vit-large' in path.stem
    optim = cfg.optim_wrapper
    assert optim.constructor == 'VideoMAELayerDecayOptimizerConstructor'
    # ViT-L: 2.4e-3 per 256 clips x 16 videos x 2 clips; ViT-H: 4.8e-3 (3e-4 per 16 clips)
    assert optim.optimizer.lr == pytest.approx(3e-4 if large else 6e-4, rel=1e-12)
    assert optim.paramwise_cfg.decay_rate == (0.75 if large else 0.8)
    assert optim.paramwise_cfg.num_layers == (24 if large else 32)
    assert optim.optimizer.weight_decay == 0.05 and optim.clip_grad == dict(max_norm=5.)
    assert cfg.train_cfg.max_epochs == (50 if large else 75)
    assert cfg.param_scheduler[1].eta_min == 1e-6
    backbone = cfg.model.backbone
    assert backbone.drop_path_rate == 0.2
    assert backbone.sep_pos_embed and backbone.with_cls_token and backbone.qkv_bias == 'qkv'
    assert not backbone.final_norm and backbone.with_fc_norm
    assert cfg.model.cls_head.dropout_ratio == (0.3 if large else 0.5)
    assert backbone.init_cfg.type == 'VideoMAEPretrained'
    assert cfg.model.data_preprocessor.mean == [114.75] * 3
