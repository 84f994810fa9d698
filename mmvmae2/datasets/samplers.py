"""A sampler that makes the data of every sample reproducible.

MMEngine seeds each DataLoader worker once, from ``seed + worker_id`` (see
``mmengine.dataset.worker_init_fn``). Augmentation and masks drawn in the
pipeline then depend on which worker loads a sample and on what it loaded
before; without persistent workers every epoch even repeats the crops and
masks of the previous one, and a run resumed with ``--resume`` sees other
data than an uninterrupted one. :class:`VideoMAESeededSampler` instead gives every
drawn sample its own seed, a hash of ``(seed, epoch, position in the epoch)``,
and :class:`VideoMAEPretrainDataset` runs the pipeline under that seed. The
data of a run is then a function of the seed alone: independent of the number
of workers and processes, fresh at every epoch, identical after a resume.

The seed is taken when the dataloader is built, before ``--resume`` restores
the run's seed. ``VideoMAEResumableTrainLoop`` therefore keeps the sampler's
seed in the checkpoints and hands it back on resume, so a run without a
fixed ``randomness.seed`` resumes on its own data too.
"""
from typing import Iterator, Optional

import numpy as np
from mmengine.dataset import DefaultSampler

from mmaction.registry import DATA_SAMPLERS


class SeededIndex(int):
    """A dataset index that carries the random seed of its sample."""

    def __new__(cls, index: int, seed: int):
        obj = super().__new__(cls, index)
        obj.seed = int(seed)
        return obj

    def __reduce__(self):  # survives the trip to DataLoader workers
        return SeededIndex, (int(self), self.seed)


def sample_seed(seed: int, epoch: int, position: int) -> int:
    """32-bit seed of the sample drawn at ``position`` of ``epoch``."""
    return int(np.random.SeedSequence([seed & 0xFFFFFFFF, epoch, position]).generate_state(1)[0])


@DATA_SAMPLERS.register_module()
class VideoMAESeededSampler(DefaultSampler):
    """:class:`~mmengine.dataset.DefaultSampler` whose indices carry a
    per-sample seed (:class:`SeededIndex`).

    Positions are global (``rank + i * world_size``), so each sample of an
    epoch has its own seed whatever the number of processes.

    Args:
        dataset (Sized): The dataset.
        shuffle (bool): Shuffle the order every epoch. Defaults to True.
        seed (int, optional): Base seed, shared by all ranks; None takes the
            runner's (synchronized) seed. ``VideoMAEResumableTrainLoop``
            resets it to the seed of the run it resumes. Defaults to None.
        round_up (bool): As in ``DefaultSampler``. Defaults to True.
    """

    def __init__(self, dataset, shuffle: bool = True, seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        super().__init__(dataset, shuffle=shuffle, seed=seed, round_up=round_up)
        self._skip = 0

    def skip_next(self, num: int) -> None:
        """Make the next pass (only) leave out this rank's first ``num``
        indices of the epoch; the others keep their positions and seeds
        (``VideoMAEResumableTrainLoop`` resuming in mid-epoch)."""
        if num < 0:
            raise ValueError(f'cannot skip {num} indices')
        self._skip = int(num)

    def __iter__(self) -> Iterator[SeededIndex]:
        skip, self._skip = self._skip, 0
        for i, index in enumerate(super().__iter__()):
            if i >= skip:
                position = self.rank + i * self.world_size
                yield SeededIndex(index, sample_seed(self.seed, self.epoch, position))
