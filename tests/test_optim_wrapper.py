"""Mixed precision and the non-finite guard of ``VideoMAEAmpOptimWrapper``:
bf16 autocast training on CPU, a fp32 target and loss under autocast, skipped
updates on non-finite losses or gradients (parameters and optimizer state
untouched, logged, a clear stop after too many in a row), gradient
accumulation, and a run of ``tools/train.py`` on the demo config."""
import logging
import math

import numpy as np
import pytest
import torch

import mmvmae2  # noqa: F401
from mmaction.registry import MODELS, OPTIM_WRAPPERS
from mmaction.structures import ActionDataSample
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import init_default_scope
from mmvmae2.datasets.transforms.masking import running_cell_mask, tube_mask
from mmvmae2.engine import VideoMAEAmpOptimWrapper
from test_pretrain_training import run, scalars, train_cmd

TINY = dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)
GRID = (2, 4, 4)  # 4 frames / tubelet 2, 32 px / patch 8


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    init_default_scope('mmaction')


@pytest.fixture()
def log_records():
    """Warnings of a fresh current MMLogger (the wrapper logs through it)."""
    logger = MMLogger.get_instance(f'test_optim_wrapper_{id(object())}')
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger.addHandler(handler)
    MessageHub.get_instance(f'test_optim_wrapper_{id(records)}')  # a fresh current hub
    yield records
    logger.removeHandler(handler)


def build_tiny(seed=0):
    torch.manual_seed(seed)
    return MODELS.build(dict(
        type='VideoMAEPretrainer',
        backbone=dict(type='VideoMAEViT', arch=TINY, img_size=32, patch_size=8, num_frames=4,
                      tubelet_size=2, out_type='raw'),
        neck=dict(type='VideoMAEPretrainDecoder', arch=dict(embed_dims=16, num_heads=2,
                                                            num_layers=1)),
        head=dict(type='VideoMAEPretrainHead'))).train()


def make_batch(B=2, seed=0):
    """``train_step`` input: raw clips (0-255) and their masks."""
    g = torch.Generator().manual_seed(seed)
    rng = np.random.RandomState(seed)
    inputs, samples = [], []
    for _ in range(B):
        inputs.append(torch.rand(3, 4, 32, 32, generator=g) * 255)
        sample = ActionDataSample()
        sample.set_field(torch.as_tensor(tube_mask(GRID, 0.75, rng=rng))[None], 'encoder_mask')
        sample.set_field(torch.as_tensor(running_cell_mask(GRID, 0.5, rng=rng))[None],
                         'decoder_mask')
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def build_wrapper(model, lr=1e-3, **kwargs):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.)
    return OPTIM_WRAPPERS.build(dict(type='VideoMAEAmpOptimWrapper', optimizer=optimizer,
                                     **kwargs))


