"""Labeled video lists for recognition that are checked when the run starts.

``VideoMAEVideoDataset`` and ``VideoMAERawframeDataset`` read the list files of
MMAction2's ``VideoDataset`` (``path label``, or ``path label1 label2 ...``
with ``multi_class=True``) and ``RawframeDataset`` (``frame_dir
total_frames label...``, ``frame_dir offset total_frames label...`` with
``with_offset=True``) and give the pipeline the same sample dicts. Unlike
them, they stop at start-up with a :class:`RecognitionListError` naming the
list file and the line when:

* a line cannot be parsed (too few or too many fields, a field that is no
  integer, several labels without ``multi_class``, no label at all);
* a label is outside ``[0, num_classes)`` (``num_classes`` is required: it is
  the head's class count);
* the list has no sample (blank lines and ``#`` comments are skipped);
* the files of the first and of a seeded random sample of entries do not
  exist under ``data_prefix`` (the error names the prefix and an example).

The checks are pure functions of the lines (tested directly); the classes only
read the file and wire them. A one-line summary (samples, classes seen) is
logged once the list is loaded.
"""
import os.path as osp
import random
from typing import Callable, List, Optional, Sequence, Tuple, Union

from mmengine import fileio
from mmengine.logging import print_log

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from .list_file import read_list_lines

__all__ = [
    'RecognitionListError', 'VideoMAEVideoDataset', 'VideoMAERawframeDataset', 'parse_labels',
    'parse_video_fields', 'parse_rawframe_fields', 'check_label_range', 'file_check_indices',
    'find_missing', 'missing_files_message', 'summarize_labels'
]

Label = Union[int, List[int]]


class RecognitionListError(ValueError):
    """A recognition list file is malformed, empty, out of the class range or
    points at files that are not there. The message names the file and line."""


def parse_labels(fields: Sequence[str], multi_class: bool, allow_unlabeled: bool) -> Label:
    """The label(s) of a line from its label fields.

    Args:
        fields (Sequence[str]): The fields after the path (and frame counts).
        multi_class (bool): Several labels per line are allowed (a list is
            returned).
        allow_unlabeled (bool): A line without label gets ``-1`` (``[-1]``
            with ``multi_class``), as MMAction2 does for prediction-only lists.

    Returns:
        int | list[int]: The label, or the labels with ``multi_class``.

    Raises:
        ValueError: No label (unless allowed), a non-integer label, or
            several labels without ``multi_class``.
    """
    if not fields:
        if not allow_unlabeled:
            raise ValueError('no label (set allow_unlabeled=True for a list without labels)')
        return [-1] if multi_class else -1
    try:
        labels = [int(f) for f in fields]
    except ValueError:
        raise ValueError(f'labels must be integers, got {" ".join(fields)!r}') from None
    if multi_class:
        return labels
    if len(labels) > 1:
        raise ValueError(f'{len(labels)} labels ({" ".join(fields)}) in a single-label list; '
                         f'set multi_class=True for multi-label lists, or use another '
                         f'delimiter if the path has spaces')
    return labels[0]


def parse_video_fields(fields: Sequence[str], multi_class: bool = False,
                       allow_unlabeled: bool = False) -> Tuple[str, Label]:
    """``(path, label)`` of a ``path label [label ...]`` line, as MMAction2's
    ``VideoDataset`` reads it.

    Raises:
        ValueError: An empty path or a bad label (see :func:`parse_labels`).
    """
    if not fields or not fields[0]:
        raise ValueError('empty path')
    return fields[0], parse_labels(fields[1:], multi_class, allow_unlabeled)


