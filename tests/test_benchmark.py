"""tools/benchmark.py and its library (mmvmae2/apis/benchmark): token counts of
each masking set-up, counted FLOPs, the official and HF peers (speed itself is
measured by the benchmark, never asserted by a test)."""
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import mmvmae2  # noqa: F401
from mmvmae2.apis.benchmark import measure, peers
from mmvmae2.apis.benchmark.maest import bench_maest
from mmvmae2.apis.benchmark.pretrain import bench_pretrain
from mmvmae2.apis.benchmark.profile import PHASES, op_kind, profile_modes

ROOT = Path(__file__).resolve().parents[1]

# A STAND-IN for the official VideoMAE V2 ``models/modeling_pretrain.py`` (the
# real clone is not part of the project): the same constructor keywords, the
# same forward ``(x, mask, decode_mask)`` and the same parameter names, written
# from the official conventions (tests/data/reference/README.md), independently
# of the project's model. ``SCALE`` lets a test break it on purpose.
STAND_IN = '''
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
SCALE = 1.0


def sincos(n, d):
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    j = torch.arange(d)
    angle = pos / torch.pow(10000., 2 * (j // 2) / d)
    table = torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle))
    return table.float()[None]


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.q_bias = nn.Parameter(torch.randn(d) * 0.1)
        self.v_bias = nn.Parameter(torch.randn(d) * 0.1)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        B, N, C = x.shape
        bias = torch.cat([self.q_bias, torch.zeros_like(self.q_bias), self.v_bias])
        q, k, v = F.linear(x, self.qkv.weight, bias).view(B, N, 3, self.heads, -1).permute(
            2, 0, 3, 1, 4)
        a = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).softmax(-1)
        return self.proj((a @ v).transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, d, heads, ratio, norm_layer):
        super().__init__()
        self.norm1, self.attn = norm_layer(d), Attention(d, heads)
        self.norm2, self.mlp = norm_layer(d), Mlp(d, int(d * ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Stack(nn.Module):
    def __init__(self, d, depth, heads, ratio, norm_layer, out=0):
        super().__init__()
        self.blocks = nn.ModuleList([Block(d, heads, ratio, norm_layer) for _ in range(depth)])
        self.norm = norm_layer(d)
        self.head = nn.Linear(d, out) if out else nn.Identity()


class PatchEmbed(nn.Module):
    def __init__(self, d, patch, tubelet):
        super().__init__()
        self.proj = nn.Conv3d(3, d, (tubelet, patch, patch), (tubelet, patch, patch))


class PretrainVisionTransformer(nn.Module):
    def __init__(self, img_size=224, patch_size=16, encoder_embed_dim=768, encoder_depth=12,
                 encoder_num_heads=12, decoder_num_classes=1536, decoder_embed_dim=512,
                 decoder_depth=8, decoder_num_heads=8, mlp_ratio=4., qkv_bias=False,
                 norm_layer=nn.LayerNorm, tubelet_size=2, all_frames=16):
        super().__init__()
        assert qkv_bias
        n = (all_frames // tubelet_size) * (img_size // patch_size)**2
        self.encoder = Stack(encoder_embed_dim, encoder_depth, encoder_num_heads, mlp_ratio,
                             norm_layer)
        self.encoder.patch_embed = PatchEmbed(encoder_embed_dim, patch_size, tubelet_size)
        self.encoder.pos_embed = sincos(n, encoder_embed_dim)
        self.decoder = Stack(decoder_embed_dim, decoder_depth, decoder_num_heads, mlp_ratio,
                             norm_layer, decoder_num_classes)
        self.encoder_to_decoder = nn.Linear(encoder_embed_dim, decoder_embed_dim, bias=False)
        self.mask_token = nn.Parameter(torch.randn(1, 1, decoder_embed_dim) * 0.1)
        self.pos_embed = sincos(n, decoder_embed_dim)

    def forward(self, x, mask, decode_mask=None):
        enc = self.encoder
        x = enc.patch_embed.proj(x).flatten(2).transpose(1, 2) + enc.pos_embed
        B, _, C = x.shape
        x = x[~mask].reshape(B, -1, C)
        for blk in enc.blocks:
            x = blk(x)
        x = self.encoder_to_decoder(enc.norm(x))
        pos = self.pos_embed.expand(B, -1, -1)
        queries = pos[~decode_mask].reshape(B, -1, x.shape[-1])
        x = torch.cat([x + pos[~mask].reshape(B, -1, x.shape[-1]),
                       self.mask_token + queries], dim=1)
        for blk in self.decoder.blocks:
            x = blk(x)
        return SCALE * self.decoder.head(self.decoder.norm(x[:, -queries.shape[1]:]))
'''


