"""Check, before the first iteration, that the data and the model agree on
the token grid.

The clip length and crop size live in the data pipeline, the patch and
tubelet sizes of the masks in ``VideoMAEMaskGenerator``, and the token grid
of the position tables in ``model.backbone``. When they disagree, the first
iteration fails deep in the model (or, with interpolated position tables,
trains on another grid than intended). :class:`VideoMAEGeometryCheckHook`
runs the part of every training pipeline after decoding on blank frames and
compares what comes out with the backbone, naming the config keys to change.
A transform that fails on those frames stops the run too, naming itself: it
would fail on every real sample as well.
"""
import warnings
from typing import Iterator, Tuple

import numpy as np
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS
from mmvmae2.datasets.pretrain_dataset import frame_sampler_index, seeded
from mmvmae2.datasets.transforms.errors import TransformError, apply_transforms


def _transforms(pipeline) -> list:
    return list(getattr(pipeline, 'transforms', pipeline))


def _sources(dataset) -> Iterator[Tuple[str, object]]:
    """``(name, dataset)`` of a dataset or of each source of a hybrid one."""
    for ds in getattr(dataset, 'datasets', [dataset]):
        if hasattr(ds, 'pipeline'):
            yield str(getattr(ds, 'ann_file', type(ds).__name__)), ds


class UncheckablePipeline(ValueError):
    """A pipeline without a frame sampler or a decoding step to recognize."""


def blank_sample(pipeline, frame_hw: Tuple[int, int] = (240, 320)) -> dict:
    """Run the transforms after the decoding step on blank frames.

    Returns:
        dict: the packed sample, ``inputs (S, C, T, H, W)`` and
        ``data_samples`` with the masks ``(S, N)``.

    Raises:
        UncheckablePipeline: no frame sampler (``clip_len``) or no
            ``*Decode`` transform in the pipeline.
        TransformError: a transform failed, named in the message.
    """
    transforms = _transforms(pipeline)
    index = frame_sampler_index(transforms)
    decodes = [i for i, t in enumerate(transforms) if type(t).__name__.endswith('Decode')]
    if index is None or not decodes:
        raise UncheckablePipeline('no frame sampler (a transform with clip_len and '
                                  'frame_interval) or no *Decode transform')
    sampler, clip_len = transforms[index], int(transforms[index].clip_len)
    results = dict(imgs=[np.zeros(frame_hw + (3, ), np.uint8)] * clip_len, img_shape=frame_hw,
                   original_shape=frame_hw, frame_inds=np.arange(clip_len), clip_len=clip_len,
                   frame_interval=sampler.frame_interval, num_clips=1, modality='RGB',
                   start_index=0, label=-1, filename='blank.mp4', total_frames=clip_len,
                   avg_fps=30., video_backend='blank', frame_count_exact=True)
    with seeded(0):  # leaves the run's random state untouched
        results = apply_transforms(transforms[max(decodes) + 1:], results)
    if results is None:
        raise TransformError('the pipeline returned None on blank frames')
    return results


def check_geometry(sample: dict, backbone, name: str) -> None:
    """Raise ``ValueError`` if a packed ``sample`` of a training pipeline (see
    :func:`blank_sample`) has clips or masks that do not fit ``backbone``'s
    token grid."""
    T, H, W = sample['inputs'].shape[-3:]
    mask = sample['data_samples'].encoder_mask
    try:
        grid = backbone.token_grid((T, H, W))
    except ValueError:  # the clip does not even cut into whole cubes
        grid = None
    if grid != tuple(backbone.grid_size) or mask.shape[-1] != backbone.num_patches:
        made = 'x'.join(map(str, grid)) + ' token grid' if grid else 'no whole token grid'
        raise ValueError(
            f'{name}: the training pipeline makes clips of {T} frames of {H}x{W} pixels '
            f'(SampleFrames.clip_len, the crop/Resize size), a {made} '
            f'for the backbone, with masks over {mask.shape[-1]} tokens '
            '(VideoMAEMaskGenerator.patch_size/tubelet_size); model.backbone (num_frames='
            f'{backbone.num_frames}, img_size={backbone.img_size}, patch_size='
            f'{backbone.patch_size}, tubelet_size={backbone.tubelet_size}) has a '
            f'{"x".join(map(str, backbone.grid_size))} grid of {backbone.num_patches} tokens. '
            'Make them agree.')


@HOOKS.register_module()
class VideoMAEGeometryCheckHook(Hook):
    """Before training, check every training pipeline against the backbone's
    token grid (see the module docstring).

    A transform that fails on the blank frames stops the run
    (:class:`~mmvmae2.datasets.transforms.TransformError` naming it); a
    pipeline without a recognizable frame sampler and decoding step is not
    checked (with a warning)."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        backbone = getattr(model, 'backbone', None)
        if not hasattr(backbone, 'grid_size'):
            return
        for name, ds in _sources(runner.train_loop.dataloader.dataset):
            try:
                sample = blank_sample(ds.pipeline)
            except UncheckablePipeline as e:  # a custom pipeline: leave it to the first iteration
                warnings.warn(f'{name}: cannot check the pipeline geometry on blank frames ({e})')
                continue
            except TransformError as e:
                raise TransformError(f'{name}: the training pipeline fails on blank frames, '
                                     f'before the first iteration: {e}') from e
            check_geometry(sample, backbone, name)
