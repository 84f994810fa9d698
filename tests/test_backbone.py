"""Behaviour of the video ViT: position table, interpolation, sizes,
attention paths, activation checkpointing and masked encoding."""
import numpy as np
import pytest
import torch

import mmvmae2  # noqa: F401
from mmvmae2.models.backbones import VideoMAEViT
from mmvmae2.models.utils import resize_pos_embed, sinusoid_position_table

TINY = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=192)


def tiny_vit(**kwargs):
    kwargs.setdefault('arch', TINY)
    kwargs.setdefault('img_size', 32)
    kwargs.setdefault('num_frames', 4)
    model = VideoMAEViT(**kwargs)
    model.init_weights()
    return model


def test_position_table_matches_the_transformer_formula():
    n, d = 37, 24
    expected = np.array([[pos / 10000**(2 * (j // 2) / d) for j in range(d)] for pos in range(n)])
    expected[:, 0::2] = np.sin(expected[:, 0::2])
    expected[:, 1::2] = np.cos(expected[:, 1::2])
    table = sinusoid_position_table(n, d)
    assert table.shape == (1, n, d) and table.dtype == torch.float32
    assert torch.equal(table[0], torch.tensor(expected, dtype=torch.float32))


def test_interpolation_is_identity_at_native_grid():
    model = tiny_vit()
    assert model.position_embedding(model.grid_size) is model.pos_embed
    table = torch.randn(1, 2 * 3 * 4, 8)
    assert resize_pos_embed(table, (2, 3, 4), (2, 3, 4)) is table


def test_interpolation_to_other_grids():
    t, h, w, c = 4, 6, 6, 5
    grid = torch.stack(torch.meshgrid(torch.arange(t), torch.arange(h), torch.arange(w),
                                      indexing='ij'), -1).float()
    # A constant table stays constant, and the resized table keeps the (t h w) order:
    # a table that only depends on t resized in space only keeps its values per t.
    const = torch.full((1, t * h * w, c), 0.25)
    assert torch.allclose(resize_pos_embed(const, (t, h, w), (2, 9, 3)), torch.tensor(0.25))
    only_t = grid[..., :1].expand(t, h, w, c).reshape(1, -1, c)
    resized = resize_pos_embed(only_t, (t, h, w), (t, 3, 8)).reshape(t, 3, 8, c)
    for i in range(t):
        assert torch.allclose(resized[i], torch.tensor(float(i)))
    with pytest.raises(ValueError, match='positions'):
        resize_pos_embed(const, (t, h, w + 1), (t, h, w))


def test_forward_on_other_frame_counts_and_resolutions():
    model = tiny_vit(out_type='raw').eval()
    out = model(torch.randn(1, 3, 8, 48, 64))  # grid (4, 3, 4) instead of (2, 2, 2)
    assert out.shape == (1, 4 * 3 * 4, 48)
    with pytest.raises(ValueError, match='does not divide'):
        model(torch.randn(1, 3, 5, 32, 32))


@pytest.mark.parametrize('arch,params', [('small', 21.9e6), ('base', 86.2e6), ('large', 303.9e6),
                                         ('huge', 631.6e6), ('giant', 1011.6e6)])
def test_documented_parameter_counts(arch, params):
    with torch.device('meta'):
        model = VideoMAEViT(arch=arch, with_fc_norm=True, final_norm=False)
    count = sum(p.numel() for p in model.parameters())
    assert abs(count - params) / params < 0.005, f'{arch}: {count / 1e6:.1f}M'
    if arch == 'giant':
        assert model.patch_size == (14, 14) and model.num_patches == 8 * 16 * 16


def test_sdpa_equals_explicit_attention():
    torch.manual_seed(0)
    sdpa = tiny_vit(out_type='raw').eval()
    math_model = tiny_vit(out_type='raw', use_sdpa=False).eval()
    math_model.load_state_dict(sdpa.state_dict())
    x = torch.randn(2, 3, 4, 32, 32)
    mask = torch.zeros(2, 8, dtype=torch.bool)
    mask[:, [1, 4, 6]] = True
    with torch.no_grad():
        assert torch.allclose(sdpa(x), math_model(x), atol=1e-5)
        assert torch.allclose(sdpa(x, mask), math_model(x, mask), atol=1e-5)


def test_activation_checkpointing_gives_same_gradients():
    torch.manual_seed(0)
    plain = tiny_vit(drop_path_rate=0.)
    ckpt = tiny_vit(with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 4, 32, 32)
    for model in (plain, ckpt):
        model.train()
        model(x).pow(2).sum().backward()
    for (name, p1), (_, p2) in zip(plain.named_parameters(), ckpt.named_parameters()):
        assert torch.allclose(p1.grad, p2.grad, atol=1e-6), name


def test_masked_encoding_ignores_hidden_tokens():
    torch.manual_seed(0)
    model = tiny_vit().eval()
    x = torch.randn(2, 3, 4, 32, 32)
    mask = torch.zeros(2, 8, dtype=torch.bool)
    mask[0, [0, 3, 5]] = True
    mask[1, [1, 2, 7]] = True
    with torch.no_grad():
        out = model(x, mask)
        assert out.shape == (2, 5, 48)
        # Changing the pixels of hidden cubes changes nothing.
        y = x.clone()
        y[0, :, 0:2, 0:16, 0:16] = 100.  # token 0 of sample 0 (t=0, h=0, w=0)
        assert torch.equal(model(y, mask), out)
        # Hiding nothing equals the plain token output.
        model.out_type = 'raw'
        assert torch.allclose(model(x, torch.zeros_like(mask)), model(x), atol=1e-6)
    with pytest.raises(ValueError, match='same number of visible'):
        bad = mask.clone()
        bad[0, 1] = True
        model(x, bad)


def test_output_types_agree():
    torch.manual_seed(0)
    raw = tiny_vit(out_type='raw', final_norm=False, with_fc_norm=True).eval()
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        tokens = raw(x)
        raw.out_type = 'featmap'
        fmap = raw(x)
        raw.out_type = 'avg'
        vec = raw(x)
    assert fmap.shape == (2, 48, 2, 2, 2)
    assert torch.equal(fmap.flatten(2).transpose(1, 2), tokens)
    assert torch.allclose(vec, raw.fc_norm(tokens.mean(1)), atol=1e-6)


def test_layer_scale_and_drop_path_follow_config():
    model = tiny_vit(init_values=0.1, drop_path_rate=0.2)
    assert torch.allclose(model.blocks[1].gamma_1, torch.tensor(0.1))
    rates = [getattr(b.drop_path, 'drop_prob', 0.) for b in model.blocks]
    assert rates == pytest.approx([0., 0.2])
    assert tiny_vit().blocks[0].gamma_1 is None


def test_learnable_pos_embed_is_resized_when_loading():
    src = tiny_vit(use_learnable_pos_emb=True, num_frames=4)  # grid (2, 2, 2)
    dst = tiny_vit(use_learnable_pos_emb=True, num_frames=8)  # grid (4, 2, 2)
    dst.load_state_dict(src.state_dict(), strict=True)
    assert dst.pos_embed.shape == (1, 16, 48)
    # Linear interpolation in time keeps the temporal mean of every position.
    s = src.pos_embed.detach().reshape(2, 4, 48).mean(0)
    d = dst.pos_embed.detach().reshape(4, 4, 48).mean(0)
    assert torch.allclose(s, d, atol=1e-6)


def test_layer_decay_constructor_finds_blocks():
    from mmaction.registry import MODELS
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    model = MODELS.build(dict(
        type='Recognizer3D',
        backbone=dict(type='VideoMAEViT', arch=TINY, img_size=32, num_frames=4,
                      final_norm=False, with_fc_norm=True),
        cls_head=dict(type='TimeSformerHead', num_classes=3, in_channels=48)))
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05),
        constructor='LearningRateDecayOptimizerConstructor',
        paramwise_cfg=dict(decay_rate=0.5, decay_type='layer_wise', num_layers=2)))
    scale = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            scale[id(p)] = group['lr']
    names = dict(model.named_parameters())
    # layer ids: patch_embed 0, blocks.i -> i + 1, the rest (fc_norm, head) 3.
    assert scale[id(names['backbone.patch_embed.proj.weight'])] == pytest.approx(0.5**3)
    assert scale[id(names['backbone.blocks.0.attn.qkv.weight'])] == pytest.approx(0.5**2)
    assert scale[id(names['backbone.blocks.1.mlp.fc1.weight'])] == pytest.approx(0.5)
    assert scale[id(names['cls_head.fc_cls.weight'])] == pytest.approx(1.0)
    assert len(scale) == len(names)


def test_mlp_dropout_only_after_fc2():
    """The official Mlp is fc1 -> GELU -> fc2 -> dropout (the dropout after
    the GELU is commented out): in training every output is either dropped
    or the undropped value scaled by 1 / (1 - p)."""
    from mmvmae2.models.utils import Mlp
    torch.manual_seed(0)
    mlp = Mlp(16, 64, drop=0.5)
    x = torch.randn(4, 10, 16)
    with torch.no_grad():
        plain = mlp.fc2(torch.nn.functional.gelu(mlp.fc1(x)))
        mlp.eval()
        assert torch.equal(mlp(x), plain)
        mlp.train()
        out = mlp(x)
    dropped = out == 0
    assert 0.3 < dropped.float().mean() < 0.7
    assert torch.allclose(out[~dropped], 2 * plain[~dropped], atol=1e-6)
    # The block passes its drop_rate to the MLP and to the attention projection only.
    vit = tiny_vit(drop_rate=0.1)
    block = vit.blocks[0]
    assert block.mlp.drop.p == 0.1 and block.attn.proj_drop.p == 0.1


def test_token_grid_is_owned_by_the_backbone():
    model = tiny_vit(patch_size=8, img_size=(32, 48), num_frames=8, tubelet_size=2)
    assert model.grid_size == (4, 4, 6) and model.num_patches == 96
    assert model.token_grid((16, 24, 40)) == (8, 3, 5)
    with pytest.raises(ValueError, match='does not divide'):
        model.token_grid((16, 24, 36))
    with pytest.raises(ValueError, match='does not divide'):
        tiny_vit(img_size=30)
