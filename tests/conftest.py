"""Shared fixtures: tiny synthetic videos made by ``tools/make_demo_data.py``,
and the official reference data of ``tests/data/reference/`` (see its README)."""
import importlib.util
import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = ROOT / 'tests' / 'data' / 'reference'
# file name -> environment variable that overrides its path
REFERENCE_FILES = {
    'videomaev2_tiny_ref.pt': 'VIDEOMAE_REF',
    'masks_ref.pt': 'VIDEOMAE_MASKS_REF',
    'maest_tiny_ref.pt': 'MAEST_REF',
}


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_path(name: str) -> Path:
    """Path of an official reference file: ``tests/data/reference/<name>``, or
    the file its environment variable names. A missing file fails the test
    (the parity tests never skip)."""
    env = REFERENCE_FILES[name]
    override = os.environ.get(env)
    path = Path(override) if override else REFERENCE_DIR / name
    if not path.is_file():
        where = f'{env}={override!r}' if override else f'the default {path} ({env} is unset)'
        pytest.fail(f'official reference file {name} not found: {where}. It is part of the '
                    f'repository (tests/data/reference/); restore it or point {env} to a copy.',
                    pytrace=False)
    return path


def load_reference(name: str) -> dict:
    """The reference file's content (tensors, numbers, strings only)."""
    return torch.load(reference_path(name), map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def videomae_ref() -> dict:
    """``videomaev2_tiny_ref.pt``: official VideoMAE V2 kwargs, weights, input,
    masks and outputs (a fresh copy per test module)."""
    return load_reference('videomaev2_tiny_ref.pt')


@pytest.fixture(scope='module')
def masks_ref() -> dict:
    """``masks_ref.pt``: the official mask generators' draws at window 8x14x14."""
    return load_reference('masks_ref.pt')


@pytest.fixture(scope='module')
def maest_ref() -> dict:
    """``maest_tiny_ref.pt``: official MAE-ST kwargs, weights, input, masks, outputs."""
    return load_reference('maest_tiny_ref.pt')


def widen_official_reference(ref: dict) -> dict:
    """A copy of ``videomaev2_tiny_ref.pt`` with other sizes and the same
    official outputs: one more block in the encoder, the decoder and the
    fine-tuning model (inserted first, so every official block moves one index
    up), an MLP ratio larger by 1 (5 instead of 4 for the tiny file) and two
    classes fewer.

    Every change keeps the function of the official model exactly: the new
    blocks have zero ``attn.proj`` and ``mlp.fc2`` (both residual branches add
    0; their other tensors are random), the extra MLP hidden units feed ``fc2``
    through zero columns, and the dropped classes only remove logits. A model
    built from the new kwargs and loaded with the new state dict must therefore
    reproduce the stored official outputs; a test that hard-codes the tiny
    file's sizes cannot pass on it.
    """
    gen = torch.Generator().manual_seed(0)
    old_ratio = ref['pretrain_kwargs']['mlp_ratio']
    new_ratio = old_ratio + 1.
    assert ref['finetune_kwargs']['mlp_ratio'] == old_ratio

    new = dict(ref)
    pretrain = dict(ref['pretrain_kwargs'], mlp_ratio=new_ratio)
    pretrain['encoder_depth'] += 1
    pretrain['decoder_depth'] += 1
    sd = _widen_mlps(ref['pretrain_state_dict'], new_ratio, gen)
    sd = _prepend_identity_block(_prepend_identity_block(sd, 'encoder.blocks', gen),
                                 'decoder.blocks', gen)
    new.update(pretrain_kwargs=pretrain, pretrain_state_dict=sd)

    classes = max(1, ref['finetune_kwargs']['num_classes'] - 2)
    finetune = dict(ref['finetune_kwargs'], mlp_ratio=new_ratio, num_classes=classes)
    finetune['depth'] += 1
    sd = _prepend_identity_block(_widen_mlps(ref['finetune_state_dict'], new_ratio, gen),
                                 'blocks', gen)
    sd['head.weight'], sd['head.bias'] = sd['head.weight'][:classes], sd['head.bias'][:classes]
    new.update(finetune_kwargs=finetune, finetune_state_dict=sd,
               finetune_logits=ref['finetune_logits'][:, :classes])
    return new


@pytest.fixture(scope='module', params=['official', 'widened'])
def any_videomae_ref(request, videomae_ref) -> dict:
    """The official reference, then :func:`widen_official_reference` of it:
    tests that take their sizes from the file's kwargs pass on both."""
    return videomae_ref if request.param == 'official' else widen_official_reference(videomae_ref)


@pytest.fixture(scope='session')
def demo_data():
    """The ``tools/make_demo_data.py`` module (``make_demo_videos``, ``render_video``...)."""
    return _load_tool('make_demo_data')


@pytest.fixture(scope='session')
def demo_video_dir(demo_data, tmp_path_factory) -> Path:
    """A folder with 6 videos of 32 frames at 64x64 (``video_000.mp4``...),
    ``train_list.txt`` (``name label``), broken entries (``corrupt.mp4``,
    ``truncated.mp4``, ``short.mp4`` with 4 frames, ``missing.mp4`` absent) and
    ``train_list_with_bad.txt`` = the good entries + the 4 broken ones."""
    out = tmp_path_factory.mktemp('demo_videos')
    demo_data.make_demo_videos(str(out), num_videos=6, num_frames=32, size=64, seed=1)
    demo_data.make_bad_entries(str(out), short_frames=4, size=64, seed=1)
    return out


def _widen_mlps(sd: dict, new_ratio: float, gen: torch.Generator) -> dict:
    """Every ``*mlp.fc1`` / ``*mlp.fc2`` pair of an official state dict with
    ``int(dims * new_ratio)`` hidden units; the extra units reach ``fc2``
    through zero columns, so the function is unchanged."""
    out = dict(sd)
    for key, value in sd.items():
        if key.endswith('mlp.fc1.weight'):  # (hidden, dims)
            extra = int(value.shape[1] * new_ratio) - value.shape[0]
            out[key] = torch.cat([value, torch.randn(extra, value.shape[1], generator=gen)])
            bias = key[:-len('weight')] + 'bias'
            out[bias] = torch.cat([sd[bias], torch.randn(extra, generator=gen)])
        elif key.endswith('mlp.fc2.weight'):  # (dims, hidden)
            extra = int(value.shape[0] * new_ratio) - value.shape[1]
            out[key] = torch.cat([value, value.new_zeros(value.shape[0], extra)], 1)
    return out


def _prepend_identity_block(sd: dict, blocks: str, gen: torch.Generator) -> dict:
    """Shift ``{blocks}.i.*`` to ``i + 1``; the new ``{blocks}.0`` has random
    tensors except zero ``attn.proj`` and ``mlp.fc2`` (both residuals add 0)."""
    out, template = {}, {}
    for key, value in sd.items():
        if key.startswith(blocks + '.'):
            index, name = key[len(blocks) + 1:].split('.', 1)
            out[f'{blocks}.{int(index) + 1}.{name}'] = value
            if index == '0':
                template[name] = value
        else:
            out[key] = value
    for name, value in template.items():
        zero = name.startswith(('attn.proj.', 'mlp.fc2.'))
        out[f'{blocks}.0.{name}'] = (torch.zeros_like(value) if zero else
                                     torch.randn(value.shape, generator=gen))
    return out


# Per-sample entries of ``maest_tiny_ref.pt`` (batch first).
_MAEST_BATCH_KEYS = ('input_video', 'target', 'target_patchified_raw', 'finetune_logits',
                     'finetune_pooled')
_MAEST_RUN_BATCH_KEYS = ('noise', 'ids_shuffle', 'ids_restore', 'ids_keep', 'mask', 'latent',
                         'pred')


def widen_maest_reference(ref: dict) -> dict:
    """A copy of ``maest_tiny_ref.pt`` with other sizes, another sample
    order and the same official outputs: one more block in the encoder, the
    decoder and the fine-tuning model (inserted first, the official blocks
    move one index up), an MLP ratio larger by 1, two classes fewer, and the
    batch reversed (input, masks, noise, ids and every per-sample output).

    As in :func:`widen_official_reference` every change keeps the official
    function exactly (zero residual branches, zero ``fc2`` columns, dropped
    logits), and the loss is a mean over the batch, so a test that reads its
    sizes and orders from the file passes on both.
    """
    gen = torch.Generator().manual_seed(0)
    new = dict(ref)
    pretrain = dict(ref['pretrain_kwargs'])
    pretrain['mlp_ratio'] += 1.
    pretrain['depth'] += 1
    pretrain['decoder_depth'] += 1
    sd = _widen_mlps(ref['pretrain_state_dict'], pretrain['mlp_ratio'], gen)
    sd = _prepend_identity_block(_prepend_identity_block(sd, 'blocks', gen), 'decoder_blocks',
                                 gen)
    new.update(pretrain_kwargs=pretrain, pretrain_state_dict=sd)

    finetune = dict(ref['finetune_kwargs'])
    finetune['mlp_ratio'] += 1.
    finetune['depth'] += 1
    classes = max(1, finetune['num_classes'] - 2)
    finetune['num_classes'] = classes
    sd = _widen_mlps(ref['finetune_state_dict'], finetune['mlp_ratio'], gen)
    sd = _prepend_identity_block(sd, 'blocks', gen)
    sd['head.weight'], sd['head.bias'] = sd['head.weight'][:classes], sd['head.bias'][:classes]
    new.update(finetune_kwargs=finetune, finetune_state_dict=sd,
               finetune_logits=ref['finetune_logits'][:, :classes])

    for key in _MAEST_BATCH_KEYS:
        new[key] = new[key].flip(0)
    new['pretrain'] = {
        ratio: dict(run, **{key: run[key].flip(0) for key in _MAEST_RUN_BATCH_KEYS})
        for ratio, run in ref['pretrain'].items()
    }
    return new


@pytest.fixture(scope='module', params=['official', 'widened'])
def any_maest_ref(request, maest_ref) -> dict:
    """``maest_tiny_ref.pt``, then :func:`widen_maest_reference` of it."""
    return maest_ref if request.param == 'official' else widen_maest_reference(maest_ref)