def params_of(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def same_params(model, before):
    return all(torch.equal(v, before[k]) for k, v in model.named_parameters())


def adam_steps(wrapper):
    return sorted({float(s['step']) for s in wrapper.optimizer.state.values()})


def poison_grad_hook(model, flag):
    """Multiply one parameter's gradient by inf while ``flag['on']``."""
    param = model.backbone.patch_embed.proj.weight
    return param.register_hook(lambda g: g * math.inf if flag['on'] else g)


def test_bf16_autocast_trains_on_cpu():
    model = build_tiny()
    wrapper = build_wrapper(model, lr=3e-3, dtype='bfloat16')
    assert wrapper.device_type == 'cpu' and wrapper.cast_dtype == torch.bfloat16
    assert wrapper.loss_scaler is None  # bf16: no loss scaling
    dtypes = []
    hook = model.backbone.blocks[0].register_forward_hook(
        lambda mod, args, out: dtypes.append(out.dtype))
    batch = make_batch()
    losses = [model.train_step(batch, wrapper)['loss'].item() for _ in range(25)]
    hook.remove()
    assert set(dtypes) == {torch.bfloat16}  # the encoder really ran in bf16
    assert all(math.isfinite(x) for x in losses)
    assert sum(losses[-3:]) / 3 < 0.8 * losses[0], losses
    assert wrapper.skipped_steps == 0 and adam_steps(wrapper) == [25.]
    assert MessageHub.get_current_instance().get_scalar('train/skipped_steps').current() == 0


def test_target_and_loss_are_fp32_under_bf16_autocast():
    model = build_tiny()
    data = model.data_preprocessor(make_batch(), True)
    video, enc, dec = model.unpack(data['inputs'], data['data_samples'])
    with torch.autocast('cpu', dtype=torch.bfloat16):
        pred, index, valid = model.reconstruct_tokens(video, enc, dec)
        pixels = model.to_pixels(video)
        target = model.head.construct_target(pixels)
        amp_loss = model.head.loss(pred, index, valid, pixels, enc)['loss']
        model_loss = model.loss(data['inputs'], data['data_samples'])['loss']
    assert pred.dtype == torch.bfloat16  # the decoder ran in bf16
    assert target.dtype == torch.float32
    assert amp_loss.dtype == torch.float32 and model_loss.dtype == torch.float32
    # fp32 loss, outside autocast, of the same bf16-rounded predictions
    ref = model.head.loss(pred.float(), index, valid, model.to_pixels(video), enc)['loss']
    torch.testing.assert_close(amp_loss, ref, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(model_loss, ref, rtol=1e-6, atol=1e-7)  # same forward again
    # the fp32 target is not rounded to bf16
    assert not torch.equal(target, target.bfloat16().float())


@pytest.mark.parametrize('dtype', ['bfloat16', None])
def test_non_finite_gradient_skips_exactly_that_step(dtype, log_records):
    model = build_tiny()
    wrapper = build_wrapper(model, dtype=dtype)
    batch, flag = make_batch(), {'on': False}
    handle = poison_grad_hook(model, flag)
    model.train_step(batch, wrapper)
    model.train_step(batch, wrapper)
    before, steps = params_of(model), adam_steps(wrapper)
    flag['on'] = True
    loss = model.train_step(batch, wrapper)['loss']
    flag['on'] = False
    assert math.isfinite(loss.item())  # only the gradient was poisoned
    assert same_params(model, before)  # no update at all (AdamW would move every weight)
    assert adam_steps(wrapper) == steps == [2.]
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    assert (wrapper.skipped_steps, wrapper.consecutive_skips, wrapper.first_skipped_iter) == \
        (1, 1, 2)
    assert MessageHub.get_current_instance().get_scalar('train/skipped_steps').current() == 1
    messages = [r.getMessage() for r in log_records]
    assert len(messages) == 1 and 'Skipped the update at iteration 2' in messages[0]
    assert 'skipped steps: 1, first at iteration 2' in messages[0]
    # the next finite step updates again and ends the run of skips
    model.train_step(batch, wrapper)
    assert not same_params(model, before) and adam_steps(wrapper) == [3.]
    assert wrapper.consecutive_skips == 0 and wrapper.skipped_steps == 1
    assert all(torch.isfinite(p).all() for p in model.parameters())
    handle.remove()


def test_nan_loss_is_skipped(log_records):
    model = build_tiny()
    wrapper = build_wrapper(model, dtype='bfloat16')
    batch = model.data_preprocessor(make_batch(), True)
    before = params_of(model)
    with wrapper.optim_context(model):
        loss = model.loss(batch['inputs'], batch['data_samples'])['loss']
    wrapper.update_params(loss * math.nan)
    assert same_params(model, before) and adam_steps(wrapper) == []
    assert wrapper.skipped_steps == 1 and len(log_records) == 1


def test_consecutive_skips_stop_the_run_with_a_clear_error(log_records):
    model = build_tiny()
    wrapper = build_wrapper(model, dtype='bfloat16', max_consecutive_skips=3)
    batch, flag = make_batch(), {'on': True}
    poison_grad_hook(model, flag)
    for _ in range(2):  # two skips, a good step (resets the count), two skips
        model.train_step(batch, wrapper)
    flag['on'] = False
    model.train_step(batch, wrapper)
    flag['on'] = True
    for _ in range(2):
        model.train_step(batch, wrapper)
    assert wrapper.skipped_steps == 4 and wrapper.consecutive_skips == 2
    with pytest.raises(RuntimeError) as error:
        model.train_step(batch, wrapper)
    message = str(error.value)
    assert '3 consecutive updates had a non-finite loss or gradients' in message
    assert 'the last at iteration 5' in message and '5 skipped in all' in message
    assert 'the first at iteration 0' in message
    for hint in ('learning rate', 'loss scale', 'data'):
        assert hint in message
    assert len(log_records) == 5


def test_fp16_on_cpu_fails_clearly():
    model = build_tiny()
    with pytest.raises(ValueError, match='float16 needs a GPU.*bfloat16'):
        build_wrapper(model, dtype='float16')
    with pytest.raises(ValueError, match='dtype must be one of'):
        build_wrapper(model, dtype='float64')
    with pytest.raises(ValueError, match='max_consecutive_skips'):
        build_wrapper(model, max_consecutive_skips=0)


@pytest.mark.parametrize('dtype', ['bfloat16', None])
def test_gradient_accumulation_updates_every_second_iteration(dtype):
    model = build_tiny()
    wrapper = build_wrapper(model, dtype=dtype, accumulative_counts=2)
    wrapper.initialize_count_status(model, 0, 6)
    batch, flag = make_batch(), {'on': False}
    poison_grad_hook(model, flag)
    changed = []
    for i in range(6):
        before = params_of(model)
        flag['on'] = i == 2  # poison the first micro-batch of the second update
        model.train_step(batch, wrapper)
        changed.append(not same_params(model, before))
    # updates after iterations 2 and 6; the second window (3, 4) is skipped as a whole
    assert changed == [False, True, False, False, False, True]
    assert adam_steps(wrapper) == [2.] and wrapper.skipped_steps == 1
    assert wrapper.first_skipped_iter == 1  # the second update


def test_state_dict_round_trip():
    model = build_tiny()
    wrapper = build_wrapper(model, dtype='bfloat16')
    model.train_step(make_batch(), wrapper)
    state = wrapper.state_dict()
    assert 'loss_scaler' not in state  # bf16 has no scaler
    other = build_wrapper(build_tiny(), dtype='bfloat16')
    other.load_state_dict(dict(state, loss_scaler={'scale': 1.}))  # an fp16 checkpoint too
    assert adam_steps(other) == [1.]
    assert isinstance(other, VideoMAEAmpOptimWrapper)


def test_demo_training_with_bf16_through_train_py(demo_video_dir, tmp_path):
    options = ('optim_wrapper.type=VideoMAEAmpOptimWrapper', 'optim_wrapper.dtype=bfloat16')
    proc = run(train_cmd(tmp_path, demo_video_dir, epochs=2, options=options))
    records = scalars(tmp_path)
    assert len(records) == 2 * 3  # 6 videos, 2 per batch
    assert all(math.isfinite(r['loss']) for r in records)
    assert all(r['skipped_steps'] == 0 for r in records)
    ckpt = torch.load(tmp_path / 'epoch_2.pth', map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 6 and 'loss_scaler' not in ckpt['optimizer']
    assert {float(s['step']) for s in ckpt['optimizer']['state'].values()} == {6.}
    assert 'VideoMAEAmpOptimWrapper' in proc.stdout + proc.stderr  # the config dump
    # resume for one more epoch
    proc = run(train_cmd(tmp_path, demo_video_dir, epochs=3, extra=('--resume', ),
                         options=options))
    assert 'resumed epoch: 2, iter: 6' in proc.stdout + proc.stderr
    records = scalars(tmp_path)
    assert records[-1]['epoch'] == 3 and records[-1]['iter'] == 9
    assert math.isfinite(records[-1]['loss'])
    ckpt = torch.load(tmp_path / 'epoch_3.pth', map_location='cpu', weights_only=False)
    assert {float(s['step']) for s in ckpt['optimizer']['state'].values()} == {9.}


def test_loss_scaler_path_skips_and_backs_off(log_records):
    """The fp16 path's logic (unscale, the scaler's inf check, back-off) with
    a CPU ``GradScaler`` put in place of the CUDA one fp16 builds."""
    model = build_tiny()
    wrapper = build_wrapper(model, dtype=None)
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=1024., growth_interval=1)
    batch, flag = make_batch(), {'on': False}
    poison_grad_hook(model, flag)
    model.train_step(batch, wrapper)
    assert wrapper.loss_scaler.get_scale() == 2048.  # grows after a finite step
    before = params_of(model)
    flag['on'] = True
    model.train_step(batch, wrapper)
    assert same_params(model, before) and adam_steps(wrapper) == [1.]
    assert wrapper.loss_scaler.get_scale() == 1024.  # backed off
    assert wrapper.skipped_steps == 1 and 'loss scale now 1024' in log_records[0].getMessage()
    flag['on'] = False
    model.train_step(batch, wrapper)
    assert not same_params(model, before) and adam_steps(wrapper) == [2.]
    assert 'loss_scaler' in wrapper.state_dict()


def test_amp_flag_of_tools_train_uses_the_guarded_wrapper(monkeypatch):
    """``tools/train.py --amp`` picks ``VideoMAEAmpOptimWrapper``: bf16 on a
    machine without a GPU, fp16 with one; ``--amp-dtype`` chooses."""
    import importlib.util
    import sys
    from pathlib import Path

    from mmengine.config import Config
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location('train_tool', root / 'tools' / 'train.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    config = str(root / 'configs' / 'pretrain' / 'videomaev2_vit-tiny_demo.py')
    for argv, gpu, dtype in [(['--amp'], False, 'bfloat16'), (['--amp'], True, 'float16'),
                             (['--amp', '--amp-dtype', 'bfloat16'], True, 'bfloat16')]:
        monkeypatch.setattr(sys, 'argv', ['train.py', config, *argv])
        monkeypatch.setattr(torch.cuda, 'is_available', lambda gpu=gpu: gpu)
        cfg = tool.merge_args(Config.fromfile(config), tool.parse_args())
        assert cfg.optim_wrapper.type == 'VideoMAEAmpOptimWrapper'
        assert cfg.optim_wrapper.dtype == dtype and cfg.optim_wrapper.loss_scale == 'dynamic'
