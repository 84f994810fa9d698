"""Behaviour of the pretraining model: token layout of the target, pixel
normalization, the set of tokens the loss is taken over, the two decoder
modes, the pretraining configs and the mask / model token-count check."""
import copy
from pathlib import Path

import numpy as np
import pytest
import torch

import mmvmae2  # noqa: F401
from mmaction.registry import DATASETS, MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmvmae2.engine.geometry_check import blank_sample, check_geometry
from mmvmae2.datasets.transforms.masking import (no_decoder_mask, random_mask,
                                                 running_cell_mask, tube_mask)
from mmvmae2.models.heads.videomae_head import (VideoMAEPretrainHead, normalize_patches,
                                                patchify, unpatchify)

ROOT = Path(__file__).resolve().parents[1]
PRETRAIN_CONFIGS = sorted((ROOT / 'configs' / 'pretrain').glob('*.py'))
MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1, 1)

TINY = dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)
TINY_DECODER = dict(embed_dims=16, num_heads=2, num_layers=1)
GRID = (2, 4, 4)  # tiny model: 4 frames / tubelet 2, 32 / patch 8
N = 32


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    init_default_scope('mmaction')


def build_tiny(mode='official', tubelet_size=2, num_frames=4, norm_pix='per_channel', seed=0):
    torch.manual_seed(seed)
    model = MODELS.build(dict(
        type='VideoMAEPretrainer',
        backbone=dict(type='VideoMAEViT', arch=TINY, img_size=32, patch_size=8,
                      num_frames=num_frames, tubelet_size=tubelet_size, out_type='raw'),
        neck=dict(type='VideoMAEPretrainDecoder', arch=TINY_DECODER, mode=mode),
        head=dict(type='VideoMAEPretrainHead', norm_pix=norm_pix)))
    with torch.no_grad():  # a non-zero mask token, as after init_weights (without its log)
        model.neck.mask_token.normal_(std=0.02)
    return model.eval()


@pytest.fixture(scope='module')
def official():
    return build_tiny('official')


@pytest.fixture(scope='module')
def efficient(official):
    model = build_tiny('efficient', seed=1)
    # Same weights: the two modes have the same parameters.
    missing, unexpected = model.load_state_dict(official.state_dict(), strict=True)
    assert not missing and not unexpected
    return model


