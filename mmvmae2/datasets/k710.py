"""Kinetics-710: the merged label space of Kinetics-400/600/700, as pure
functions over annotation rows (``tools/data/build_k710.py`` wires them).

VideoMAE V2 (``docs/DATASET.md``) merges the train and val sets of
K400/600/700, removes duplicated videos by YouTube id, deletes the val
videos that occur in a train set and groups classes that carry different
names in different Kinetics versions (``misc/k710_identical_label_merge.json``,
``{old name: new name}``), giving 710 classes. Here:

- class names are compared by :func:`class_key` (surrounding/repeated
  whitespace and letter case ignored), so ``passing american football (not
  in game)`` and ``passing American football (not in game)`` are one class
  without a rename;
- renames (``aliases``, the official file's format) map a name to another;
  a rename between two classes of one dataset (real K700 has both
  ``throwing ball`` and ``throwing ball (not baseball or American
  football)``) would merge two different classes and is not applied
  (:func:`effective_aliases` reports it);
- a class is named by the rename target's spelling, else by its first
  spelling in dataset order;
- without an explicit order the K710 classes are the first dataset's classes
  in its order, then each later dataset's new classes in its order; each
  dataset's classes default to the sorted names of its annotation files
  (Kinetics / MMAction2 label maps);
- a video (YouTube id) is kept once: the first train row in dataset order;
  a val row is kept when its id is in no train file and not already kept.
"""
import csv
from collections import Counter, OrderedDict
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

__all__ = [
    'KineticsClip', 'class_key', 'parse_annotation', 'dataset_classes', 'effective_aliases',
    'merge_classes', 'index_map', 'merge_videos', 'list_lines'
]

# Values of the ``split`` column accepted for each role of a file.
SPLIT_NAMES = {'train': ('train', ), 'val': ('val', 'validate', 'validation')}
REQUIRED_COLUMNS = ('label', 'youtube_id', 'time_start', 'time_end')


class KineticsClip(NamedTuple):
    """One annotation row of an official Kinetics CSV."""
    label: str
    youtube_id: str
    time_start: int
    time_end: int


def class_key(name: str) -> str:
    """Comparison key of a class name: whitespace collapsed, case folded."""
    return ' '.join(name.split()).casefold()


def _seconds(value: str, column: str, where: str) -> int:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f'{where}: {column} {value!r} is not a number') from None
    if number != int(number) or number < 0:
        raise ValueError(f'{where}: {column} {value!r} is not a whole number of seconds')
    return int(number)


def parse_annotation(lines: Iterable[str], source: str, split: str) -> List[KineticsClip]:
    """Rows of an official Kinetics annotation CSV
    (``label,youtube_id,time_start,time_end,split[,is_cc]``).

    Args:
        lines (Iterable[str]): The file's lines, header first.
        source (str): File name, used in error messages.
        split (str): ``'train'`` or ``'val'``: the role of the file; a
            ``split`` column must agree with it.

    Returns:
        list[KineticsClip]: The rows in file order.

    Raises:
        ValueError: Missing columns, an empty label or id, bad times or a
            split value of another role (naming ``source:line``).
    """
    reader = csv.DictReader(lines)
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        hint = ' (a test split has no labels)' if 'label' in missing else ''
        raise ValueError(f'{source}: columns {missing} missing from the header {columns}'
                         f'{hint}; expected {",".join(REQUIRED_COLUMNS)},split')
    reader.fieldnames = columns
    clips = []
    for row in reader:
        where = f'{source}:{reader.line_num}'
        if None in row or any(row.get(c) is None for c in REQUIRED_COLUMNS):
            raise ValueError(f'{where}: expected {len(columns)} fields')
        label, youtube_id = row['label'].strip(), row['youtube_id'].strip()
        if not label or not youtube_id:
            raise ValueError(f'{where}: empty label or youtube_id')
        given = (row.get('split') or '').strip().lower()
        if given and given not in SPLIT_NAMES[split]:
            raise ValueError(f'{where}: split {given!r} in a file given as the {split} '
                             f'annotation (accepted: {SPLIT_NAMES[split]})')
        clips.append(KineticsClip(label, youtube_id, _seconds(row['time_start'], 'time_start',
                                                              where),
                                  _seconds(row['time_end'], 'time_end', where)))
    if not clips:
        raise ValueError(f'{source}: no annotation rows')
    return clips


def dataset_classes(clips: Iterable[KineticsClip]) -> List[str]:
    """A dataset's class names sorted by :func:`class_key` (one spelling, the
    first, per key)."""
    names: Dict[str, str] = {}
    for clip in clips:
        names.setdefault(class_key(clip.label), ' '.join(clip.label.split()))
    return [names[key] for key in sorted(names)]


def effective_aliases(aliases: Dict[str, str], class_lists: Dict[str, Sequence[str]]
                      ) -> Tuple[Dict[str, str], List[str]]:
    """Renames as key -> key, without those that would merge two classes of
    one dataset.

    Args:
        aliases (dict): ``{name: new name}`` (official merge file format).
        class_lists (dict): Dataset name -> its class names.

    Returns:
        tuple: ``{class_key(name): class_key(new name)}`` and the messages of
        the renames left out.
    """
    keys = {name: {class_key(c) for c in classes} for name, classes in class_lists.items()}
    applied, ignored = {}, []
    for old, new in aliases.items():
        if class_key(old) == class_key(new):
            continue  # one class already (case / whitespace)
        both = [d for d, k in keys.items() if class_key(old) in k and class_key(new) in k]
        if both:
            ignored.append(f'{old!r} -> {new!r} not applied: both are classes of '
                           f'{", ".join(both)}')
        else:
            applied[class_key(old)] = class_key(new)
    return applied, ignored


