"""Check, before the first iteration, that the data and the model agree on
the token grid.

The clip length and crop size live in the data pipeline, the patch and
tubelet sizes of the masks in ``VideoMAEMaskGenerator``, and the token grid
of the position tables in ``model.backbone``. When they disagree, the first
iteration fails deep in the model (or, with interpolated position tables,
trains on another grid than intended). :class:`VideoMAEGeometryCheckHook`
runs the part of every training pipeline after decoding on blank frames and
compares what comes out with the backbone, naming the config keys to change.
"""
import warnings
from typing import Iterator, Tuple

import numpy as np
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS
from mmvmae2.datasets.pretrain_dataset import frame_sampler_index, seeded


def _transforms(pipeline) -> list:
    return list(getattr(pipeline, 'transforms', pipeline))


def _sources(dataset) -> Iterator[Tuple[str, object]]:
    """``(name, dataset)`` of a dataset or of each source of a hybrid one."""
    for ds in getattr(dataset, 'datasets', [dataset]):
        if hasattr(ds, 'pipeline'):
            yield str(getattr(ds, 'ann_file', type(ds).__name__)), ds


def blank_sample(pipeline, frame_hw: Tuple[int, int] = (240, 320)) -> dict:
    """Run the transforms after the decoding step on blank frames.

    Returns:
        dict: the packed sample, ``inputs (S, C, T, H, W)`` and
        ``data_samples`` with the masks ``(S, N)``.
    """
    transforms = _transforms(pipeline)
    sampler = transforms[frame_sampler_index(transforms)]
    decode = max(i for i, t in enumerate(transforms) if type(t).__name__.endswith('Decode'))
    clip_len = int(sampler.clip_len)
    results = dict(imgs=[np.zeros(frame_hw + (3, ), np.uint8)] * clip_len, img_shape=frame_hw,
                   original_shape=frame_hw, frame_inds=np.arange(clip_len), clip_len=clip_len,
                   frame_interval=sampler.frame_interval, num_clips=1, modality='RGB',
                   start_index=0, label=-1, filename='blank.mp4')
    with seeded(0):  # leaves the run's random state untouched
        for t in transforms[decode + 1:]:
            results = t(results)
    return results


def check_geometry(sample: dict, backbone, name: str) -> None:
    """Raise ``ValueError`` if a packed ``sample`` of a training pipeline (see
    :func:`blank_sample`) has clips or masks that do not fit ``backbone``'s
    token grid."""
    T, H, W = sample['inputs'].shape[-3:]
    mask = sample['data_samples'].encoder_mask
    tub, (ph, pw) = backbone.tubelet_size, backbone.patch_size
    grid = (T // tub, H // ph, W // pw)
    if tuple(grid) != tuple(backbone.grid_size) or mask.shape[-1] != backbone.num_patches:
        raise ValueError(
            f'{name}: the training pipeline makes clips of {T} frames of {H}x{W} pixels '
            f'(SampleFrames.clip_len, the crop/Resize size), a {grid[0]}x{grid[1]}x{grid[2]} '
            f'token grid for the backbone, with masks over {mask.shape[-1]} tokens '
            '(VideoMAEMaskGenerator.patch_size/tubelet_size); model.backbone (num_frames='
            f'{backbone.num_frames}, img_size={backbone.img_size}, patch_size='
            f'{backbone.patch_size}, tubelet_size={tub}) has a '
            f'{"x".join(map(str, backbone.grid_size))} grid of {backbone.num_patches} tokens. '
            'Make them agree.')


@HOOKS.register_module()
class VideoMAEGeometryCheckHook(Hook):
    """Before training, check every training pipeline against the backbone's
    token grid (see the module docstring); a pipeline that cannot run on
    blank frames is not checked (with a warning)."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        backbone = getattr(model, 'backbone', None)
        if not hasattr(backbone, 'grid_size'):
            return
        for name, ds in _sources(runner.train_loop.dataloader.dataset):
            try:
                sample = blank_sample(ds.pipeline)
            except Exception as e:  # a custom pipeline: leave it to the first iteration
                warnings.warn(f'{name}: cannot check the pipeline geometry on blank frames '
                              f'({type(e).__name__}: {e})')
                continue
            check_geometry(sample, backbone, name)