def write_stand_in(root: Path, scale: float = 1.0) -> Path:
    models = root / 'models'
    models.mkdir(parents=True)
    (models / '__init__.py').write_text('')
    (models / 'modeling_pretrain.py').write_text(
        STAND_IN.replace('SCALE = 1.0', f'SCALE = {scale}'))
    return root


def forget_official_import():
    for name in [n for n in sys.modules if n.startswith(peers._OFFICIAL_PACKAGE)]:
        del sys.modules[name]


def test_benchmark_tables(tmp_path):
    out = tmp_path / 'bench.md'
    # hand-written notes after the marker survive regeneration, the old tables do not
    out.write_text('# old tables\n\n<!-- notes: kept by make benchmark -->\nmy analysis\n')
    proc = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'benchmark.py'), '--arch', 'small', '--frames', '4',
         '--size', '64', '--repeats', '1', '--infer', '--infer-size', '32', '--out', str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert '# old tables' not in text and text.endswith('my analysis\n')
    assert 'Command: `python tools/benchmark.py --arch small --frames 4 --size 64' in text
    rows = {line.split('|')[1].strip(): [c.strip() for c in line.split('|')[2:5]]
            for line in text.splitlines() if line.startswith('| v')}
    # grid 2 x 4 x 4: tube 0.9 hides int(14.4) = 14 of 16 per slice -> 4 visible tokens;
    # running cell keeps 16 of 32; V1 reconstructs all 28 hidden ones
    assert rows['v1'] == ['4', '32', '28']
    # random 0.9 keeps int(32 * 0.1) = 3 tokens (MAE-ST's count), all 29 others reconstructed
    assert rows['v2-random'] == ['3', '32', '29']
    loss_tokens = float(rows['v2-official'][2])  # mean over the batch's clips
    assert rows['v2-efficient'][2] == rows['v2-official'][2] and 12 <= loss_tokens <= 16
    assert rows['v2-official'][1] == '20'  # 4 visible + a query at each of the 16 kept
    # the efficient decoder queries only loss tokens (padded to the batch's largest count)
    assert 4 + loss_tokens <= int(rows['v2-efficient'][1]) <= 20
    assert '| 15 batched |' in text and '| 15 one by one |' in text
    assert 'matmul peak' in text and 'of matmul peak' in text


def test_flops_are_counted_for_matmul_and_cpu_attention():
    a, b = torch.randn(3, 4), torch.randn(4, 5)
    assert measure.count_flops(lambda: a @ b) == 2 * 3 * 4 * 5
    q, k, v = (torch.randn(2, 3, 10, 8) for _ in range(3))
    # QK^T and AV: 2 matmuls of 2*10*10*8 FLOPs per batch and head
    expected = 2 * 3 * 2 * (2 * 10 * 10 * 8)
    assert measure.count_flops(lambda: F.scaled_dot_product_attention(q, k, v)) == expected


def test_saved_activations_count_each_storage_once():
    w = torch.randn(4, 4, requires_grad=True)
    x = torch.randn(8, 4)
    # x @ w saves x (128 bytes) and w (excluded); tanh saves its output (128 bytes)
    n = measure.saved_activation_bytes(lambda: torch.tanh(x @ w).sum(), exclude=[w])
    assert n == 2 * 8 * 4 * 4


def test_official_peer_runs_with_the_same_weights_and_loss(tmp_path):
    forget_official_import()
    result = bench_pretrain('small', 4, 64, 2, 1, official_root=str(write_stand_in(tmp_path)))
    theirs, ours = result['official_loss_check']
    assert abs(theirs - ours) <= 1e-5 * abs(ours)
    rows = {r['variant']: r for r in result['rows']}
    assert result['peers'] == ['official-v2']
    for key in ('visible', 'sequence', 'loss_tokens'):
        assert rows['official-v2'][key] == rows['v2-official'][key]
    # the stand-in's explicit attention counts the same matmul FLOPs as the project's SDPA
    # forward (the backward of SDPA recomputes QK^T, so the project counts a little more)
    assert rows['official-v2']['gflops'] <= rows['v2-official']['gflops']


def test_official_peer_with_another_loss_is_refused(tmp_path):
    forget_official_import()
    with pytest.raises(AssertionError, match='official model gives loss'):
        bench_pretrain('small', 4, 64, 2, 1, official_root=str(write_stand_in(tmp_path, 1.1)))
    forget_official_import()


def test_official_path_without_the_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='modeling_pretrain.py not found'):
        peers.import_official(str(tmp_path))


def test_hf_peer_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'transformers', None)  # import fails
    with pytest.raises(ImportError, match=r'pip install -e "\.\[hf\]"'):
        peers.load_hf()


