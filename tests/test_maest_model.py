"""MAE-ST's options of the one ViT, decoder and head: separable position
tables and their resizing, the cls token kept out of every output, full
q/k/v biases, the decoder that predicts every token, the ``pred_t_dim``
target and fine-tuning from an MAE-ST pretraining checkpoint.

Exact parity with the official code: tests/test_maest_parity.py."""
import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope

import mmvmae2  # noqa: F401
from mmvmae2.datasets.transforms.masking import VideoMAEMaskGenerator
from mmvmae2.models.heads.videomae_head import target_frame_indices
from mmvmae2.models.utils.transformer import Attention

TINY = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)
# 8 frames x 32 px, tubelet 2, patch 8 -> grid 4 x 4 x 4 = 64 tokens.
MAEST_VIT = dict(type='VideoMAEViT', arch=TINY, img_size=32, patch_size=8, num_frames=8,
                 sep_pos_embed=True, with_cls_token=True, qkv_bias='qkv')


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    init_default_scope('mmaction')


def randomize(module, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * .1)
    return module


def build(cfg, **kwargs):
    return randomize(MODELS.build(dict(cfg, **kwargs))).eval()


def test_separable_table_is_spatial_plus_temporal():
    vit = build(MAEST_VIT)
    table = vit.position_embedding((4, 4, 4))[0]  # (64, C)
    spatial, temporal = vit.pos_embed_spatial[0], vit.pos_embed_temporal[0]
    # token 37 = t 2, s 5 (t * 16 + s)
    assert torch.equal(table[37], temporal[2] + spatial[5])
    assert torch.equal(table[0], temporal[0] + spatial[0])
    assert table.shape == (64, 48)
    names = {n for n, _ in vit.named_parameters() if 'blocks' not in n and 'patch' not in n}
    assert names == {'cls_token', 'pos_embed_spatial', 'pos_embed_temporal', 'pos_embed_class',
                     'norm.weight', 'norm.bias'}


def test_tables_resize_on_their_own_axes():
    """Other frame counts change only the temporal table, other sizes only the
    spatial one; a checkpoint of another grid loads resized."""
    vit = build(MAEST_VIT)
    with torch.no_grad():
        vit.pos_embed_spatial.zero_()
    # 12 frames: 6 temporal positions; every spatial position holds the same
    # temporal profile, linearly interpolated (align_corners=False) from 4 to 6.
    table = vit.position_embedding((6, 4, 4))[0].reshape(6, 16, 48)
    assert torch.equal(table, table[:, :1].expand(-1, 16, -1))
    t = vit.pos_embed_temporal[0]
    assert torch.allclose(table[0, 0], t[0]) and torch.allclose(table[-1, 0], t[-1])
    # output position 1 of 6 reads source coordinate (1 + .5) * 4 / 6 - .5 = .5
    assert torch.allclose(table[1, 0], t[0] * (1 - 0.5) + t[1] * 0.5, atol=1e-6)
    # a bigger frame: the temporal table is untouched
    vit2 = build(MAEST_VIT)
    big = vit2.position_embedding((4, 6, 6))[0].reshape(4, 36, 48)
    assert torch.allclose(big[:, 0] - big[:, 0][:1], vit2.pos_embed_temporal[0] -
                          vit2.pos_embed_temporal[0][:1], atol=1e-6)
    # a 48-px, 12-frame model loads the 32-px, 8-frame weights with both tables resized
    state = vit2.state_dict()
    vit3 = MODELS.build(dict(MAEST_VIT, img_size=48, num_frames=12))
    result = vit3.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys
    assert vit3.pos_embed_spatial.shape == (1, 36, 48)
    assert vit3.pos_embed_temporal.shape == (1, 6, 48)
    x = torch.randn(1, 3, 12, 48, 48)
    assert torch.isfinite(vit3(x)).all()