def parse_rawframe_fields(fields: Sequence[str], with_offset: bool = False,
                          multi_class: bool = False, allow_unlabeled: bool = False) -> dict:
    """The sample of a ``frame_dir [offset] total_frames label [label ...]``
    line, as MMAction2's ``RawframeDataset`` reads it.

    Returns:
        dict: ``frame_dir`` (relative), ``total_frames``, ``label`` and, with
        ``with_offset``, ``offset``.

    Raises:
        ValueError: Missing or non-integer frame counts, a negative offset,
            no frames, or a bad label.
    """
    counts = ['offset', 'total_frames'] if with_offset else ['total_frames']
    if len(fields) < 1 + len(counts):
        expected = ' '.join(['frame_dir', *counts, 'label'])
        raise ValueError(f'{len(fields)} field(s), expected "{expected}"')
    info = dict(frame_dir=fields[0])
    for name, text in zip(counts, fields[1:]):
        try:
            info[name] = int(text)
        except ValueError:
            raise ValueError(f'{name} must be an integer, got {text!r}') from None
    if info['total_frames'] <= 0:
        raise ValueError(f'total_frames must be positive, got {info["total_frames"]}')
    if info.get('offset', 0) < 0:
        raise ValueError(f'offset must be >= 0, got {info["offset"]}')
    info['label'] = parse_labels(fields[1 + len(counts):], multi_class, allow_unlabeled)
    return info


def check_label_range(label: Label, num_classes: int, allow_unlabeled: bool = False) -> None:
    """Raise ``ValueError`` unless every label is in ``[0, num_classes)``
    (``-1``, the unlabeled mark, passes only with ``allow_unlabeled``)."""
    for value in (label if isinstance(label, list) else [label]):
        if value == -1 and allow_unlabeled:
            continue
        if not 0 <= value < num_classes:
            raise ValueError(f'label {value} is outside [0, {num_classes}) '
                             f'(num_classes={num_classes}; labels count from 0)')


def file_check_indices(num_items: int, num_first: int = 5, num_random: int = 20,
                       seed: int = 0) -> List[int]:
    """Indices of the entries whose files are checked: the first
    ``num_first`` and ``num_random`` others drawn with ``seed``, sorted.

    Example:
        >>> file_check_indices(10, num_first=2, num_random=0)
        [0, 1]
    """
    first = list(range(min(num_first, num_items)))
    rest = range(len(first), num_items)
    drawn = random.Random(seed).sample(rest, min(num_random, len(rest)))
    return sorted(first + drawn)


def find_missing(paths: Sequence[Tuple[int, str]],
                 exists: Callable[[str], bool]) -> List[Tuple[int, str]]:
    """The ``(line number, path)`` pairs whose path ``exists`` rejects."""
    return [(lineno, path) for lineno, path in paths if not exists(path)]


def summarize_labels(labels: Sequence[Label]) -> Tuple[int, int]:
    """``(number of samples, number of distinct labels)``, ``-1`` not counted."""
    seen = set()
    for label in labels:
        seen.update(label if isinstance(label, list) else [label])
    seen.discard(-1)
    return len(labels), len(seen)


def missing_files_message(ann_file: str, prefix: str, missing: List[Tuple[int, str]],
                          num_checked: int) -> str:
    """The error of :func:`find_missing`: all checked missing (the prefix is
    probably wrong) or some (files lost from the data set)."""
    lineno, path = missing[0]
    where = f'data_prefix {prefix!r}' if prefix else 'the working directory (empty data_prefix)'
    if len(missing) == num_checked:
        head = (f'{ann_file}: none of the {num_checked} checked entries exists under {where}; '
                f'is data_prefix (or data_root) right? e.g. line {lineno} -> {path}')
    else:
        lines = ', '.join(f'line {n} -> {p}' for n, p in missing[:5])
        head = (f'{ann_file}: {len(missing)} of {num_checked} checked entries do not exist '
                f'under {where}: {lines}; remove them from the list')
    return head


