"""Sharded training with MMEngine's FlexibleRunner strategies on 2 CPU
processes (gloo), as ``configs/scale/`` configure it for ViT-H/g.

Two processes started the way ``tools/dist_train.sh`` starts them (RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT, ``launcher='pytorch'``) build their
runners through :func:`mmvmae2.engine.build_runner` and train a tiny
``VideoMAEPretrainer`` (encoder and decoder with activation checkpointing) on
fixed clips and masks, one video per process and step:

1. ``DDPStrategy``: the reference loss trajectory;
2. the strategy of the ViT-g FSDP config (``VideoMAEFSDPStrategy``,
   ``FULL_SHARD``, one FSDP unit per transformer block) in fp32: the same
   losses within float tolerance, with the pretraining schedule's fused
   AdamW and its weight decay only on matrices (decided on the unsharded
   shapes); it saves a full-state checkpoint (model and sharded AdamW state
   gathered) after step 2;
3. the same resumed from that checkpoint: steps 3-4 give the losses of the
   uninterrupted run;
4. the config's strategy and optim wrapper as they are (bf16 parameters in
   FSDP, bf16 autocast): the DDP trajectory within bf16 tolerance.
"""
import copy
import os
import socket
from pathlib import Path

import numpy as np
import torch
import torch.multiprocessing as mp
from mmengine.config import Config
from torch.utils.data import Dataset

ITERS = 4
SAVE_AT = 2
VIDEOS = 2  # one per process
ROOT = Path(__file__).resolve().parents[1]
SCALE_CONFIG = str(ROOT / 'configs' / 'scale' /
                   'videomaev2_vit-giant-p14_fsdp-64xb32-300e_hybrid-16x4x1.py')


class FixedClips(Dataset):
    """Packed pretraining samples with masks drawn once from fixed seeds."""

    def __init__(self, num_videos: int) -> None:
        from mmaction.registry import TRANSFORMS
        masker = TRANSFORMS.build(dict(type='VideoMAEMaskGenerator', encoder_type='tube',
                                       encoder_ratio=0.5, decoder_type='running_cell',
                                       decoder_ratio=0.5, patch_size=16, tubelet_size=2))
        packer = TRANSFORMS.build(dict(type='PackVideoMAEInputs'))
        self.samples = []
        for index in range(num_videos):
            rng = np.random.RandomState(index)
            np.random.seed(100 + index)  # the mask generator draws from numpy
            clips = rng.randint(0, 256, (1, 3, 4, 32, 32)).astype(np.uint8)
            self.samples.append(packer(masker(dict(imgs=clips))))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict:
        return self.samples[index]


def tiny_pretrainer() -> dict:
    return dict(
        type='VideoMAEPretrainer',
        backbone=dict(type='VideoMAEViT', img_size=32, patch_size=16, num_frames=4,
                      tubelet_size=2, out_type='raw', with_cp=True,
                      arch=dict(embed_dims=48, num_layers=2, num_heads=3,
                                feedforward_channels=96)),
        neck=dict(type='VideoMAEPretrainDecoder', mode='official', with_cp=True,
                  arch=dict(embed_dims=32, num_heads=2, num_layers=1)),
        head=dict(type='VideoMAEPretrainHead', norm_pix='per_channel'),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=[127.5] * 3,
                               std=[64.] * 3, format_shape='NCTHW'))


def runner_cfg(strategy: dict, work_dir: str, name: str, resume_from=None) -> Config:
    """A FlexibleRunner config of ITERS steps (AdamW, lr constant), checkpoint
    after SAVE_AT steps."""
    return Config(dict(
        runner_type='FlexibleRunner', strategy=strategy, launcher='pytorch',
        model=tiny_pretrainer(), work_dir=work_dir, experiment_name=name,
        train_dataloader=dict(dataset=dict(type='test_scaling.FixedClips', num_videos=VIDEOS),
                              batch_size=1, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=ITERS),
        # the pretraining schedule's optimizer: fused AdamW, no weight decay on
        # biases, norms and the mask token (decided on the unsharded shapes)
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95),
                                          weight_decay=0.5, fused=True),
                           paramwise_cfg=dict(flat_decay_mult=0.,
                                              custom_keys={'mask_token': dict(decay_mult=0.)})),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False,
                                           interval=SAVE_AT, save_last=False),
                           logger=dict(type='LoggerHook', interval=1)),
        env_cfg=dict(dist_cfg=dict(backend='nccl')),  # gloo without a GPU (launch.py)
        default_scope='mmaction', randomness=dict(seed=0), log_level='WARNING',
        resume=resume_from is not None, load_from=resume_from))


