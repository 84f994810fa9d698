"""An epoch-based training loop that resumes in the middle of an epoch.

MMEngine's ``EpochBasedTrainLoop`` restores the epoch and iteration counters
of a checkpoint but always starts an epoch from its first batch. A checkpoint
saved after iteration ``i`` of an epoch (``CheckpointHook(by_epoch=False)``,
as one does for long pretraining on preemptible machines) would then train
the first ``i`` batches twice and overrun the schedule by ``i`` iterations.

The data order and every sample's augmentation follow from the sampler's
seed (see :class:`~mmvmae2.datasets.VideoMAESeededSampler`), and MMEngine
builds the sampler before ``--resume`` restores the run's seed: a run
resumed without a fixed ``randomness.seed`` would draw other data. The loop
therefore keeps the sampler's seed in the checkpoints itself (see
:meth:`VideoMAEResumableTrainLoop.run`).
"""
import warnings

from mmengine.runner import EpochBasedTrainLoop

from mmaction.registry import LOOPS

SAMPLER_SEED_KEY = 'train_sampler_seed'  # message_hub runtime info, saved in checkpoints


@LOOPS.register_module()
class VideoMAEResumableTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that continues a resumed epoch where it stopped.

    After ``--resume`` from a checkpoint saved ``k`` batches into an epoch,
    that epoch runs only its remaining batches, with their usual batch indices
    (the log shows ``[epoch][k+1/len]`` next). The sampler skips the first
    ``k * batch_size`` indices of the epoch when it can (``skip_next``, see
    :class:`~mmvmae2.datasets.VideoMAESeededSampler`), so nothing is decoded twice and
    every remaining sample gets the data it would have had without the
    interruption. Other samplers are served by loading and discarding the
    first ``k`` batches (with a warning: slower, same order of samples).

    The sampler's seed travels with the checkpoints: see :meth:`run`.

    The arguments are those of ``EpochBasedTrainLoop``.
    """

    def run(self):
        """Train, with the data of the run the checkpoint comes from.

        The sampler's seed is stored in ``message_hub`` (runtime info
        ``SAMPLER_SEED_KEY``), which every checkpoint saves and ``--resume``
        restores before the loop runs. A fresh run records its sampler's seed
        there; a resumed one gives the sampler the recorded seed back. This
        holds whatever the seed came from: a fixed ``randomness.seed``, a
        random one (no seed in the config: the resumed process draws another
        before it loads the checkpoint), ``diff_rank_seed`` (the sampler then
        draws its own shared seed) or an explicit ``sampler.seed``. Reading
        the runner's restored seed instead would miss the last two cases.
        """
        self.restore_sampler_seed()
        return super().run()

    def restore_sampler_seed(self) -> None:
        """Record the sampler's seed in ``message_hub``, or give the sampler
        the one recorded by the run this one resumes."""
        sampler = getattr(self.dataloader, 'sampler', None)
        if not isinstance(getattr(sampler, 'seed', None), int):
            return  # e.g. a sampler without a seed
        hub = self.runner.message_hub
        saved = hub.get_info(SAMPLER_SEED_KEY)
        if saved is None:
            hub.update_info(SAMPLER_SEED_KEY, int(sampler.seed), resumed=True)
        elif int(saved) != sampler.seed:
            self.runner.logger.info(f'{type(sampler).__name__}: seed {saved} of the resumed run '
                                    f'(instead of {sampler.seed})')
            sampler.seed = int(saved)

    def run_epoch(self) -> None:
        """Iterate one epoch, or the part of it not trained yet."""
        num_batches = len(self.dataloader)
        done = self._iter - self._epoch * num_batches  # batches of this epoch already trained
        if done <= 0:
            return super().run_epoch()
        if done > num_batches:
            raise RuntimeError(
                f'cannot resume: the checkpoint is at iteration {self._iter} of epoch '
                f'{self._epoch + 1}, but an epoch now has {num_batches} batches, so that epoch '
                f'ended at iteration {(self._epoch + 1) * num_batches} (did the dataset, the '
                'batch size or the number of processes change?)')
        self.runner.call_hook('before_train_epoch')  # sets the sampler's epoch
        self.runner.model.train()
        for idx, data_batch in enumerate(self._batches_after(done), start=done):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _batches_after(self, done: int):
        """Iterator over the batches of the current epoch after the first ``done``."""
        sampler = self.dataloader.sampler
        if hasattr(sampler, 'skip_next'):
            sampler.skip_next(done * self.dataloader.batch_size)
            return iter(self.dataloader)
        warnings.warn(f'{type(sampler).__name__} cannot skip indices: loading and discarding '
                      f'the {done} batches of this epoch trained before the checkpoint')
        batches = iter(self.dataloader)
        for _ in range(done):
            next(batches)
        return batches
