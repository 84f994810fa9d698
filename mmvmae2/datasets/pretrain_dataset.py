"""Unlabeled video lists for pretraining, robust to broken files, and hybrids.

Too-short policy: a sample is *too short*, and skipped, when it has fewer
frames than one clip has, ``min_frames``. By default (``min_frames='auto'``)
that is ``clip_len`` of the first frame sampler (``SampleFrames``) in the
dataset's own pipeline. A video with at least ``clip_len`` frames but fewer
than the clip spans (``clip_len * frame_interval``, e.g. 32 for SSv2 at
interval 2) is kept, as the official VideoMAE V2 loader keeps it: sampled from
its start, the clip holds the last frame it reaches (the pretraining configs
use ``SampleFrames(out_of_bound_opt='repeat_last')``). Set ``min_frames`` to
``clip_len * frame_interval`` to skip such videos instead. The check runs
where the frame count becomes known: in ``VideoMAEInit`` for videos (container
frame count, via ``results['min_frames']``), in ``VideoMAEDecode`` when PyAV runs
out of frames early, and in the dataset for raw frames (the listed
``total_frames``). ``min_frames=0`` turns it off.
"""
import bisect
import contextlib
import copy
import logging
import random
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine import fileio
from mmengine.logging import print_log
from torch.utils.data import Dataset

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from .list_file import read_list_lines
from .samplers import SeededIndex
from .transforms.errors import VideoReadError, VideoTooShortError, apply_transforms
from .transforms.formatting import build_transforms


def _parse_list(ann_file: str, data_type: str, delimiter: Optional[str]) -> List[tuple]:
    """Read ``path [label]`` or ``frame_dir total_frames [label]`` lines.

    Returns:
        list[tuple]: ``(path, total_frames or None, label, start_index or None)``.
    """
    expected = 'path [label]' if data_type == 'video' else 'frame_dir total_frames [label]'
    num_fields = 1 if data_type == 'video' else 2
    items = []
    for lineno, parts in read_list_lines(ann_file, delimiter):
        try:
            if len(parts) not in (num_fields, num_fields + 1):
                raise ValueError(f'{len(parts)} fields')
            numbers = [int(p) for p in parts[1:]]
        except ValueError as e:
            raise ValueError(f'{ann_file}, line {lineno}: expected "{expected}", '
                             f'got {" ".join(parts)!r} ({e})') from None
        label = numbers[num_fields - 1] if len(parts) > num_fields else -1
        items.append((parts[0], numbers[0] if data_type == 'rawframes' else None, label, None))
    return items


def _parse_videomaev2_list(ann_file: str, data_type: str,
                           delimiter: Optional[str]) -> List[tuple]:
    """Read the official VideoMAE V2 pretraining list: ``path start_index
    total_frames`` lines, ``total_frames < 0`` for a video file (``path 0 -1``),
    else a raw-frame folder. Only the lines of ``data_type`` are kept, so one
    mixed (hybrid) list can feed a video source and a raw-frame source.

    Returns:
        list[tuple]: ``(path, total_frames or None, -1, start_index or None)``.
    """
    items, other = [], 0
    for lineno, parts in read_list_lines(ann_file, delimiter):
        try:
            if len(parts) != 3:
                raise ValueError(f'{len(parts)} fields')
            start, total = int(parts[1]), int(parts[2])
        except ValueError as e:
            raise ValueError(f'{ann_file}, line {lineno}: expected the VideoMAE V2 format '
                             f'"path start_index total_frames", got {" ".join(parts)!r} '
                             f'({e})') from None
        if (total < 0) != (data_type == 'video'):
            other += 1
        elif data_type == 'video':
            items.append((parts[0], None, -1, None))
        else:
            items.append((parts[0], total, -1, start))
    if not items:
        kind = ('video (total_frames < 0)' if data_type == 'video' else
                'raw-frame folder (total_frames >= 0)')
        raise ValueError(f'{ann_file}: none of its {other} lines is a {kind}, as '
                         f'data_type={data_type!r} of this dataset needs')
    return items


_LIST_FORMATS = dict(mmaction=_parse_list, videomaev2=_parse_videomaev2_list)


