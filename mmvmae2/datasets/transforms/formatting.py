"""Repeated augmentation of one decoded clip, and packing for VideoMAE."""
import copy
from typing import Callable, List, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample
from .errors import apply_transforms


def build_transforms(transforms: Sequence[Union[dict, Callable]]) -> List[Callable]:
    """Build transform configs with MMAction2's registry (no default scope needed)."""
    return [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in transforms]


@TRANSFORMS.register_module()
class VideoMAERepeatedAugment(BaseTransform):
    """Run a sub-pipeline several times on one decoded clip and stack the runs.

    Decoding is the expensive part of video loading, so (as ``num_sample`` in
    the official VideoMAE V2 code) the frames are decoded once and augmented
    ``num_repeats`` times: every run gets its own copy of ``results``, its own
    random crop and its own masks, but the same frame indices.

    Every run must end with ``FormatShape('NCTHW')`` so ``imgs`` is
    ``(n, C, T, H, W)`` (``n = num_clips * num_crops``, usually 1).

    Required keys:

        - imgs (decoded frames)
        - the keys the sub-pipeline needs

    Modified keys:

        - imgs: ``(num_repeats * n, C, T, H, W)``, runs concatenated in order
        - every present key of ``stack_keys``: ``(num_repeats * n, ...)``

    Added keys:

        - num_repeats
        - the other keys added by the sub-pipeline (from its last run)

    Args:
        transforms (list[dict | callable]): The sub-pipeline run per repeat.
        num_repeats (int): Number of augmented clips per decoded video.
            Defaults to 4.
        stack_keys (Sequence[str]): Per-run arrays with a leading ``n`` axis
            to concatenate like ``imgs``. Absent keys are ignored.
            Defaults to ``('encoder_mask', 'decoder_mask')``.
    """

    def __init__(self,
                 transforms: Sequence[Union[dict, Callable]],
                 num_repeats: int = 4,
                 stack_keys: Sequence[str] = ('encoder_mask', 'decoder_mask')) -> None:
        if num_repeats < 1:
            raise ValueError(f'num_repeats must be >= 1, got {num_repeats}')
        self.transforms = build_transforms(transforms)
        self.num_repeats = num_repeats
        self.stack_keys = tuple(stack_keys)

    def _run(self, results: dict) -> dict:
        results = apply_transforms(self.transforms, results)  # errors name the inner transform
        if results is None:
            raise RuntimeError('a transform returned None inside VideoMAERepeatedAugment')
        return results

    def transform(self, results: dict) -> dict:
        runs = [self._run(copy.deepcopy(results)) for _ in range(self.num_repeats)]
        out = runs[-1]
        for key in ('imgs', ) + self.stack_keys:
            if key in out:
                out[key] = np.concatenate([np.asarray(r[key]) for r in runs], axis=0)
        out['num_repeats'] = self.num_repeats
        if 'input_shape' in out:
            out['input_shape'] = out['imgs'].shape
        return out

    def __repr__(self) -> str:
        inner = ', '.join(repr(t) for t in self.transforms)
        return (f'{self.__class__.__name__}(num_repeats={self.num_repeats}, '
                f'stack_keys={self.stack_keys}, transforms=[{inner}])')


@TRANSFORMS.register_module()
class PackVideoMAEInputs(BaseTransform):
    """Pack clips and masks for VideoMAE pretraining.

    Required keys:

        - imgs: ``(S, C, T, H, W)`` (or ``(C, T, H, W)``, taken as ``S = 1``)
        - encoder_mask, decoder_mask (optional): bool ``(S, N)`` (or ``(N, )``)
        - label (optional; ``-1`` means unlabeled and is not packed)
        - the keys of ``meta_keys`` (optional)

    Added keys:

        - inputs: tensor ``(S, C, T, H, W)``, dtype kept (uint8 stays uint8)
        - data_samples: :obj:`ActionDataSample` with bool tensor fields
          ``encoder_mask``/``decoder_mask`` ``(S, N)``, ``gt_label`` when
          labeled, and metainfo from ``meta_keys`` (``skipped_videos`` is
          always present, ``[]`` by default; the dataset fills it).

    Args:
        mask_keys (Sequence[str]): Mask keys to pack as data-sample fields.
            Defaults to ``('encoder_mask', 'decoder_mask')``.
        meta_keys (Sequence[str]): Keys copied to the metainfo when present.
            Defaults to ``('filename', 'frame_dir', 'frame_inds',
            'frame_interval', 'img_shape', 'num_repeats', 'skipped_videos')``.
    """

    def __init__(self,
                 mask_keys: Sequence[str] = ('encoder_mask', 'decoder_mask'),
                 meta_keys: Sequence[str] = ('filename', 'frame_dir', 'frame_inds',
                                             'frame_interval', 'img_shape', 'num_repeats',
                                             'skipped_videos')) -> None:
        self.mask_keys = tuple(mask_keys)
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        imgs = torch.from_numpy(np.ascontiguousarray(results['imgs']))
        if imgs.ndim == 4:  # (C, T, H, W)
            imgs = imgs[None]
        if imgs.ndim != 5:
            raise ValueError(f'imgs must be (S, C, T, H, W), got {tuple(imgs.shape)}; '
                             "end each run with FormatShape('NCTHW')")
        sample = ActionDataSample()
        for key in self.mask_keys:
            if key in results:
                mask = torch.as_tensor(np.asarray(results[key])).bool()
                mask = mask.reshape(1, -1) if mask.ndim == 1 else mask
                if mask.shape[0] != imgs.shape[0]:
                    raise ValueError(f'{key} has {mask.shape[0]} rows for {imgs.shape[0]} clips')
                sample.set_field(mask, key, dtype=torch.Tensor)
        label = results.get('label', -1)
        if not (np.isscalar(label) and label == -1):
            sample.set_gt_label(label)
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.setdefault('skipped_videos', [])
        sample.set_metainfo(meta)
        return dict(inputs=imgs, data_samples=sample)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mask_keys={self.mask_keys}, '
                f'meta_keys={self.meta_keys})')