def losses_of(runner) -> list:
    values, _ = runner.message_hub.get_scalar('train/loss').data
    return [float(v) for v in values]


def fsdp_units(model) -> int:
    from torch.distributed.fsdp import FullyShardedDataParallel
    return len(FullyShardedDataParallel.fsdp_modules(model))


def worker(rank: int, port: int, work_dir: str, queue) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE='2',
                      MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    import mmvmae2  # noqa: F401
    from mmengine.registry import init_default_scope

    from mmvmae2 import checkpoint_loading
    from mmvmae2.engine import build_runner
    init_default_scope('mmaction')
    scale = Config.fromfile(SCALE_CONFIG)
    fsdp_bf16 = scale.strategy
    fsdp = copy.deepcopy(fsdp_bf16)
    fsdp.model_wrapper.pop('mixed_precision')  # fp32 for an exact comparison
    saved = os.path.join(work_dir, 'fsdp', f'iter_{SAVE_AT}.pth')
    runs = (('ddp', dict(type='DDPStrategy'), None, None),
            ('fsdp', fsdp, None, None),
            ('fsdp_resumed', fsdp, saved, None),
            # the config as it is: FSDP bf16 parameters and bf16 autocast
            ('fsdp_bf16', fsdp_bf16, None, scale.optim_wrapper.type))
    result = {}
    for name, strategy, resume, wrapper in runs:
        cfg = runner_cfg(strategy, os.path.join(work_dir, name), name, resume)
        if wrapper is not None:
            cfg.optim_wrapper.type = wrapper
        with checkpoint_loading():
            runner = build_runner(cfg)
            runner.train()
        result[name] = losses_of(runner)[-(ITERS - SAVE_AT if resume else ITERS):]
        result[f'{name}_units'] = fsdp_units(runner.model)
        groups = runner.optim_wrapper.optimizer.param_groups
        result[f'{name}_no_decay'] = sum(g['weight_decay'] == 0 for g in groups)
        result[f'{name}_base_lr'] = runner.optim_wrapper.get_lr()['base_lr'][0]
    queue.put((rank, result))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_fsdp_matches_ddp_and_resumes(tmp_path):
    ctx = mp.get_context('spawn')
    queue = ctx.SimpleQueue()
    mp.start_processes(worker, args=(free_port(), str(tmp_path), queue), nprocs=2,
                       start_method='spawn')
    results = dict(queue.get() for _ in range(2))
    for rank in (0, 1):
        res = results[rank]
        assert res['ddp_units'] == 0
        # root + 2 encoder blocks + 1 decoder block
        assert res['fsdp_units'] == res['fsdp_bf16_units'] == 4
        assert len(res['ddp']) == ITERS
        # the same parameter groups: no decay on the 1-D parameters and the mask token
        assert 0 < res['ddp_no_decay'] == res['fsdp_no_decay'] == res['fsdp_resumed_no_decay']
        assert res['fsdp_resumed_base_lr'] == res['fsdp_base_lr'] == 1e-3
        assert abs(res['ddp'][-1] - res['ddp'][0]) > 1e-2, res['ddp']  # it trains
        np.testing.assert_allclose(res['fsdp'], res['ddp'], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(res['fsdp_resumed'], res['fsdp'][SAVE_AT:],
                                   rtol=1e-5, atol=1e-6)
        # bf16 parameters and matrix multiplies: the same trajectory, coarser
        np.testing.assert_allclose(res['fsdp_bf16'], res['ddp'], rtol=2e-2)
    # the two processes trained on different videos
    assert results[0]['ddp'][0] != results[1]['ddp'][0]

    # the sharded run saved one ordinary, full checkpoint: every key of the
    # unwrapped model with its full shape, and AdamW states for all parameters
    from mmengine.registry import init_default_scope

    import mmvmae2
    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    ckpt = mmvmae2.load_checkpoint_file(tmp_path / 'fsdp' / f'iter_{SAVE_AT}.pth')
    expected = MODELS.build(tiny_pretrainer()).state_dict()
    assert {k: v.shape for k, v in ckpt['state_dict'].items()} == \
        {k: v.shape for k, v in expected.items()}
    params = dict(MODELS.build(tiny_pretrainer()).named_parameters())
    states = ckpt['optimizer']['state']
    assert set(states) == set(params)
    assert all(states[k]['exp_avg'].shape == p.shape for k, p in params.items())