@DATASETS.register_module()
class VideoMAEPretrainDataset(BaseActionDataset):
    """A list of videos or raw-frame folders, labels optional.

    ``ann_file`` lines are ``path [label]`` for videos (MMAction2
    ``VideoDataset``) or ``frame_dir total_frames [label]`` for raw frames
    (``RawframeDataset``); a missing label becomes ``-1``. With
    ``list_format='videomaev2'`` the official pretraining lists are read as
    they are (``path start_index total_frames``; ``path 0 -1`` is a video),
    taking the lines of this dataset's ``data_type``. Blank lines and ``#``
    comments are ignored; a malformed line raises naming file and line.

    A sample whose file cannot be read (missing, corrupt, unreadable, too
    short: :class:`~mmvmae2.datasets.transforms.VideoReadError` from the
    loading transforms, after retrying transient I/O errors) is skipped: one
    warning per file names it and the reason, and a random other sample is
    returned instead. Any other error of a transform (a config error, a bug)
    stops at once with :class:`~mmvmae2.datasets.transforms.TransformError`
    naming the transform and the sample. A pipeline that returns None (a
    filtering transform, as in mmengine) also gets the sample replaced. The
    returned sample lists the files skipped to produce it in
    ``data_samples.metainfo['skipped_videos']`` (``VideoMAESkippedVideoHook``
    sums them in the training log). Files already known to be bad are not
    tried again and never drawn as replacements.

    An index from :class:`VideoMAESeededSampler` carries a seed: the pipeline (and the
    choice of replacements) then runs with ``random``/``np.random``/torch
    seeded by it, so a sample's crops and masks depend only on the run's seed,
    the epoch and its position (exact ``--resume``, any number of workers).

    Args:
        ann_file (str): The list file.
        pipeline (list[dict | callable]): Transforms, built with MMAction2's
            registry.
        data_prefix (dict): Root of the paths in the list, under ``video`` (or
            ``img`` for raw frames). Defaults to ``dict(video='')``.
        data_type (str): ``'video'`` or ``'rawframes'``. Defaults to ``'video'``.
        filename_tmpl (str): Frame file names of raw frames.
            Defaults to ``'img_{:05}.jpg'``.
        start_index (int, optional): Index of the first frame; defaults to 0
            for videos and 1 for raw frames (MMAction2's conventions).
        frame_interval (int, optional): Overrides ``frame_interval`` of the
            pipeline's frame sampler, so sources that share a pipeline can
            sample differently (2 for SSv2-like data, 4 for Kinetics).
            Defaults to None (keep the pipeline's).
        min_frames (int | str): Fewest frames a sample must have; ``'auto'``
            is the ``clip_len`` of the pipeline's ``SampleFrames``, 0 disables
            the check (see module docstring). Defaults to ``'auto'``.
        max_refetch (int): Consecutive failures allowed before giving up with
            an error. Defaults to 100.
        delimiter (str, optional): Field separator; None splits on any
            whitespace. Defaults to None.
        list_format (str): ``'mmaction'`` or ``'videomaev2'`` (the official
            lists; raw-frame lines keep their own ``start_index``).
            Defaults to ``'mmaction'``.
        **kwargs: Passed to :class:`BaseActionDataset` (``test_mode``,
            ``modality``, ``multi_class``, ``num_classes``, ``data_root``...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence[Union[dict, Callable]],
                 data_prefix: dict = dict(video=''),
                 data_type: str = 'video',
                 filename_tmpl: str = 'img_{:05}.jpg',
                 start_index: Optional[int] = None,
                 frame_interval: Optional[int] = None,
                 min_frames: Union[int, str] = 'auto',
                 max_refetch: int = 100,
                 delimiter: Optional[str] = None,
                 list_format: str = 'mmaction',
                 **kwargs) -> None:
        if data_type not in ('video', 'rawframes'):
            raise ValueError(f"data_type must be 'video' or 'rawframes', got {data_type!r}")
        if list_format not in _LIST_FORMATS:
            raise ValueError(f'list_format must be one of {tuple(_LIST_FORMATS)}, '
                             f'got {list_format!r}')
        self.data_type = data_type
        self.list_format = list_format
        self.filename_tmpl = filename_tmpl
        self.delimiter = delimiter
        self.bad_files = {}  # filename -> reason, per process
        pipeline = build_transforms(pipeline)
        if frame_interval is not None:
            pipeline = _set_frame_interval(pipeline, frame_interval, ann_file)
        self.min_frames = self._auto_min_frames(pipeline) if min_frames == 'auto' else min_frames
        if start_index is None:
            start_index = 0 if data_type == 'video' else 1
        super().__init__(ann_file, pipeline=pipeline, data_prefix=dict(data_prefix),
                         start_index=start_index, max_refetch=max_refetch, **kwargs)

    @staticmethod
    def _auto_min_frames(pipeline: List[Callable]) -> int:
        i = frame_sampler_index(pipeline)
        return 0 if i is None else int(pipeline[i].clip_len)

    def load_data_list(self) -> List[dict]:
        prefix = self.data_prefix.get('img', self.data_prefix.get('video', ''))
        data_list = []
        parse = _LIST_FORMATS[self.list_format]
        for path, total, label, start in parse(self.ann_file, self.data_type, self.delimiter):
            path = fileio.join_path(prefix, path) if prefix else path
            if self.data_type == 'video':
                info = dict(filename=path, label=label)
            else:
                info = dict(frame_dir=path, total_frames=total, label=label,
                            filename_tmpl=self.filename_tmpl)
                if start is not None:
                    info['line_start_index'] = start
            data_list.append(info)
        return data_list

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        if 'line_start_index' in info:  # official lists give it per folder
            info['start_index'] = info.pop('line_start_index')
        info['min_frames'] = self.min_frames
        return info

    def _name(self, idx: int) -> str:
        info = super().get_data_info(idx)
        return info.get('filename', info.get('frame_dir'))

    def _load(self, idx: int):
        """Run the pipeline; returns ``(data, None)`` or ``(None, reason)``
        when the file cannot be read. Other errors are raised (see the class
        docstring)."""
        info = self.get_data_info(idx)
        try:
            if self.data_type == 'rawframes' and info['total_frames'] < (self.min_frames or 0):
                raise VideoTooShortError(f'{info["frame_dir"]} has {info["total_frames"]} '
                                         f'frames, one clip needs {self.min_frames}')
            data = apply_transforms(getattr(self.pipeline, 'transforms', [self.pipeline]), info)
        except VideoReadError as e:
            return None, f'{type(e).__name__}: {e}'
        return (data, None) if data is not None else (None, 'the pipeline returned None')

    def remember_bad(self, filenames: Sequence[str]) -> None:
        """Mark files as bad without a warning (e.g. reported by a DataLoader
        worker to the main process, so later workers start knowing them)."""
        for name in filenames:
            self.bad_files.setdefault(name, 'reported by another process')

    def __getitem__(self, idx: int) -> dict:
        seed = getattr(idx, 'seed', None)  # from VideoMAESeededSampler
        if seed is None:
            return self._getitem(int(idx))
        with seeded(seed):
            return self._getitem(int(idx))

    def _getitem(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        if self.test_mode:  # evaluation must see every sample: no replacement
            data, reason = self._load(idx)
            if data is None:
                raise RuntimeError(f'cannot load {self._name(idx)} in test mode: {reason}')
            return _attach_skipped(data, [])
        skipped = []
        for _ in range(self.max_refetch + 1):
            name = self._name(idx)
            if name not in self.bad_files:
                data, reason = self._load(idx)
                if data is not None:
                    return _attach_skipped(data, skipped)
                self.bad_files[name] = reason
                print_log(f'Skipping video {name}: {reason}', logger='current',
                          level=logging.WARNING)
            skipped.append(name)
            idx = self._replacement()
        raise RuntimeError(f'{self.max_refetch + 1} samples in a row could not be loaded '
                           f'from {self.ann_file}; last: {name}: {self.bad_files[name]}')

    def _replacement(self) -> int:
        if len(self.bad_files) >= len(self):
            names = {self._name(i) for i in range(len(self))}
            if names <= set(self.bad_files):
                name = min(names)
                raise RuntimeError(f'every sample of {self.ann_file} failed to load, e.g. '
                                   f'{name}: {self.bad_files[name]}')
        for _ in range(100):  # draw another file not known to be bad
            idx = random.randrange(len(self))
            if self._name(idx) not in self.bad_files:
                break
        return idx


@contextlib.contextmanager
def seeded(seed: int):
    """Run the block with ``random``, ``np.random`` and torch seeded by
    ``seed``; the previous generator states are restored afterwards."""
    states = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.random.set_rng_state(states[2])


def _set_frame_interval(pipeline: List[Callable], interval: int, ann_file: str) -> List[Callable]:
    """Copy of ``pipeline`` whose first frame sampler uses ``interval``."""
    if int(interval) < 1:
        raise ValueError(f'{ann_file}: frame_interval must be >= 1, got {interval}')
    pipeline = list(pipeline)
    i = frame_sampler_index(pipeline)
    if i is None:
        raise ValueError(f'{ann_file}: frame_interval={interval} given but the pipeline has no '
                         'frame sampler (e.g. SampleFrames) to apply it to')
    pipeline[i] = copy.copy(pipeline[i])  # built transforms may be shared
    pipeline[i].frame_interval = int(interval)
    return pipeline


def frame_sampler_index(pipeline: Sequence[Callable]) -> Optional[int]:
    """Index of the first frame sampler (a transform with ``clip_len`` and
    ``frame_interval``, e.g. ``SampleFrames``) of a built pipeline, or None."""
    return next((i for i, t in enumerate(pipeline)
                 if hasattr(t, 'clip_len') and hasattr(t, 'frame_interval')), None)


def _attach_skipped(data, skipped: List[str]):
    """Record the files skipped to produce ``data`` in its data sample."""
    sample = data.get('data_samples') if isinstance(data, dict) else None
    if sample is not None and hasattr(sample, 'set_metainfo'):
        sample.set_metainfo(dict(skipped_videos=list(skipped)))
    elif isinstance(data, dict):
        data['skipped_videos'] = list(skipped)
    return data


@DATASETS.register_module()
class VideoMAEHybridPretrainDataset(Dataset):
    """Several pretraining sources at once, concatenated.

    Each source is a dataset config with its own root and list file, and
    either its own pipeline or the shared ``pipeline``, with its own
    ``frame_interval`` if needed (2 for an SSv2-like source, 4 for
    Kinetics); a broken sample is replaced from the same source.

    Args:
        sources (list[dict | Dataset]): Dataset configs (built with
            MMAction2's registry, default type ``VideoMAEPretrainDataset``)
            or datasets.
        pipeline (list[dict], optional): Pipeline of the sources that do not
            give one. Defaults to None.
    """

    def __init__(self,
                 sources: Sequence[Union[dict, Dataset]],
                 pipeline: Optional[Sequence[Union[dict, Callable]]] = None) -> None:
        if not sources:
            raise ValueError('VideoMAEHybridPretrainDataset needs at least one source')
        self.datasets = []
        for i, s in enumerate(sources):
            if isinstance(s, dict):
                s = dict(dict(type='VideoMAEPretrainDataset'), **s)
                if 'pipeline' not in s:
                    if pipeline is None:
                        raise ValueError(f'source {i} ({s.get("ann_file")}) has no pipeline '
                                         'and VideoMAEHybridPretrainDataset has no shared pipeline')
                    s['pipeline'] = copy.deepcopy(list(pipeline))
                s = DATASETS.build(s)
            self.datasets.append(s)
        self.cumulative_sizes, total = [], 0
        for ds in self.datasets:
            total += len(ds)
            self.cumulative_sizes.append(total)
        self.metainfo = dict(sources=[getattr(d, 'ann_file', type(d).__name__)
                                      for d in self.datasets])

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def locate(self, idx: int):
        """Map a global index to ``(source index, index inside the source)``."""
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f'index {idx} out of range for {len(self)} samples')
        source = bisect.bisect_right(self.cumulative_sizes, idx)
        return source, idx - (self.cumulative_sizes[source - 1] if source else 0)

    def __getitem__(self, idx: int):
        source, local = self.locate(int(idx))
        if getattr(idx, 'seed', None) is not None:  # keep the seed of VideoMAESeededSampler
            local = SeededIndex(local, idx.seed)
        return self.datasets[source][local]

    def remember_bad(self, filenames: Sequence[str]) -> None:
        for ds in self.datasets:
            if hasattr(ds, 'remember_bad'):
                ds.remember_bad(filenames)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(sources={self.metainfo["sources"]}, len={len(self)})'