def test_cls_token_is_never_in_the_output():
    vit = build(MAEST_VIT, out_type='raw', final_norm=False, with_fc_norm=False)
    x = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        raw = vit(x)
        vit.out_type = 'featmap'
        fmap = vit(x)
        vit.out_type = 'avg'
        avg = vit(x)
    assert raw.shape == (2, 64, 48)
    assert torch.equal(fmap.flatten(2).transpose(1, 2), raw)
    assert torch.allclose(avg, raw.mean(1), atol=1e-6)
    # The cls token still takes part in attention: changing it changes the tokens.
    with torch.no_grad():
        vit.cls_token.add_(torch.randn(48))  # a constant would vanish in norm1
        vit.out_type = 'raw'
        assert not torch.allclose(vit(x), raw)


def test_full_qkv_bias_equals_separate_projections():
    attn = randomize(Attention(48, 3, qkv_bias='qkv'), seed=3)
    assert attn.q_bias is None and attn.qkv.bias.shape == (144, )
    x = torch.randn(2, 5, 48)
    w, b = attn.qkv.weight, attn.qkv.bias
    q, k, v = (x @ w[i * 48:(i + 1) * 48].T + b[i * 48:(i + 1) * 48] for i in range(3))
    q, k, v = (t.reshape(2, 5, 3, 16).transpose(1, 2) for t in (q, k, v))
    out = ((q @ k.transpose(-2, -1) / 4.).softmax(-1) @ v).transpose(1, 2).reshape(2, 5, 48)
    assert torch.allclose(attn(x), attn.proj(out), atol=1e-5)
    with pytest.raises(ValueError, match='qkv_bias must be True, False or "qkv"'):
        Attention(48, 3, qkv_bias='qv')


def test_target_frames_are_the_official_linspace():
    assert target_frame_indices(16, 8).tolist() == [0, 2, 4, 6, 8, 10, 12, 15]
    assert target_frame_indices(8, 4).tolist() == [0, 2, 4, 7]
    assert target_frame_indices(6, None).tolist() == [0, 1, 2, 3, 4, 5]


def maest_pretrainer(**neck):
    return build(dict(
        type='VideoMAEPretrainer',
        backbone=dict(MAEST_VIT, out_type='raw'),
        neck=dict(type='VideoMAEPretrainDecoder', arch=dict(embed_dims=24, num_layers=1,
                                                            num_heads=3),
                  mode='mae', sep_pos_embed=True, with_cls_token=True, qkv_bias='qkv',
                  embed_bias=True, **neck),
        head=dict(type='VideoMAEPretrainHead', norm_pix='joint', target_frames=4,
                  target_space='input'),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=[114.75] * 3,
                               std=[57.375] * 3, format_shape='NCTHW')))


def random_masks(clips, seed=0):
    np.random.seed(seed)
    gen = VideoMAEMaskGenerator('random', 0.75, 'none', patch_size=8, tubelet_size=2)
    masks = gen(dict(imgs=np.zeros((clips, 3, 8, 32, 32), np.float32)))
    return torch.as_tensor(masks['encoder_mask']), torch.as_tensor(masks['decoder_mask'])


def test_mae_decoder_predicts_every_token_and_loss_uses_hidden_ones():
    model = maest_pretrainer()
    # pred_t_dim 4 of 8 frames with tubelets of 2: one frame per token, 8 x 8 x 3 values
    assert model.neck.patch_dims == 192
    enc, dec = random_masks(3)
    assert ((~enc).sum(1) == 16).all()  # int(64 * 0.25) visible per clip, drawn per clip
    assert len({m.numpy().tobytes() for m in enc}) == 3
    video = torch.randn(3, 3, 8, 32, 32)
    with torch.no_grad():
        pred, index, valid = model.reconstruct_tokens(video, enc, dec)
        assert pred.shape == (3, 64, 192) and valid.all()
        assert (index.sort(1).values == torch.arange(64)).all()  # every token once
        # the loss counts hidden tokens only: changing a visible token's prediction is free
        target = model.head.construct_target(video)  # (3, 64, 192), the normalized input
        full = torch.gather(target, 1, index[..., None].expand(-1, -1, 192))
        loss = model.head.loss(full, index, valid, video, enc)['loss']
        assert loss.item() == 0.
        hidden = torch.gather(enc, 1, index)
        full[~hidden] += 5.
        assert model.head.loss(full, index, valid, video, enc)['loss'].item() == 0.
        full[hidden] += 1.
        assert model.head.loss(full, index, valid, video, enc)['loss'].item() == \
            pytest.approx(1.)