def index_video(B, C, T, H, W, tub, ph, pw):
    """A clip whose every pixel holds the (t h w) index of its token."""
    t = torch.arange(T) // tub
    h = torch.arange(H) // ph
    w = torch.arange(W) // pw
    idx = (t[:, None, None] * (H // ph) + h[None, :, None]) * (W // pw) + w[None, None, :]
    return idx.float().expand(B, C, T, H, W).clone()


def reference_target(pixels, b, n, grid, tub, ph, pw, norm_pix):
    """Target of token n of clip b from its cube, cut out of the clip
    directly (not through patchify), in float64."""
    _, h, w = grid
    ti, rest = divmod(n, h * w)
    hi, wi = divmod(rest, w)
    cube = pixels[b, :, ti * tub:(ti + 1) * tub, hi * ph:(hi + 1) * ph, wi * pw:(wi + 1) * pw]
    x = cube.double().permute(1, 2, 3, 0).reshape(-1, cube.shape[0])  # (tub*ph*pw, C)
    if norm_pix == 'per_channel':
        mean = x.mean(0)
        std = (((x - mean)**2).sum(0) / (x.shape[0] - 1)).sqrt() + 1e-6
        x = (x - mean) / std
    elif norm_pix == 'joint':
        mean = x.mean()
        var = ((x - mean)**2).sum() / (x.numel() - 1)
        x = (x - mean) / (var + 1e-6).sqrt()
    return x.reshape(-1)  # channel fastest


def dual_masks(seeds, encoder='tube', enc_ratio=0.75):
    """Encoder and running-cell decoder masks over GRID, one pair per seed."""
    encs, decs = [], []
    for seed in seeds:
        rng = np.random.RandomState(seed)
        enc_fn = tube_mask if encoder == 'tube' else random_mask
        encs.append(enc_fn(GRID, enc_ratio, rng=rng))
        decs.append(running_cell_mask(GRID, 0.5, rng=rng))
    return torch.as_tensor(np.stack(encs)), torch.as_tensor(np.stack(decs))


def raw_clip(B, seed=0, T=4, size=32):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, 3, T, size, size, generator=g) * 255


def samples_for(encoder_mask, decoder_mask, clips_per_video=1):
    out = []
    for i in range(0, len(encoder_mask), clips_per_video):
        s = ActionDataSample()
        s.set_field(encoder_mask[i:i + clips_per_video], 'encoder_mask')
        s.set_field(decoder_mask[i:i + clips_per_video], 'decoder_mask')
        out.append(s)
    return out


# 1. patchify / unpatchify ----------------------------------------------------

@pytest.mark.parametrize('tub,patch,grid', [
    (1, (4, 4), (3, 2, 5)),
    (2, (8, 8), (2, 4, 4)),
    (2, (2, 4), (3, 5, 2)),
    (4, (3, 2), (2, 3, 4)),
    (4, (16, 16), (1, 1, 2)),
])
def test_patchify_round_trip_and_token_order(tub, patch, grid):
    t, h, w = grid
    B, C, T, H, W = 2, 3, t * tub, h * patch[0], w * patch[1]
    video = torch.randn(B, C, T, H, W)
    patches = patchify(video, tub, patch)
    assert patches.shape == (B, t * h * w, tub * patch[0] * patch[1], C)
    assert torch.equal(unpatchify(patches, tub, patch, grid), video)
    # Every token's cube is constant and equal to its (t h w) index.
    indexed = patchify(index_video(B, C, T, H, W, tub, *patch), tub, patch)
    expected = torch.arange(t * h * w).float()[None, :, None, None].expand_as(indexed)
    assert torch.equal(indexed, expected)
    # Pixels inside a cube are in (p0 p1 p2) order, channel last.
    b, n, c = 1, t * h * w - 1, 2
    ti, hi, wi = n // (h * w), (n // w) % h, n % w
    cube = video[b, c, ti * tub:(ti + 1) * tub, hi * patch[0]:(hi + 1) * patch[0],
                 wi * patch[1]:(wi + 1) * patch[1]]
    assert torch.equal(patches[b, n, :, c], cube.reshape(-1))


@pytest.mark.parametrize('tub', [1, 2, 4])
def test_patchify_order_is_the_backbone_token_order(tub):
    """The cube embedding of the backbone numbers tokens as patchify does: a
    conv that averages a cube of channel 0 returns the index of each token."""
    backbone = MODELS.build(dict(type='VideoMAEViT', arch=TINY, img_size=(24, 40), patch_size=8,
                                 num_frames=2 * tub, tubelet_size=tub, out_type='raw'))
    proj = backbone.patch_embed.proj
    with torch.no_grad():
        proj.weight.zero_()
        proj.bias.zero_()
        proj.weight[0, 0] = 1. / proj.weight[0, 0].numel()
    video = index_video(1, 3, 2 * tub, 24, 40, tub, 8, 8)
    tokens = backbone.patch_embed(video)
    assert backbone.token_grid(video.shape[-3:]) == backbone.grid_size == (2, 3, 5)
    from_patchify = patchify(video, tub, (8, 8))[0, :, 0, 0]
    assert torch.allclose(tokens[0, :, 0], from_patchify, atol=1e-4)
    assert torch.allclose(tokens[0, :, 0], torch.arange(30.), atol=1e-4)


# 2. target ----------------------------------------------------------------------

@pytest.mark.parametrize('norm_pix', ['per_channel', 'joint', None])
@pytest.mark.parametrize('tub', [2, 4])
def test_target_equals_independent_computation(norm_pix, tub):
    grid = (2, 2, 3)
    g = torch.Generator().manual_seed(tub)
    pixels = torch.rand(2, 3, 2 * tub, 16, 24, generator=g)
    pixels[1, :, :tub, :8, :8] = 0.5  # a flat cube: finite thanks to eps
    # A dark, nearly flat cube, where the place of eps matters.
    pixels[0, :, tub:, 8:, 16:] = 1e-3 * torch.rand(3, tub, 8, 8, generator=g)
    head = VideoMAEPretrainHead(tubelet_size=tub, patch_size=8, norm_pix=norm_pix)
    target = head.construct_target(pixels)
    P = tub * 8 * 8 * 3  # the real tubelet size, not a hard-coded 2
    assert target.shape == (2, 12, P) and torch.isfinite(target).all()
    for b in range(2):
        for n in range(12):
            ref = reference_target(pixels, b, n, grid, tub, 8, 8, norm_pix)
            assert torch.allclose(target[b, n].double(), ref, atol=2e-5, rtol=1e-5), (b, n)
    if norm_pix is None:
        assert torch.equal(target, patchify(pixels, tub, (8, 8)).flatten(2))
    # The returned mean and scale give the pixels back.
    patches = patchify(pixels, tub, (8, 8))
    normed, mean, scale = normalize_patches(patches, norm_pix)
    assert torch.allclose(normed.reshape(patches.shape) * scale + mean, patches, atol=1e-5)


def test_per_channel_and_joint_statistics():
    g = torch.Generator().manual_seed(0)
    patches = torch.rand(1, 5, 128, 3, generator=g) * torch.tensor([1., 10., 100.])
    per_channel, _, _ = normalize_patches(patches, 'per_channel')
    x = per_channel.reshape(1, 5, 128, 3)
    assert torch.allclose(x.mean(2), torch.zeros(1, 5, 3), atol=1e-5)
    assert torch.allclose(x.std(2, unbiased=True), torch.ones(1, 5, 3), atol=1e-4)
    joint, _, _ = normalize_patches(patches, 'joint')
    assert torch.allclose(joint.mean(-1), torch.zeros(1, 5), atol=1e-5)
    assert torch.allclose(joint.std(-1, unbiased=True), torch.ones(1, 5), atol=1e-4)
    # Joint keeps the channel contrast that per-channel removes.
    j = joint.reshape(1, 5, 128, 3)
    assert (j.std(2)[..., 2] > 5 * j.std(2)[..., 0]).all()
    with pytest.raises(ValueError, match='norm_pix'):
        normalize_patches(patches, 'frame')


def test_model_with_tubelet_4_predicts_and_targets_4_frame_cubes():
    model = build_tiny(tubelet_size=4, num_frames=8)
    assert model.head.tubelet_size == 4 and model.neck.patch_dims == 4 * 8 * 8 * 3
    enc, dec = dual_masks([0])
    pred, index, valid = model.reconstruct_tokens(torch.randn(1, 3, 8, 32, 32), enc, dec)
    assert pred.shape[-1] == 768
    loss = model.loss(((raw_clip(1, T=8) - MEAN) / STD), samples_for(enc, dec))['loss']
    assert torch.isfinite(loss)
    with pytest.raises(ValueError, match='tubelet_size'):
        MODELS.build(dict(
            type='VideoMAEPretrainer',
            backbone=dict(type='VideoMAEViT', arch=TINY, img_size=32, patch_size=8, num_frames=8,
                          tubelet_size=4, out_type='raw'),
            neck=dict(type='VideoMAEPretrainDecoder', arch=TINY_DECODER),
            head=dict(type='VideoMAEPretrainHead', tubelet_size=2)))


def test_non_square_backbone_patches_are_refused():
    """The decoder and head only know square patches; a non-square backbone
    used to train silently on a target cut with the wrong patch shape."""
    with pytest.raises(ValueError, match='square'):
        MODELS.build(dict(
            type='VideoMAEPretrainer',
            backbone=dict(type='VideoMAEViT', arch=TINY, img_size=32, patch_size=(4, 8),
                          num_frames=4, out_type='raw'),
            neck=dict(type='VideoMAEPretrainDecoder', arch=TINY_DECODER),
            head=dict(type='VideoMAEPretrainHead')))


# 3. the loss set --------------------------------------------------------------

def head_loss(model, pred, index, valid, pixels, enc):
    return model.head.loss(pred, index, valid, pixels, enc)['loss']


def test_official_loss_ignores_encoder_visible_queries(official):
    enc, dec = dual_masks([0, 1])
    pixels = raw_clip(2) / 255
    with torch.no_grad():
        pred, index, valid = official.reconstruct_tokens((pixels * 255 - MEAN) / STD, enc, dec)
    assert valid.all() and torch.equal(index.shape[1] * torch.ones(2), (~dec).sum(1).float())
    in_set = torch.gather(enc, 1, index)  # hidden from the encoder
    outside = ~in_set
    assert outside.sum(1).min() > 0, 'masks must have encoder-visible decoder queries'
    loss = head_loss(official, pred, index, valid, pixels, enc)
    changed = pred.clone()
    changed[outside] = torch.randn_like(changed[outside]) * 100
    assert torch.equal(head_loss(official, changed, index, valid, pixels, enc), loss)
    changed = pred.clone()
    row = in_set[1].nonzero()[0, 0]
    changed[1, row] += 0.5
    assert not torch.isclose(head_loss(official, changed, index, valid, pixels, enc), loss)
    # Gradient: non-zero on every row of the set, zero elsewhere.
    pred_g = pred.clone().requires_grad_()
    head_loss(official, pred_g, index, valid, pixels, enc).backward()
    row_grad = pred_g.grad.abs().sum(-1)
    assert (row_grad[in_set] > 0).all() and (row_grad[outside] == 0).all()


def test_padding_rows_do_not_enter_the_loss(efficient):
    # Random encoder masks give samples different loss-token counts.
    enc, dec = dual_masks([3, 4, 5], encoder='random')
    counts = (enc & ~dec).sum(1)
    assert len(set(counts.tolist())) > 1, counts
    pixels = raw_clip(3, seed=1) / 255
    with torch.no_grad():
        pred, index, valid = efficient.reconstruct_tokens((pixels * 255 - MEAN) / STD, enc, dec)
    assert torch.equal(valid.sum(1), counts) and not valid.all()
    # Padding rows point at tokens the encoder hid, so only `valid` keeps them out.
    assert torch.gather(enc, 1, index)[~valid].any()
    loss = head_loss(efficient, pred, index, valid, pixels, enc)
    changed = pred.clone()
    changed[~valid] = 1e3
    assert torch.equal(head_loss(efficient, changed, index, valid, pixels, enc), loss)
    changed = pred.clone()
    b, r = valid.nonzero()[-1].tolist()
    changed[b, r] -= 1.
    assert not torch.isclose(head_loss(efficient, changed, index, valid, pixels, enc), loss)


@pytest.mark.parametrize('mode', ['official', 'efficient'])
def test_loss_equals_hand_computed_mse(official, efficient, mode):
    """VideoMAEPretrainer.loss (2 videos x 2 repeated clips, normalized input) equals
    the MSE, averaged over tokens, of the prediction against the target built
    by hand from the [0, 1] pixels, over the tokens hidden by the encoder and
    kept by the decoder, and nothing else."""
    model = official if mode == 'official' else efficient
    enc, dec = dual_masks([10, 11, 12, 13])
    raw = raw_clip(4, seed=2)
    inputs = ((raw - MEAN) / STD).reshape(2, 2, 3, 4, 32, 32)
    with torch.no_grad():
        loss = model.loss(inputs, samples_for(enc, dec, clips_per_video=2))['loss']
        pred, index, valid = model.reconstruct_tokens(inputs.flatten(0, 1), enc, dec)
    pixels = raw / 255
    errors = []
    for b in range(4):
        rows = {int(n): r for r, n in enumerate(index[b]) if valid[b, r]}
        for n in range(N):
            if enc[b, n] and not dec[b, n]:
                target = reference_target(pixels, b, n, GRID, 2, 8, 8, 'per_channel')
                errors.append(((pred[b, rows[n]].double() - target)**2).mean())
    assert len(errors) == int((enc & ~dec).sum())
    assert torch.allclose(loss.double(), torch.stack(errors).mean(), rtol=1e-5)


def test_without_decoder_masking_the_loss_set_is_every_hidden_token(official):
    """VideoMAE V1: decoder mask = complement of the encoder mask."""
    enc, _ = dual_masks([20, 21])
    dec = torch.as_tensor(np.stack([no_decoder_mask(e.numpy()) for e in enc]))
    raw = raw_clip(2, seed=3)
    with torch.no_grad():
        pred, index, valid = official.reconstruct_tokens((raw - MEAN) / STD, enc, dec)
        loss = official.loss((raw - MEAN) / STD, samples_for(enc, dec))['loss']
    assert valid.all()
    for b in range(2):
        assert torch.equal(index[b], enc[b].nonzero().flatten())
    pixels = raw / 255
    hand = torch.stack([((pred[b, r].double() - reference_target(
        pixels, b, int(index[b, r]), GRID, 2, 8, 8, 'per_channel'))**2).mean()
                        for b in range(2) for r in range(index.shape[1])]).mean()
    assert torch.allclose(loss.double(), hand, rtol=1e-5)


# 4. official vs efficient decoder ---------------------------------------------

def decoder_lengths(model, *args):
    """Sequence length entering the decoder blocks, and the outputs."""
    seen = []
    handle = model.neck.blocks[0].register_forward_pre_hook(
        lambda mod, inp: seen.append(inp[0].shape[1]))
    try:
        with torch.no_grad():
            out = model.reconstruct_tokens(*args)
    finally:
        handle.remove()
    return seen[0], out


def test_efficient_mode_drops_exactly_the_encoder_visible_queries(official, efficient):
    enc, dec = dual_masks([0, 1])
    video = (raw_clip(2, seed=4) - MEAN) / STD
    len_off, (pred_o, idx_o, val_o) = decoder_lengths(official, video, enc, dec)
    len_eff, (pred_e, idx_e, val_e) = decoder_lengths(efficient, video, enc, dec)
    visible_kept = (~enc & ~dec).sum(1)
    assert (visible_kept > 0).all()
    assert torch.equal(val_o.sum(1) - val_e.sum(1), visible_kept)
    n_vis = int((~enc[0]).sum())
    assert len_off == n_vis + int((~dec).sum(1).max())
    assert len_eff == n_vis + int((enc & ~dec).sum(1).max())
    for b in range(2):  # alone, the decoder sequence is shorter by exactly that count
        one = (video[b:b + 1], enc[b:b + 1], dec[b:b + 1])
        assert decoder_lengths(official, *one)[0] - decoder_lengths(efficient, *one)[0] \
            == int(visible_kept[b])
    # No efficient query at an encoder-visible token; same loss set as official.
    assert torch.gather(enc, 1, idx_e)[val_e].all()
    rows_o = val_o & torch.gather(enc, 1, idx_o)
    for b in range(2):
        official_set = idx_o[b][rows_o[b]]
        assert torch.equal(idx_e[b][val_e[b]], official_set)
        assert torch.equal(official_set, (enc[b] & ~dec[b]).nonzero().flatten())
        # Not a parity mode: the official queries at encoder-visible tokens take
        # part in attention, so the predictions at the loss tokens differ.
        assert not torch.allclose(pred_o[b][rows_o[b]], pred_e[b][val_e[b]], atol=1e-6)


def test_efficient_equals_official_without_encoder_visible_queries(official, efficient):
    """Efficient mode is the official decoder fed a decoder mask that also
    drops the encoder-visible tokens (padding included, random encoder masks)."""
    enc, dec = dual_masks([3, 4, 5], encoder='random')
    video = (raw_clip(3, seed=5) - MEAN) / STD
    with torch.no_grad():
        pred_e, idx_e, val_e = efficient.reconstruct_tokens(video, enc, dec)
        pred_o, idx_o, val_o = official.reconstruct_tokens(video, enc, dec | ~enc)
    assert not val_e.all()
    assert torch.equal(idx_e, idx_o) and torch.equal(val_e, val_o)
    assert torch.allclose(pred_e[val_e], pred_o[val_o], atol=1e-6)


def test_both_modes_identical_without_decoder_masking(official, efficient):
    enc, _ = dual_masks([6, 7])
    dec = ~enc
    raw = raw_clip(2, seed=6)
    video = (raw - MEAN) / STD
    with torch.no_grad():
        out_o = official.reconstruct_tokens(video, enc, dec)
        out_e = efficient.reconstruct_tokens(video, enc, dec)
        loss_o = official.loss(video, samples_for(enc, dec))['loss']
        loss_e = efficient.loss(video, samples_for(enc, dec))['loss']
    assert torch.equal(out_o[1], out_e[1]) and out_o[2].all() and out_e[2].all()
    assert torch.allclose(out_o[0], out_e[0], atol=1e-6)
    assert torch.allclose(loss_o, loss_e, atol=1e-7)


def test_padding_does_not_change_the_predictions(efficient):
    """A sample's efficient-mode predictions are the same alone and in a
    batch where it is padded (padded queries are not attended to)."""
    enc, dec = dual_masks([3, 4, 5], encoder='random')
    video = (raw_clip(3, seed=7) - MEAN) / STD
    with torch.no_grad():
        pred, index, valid = efficient.reconstruct_tokens(video, enc, dec)
        for b in range(3):
            alone, idx_b, val_b = efficient.reconstruct_tokens(video[b:b + 1], enc[b:b + 1],
                                                               dec[b:b + 1])
            assert val_b.all() and torch.equal(idx_b[0], index[b][valid[b]])
            assert torch.allclose(alone[0], pred[b][valid[b]], atol=1e-5)
    assert not valid.all()


# 5. configs -------------------------------------------------------------------

def _transform(pipeline, type_):
    return next(t for t in pipeline if t['type'] == type_)


def _effective_intervals(cfg, tmp_path):
    """Build the config's real training dataset on a stand-in list file and
    read the frame interval each source samples at (keyed by the source's
    list file, 'main' for a single dataset)."""
    ann = tmp_path / 'list.txt'
    ann.write_text('a.mp4\nb.mp4\n')
    ds = copy.deepcopy(cfg.train_dataloader.dataset.to_dict())
    sources = ds.get('sources', [ds])
    names = [s['ann_file'] for s in sources] if 'sources' in ds else ['main']
    for s in sources:
        s.update(ann_file=str(ann), data_prefix=dict(video=str(tmp_path)))
    dataset = DATASETS.build(ds)
    intervals = {}
    for name, sub in zip(names, getattr(dataset, 'datasets', [dataset])):
        sampler = next(t for t in sub.pipeline.transforms if type(t).__name__ == 'SampleFrames')
        intervals[name] = sampler.frame_interval
    return dataset, intervals


@pytest.mark.parametrize('path', PRETRAIN_CONFIGS, ids=lambda p: p.stem)
def test_pretrain_config(path, tmp_path):
    cfg = Config.fromfile(str(path))
    name = path.stem
    demo = 'demo' in name
    if demo:
        torch.manual_seed(0)
        np.random.seed(0)  # the mask generator draws from the global NumPy state
        model = MODELS.build(cfg.model)
    else:
        with torch.device('meta'):
            model = MODELS.build(cfg.model)
    backbone = model.backbone
    pipeline = cfg.train_dataloader.dataset.pipeline
    sampler = _transform(pipeline, 'SampleFrames')
    # short videos hold their last frame, as the official loader (see VideoMAEPretrainDataset)
    assert sampler['out_of_bound_opt'] == 'repeat_last'
    masker = _transform(pipeline, 'VideoMAEMaskGenerator')
    aug = _transform(pipeline, 'VideoMAERepeatedAugment')['transforms']
    crop = _transform(aug, 'Resize')['scale'][0]
    assert _transform(aug, 'Resize')['scale'] == (crop, crop)
    if name.startswith('maest') and not demo:  # util/kinetics.py: 0.5-1 of the area
        assert _transform(aug, 'RandomResizedCrop')['area_range'] == (0.5, 1.)
    else:  # VideoMAE's GroupMultiScaleCrop
        assert _transform(aug, 'MultiScaleCrop')['input_size'] == crop
    assert masker['patch_size'] == backbone.patch_size[0] == backbone.patch_size[1]
    assert masker['tubelet_size'] == backbone.tubelet_size
    tokens = (sampler['clip_len'] // masker['tubelet_size']) * (crop // masker['patch_size'])**2
    assert tokens == backbone.num_patches == model.neck.num_patches

    # The built dataset really samples at the recipe's interval, and its pipeline
    # makes masks over exactly the backbone's tokens.
    dataset, intervals = _effective_intervals(cfg, tmp_path)
    if 'hybrid' in name:
        assert intervals == {'data/hybrid/kinetics_list.txt': 4, 'data/hybrid/sthv2_list.txt': 2,
                             'data/hybrid/ava_list.txt': 4, 'data/hybrid/webvid_list.txt': 4}
    elif 'ssv2' in name:
        assert intervals == {'main': 2} and '16x2x1' in name
    elif 'k400' in name:
        assert intervals == {'main': 4} and '16x4x1' in name
    else:
        assert demo and intervals == {'main': 2}
    # The pipeline after decoding, on blank frames (what VideoMAEGeometryCheckHook runs
    # before training): clips and masks of the backbone's grid, for every source.
    samples = [blank_sample(sub.pipeline) for sub in getattr(dataset, 'datasets', [dataset])]
    for sample in samples:
        check_geometry(sample, backbone, name)
    sample = samples[0]
    num_sample = cfg.train_pipeline[3]['num_repeats']
    assert sample['inputs'].shape == (num_sample, 3, sampler['clip_len'], crop, crop)
    results = dict(encoder_mask=sample['data_samples'].encoder_mask,
                   decoder_mask=sample['data_samples'].decoder_mask)
    assert results['encoder_mask'].shape == (num_sample, backbone.num_patches)
    assert results['decoder_mask'].shape == (num_sample, backbone.num_patches)

    # The optimizer, schedule, precision and checkpointing recipe: tests/test_recipe.py.
    if 'giant' in name:
        assert backbone.patch_size == (14, 14) and backbone.num_patches == 2048

    maest = name.startswith('maest')
    decoder_dims = dict(small=192, base=384, large=512, huge=512, giant=512)
    size = next((s for s in decoder_dims if f'vit-{s}' in name), None)
    if size:  # MAE-ST: 512 wide at every size (models_mae.py default)
        assert model.neck.embed_dims == (512 if maest else decoder_dims[size])
    # MAE-ST's model (models_mae.py) or VideoMAE V2's
    assert model.backbone.sep_pos_embed == model.backbone.with_cls_token == maest
    assert model.neck.mode == ('mae' if maest else 'official')
    assert model.head.target_space == ('input' if maest else 'pixels')

    if masker['encoder_type'] == 'random':  # MAE-ST masking, or the V2 ablation with it
        assert masker['decoder_type'] == 'none' and model.head.norm_pix == 'joint'
        enc, dec = results['encoder_mask'], results['decoder_mask']
        # official len_keep = int(N * (1 - 0.9)): 156 of 1568 tokens, 204 of 2048 (patch
        # 14), 25 of the demo's 256
        visible = {1568: 156, 2048: 204, 256: 25}[backbone.num_patches]
        assert (dec == ~enc).all() and ((~enc).sum(1) == visible).all()
        assert not (enc.reshape(num_sample, 8, -1) == enc.reshape(num_sample, 8, -1)[:, :1]).all()
    else:
        assert masker['encoder_type'] == 'tube' and masker['decoder_type'] == 'running_cell'
        assert masker['encoder_ratio'] == 0.9 and masker['decoder_ratio'] == 0.5
        assert model.head.norm_pix == 'per_channel'

    if demo:  # the demo model trains on its own pipeline's output (noise as the frames)
        generator = torch.Generator().manual_seed(0)
        sample['inputs'] = torch.randint(0, 256, sample['inputs'].shape, dtype=torch.uint8,
                                         generator=generator)
        batch = pseudo_collate([sample, copy.deepcopy(sample)])
        data = model.data_preprocessor(batch, training=True)
        loss = model(**data, mode='loss')['loss'].item()
        # Hidden noise cannot be predicted from the visible noise: the loss is the
        # mean square of the target, (n - 1) / n for n = 2 x 8 x 8 pixels per channel
        # normalized with the unbiased std, plus the mean square of the prediction.
        video, enc, dec = model.unpack(data['inputs'], data['data_samples'])
        with torch.no_grad():
            pred, index, valid = model.reconstruct_tokens(video, enc, dec)
        in_loss = torch.gather(enc, 1, index) & valid
        # n values normalized together: one channel of a token (per_channel: 2 x 8 x 8
        # = 128 for the V2 demo) or all its values (joint)
        n = pred.shape[-1] // (3 if model.head.norm_pix == 'per_channel' else 1)
        assert loss == pytest.approx((n - 1) / n + pred[in_loss].pow(2).mean().item(), abs=5e-3)


# 6. token-count mismatch --------------------------------------------------------

def test_mask_token_count_mismatch_raises_a_clear_error(official):
    video = torch.randn(2, 3, 4, 32, 32)
    enc, dec = dual_masks([0, 1])
    # Masks drawn on a 16-pixel grid (8 tokens) for the 8-pixel backbone (32 tokens).
    small = torch.zeros(2, 8, dtype=torch.bool)
    small[:, :6] = True
    with pytest.raises(ValueError, match=r'encoder_mask covers 8 tokens.*32 tokens.*'
                       r'VideoMAEMaskGenerator'):
        official.reconstruct_tokens(video, small, ~small)
    # A decoder mask of the wrong size alone used to be accepted silently in
    # official mode (queries indexed into the first 8 tokens).
    with pytest.raises(ValueError, match=r'decoder_mask covers 8 tokens.*32 tokens'):
        official.reconstruct_tokens(video, enc, ~small)
    # Through the real mask generator and the loss path.
    gen = TRANSFORMS.build(dict(type='VideoMAEMaskGenerator', encoder_ratio=0.75,
                                patch_size=16, tubelet_size=2))
    masks = gen(dict(imgs=np.zeros((2, 3, 4, 32, 32), np.float32)))
    samples = samples_for(torch.as_tensor(masks['encoder_mask']),
                          torch.as_tensor(masks['decoder_mask']), clips_per_video=2)
    with pytest.raises(ValueError, match='patch_size / tubelet_size of VideoMAEMaskGenerator'):
        official.loss(video[None], samples)
    # The matching generator works.
    gen = TRANSFORMS.build(dict(type='VideoMAEMaskGenerator', encoder_ratio=0.75,
                                patch_size=8, tubelet_size=2))
    masks = gen(dict(imgs=np.zeros((2, 3, 4, 32, 32), np.float32)))
    samples = samples_for(torch.as_tensor(masks['encoder_mask']),
                          torch.as_tensor(masks['decoder_mask']), clips_per_video=2)
    assert torch.isfinite(official.loss(video[None], samples)['loss'])


# 7. decoder size and initialization ------------------------------------------------

def test_decoder_takes_its_size_and_geometry_from_the_backbone():
    with torch.device('meta'):
        model = MODELS.build(dict(
            type='VideoMAEPretrainer', backbone=dict(type='VideoMAEViT', arch='s', out_type='raw'),
            neck=dict(type='VideoMAEPretrainDecoder'), head=dict(type='VideoMAEPretrainHead')))
    neck = model.neck
    # official pretrain_videomae_small_patch16_224: decoder 192 wide, 3 heads, 4 blocks
    assert neck.embed_dims == 192 and len(neck.blocks) == 4
    assert neck.blocks[0].attn.num_heads == 3 and neck.blocks[0].mlp.fc1.out_features == 768
    assert neck.encoder_to_decoder.in_features == 384 and neck.num_patches == 1568
    assert neck.head.out_features == 1536  # 2 x 16 x 16 x 3
    with pytest.raises(ValueError, match='neck.arch'):
        MODELS.build(dict(
            type='VideoMAEPretrainer',
            backbone=dict(type='VideoMAEViT', arch=TINY, img_size=32, patch_size=8, num_frames=4,
                          out_type='raw'),
            neck=dict(type='VideoMAEPretrainDecoder'), head=dict(type='VideoMAEPretrainHead')))
    with pytest.raises(ValueError, match='neck.patch_size=8 disagrees'):
        MODELS.build(dict(
            type='VideoMAEPretrainer', backbone=dict(type='VideoMAEViT', arch='s', out_type='raw'),
            neck=dict(type='VideoMAEPretrainDecoder', patch_size=8),
            head=dict(type='VideoMAEPretrainHead')))


def test_decoder_init_is_the_official_one():
    """Official PretrainVisionTransformer: the decoder's Linear layers are
    Xavier-uniform, ``encoder_to_decoder`` keeps PyTorch's default Linear init
    (uniform in +-1/sqrt(fan_in)), ``mask_token`` is trunc_normal_(std=.02)
    with the official wrapper's bounds a=-std, b=std."""
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='VideoMAEPretrainer', backbone=dict(type='VideoMAEViT', arch='s', out_type='raw'),
        neck=dict(type='VideoMAEPretrainDecoder', arch=dict(embed_dims=384, num_heads=6,
                                                            num_layers=1)),
        head=dict(type='VideoMAEPretrainHead')))
    model.init_weights()
    neck = model.neck
    proj = neck.encoder_to_decoder.weight.detach()  # (384, 384): fan_in 384
    bound = 1 / 384**.5  # 0.0510; Xavier would be sqrt(6 / 768) = 0.0884
    assert proj.abs().max() <= bound and proj.abs().max() > 0.99 * bound
    assert proj.std().item() == pytest.approx(bound / 3**.5, rel=0.02)
    fc1 = neck.blocks[0].mlp.fc1.weight.detach()  # Xavier-uniform: sqrt(6 / (384 + 1536))
    assert fc1.abs().max() <= (6 / 1920)**.5 and fc1.abs().max() > 0.99 * (6 / 1920)**.5
    assert (neck.blocks[0].mlp.fc1.bias == 0).all() and (neck.head.bias == 0).all()
    token = neck.mask_token.detach().flatten()
    assert token.abs().max() <= 0.02
    # std of N(0, 1) truncated to [-1, 1]: sqrt(1 - 2 phi(1) / (2 Phi(1) - 1)) = 0.5396
    assert token.std().item() == pytest.approx(0.02 * 0.5396, rel=0.1)


