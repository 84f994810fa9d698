"""Parity with the official MAE-ST code (facebookresearch/mae_st).

The reference file (``tests/data/reference/maest_tiny_ref.pt``, or the path
in ``MAEST_REF``; see ``MAEST_README.md`` there) holds the official kwargs,
weights, input, masking noise, masks and outputs. The models are built from
the stored kwargs and loaded through the project's converter, every size is
read from the file, and each tolerance is sized from the file's own
``fp32_vs_fp64`` gap, so the tests hold for any reference made the same way:
each runs on the official file and on a copy with other depths, MLP width,
class count and sample order and the same outputs
(``conftest.widen_maest_reference``).
"""
import numpy as np
import pytest
import torch
from conftest import widen_maest_reference

import mmvmae2  # noqa: F401
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope
from mmvmae2.models.checkpoint_convert import convert_state_dict
from mmvmae2.models.official import (maest_pretrain_cfg_from_official,
                                     maest_recognizer_cfg_from_official)

# Our fp32 result and the official one each differ from float64 by about the
# stored gap; ten times it (plus the stored SDPA-vs-official gap, as our
# attention is SDPA) and a floor of a few float32 ulps of O(1) values bound
# their difference.
GAP_FACTOR, FLOOR = 10., 1e-6


def tolerance(ref, key):
    gap = ref['fp32_vs_fp64'][key] + ref.get('sdpa_vs_official_fp32', {}).get(key, 0.)
    return GAP_FACTOR * gap + FLOOR


def assert_close(actual, expected, atol, name):
    actual, expected = torch.as_tensor(actual).double(), torch.as_tensor(expected).double()
    assert actual.shape == expected.shape, \
        f'{name}: {tuple(actual.shape)} vs {tuple(expected.shape)}'
    err = (actual - expected).abs().max().item()
    assert err <= atol, f'{name}: max abs error {err:.3g} > {atol:.3g}'


@pytest.fixture(scope='module')
def ref(any_maest_ref):
    init_default_scope('mmaction')  # Recognizer3D builds its preprocessor by scope
    return any_maest_ref


def pixel_mean_std(ref):
    """The official input normalization (0-1 units) in 0-255 pixel units."""
    return ([255. * m for m in ref['input_mean']], [255. * s for s in ref['input_std']])