class _CheckedListMixin:
    """Reads a list line by line with a ``_parse`` of the subclass and runs
    the start-up checks; subclasses name the file of a sample (``_path``)."""

    _prefix_key = 'video'

    def _init_checks(self, num_classes: Optional[int], allow_unlabeled: bool,
                     file_checks: Tuple[int, int], backend_args: Optional[dict]) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'{type(self).__name__} needs num_classes, a positive integer (the '
                             f'class count of the head), got {num_classes!r}')
        if len(file_checks) != 2 or min(file_checks) < 0:
            raise ValueError(f'file_checks must be (num_first, num_random) >= 0, '
                             f'got {file_checks!r}')
        self.allow_unlabeled = allow_unlabeled
        self.file_checks = tuple(file_checks)
        self.backend_args = backend_args

    def _read_lines(self) -> List[Tuple[int, List[str]]]:
        if not fileio.exists(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(f'{type(self).__name__}: ann_file {self.ann_file!r} does '
                                    f'not exist')
        return list(read_list_lines(self.ann_file, self.delimiter, self.backend_args))

    def load_data_list(self) -> List[dict]:
        """Parse and check the list (see the module docstring)."""
        data_list, linenos = [], []
        for lineno, fields in self._read_lines():
            try:
                info = self._parse(fields)
                check_label_range(info['label'], self.num_classes, self.allow_unlabeled)
            except ValueError as err:
                raise RecognitionListError(
                    f'{self.ann_file}, line {lineno}: {err}: {" ".join(fields)!r}') from None
            data_list.append(info)
            linenos.append(lineno)
        if not data_list:
            raise RecognitionListError(f'{self.ann_file} has no samples (only blank or # '
                                       f'lines); {type(self).__name__} needs at least one')
        self._check_files(data_list, linenos)
        num, seen = summarize_labels([info['label'] for info in data_list])
        print_log(f'{type(self).__name__}: {num} samples, {seen} of {self.num_classes} classes '
                  f'seen in {self.ann_file}', logger='current')
        return data_list

    def _check_files(self, data_list: List[dict], linenos: List[int]) -> None:
        indices = file_check_indices(len(data_list), *self.file_checks)
        if not indices:
            return
        prefix = self.data_prefix.get(self._prefix_key) or ''
        paths = [(linenos[i], self._path(data_list[i])) for i in indices]
        missing = find_missing(paths, self._exists)
        if missing:
            raise RecognitionListError(
                missing_files_message(self.ann_file, prefix, missing, len(indices)))

    def _exists(self, path: str) -> bool:
        return fileio.exists(path, backend_args=self.backend_args)


@DATASETS.register_module()
class VideoMAEVideoDataset(_CheckedListMixin, BaseActionDataset):
    """MMAction2's ``VideoDataset`` with start-up checks of its list.

    Each line is ``path label`` (``path label label ...`` with
    ``multi_class``), the path relative to ``data_prefix['video']``. Samples
    are ``dict(filename, label)`` as in MMAction2.

    Args:
        ann_file (str): The list file.
        pipeline (list[dict | callable]): The data transforms.
        data_prefix (dict): ``dict(video=folder)``. Defaults to
            ``dict(video='')``.
        multi_class (bool): Multi-label lines. Defaults to False.
        num_classes (int): Class count of the head; every label must be in
            ``[0, num_classes)``. Required (a keyword, as in MMAction2's
            argument order).
        start_index (int): Index of the first frame. Defaults to 0.
        modality (str): ``'RGB'`` or ``'Flow'``. Defaults to ``'RGB'``.
        test_mode (bool): Validation or test set. Defaults to False.
        delimiter (str): Field separator; ``' '`` splits at any run of white
            space. Defaults to ``' '``.
        allow_unlabeled (bool): Accept lines without label (label ``-1``,
            prediction only). Defaults to False.
        file_checks (tuple[int, int]): How many of the first entries and of
            a seeded random sample of the others must exist. Defaults to
            ``(5, 20)``; ``(0, 0)`` checks nothing.
        backend_args (dict, optional): mmengine file backend arguments for the
            list and the checks. Defaults to None.
        **kwargs: Passed to mmengine's ``BaseDataset`` (``data_root``,
            ``lazy_init``...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 data_prefix: dict = dict(video=''),
                 multi_class: bool = False,
                 num_classes: Optional[int] = None,
                 start_index: int = 0,
                 modality: str = 'RGB',
                 test_mode: bool = False,
                 delimiter: str = ' ',
                 allow_unlabeled: bool = False,
                 file_checks: Tuple[int, int] = (5, 20),
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        self._init_checks(num_classes, allow_unlabeled, file_checks, backend_args)
        self.delimiter = None if delimiter == ' ' else delimiter
        super().__init__(ann_file, pipeline=pipeline, data_prefix=data_prefix,
                         multi_class=multi_class, num_classes=num_classes,
                         start_index=start_index, modality=modality, test_mode=test_mode,
                         **kwargs)

    def _parse(self, fields: List[str]) -> dict:
        filename, label = parse_video_fields(fields, self.multi_class, self.allow_unlabeled)
        prefix = self.data_prefix.get('video')
        return dict(filename=osp.join(prefix, filename) if prefix is not None else filename,
                    label=label)

    @staticmethod
    def _path(info: dict) -> str:
        return info['filename']


@DATASETS.register_module()
class VideoMAERawframeDataset(_CheckedListMixin, BaseActionDataset):
    """MMAction2's ``RawframeDataset`` with start-up checks of its list.

    Each line is ``frame_dir total_frames label...`` (``frame_dir offset
    total_frames label...`` with ``with_offset``), the folder relative to
    ``data_prefix['img']``. The file check looks for the first frame of a
    folder, ``filename_tmpl.format(start_index + offset)`` (for ``'Flow'``
    the ``x`` frame). Samples are MMAction2's (``frame_dir``,
    ``total_frames``, ``label``, ``offset``, ``filename_tmpl``).

    Args:
        ann_file (str): The list file.
        pipeline (list[dict | callable]): The data transforms.
        data_prefix (dict): ``dict(img=folder)``. Defaults to
            ``dict(img='')``.
        filename_tmpl (str): Frame file names. Defaults to
            ``'img_{:05}.jpg'``.
        with_offset (bool): Lines carry an offset. Defaults to False.
        multi_class (bool): Multi-label lines. Defaults to False.
        num_classes (int): Class count of the head. Required.
        start_index (int): Index of the first frame file. Defaults to 1.
        modality (str): ``'RGB'`` or ``'Flow'``. Defaults to ``'RGB'``.
        test_mode (bool): Validation or test set. Defaults to False.
        allow_unlabeled (bool): See :class:`VideoMAEVideoDataset`.
        file_checks (tuple[int, int]): See :class:`VideoMAEVideoDataset`.
        backend_args (dict, optional): See :class:`VideoMAEVideoDataset`.
        **kwargs: Passed to mmengine's ``BaseDataset``.
    """

    _prefix_key = 'img'

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 data_prefix: dict = dict(img=''),
                 filename_tmpl: str = 'img_{:05}.jpg',
                 with_offset: bool = False,
                 multi_class: bool = False,
                 num_classes: Optional[int] = None,
                 start_index: int = 1,
                 modality: str = 'RGB',
                 test_mode: bool = False,
                 allow_unlabeled: bool = False,
                 file_checks: Tuple[int, int] = (5, 20),
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        self._init_checks(num_classes, allow_unlabeled, file_checks, backend_args)
        self.delimiter = None
        self.filename_tmpl = filename_tmpl
        self.with_offset = with_offset
        super().__init__(ann_file, pipeline=pipeline, data_prefix=data_prefix,
                         multi_class=multi_class, num_classes=num_classes,
                         start_index=start_index, modality=modality, test_mode=test_mode,
                         **kwargs)

    def _parse(self, fields: List[str]) -> dict:
        info = parse_rawframe_fields(fields, self.with_offset, self.multi_class,
                                     self.allow_unlabeled)
        prefix = self.data_prefix.get('img')
        if prefix is not None:
            info['frame_dir'] = osp.join(prefix, info['frame_dir'])
        return info

    def _path(self, info: dict) -> str:
        index = self.start_index + info.get('offset', 0)
        name = (self.filename_tmpl.format('x', index) if self.modality == 'Flow' else
                self.filename_tmpl.format(index))
        return osp.join(info['frame_dir'], name)

    def get_data_info(self, idx: int) -> dict:
        """The sample with ``filename_tmpl``, as MMAction2's."""
        info = super().get_data_info(idx)
        info['filename_tmpl'] = self.filename_tmpl
        return info