def test_maest_reconstruction_shows_the_target_frames_in_pixels():
    from mmaction.structures import ActionDataSample
    model = maest_pretrainer()
    enc, dec = random_masks(1)
    samples = [ActionDataSample()]
    samples[0].set_field(enc, 'encoder_mask')
    samples[0].set_field(dec, 'decoder_mask')
    inputs = torch.randint(0, 256, (1, 3, 8, 32, 32)).float()
    out = model(**model.data_preprocessor(dict(inputs=[inputs], data_samples=samples)),
                mode='predict')[0]
    # the 4 predicted frames (0, 2, 4, 7), in pixels in [0, 1]
    assert out.pred_video.shape == out.input_video.shape == (1, 3, 4, 32, 32)
    assert torch.allclose(out.input_video[0, :, 3] * 255, inputs[0, :, 7], atol=1e-3)
    assert out.pred_video.min() >= 0 and out.pred_video.max() <= 1


def maest_recognizer(checkpoint, **backbone):
    rec = MODELS.build(dict(
        type='Recognizer3D',
        backbone=dict(dict(MAEST_VIT, final_norm=False, with_fc_norm=True,
                           init_cfg=dict(type='VideoMAEPretrained', checkpoint=str(checkpoint))),
                      **backbone),
        cls_head=dict(type='UniFormerHead', num_classes=3, in_channels=48),
        data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW')))
    rec.init_weights()
    return rec.backbone


def test_finetune_from_an_official_maest_pretraining_checkpoint(tmp_path, maest_ref):
    """MAE-ST's fine-tuning (main_finetune.py) loads the pretraining ``norm``
    into its pooled norm (models_vit.py names that one ``norm``): our
    ``fc_norm`` gets it; every encoder weight is used."""
    ckpt = tmp_path / 'official.pth'
    official = maest_ref['pretrain_state_dict']
    torch.save({'model': official}, ckpt)
    # the reference's sizes: 8 x 32 x 32, patch 16, mlp ratio 4
    bb = maest_recognizer(ckpt, patch_size=16, arch=dict(TINY, feedforward_channels=192))
    assert torch.equal(bb.fc_norm.weight, official['norm.weight'])
    assert torch.equal(bb.fc_norm.bias, official['norm.bias'])
    assert torch.equal(bb.pos_embed_class, official['pos_embed_class'])
    qkv = torch.cat([official[f'blocks.1.attn.{p}.bias'] for p in 'qkv'])
    assert torch.equal(bb.blocks[1].attn.qkv.bias, qkv)


def test_finetune_resizes_the_separable_tables(tmp_path):
    """Our own MAE-ST pretraining checkpoint, fine-tuned at 48 px and 12 frames."""
    model = maest_pretrainer()
    ckpt = tmp_path / 'maest_pretrain.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    bb = maest_recognizer(ckpt, img_size=48, num_frames=12)
    assert bb.pos_embed_spatial.shape == (1, 36, 48) and bb.pos_embed_temporal.shape == (1, 6, 48)
    assert torch.equal(bb.blocks[1].attn.qkv.bias, model.backbone.blocks[1].attn.qkv.bias)
    assert torch.equal(bb.fc_norm.weight, model.backbone.norm.weight)
    # the temporal table's end points survive the 4 -> 6 resize (align_corners=False)
    assert torch.allclose(bb.pos_embed_temporal[0, 0], model.backbone.pos_embed_temporal[0, 0])
