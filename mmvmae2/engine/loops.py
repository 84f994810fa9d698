"""An epoch-based training loop that resumes in the middle of an epoch.

MMEngine's ``EpochBasedTrainLoop`` restores the epoch and iteration counters
of a checkpoint but always starts an epoch from its first batch. A checkpoint
saved after iteration ``i`` of an epoch (``CheckpointHook(by_epoch=False)``,
as one does for long pretraining on preemptible machines) would then train
the first ``i`` batches twice and overrun the schedule by ``i`` iterations.
"""
import warnings

from mmengine.runner import EpochBasedTrainLoop

from mmaction.registry import LOOPS


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

    The arguments are those of ``EpochBasedTrainLoop``.
    """

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