def _canonical(name: str, aliases: Dict[str, str]) -> str:
    key = class_key(name)
    return aliases.get(key, key)


def merge_classes(class_lists: Dict[str, Sequence[str]],
                  aliases: Dict[str, str],
                  order: Optional[Sequence[str]] = None) -> List[str]:
    """The merged class names (K710 for the three real datasets).

    Args:
        class_lists (dict): Dataset name -> class names, in dataset order.
        aliases (dict): Effective renames (:func:`effective_aliases`).
        order (Sequence[str], optional): The wanted order of the merged
            classes (e.g. the official ``misc/label_map_k710.txt``); must
            hold each merged class once. Defaults to None.

    Returns:
        list[str]: Class names; index = K710 label.
    """
    first: Dict[str, str] = OrderedDict()  # merged key -> first spelling
    direct: Dict[str, str] = {}  # merged key -> first spelling that is not renamed
    for name, classes in class_lists.items():
        seen: Dict[str, str] = {}
        for cls in classes:
            key = _canonical(cls, aliases)
            if key in seen:
                raise ValueError(f'{name}: classes {seen[key]!r} and {cls!r} are one class '
                                 f'after renaming and case/whitespace folding')
            seen[key] = cls
            first.setdefault(key, ' '.join(cls.split()))
            if class_key(cls) == key:
                direct.setdefault(key, ' '.join(cls.split()))
    spelling = OrderedDict((k, direct.get(k, v)) for k, v in first.items())
    if order is None:
        return list(spelling.values())
    wanted = [_canonical(c, aliases) for c in order]
    extra = [c for c, k in zip(order, wanted) if k not in spelling]
    missing = [v for k, v in spelling.items() if k not in set(wanted)]
    repeated = [c for c, n in Counter(wanted).items() if n > 1]
    if extra or missing or repeated:
        raise ValueError(f'the class order does not match the merged classes: not in the '
                         f'annotations {extra[:5]}, missing {missing[:5]}, repeated '
                         f'{repeated[:5]} ({len(order)} names given, {len(spelling)} merged)')
    return [' '.join(c.split()) for c in order]


def index_map(classes: Sequence[str], merged: Sequence[str],
              aliases: Dict[str, str]) -> List[int]:
    """``out[i]`` = merged index of ``classes[i]`` (the official
    ``label_710to400.json`` format: a K710 classifier's rows ``out`` give a
    K400 classifier)."""
    index = {_canonical(c, aliases): i for i, c in enumerate(merged)}
    return [index[_canonical(c, aliases)] for c in classes]


def merge_videos(annotations: Sequence[Tuple[str, str, Sequence[KineticsClip]]],
                 aliases: Dict[str, str]) -> Tuple[List, List, Counter]:
    """De-duplicate videos by YouTube id over all datasets and splits.

    Args:
        annotations (Sequence[tuple]): ``(dataset, split, clips)`` in dataset
            order; ``split`` is ``'train'`` or ``'val'``.
        aliases (dict): Effective renames, to compare labels.

    Returns:
        tuple: train and val entries ``(dataset, split, clip)``, and counts
        of what was dropped (``duplicate train``, ``duplicate val``,
        ``val in a train split``, ``label conflicts``).
    """
    stats: Counter = Counter()
    train: Dict[str, Tuple] = OrderedDict()
    for dataset, split, clips in annotations:
        if split != 'train':
            continue
        for clip in clips:
            kept = train.get(clip.youtube_id)
            if kept is None:
                train[clip.youtube_id] = (dataset, split, clip)
                continue
            stats['duplicate train'] += 1
            if _canonical(kept[2].label, aliases) != _canonical(clip.label, aliases):
                stats['label conflicts'] += 1
    val: Dict[str, Tuple] = OrderedDict()
    for dataset, split, clips in annotations:
        if split != 'val':
            continue
        for clip in clips:
            if clip.youtube_id in train:
                stats['val in a train split'] += 1
            elif clip.youtube_id in val:
                stats['duplicate val'] += 1
            else:
                val[clip.youtube_id] = (dataset, split, clip)
    return list(train.values()), list(val.values()), stats


def list_lines(entries: Sequence[Tuple[str, str, KineticsClip]], merged: Sequence[str],
               aliases: Dict[str, str], path_template: str) -> List[str]:
    """MMAction2 ``VideoDataset`` lines ``path label``.

    Args:
        entries (Sequence[tuple]): ``(dataset, split, clip)``.
        merged (Sequence[str]): The merged classes.
        aliases (dict): Effective renames.
        path_template (str): ``str.format`` template with ``dataset``,
            ``split``, ``youtube_id``, ``time_start``, ``time_end``,
            ``label``; e.g. ``'{dataset}/{split}/{youtube_id}_'
            '{time_start:06d}_{time_end:06d}.mp4'``.
    """
    index = {_canonical(c, aliases): i for i, c in enumerate(merged)}
    lines = []
    for dataset, split, clip in entries:
        try:
            path = path_template.format(dataset=dataset, split=split, **clip._asdict())
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f'path template {path_template!r}: {err!r}; fields: dataset, '
                             f'split, {", ".join(KineticsClip._fields)}') from None
        if any(c.isspace() for c in path):
            raise ValueError(f'path {path!r} holds whitespace, which the list format cannot '
                             f'carry; change the path template')
        lines.append(f'{path} {index[_canonical(clip.label, aliases)]}')
    return lines
