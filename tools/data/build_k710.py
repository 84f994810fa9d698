"""Build Kinetics-710 list files, class list and 710 -> 400/600/700 index maps.

Reads the official Kinetics annotation CSVs (``label,youtube_id,time_start,
time_end,split``) and writes, under ``--out-dir``:

- ``k710_train.txt``, ``k710_val.txt``: MMAction2 ``VideoDataset`` lists
  (``path label``), videos de-duplicated by YouTube id, val videos that occur
  in any train file dropped;
- ``k710_classes.txt``: the merged classes, one per line (line = label);
- ``k400_classes.txt`` ... : each dataset's classes (line = its label);
- ``label_710to400.json`` ... : ``[k710 index of class 0, ...]``, the format of
  the official ``misc/label_710to400.json``; the ``class_map`` of
  ``VideoMAEPretrained`` (K710 checkpoint -> K400 classifier).

With the official VideoMAE V2 files (github.com/OpenGVLab/VideoMAEv2, ``misc/``)
``--merge k710_identical_label_merge.json --class-order k710=label_map_k710.txt
--class-order k400=label_map_k400.txt ...`` gives the official label indices, so
official K710 checkpoints and maps fit the lists.

Example::

    python tools/data/build_k710.py --out-dir data/k710 \\
        --k400 k400/annotations/train.csv k400/annotations/val.csv \\
        --k600 k600/annotations/train.csv k600/annotations/val.csv \\
        --k700 k700/annotations/train.csv k700/annotations/val.csv \\
        --merge k710_identical_label_merge.json
"""
import argparse
import json
import os
import os.path as osp
import sys

_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _ROOT not in sys.path:  # run from a source checkout without installing
    sys.path.insert(0, _ROOT)

from mmvmae2.datasets.k710 import (dataset_classes, effective_aliases,  # noqa: E402
                                   index_map, list_lines, merge_classes, merge_videos,
                                   parse_annotation)
from mmvmae2.datasets.list_file import read_class_names  # noqa: E402

DATASETS = ('k400', 'k600', 'k700')
DEFAULT_TEMPLATE = '{dataset}/{split}/{youtube_id}_{time_start:06d}_{time_end:06d}.mp4'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    for name in DATASETS:
        parser.add_argument(f'--{name}', nargs=2, metavar=('TRAIN_CSV', 'VAL_CSV'),
                            help=f'{name} annotation files')
    parser.add_argument('--out-dir', required=True, help='where to write the files')
    parser.add_argument('--merge', help='JSON {class name: new name} (the official '
                        'misc/k710_identical_label_merge.json)')
    parser.add_argument('--class-order', action='append', default=[], metavar='NAME=FILE',
                        help='class order of k710/k400/k600/k700 (one name a line, e.g. the '
                        'official misc/label_map_k710.txt); default: sorted per dataset, '
                        'K710 = first dataset then new classes of each next one')
    parser.add_argument('--path-template', default=DEFAULT_TEMPLATE,
                        help=f'video path in the lists (default: {DEFAULT_TEMPLATE})')
    return parser.parse_args(argv)


def _read_lines(path):
    with open(path, encoding='utf-8', newline='') as f:
        return f.read().splitlines()


def _class_orders(items):
    orders = {}
    for item in items:
        name, sep, path = item.partition('=')
        if not sep or name not in ('k710', *DATASETS):
            raise ValueError(f'--class-order {item!r}: expected NAME=FILE with NAME in '
                             f'k710, {", ".join(DATASETS)}')
        orders[name] = read_class_names(path)
    return orders


def build(args):
    given = [name for name in DATASETS if getattr(args, name)]
    if not given:
        raise ValueError('give at least one of --k400, --k600, --k700')
    orders = _class_orders(args.class_order)
    annotations, annotated = [], {}
    for name in given:
        train_csv, val_csv = getattr(args, name)
        train = parse_annotation(_read_lines(train_csv), train_csv, 'train')
        val = parse_annotation(_read_lines(val_csv), val_csv, 'val')
        annotations += [(name, 'train', train), (name, 'val', val)]
        annotated[name] = dataset_classes(train + val)
    aliases = {}
    if args.merge:
        with open(args.merge, encoding='utf-8') as f:
            aliases = json.load(f)
    aliases, ignored = effective_aliases(aliases, annotated)
    class_lists = {}
    for name in given:
        if name in orders:  # an explicit order must hold exactly the annotated classes
            merge_classes({name: annotated[name]}, aliases, orders[name])
        class_lists[name] = orders.get(name, annotated[name])
    merged = merge_classes(class_lists, aliases, orders.get('k710'))
    train, val, stats = merge_videos(annotations, aliases)
    os.makedirs(args.out_dir, exist_ok=True)
    outputs = {
        'k710_train.txt': list_lines(train, merged, aliases, args.path_template),
        'k710_val.txt': list_lines(val, merged, aliases, args.path_template),
        'k710_classes.txt': merged,
    }
    for name in given:
        outputs[f'{name}_classes.txt'] = class_lists[name]
    for name, lines in outputs.items():
        with open(osp.join(args.out_dir, name), 'w', encoding='utf-8') as f:
            f.write('\n'.join(lines) + '\n')
    for name in given:
        path = osp.join(args.out_dir, f'label_710to{name[1:]}.json')
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(index_map(class_lists[name], merged, aliases), f, indent=2)
    return merged, train, val, stats, ignored


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        merged, train, val, stats, ignored = build(args)
    except (OSError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    for message in ignored:
        print(f'rename {message}')
    print(f'classes: {len(merged)}')
    print(f'train videos: {len(train)}, val videos: {len(val)}')
    print('dropped: ' + (', '.join(f'{k} {v}' for k, v in sorted(stats.items())) or 'none'))
    print(f'written to {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