def build_loaded(cfg, official_state_dict, layout):
    model = MODELS.build(cfg)
    state_dict, found = convert_state_dict(official_state_dict)
    assert found == layout
    result = model.load_state_dict(state_dict, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return model.eval()


@pytest.fixture(scope='module')
def pretrainer(ref):
    cfg = maest_pretrain_cfg_from_official(ref['pretrain_kwargs'])
    mean, std = pixel_mean_std(ref)
    cfg['data_preprocessor'] = dict(type='ActionDataPreprocessor', mean=mean, std=std,
                                    format_shape='NCTHW')
    return build_loaded(cfg, ref['pretrain_state_dict'], 'maest_pretrain')


@pytest.fixture(scope='module')
def recognizer(ref):
    cfg = maest_recognizer_cfg_from_official(ref['finetune_kwargs'])
    mean, std = pixel_mean_std(ref)
    cfg['data_preprocessor'].update(mean=mean, std=std)
    cfg['cls_head']['average_clips'] = 'score'
    return build_loaded(cfg, ref['finetune_state_dict'], 'maest_finetune')


def num_tokens(ref):
    t, h, w = ref['input_size']
    return t * h * w


def runs(ref):
    """The stored masking runs, ``(ratio key, run dict)``; at least one."""
    assert ref['pretrain'], 'the reference holds no masking run'
    return sorted(ref['pretrain'].items())


def samples(encoder_mask, decoder_mask):
    out = []
    for enc, dec in zip(encoder_mask, decoder_mask):
        sample = ActionDataSample()
        sample.set_field(enc[None], 'encoder_mask')
        sample.set_field(dec[None], 'decoder_mask')
        out.append(sample)
    return out


def official_masks(run):
    """Encoder mask (True = removed) and an all-False decoder mask (MAE-ST
    predicts every token)."""
    encoder_mask = run['mask'].bool()
    return encoder_mask, torch.zeros_like(encoder_mask)


# ------------------------------------------------------- the file itself
def test_reference_runs_follow_the_official_masking(ref):
    """``random_masking``: keep ``int(L * (1 - r))`` tokens, the smallest
    noise first; ``mask`` is 1 exactly at the others."""
    L = num_tokens(ref)
    for key, run in runs(ref):
        len_keep = int(L * (1 - run['mask_ratio']))
        assert run['len_keep'] == len_keep, key
        assert torch.equal(run['ids_keep'], run['noise'].argsort(1)[:, :len_keep]), key
        removed = torch.ones(run['mask'].shape, dtype=torch.bool)
        removed.scatter_(1, run['ids_keep'], False)
        assert torch.equal(run['mask'].bool(), removed), key
        assert torch.equal(run['mask'].sum(1), torch.full((len(removed), ), float(L - len_keep)))


def test_widened_reference_really_changes_the_sizes(maest_ref):
    """A model with the official file's sizes cannot load the widened copy."""
    init_default_scope('mmaction')
    wide = widen_maest_reference(maest_ref)
    for key in ('depth', 'decoder_depth', 'mlp_ratio'):
        assert wide['pretrain_kwargs'][key] != maest_ref['pretrain_kwargs'][key]
    assert not torch.equal(wide['input_video'], maest_ref['input_video'])
    model = MODELS.build(maest_pretrain_cfg_from_official(maest_ref['pretrain_kwargs']))
    with pytest.raises(RuntimeError, match='size mismatch'):
        model.load_state_dict(convert_state_dict(wide['pretrain_state_dict'])[0], strict=False)


# ------------------------------------------------------------- pretraining
def test_position_tables_equal_official(ref, pretrainer):
    """``pos[t * H'W' + s] = spatial[s] + temporal[t]`` for encoder and decoder."""
    table = pretrainer.backbone.position_embedding(tuple(ref['input_size']))
    assert_close(table, ref['pretrain_pos_embed_full'], FLOOR, 'encoder position table')
    assert_close(pretrainer.neck.position_table(), ref['pretrain_decoder_pos_embed_full'], FLOOR,
                 'decoder position table')


@pytest.mark.parametrize('target', ['latent', 'pred', 'loss'])
def test_pretrain_outputs(ref, pretrainer, target):
    """Each stored ratio, masked with the stored ``mask``: the encoder output
    (ours in ascending token order, the official one in ``ids_keep`` order),
    the decoder's prediction of every token and the loss."""
    video = ref['input_video']
    for key, run in runs(ref):
        encoder_mask, decoder_mask = official_masks(run)
        atol = tolerance(ref, f'{target}_{key}')
        with torch.no_grad():
            if target == 'latent':
                latent = pretrainer.backbone(video, mask=encoder_mask)
                order = run['ids_keep'].sort(1).indices  # official -> ascending
                expected = torch.gather(run['latent'], 1,
                                        order[..., None].expand(-1, -1, latent.shape[-1]))
                assert_close(latent, expected, atol, f'latent at {key}')
            elif target == 'pred':
                pred, index, valid = pretrainer.reconstruct_tokens(video, encoder_mask,
                                                                   decoder_mask)
                assert valid.all(), key
                # every token predicted exactly once
                L = num_tokens(ref)
                assert torch.equal(index.sort(1).values, torch.arange(L).expand_as(index)), key
                full = pred.new_zeros(len(pred), L, pred.shape[-1])
                full.scatter_(1, index[..., None].expand(-1, -1, pred.shape[-1]), pred)
                assert_close(full, run['pred'], atol, f'pred at {key}')
            else:
                # all-False decoder masks, then those of the MAE-ST configs'
                # VideoMAEMaskGenerator(decoder_type='none'): the visible tokens
                for dec in (decoder_mask, ~encoder_mask):
                    loss = pretrainer.loss(video[:, None], samples(encoder_mask, dec))
                    assert_close(loss['loss'], run['loss'], atol, f'loss at {key}')


def test_pretrain_target(ref, pretrainer):
    """The head's target on the normalized model input (``target_space='input'``)."""
    with torch.no_grad():
        target = pretrainer.head.construct_target(ref['input_video'])
    assert_close(target, ref['target'], tolerance(ref, 'target'), 'target')


def frame_selection(head, kwargs):
    """Input frames each temporal token's target is made of, observed from
    outside: a clip that is zero except for noise in frame ``f`` has a
    non-zero (patch-normalized) target exactly at the tokens reading ``f``.

    Returns:
        list[list[int]]: For each temporal token, the frames it reads.
    """
    frames, size = kwargs['num_frames'], kwargs['img_size']
    t_tokens = frames // kwargs['t_patch_size']
    gen = torch.Generator().manual_seed(0)
    reads = [[] for _ in range(t_tokens)]
    for f in range(frames):
        video = torch.zeros(1, kwargs['in_chans'], frames, size, size)
        video[:, :, f] = torch.randn(kwargs['in_chans'], size, size, generator=gen)
        with torch.no_grad():
            target = head.construct_target(video)[0]  # (T' * H' * W', P)
        hit = target.reshape(t_tokens, -1).abs().amax(-1) > 1e-3  # (T', )
        for t in hit.nonzero().flatten().tolist():
            reads[t].append(f)
    return reads


def test_target_frames_are_the_official_linspace(ref, pretrainer):
    """``index_select(imgs, 2, linspace(0, T-1, pred_t_dim).long())``, one
    group of ``t_pred_patch_size`` frames per temporal token."""
    reads = frame_selection(pretrainer.head, ref['pretrain_kwargs'])
    u = ref['t_pred_patch_size']
    assert all(len(r) == u for r in reads), reads
    assert sum(reads, []) == ref['target_frame_indices'].tolist()


def test_official_16_frame_target_frames(maest_ref):
    """The released models: 16 frames, tubelet 2, ``pred_t_dim`` 8 -> one
    frame per token, frames 0, 2, ..., 12 and 15 (README of the reference)."""
    init_default_scope('mmaction')
    kwargs = dict(maest_ref['pretrain_kwargs'], num_frames=16, t_patch_size=2, pred_t_dim=8)
    head = MODELS.build(maest_pretrain_cfg_from_official(kwargs)).head
    assert frame_selection(head, kwargs) == [[0], [2], [4], [6], [8], [10], [12], [15]]


# ------------------------------------------------------------------ masking
def random_masks(ratio, kwargs, clips):
    """Encoder masks ``(clips, N)`` (True = hidden) that our MAE-ST mask
    generator draws for ``clips`` clips of the model's native size."""
    generator = TRANSFORMS.build(
        dict(type='VideoMAEMaskGenerator', encoder_type='random', encoder_ratio=ratio,
             decoder_type='none', patch_size=kwargs['patch_size'],
             tubelet_size=kwargs['t_patch_size']))
    size = kwargs['img_size']
    imgs = np.zeros((clips, kwargs['in_chans'], kwargs['num_frames'], size, size), np.uint8)
    masks = generator.transform(dict(imgs=imgs))['encoder_mask']  # (clips, N)
    return masks


def test_random_mask_hides_the_official_count(ref):
    np.random.seed(0)
    L = num_tokens(ref)
    for key, run in runs(ref):
        masks = random_masks(run['mask_ratio'], ref['pretrain_kwargs'], clips=4)
        assert masks.shape == (4, L)
        assert (masks.sum(1) == L - run['len_keep']).all(), (key, masks.sum(1))


def test_random_mask_of_the_released_vit_b_grid():
    """ViT-B 16 x 224 x 224, tubelet 2, patch 16: 1568 tokens, 156 visible
    at ratio 0.9 (``int(1568 * (1 - 0.9))``), drawn anew for each clip."""
    np.random.seed(0)
    kwargs = dict(img_size=224, patch_size=16, in_chans=3, num_frames=16, t_patch_size=2)
    masks = random_masks(0.9, kwargs, clips=2)
    assert masks.shape == (2, 1568)
    assert ((~masks).sum(1) == 156).all()
    assert not np.array_equal(masks[0], masks[1])


# ------------------------------------------------------------- fine-tuning
def test_finetune_pooled_and_logits(ref, recognizer):
    video = ref['input_video']
    with torch.no_grad():
        pooled = recognizer.backbone(video)
        logits, _ = recognizer.extract_feat(video[:, None], stage='head')
    assert_close(pooled, ref['finetune_pooled'], tolerance(ref, 'finetune_pooled'), 'pooled')
    assert_close(logits, ref['finetune_logits'], tolerance(ref, 'finetune_logits'), 'logits')


def test_finetune_logits_through_the_recognizer_test_step(ref, recognizer):
    """The whole ``Recognizer3D`` in test mode (data preprocessor with the
    official 0.45 / 0.225 normalization, backbone, head, view averaging) on
    one clip per video, from pixels: the scores are the official logits."""
    mean, std = pixel_mean_std(ref)
    video = ref['input_video'].double()  # (B, C, T, H, W), normalized officially
    pixels = video * torch.tensor(std, dtype=video.dtype).view(1, -1, 1, 1, 1) + \
        torch.tensor(mean, dtype=video.dtype).view(1, -1, 1, 1, 1)
    data = dict(inputs=[clip[None].float() for clip in pixels],  # one view: (1, C, T, H, W)
                data_samples=[ActionDataSample() for _ in pixels])
    with torch.no_grad():
        results = recognizer.test_step(data)
    scores = torch.stack([r.pred_score for r in results])
    assert_close(scores, ref['finetune_logits'], tolerance(ref, 'finetune_logits'),
                 'recognizer test_step scores')
    assert [int(r.pred_label) for r in results] == ref['finetune_logits'].argmax(-1).tolist()