def test_hf_peer_gets_the_sizes_input_layout_and_v1_mask(monkeypatch, tmp_path):
    """A STAND-IN ``transformers`` module records what HF's
    ``VideoMAEForPreTraining`` would be given (transformers is an optional
    extra, not installed for the tests)."""
    seen = {}

    class VideoMAEConfig(types.SimpleNamespace):
        pass

    class VideoMAEForPreTraining(torch.nn.Module):

        def __init__(self, config):
            super().__init__()
            seen['config'] = config
            self.w = torch.nn.Parameter(torch.ones(()))

        def forward(self, pixel_values, bool_masked_pos):
            seen['shape'], seen['mask'] = tuple(pixel_values.shape), bool_masked_pos
            return types.SimpleNamespace(loss=self.w * pixel_values.square().mean())

    forget_official_import()
    fake = types.SimpleNamespace(VideoMAEConfig=VideoMAEConfig,
                                 VideoMAEForPreTraining=VideoMAEForPreTraining)
    monkeypatch.setitem(sys.modules, 'transformers', fake)
    result = bench_pretrain('small', 4, 64, 2, 1, hf=True,
                            official_root=str(write_stand_in(tmp_path)))
    cfg = seen['config']
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads,
            cfg.intermediate_size) == (384, 12, 6, 1536)  # ViT-S
    assert (cfg.decoder_hidden_size, cfg.decoder_num_hidden_layers,
            cfg.decoder_num_attention_heads) == (192, 4, 3)  # its V2 decoder
    assert (cfg.num_frames, cfg.image_size, cfg.tubelet_size) == (4, 64, 2)
    assert cfg.norm_pix_loss
    assert seen['shape'] == (2, 4, 3, 64, 64)  # HF takes (B, T, C, H, W)
    # grid 2 x 4 x 4, tube 0.9 hides int(14.4) = 14 of 16 per slice
    assert seen['mask'].shape == (2, 32) and seen['mask'].sum(1).tolist() == [28, 28]
    assert result['peers'] == ['official-v2', 'hf-v1']
    rows = {r['variant']: r for r in result['rows']}
    # each peer runs its own masks: the official one V2's (fewer decoder tokens than V1's)
    assert rows['official-v2']['gflops'] <= rows['v2-official']['gflops'] < rows['v1']['gflops']
    assert rows['hf-v1']['visible'] == 4 and rows['hf-v1']['loss_tokens'] == 28


def test_timm_stand_in_only_when_timm_is_missing(monkeypatch):
    for name in ('timm', 'timm.models', 'timm.models.layers', 'timm.models.registry'):
        monkeypatch.setitem(sys.modules, name, None)
    assert peers.install_timm_stand_in()
    from timm.models.layers import drop_path, to_2tuple
    x = torch.randn(4, 3)
    assert torch.equal(drop_path(x, 0.5, False), x) and to_2tuple(7) == (7, 7)
    assert not peers.install_timm_stand_in()  # now importable: left alone


def test_make_benchmark_regenerates_the_doc():
    text = (ROOT / 'Makefile').read_text()
    target = text[text.index('\nbenchmark:'):].split('\n\n')[0]
    assert '--out docs/benchmarks.md' in target and '--infer' in target
    doc = (ROOT / 'docs' / 'benchmarks.md').read_text()
    assert 'Command: `python tools/benchmark.py' in doc


def test_maest_against_videomae_v2_counts():
    result = bench_maest('small', 4, 64, 2, 1)
    rows = {r['variant']: r for r in result['rows']}
    assert result['target_frames'] == 2  # half the frames: one predicted frame per token
    # grid 2 x 4 x 4: random 0.9 keeps int(3.2) = 3 tokens (the cls token is not counted)
    assert rows['mae-st']['visible'] == 3 and rows['mae-st']['loss_tokens'] == 29
    assert rows['videomae-v2']['visible'] == 4 and 12 <= rows['videomae-v2']['loss_tokens'] <= 16
    # MAE-ST's decoder (512 wide, 4 blocks) runs on all 33 tokens, V2's (192) on about 20
    assert rows['mae-st']['gflops'] > rows['videomae-v2']['gflops']
    assert rows['mae-st']['act_mib'] > rows['videomae-v2']['act_mib']


def test_profile_splits_a_step_into_phases_and_kinds():
    result = profile_modes('small', 4, 64, 2, rounds=1, modes=('efficient', ))['efficient']
    assert set(result['phases']) == set(PHASES)
    assert abs(sum(result['phases'].values()) - result['total']) < 1e-6
    assert result['kinds']['matmul (linear, bmm)'] > 0
    assert op_kind('aten::addmm') == 'matmul (linear, bmm)'
    assert op_kind('aten::native_layer_norm_backward') == 'layer norm'
    assert op_kind('aten::_foreach_add_') == 'optimizer (foreach / adamw)'
    assert op_kind('aten::index_select') == 'masking gathers / scatters'
