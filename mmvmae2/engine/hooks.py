"""Training-log accounting of videos skipped by the datasets."""
from typing import List, Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook

from mmaction.registry import HOOKS


def collect_skipped(data_batch) -> List[str]:
    """Files skipped while producing a batch, from each sample's metainfo
    ``skipped_videos`` (set by ``VideoMAEPretrainDataset``)."""
    if isinstance(data_batch, dict):
        samples = data_batch.get('data_samples') or []
    else:  # a list of samples (no collate)
        samples = [s.get('data_samples') for s in data_batch or [] if isinstance(s, dict)]
    skipped = []
    for sample in samples:
        meta = getattr(sample, 'metainfo', None) or {}
        skipped.extend(meta.get('skipped_videos', []))
    return skipped


@HOOKS.register_module()
class VideoMAESkippedVideoHook(Hook):
    """Count the videos the dataset skipped and put the total in the log.

    Works with DataLoader workers: the skipped files travel with the samples
    (metainfo ``skipped_videos``). After every iteration the running total of
    skips, summed over all processes, goes to ``message_hub`` as
    ``train/skipped_videos``, so it is printed with the losses; every newly
    seen file is logged once at INFO level (the dataset already warned, naming
    the reason, possibly from a worker process whose output may not reach the
    log file).
    Newly seen files are also told to the main-process dataset
    (``remember_bad``), so workers started later skip them without a new
    warning or decode attempt.

    Args:
        log_files (bool): Log each newly skipped file once. Defaults to True.
    """

    priority = 'NORMAL'  # before LoggerHook (BELOW_NORMAL) in the same iteration

    def __init__(self, log_files: bool = True) -> None:
        self.log_files = log_files
        self.total = 0
        self.seen = set()

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        skipped = collect_skipped(data_batch)
        self.total += len(skipped)
        new = [f for f in dict.fromkeys(skipped) if f not in self.seen]
        self.seen.update(new)
        if new:
            if self.log_files:
                for name in new:
                    runner.logger.info(f'Skipped video {name} (skips so far: {self.total})')
            dataset = getattr(getattr(runner, 'train_loop', None), 'dataloader', None)
            dataset = getattr(dataset, 'dataset', None)
            if hasattr(dataset, 'remember_bad'):
                dataset.remember_bad(new)
        runner.message_hub.update_scalar('train/skipped_videos', self._all_ranks(self.total))

    @staticmethod
    def _all_ranks(count: int) -> int:
        """Sum of ``count`` over all processes (one tiny all-reduce per
        iteration when distributed; the log is written by rank 0 only)."""
        if get_world_size() == 1:
            return count
        total = torch.tensor([count], dtype=torch.int64)
        all_reduce(total)  # moves to the backend's device (CUDA for NCCL) and back
        return int(total.item())
