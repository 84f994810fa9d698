"""VideoMAESeededSampler (per-sample seeds) and the mid-epoch resume it enables."""
import warnings

import pytest
from mmengine.dataset import DefaultSampler
from torch.utils.data import DataLoader

import mmvmae2  # noqa: F401
from mmaction.registry import DATA_SAMPLERS, LOOPS
from mmvmae2.datasets.samplers import SeededIndex, VideoMAESeededSampler, sample_seed
from mmvmae2.engine import VideoMAEResumableTrainLoop


def make_sampler(monkeypatch, n=12, rank=0, world_size=1, seed=3, cls=VideoMAESeededSampler, **kw):
    monkeypatch.setattr('mmengine.dataset.sampler.get_dist_info', lambda: (rank, world_size))
    return cls(list(range(n)), seed=seed, **kw)


def pairs(sampler, epoch):
    sampler.set_epoch(epoch)
    return [(int(i), i.seed) for i in sampler]


def test_seeds_are_a_function_of_seed_epoch_position(monkeypatch):
    sampler = make_sampler(monkeypatch)
    first = pairs(sampler, 0)
    assert sorted(i for i, _ in first) == list(range(12))  # a permutation of the dataset
    # the seeds of positions 0, 1, 2 of epoch 0 for seed 3 (fixed: changing the
    # derivation changes the data of every run)
    assert [s for _, s in first][:3] == [1576890651, 3578933982, 2930978690]
    assert len({s for _, s in first}) == 12
    assert sample_seed(3, 0, 0) == 1576890651 and sample_seed(3 + 2**32, 0, 0) == 1576890651
    assert pairs(sampler, 0) == first  # the same epoch again: the same data
    assert {s for _, s in pairs(sampler, 1)}.isdisjoint({s for _, s in first})  # fresh seeds


def test_seeds_do_not_depend_on_the_number_of_processes(monkeypatch):
    single = pairs(make_sampler(monkeypatch), 2)
    ranks = [pairs(make_sampler(monkeypatch, rank=r, world_size=3), 2) for r in range(3)]
    assert sorted(sum(ranks, [])) == sorted(single)
    assert ranks[1] == single[1::3]  # rank r draws global positions r, r + 3, ...


def test_skip_next_leaves_out_the_first_indices_once(monkeypatch):
    sampler = make_sampler(monkeypatch)
    full = pairs(sampler, 1)
    sampler.skip_next(5)
    assert pairs(sampler, 1) == full[5:]  # same indices and seeds, positions kept
    assert pairs(sampler, 1) == full  # one pass only
    with pytest.raises(ValueError, match='cannot skip -1'):
        sampler.skip_next(-1)


def test_seeded_index_survives_pickling():
    import pickle
    index = pickle.loads(pickle.dumps(SeededIndex(7, 12345)))
    assert isinstance(index, SeededIndex) and int(index) == 7 and index.seed == 12345


def test_registered():
    assert DATA_SAMPLERS.get('VideoMAESeededSampler') is VideoMAESeededSampler
    assert LOOPS.get('VideoMAEResumableTrainLoop') is VideoMAEResumableTrainLoop


@pytest.mark.parametrize('cls', [VideoMAESeededSampler, DefaultSampler])
def test_loop_serves_the_batches_after_a_mid_epoch_checkpoint(monkeypatch, cls):
    """The batches the resumed epoch still has to train: skipped by the
    sampler when it can, else loaded and discarded with a warning."""
    sampler = make_sampler(monkeypatch, n=10, cls=cls)
    loader = DataLoader(list(range(10)), batch_size=3, sampler=sampler,
                        collate_fn=lambda b: [int(i) for i in b])
    whole = list(loader)
    loop = VideoMAEResumableTrainLoop.__new__(VideoMAEResumableTrainLoop)
    loop.dataloader = loader
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        rest = list(loop._batches_after(2))
    assert rest == whole[2:]
    assert bool(caught) == (cls is DefaultSampler)
    if caught:
        assert 'cannot skip indices' in str(caught[0].message)


def test_loop_refuses_a_checkpoint_from_another_epoch_length(monkeypatch):
    loop = VideoMAEResumableTrainLoop.__new__(VideoMAEResumableTrainLoop)
    loop.dataloader = DataLoader(list(range(10)), batch_size=3,
                                 sampler=make_sampler(monkeypatch, n=10))
    loop._epoch, loop._iter = 1, 9  # 4 batches per epoch now: epoch 2 ended at iteration 8
    with pytest.raises(RuntimeError, match='iteration 9 of epoch 2, but an epoch now has 4'):
        loop.run_epoch()


def test_loop_keeps_the_sampler_seed_in_the_checkpointed_message_hub(monkeypatch):
    """A fresh run records its sampler's seed in message_hub (saved in every
    checkpoint); a resumed run, whose sampler drew another seed, gets it back."""
    import logging

    from mmengine.logging import MessageHub
    from mmvmae2.engine.loops import SAMPLER_SEED_KEY

    def loop_with(sampler, hub):
        loop = VideoMAEResumableTrainLoop.__new__(VideoMAEResumableTrainLoop)
        loop.dataloader = DataLoader(list(range(10)), batch_size=3, sampler=sampler)
        loop._runner = type('Runner', (), dict(message_hub=hub,
                                               logger=logging.getLogger('loop_test')))()
        return loop

    first = make_sampler(monkeypatch, n=10, seed=1636069996)
    hub = MessageHub.get_instance('sampler_seed_first_run')
    loop_with(first, hub).restore_sampler_seed()
    assert hub.get_info(SAMPLER_SEED_KEY) == 1636069996 and first.seed == 1636069996
    resumed_hub = MessageHub.get_instance('sampler_seed_resumed_run')
    resumed_hub.load_state_dict(hub.state_dict())  # what --resume does with a checkpoint
    resumed = make_sampler(monkeypatch, n=10, seed=498213587)
    loop_with(resumed, resumed_hub).restore_sampler_seed()
    assert resumed.seed == 1636069996
    assert pairs(resumed, 2) == pairs(first, 2)