@pytest.mark.parametrize('norm_pix', ['per_channel', 'joint', None])
def test_head_reconstruct_inverts_the_target(norm_pix):
    """Predicting the target exactly gives the clip back; a wrong prediction
    changes only the query tokens; padding rows keep their own pixels."""
    head = VideoMAEPretrainHead(tubelet_size=2, patch_size=8, norm_pix=norm_pix)
    pixels = raw_clip(2, seed=8) / 255
    target = torch.stack([torch.stack([reference_target(pixels, b, n, GRID, 2, 8, 8, norm_pix)
                                       for n in range(N)]) for b in range(2)]).float()
    index = torch.tensor([[1, 5, 30], [0, 2, 31]])
    valid = torch.tensor([[True, True, True], [True, True, False]])
    pred = torch.gather(target, 1, index[..., None].expand(-1, -1, target.shape[-1]))
    recon = head.reconstruct(pred, index, valid, pixels, GRID)
    assert torch.allclose(recon, pixels, atol=1e-5)
    recon = head.reconstruct(torch.full_like(pred, 50.), index, valid, pixels, GRID)
    # (B, C, t, tubelet, h, patch, w, patch) -> which (t, h, w) tokens changed, (B, N)
    changed = (recon != pixels).reshape(2, 3, 2, 2, 4, 8, 4, 8).any(7).any(5).any(3).any(1)
    changed = changed.flatten(1)
    expected = torch.zeros(2, N, dtype=torch.bool)
    expected[0, [1, 5, 30]] = True
    expected[1, [0, 2]] = True
    assert torch.equal(changed, expected)
