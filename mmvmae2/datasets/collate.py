"""Collate repeated clips of a video into samples of their own.

For fine-tuning, the official VideoMAE V2 code decodes a video once and
augments it ``num_sample`` (2) times; its ``multiple_samples_collate`` then
makes every augmented clip a training sample with the video's label, so the
loss and mixup see ``num_sample * batch_size`` clips. Here
``VideoMAERepeatedAugment`` stacks the clips of a video into one packed
sample, and :func:`repeated_clips_collate` splits them before collating.
"""
from typing import Dict, List, Sequence

from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS  # where MMAction2 registers repeat_pseudo_collate


def split_repeats(sample: Dict, num_repeats: int) -> List[Dict]:
    """Split one packed sample whose ``inputs`` hold ``num_repeats`` clips.

    Args:
        sample (dict): ``inputs`` ``(num_repeats * n, C, T, H, W)`` (``n``
            views per clip, usually 1) and ``data_samples``.
        num_repeats (int): How many augmented clips were stacked.

    Returns:
        list[dict]: ``num_repeats`` samples with ``inputs`` ``(n, C, T, H,
        W)``, each with its own copy of the data sample (same label).

    Raises:
        ValueError: ``inputs`` does not hold a multiple of ``num_repeats``.
    """
    inputs = sample['inputs']
    if inputs.shape[0] % num_repeats:
        raise ValueError(f'a packed sample holds {inputs.shape[0]} clips, not a multiple of '
                         f'num_repeats={num_repeats}: collate_fn.num_repeats must equal '
                         f'VideoMAERepeatedAugment.num_repeats of the pipeline')
    n = inputs.shape[0] // num_repeats
    return [
        dict(sample, inputs=inputs[i * n:(i + 1) * n], data_samples=sample['data_samples'].clone())
        for i in range(num_repeats)
    ]


@FUNCTIONS.register_module(name='VideoMAERepeatedCollate')
def repeated_clips_collate(data_batch: Sequence[Dict], num_repeats: int = 2) -> Dict:
    """``pseudo_collate`` of ``B`` videos x ``num_repeats`` clips as
    ``num_repeats * B`` samples, clips of a video next to each other.

    Use as ``train_dataloader.collate_fn=dict(type='VideoMAERepeatedCollate',
    num_repeats=2)`` with ``VideoMAERepeatedAugment(num_repeats=2)``.
    """
    if num_repeats < 1:
        raise ValueError(f'num_repeats must be >= 1, got {num_repeats}')
    return pseudo_collate([clip for sample in data_batch
                           for clip in split_repeats(sample, num_repeats)])
