"""Kinetics-710: merged label space, de-duplication and index maps, on small
synthetic annotation files (official Kinetics CSV columns) holding every trap:

- a video in the train files of two datasets (same label, other spelling) and
  one in K700 train with another label (label conflict);
- val videos in another dataset's train split, and one in two val files;
- one class spelled with other case (``Changing Wheel``) and whitespace
  (``changing  wheel``), merged;
- a renamed class (``dying hair`` -> ``dyeing hair``, as in the official
  ``misc/k710_identical_label_merge.json``), merged;
- a rename that would merge two classes of K700 (``throwing ball`` ->
  ``throwing ball (not baseball or American football)``), not applied;
- classes only in K600 (``yoga``, also in K700) and only in K700 (``zumba``).
"""
import contextlib
import importlib.util
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from mmvmae2.datasets.k710 import (class_key, dataset_classes, effective_aliases,
                                   merge_classes, parse_annotation)
from mmvmae2.models.pretrained import slice_classifier

ROOT = Path(__file__).resolve().parents[1]
HEADER = 'label,youtube_id,time_start,time_end,split'
THROW_NOT = 'throwing ball (not baseball or American football)'
ANNOTATIONS = {
    'k400': {
        'train': [('abseiling', 'a1', 12, 22), ('Changing Wheel', 'b1', 0, 10),
                  ('dying hair', 'c1', 5, 15), ('throwing ball', 'd1', 1, 11)],
        'val': [('abseiling', 'v1', 0, 10), ('dying hair', 'v2', 0, 10),
                ('throwing ball', 'x9', 3, 13)],
    },
    'k600': {
        'train': [('abseiling', 'a1', 12, 22), ('yoga', 'e1', 0, 10),
                  ('changing  wheel', 'b1', 0, 10), ('dyeing hair', 'c6', 7, 17)],
        'val': [('abseiling', 'v1', 0, 10), ('yoga', 'v3', 20, 30)],
    },
    'k700': {
        'train': [('throwing ball', 'x9', 3, 13), ('zumba', 'z1', 0, 10),
                  (THROW_NOT, 't1', 0, 10), ('yoga', 'a1', 12, 22), ('dyeing hair', 'c7', 0, 10),
                  ('changing wheel', 'b7', 0, 10), ('abseiling', 'a7', 0, 10)],
        'val': [('zumba', 'v4', 0, 10), ('yoga', 'e1', 0, 10)],
    },
}
ALIASES = {'dying hair': 'dyeing hair', 'throwing ball': THROW_NOT}
K710 = ['abseiling', 'Changing Wheel', 'dyeing hair', 'throwing ball', 'yoga', THROW_NOT, 'zumba']
MAPS = {'400': [0, 1, 2, 3], '600': [0, 1, 2, 4], '700': [0, 1, 2, 3, 5, 4, 6]}
TRAIN = ['k400/train/a1_000012_000022.mp4 0', 'k400/train/b1_000000_000010.mp4 1',
         'k400/train/c1_000005_000015.mp4 2', 'k400/train/d1_000001_000011.mp4 3',
         'k600/train/e1_000000_000010.mp4 4', 'k600/train/c6_000007_000017.mp4 2',
         'k700/train/x9_000003_000013.mp4 3', 'k700/train/z1_000000_000010.mp4 6',
         'k700/train/t1_000000_000010.mp4 5', 'k700/train/c7_000000_000010.mp4 2',
         'k700/train/b7_000000_000010.mp4 1', 'k700/train/a7_000000_000010.mp4 0']
VAL = ['k400/val/v1_000000_000010.mp4 0', 'k400/val/v2_000000_000010.mp4 2',
       'k600/val/v3_000020_000030.mp4 4', 'k700/val/v4_000000_000010.mp4 6']


def write_csv(path, rows, split):
    lines = [HEADER] + [f'"{label}",{vid},{start},{end},{split}' for label, vid, start, end in rows]
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'build_k710', ROOT / 'tools' / 'data' / 'build_k710.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD_K710 = _load_tool()


def run_tool(tmp_path, *extra, datasets=('k400', 'k600', 'k700')):
    """Run the CLI's ``main`` on the synthetic files (K700 val says 'validate')."""
    args = ['--out-dir', str(tmp_path / 'out')]
    for name in datasets:
        args += [f'--{name}'] + [
            write_csv(tmp_path / f'{name}_{split}.csv', ANNOTATIONS[name][split],
                      'validate' if split == 'val' and name == 'k700' else split)
            for split in ('train', 'val')]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = BUILD_K710.main(args + list(extra))
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


@pytest.fixture
def built(tmp_path):
    (tmp_path / 'merge.json').write_text(json.dumps(ALIASES))
    result = run_tool(tmp_path, '--merge', str(tmp_path / 'merge.json'))
    assert result.returncode == 0, result.stderr
    return tmp_path / 'out', result.stdout


def lines(path):
    return path.read_text().splitlines()


def test_merged_classes_and_maps(built):
    out, stdout = built
    assert lines(out / 'k710_classes.txt') == K710
    assert lines(out / 'k400_classes.txt') == ['abseiling', 'Changing Wheel', 'dying hair',
                                               'throwing ball']
    for n, expected in MAPS.items():
        assert json.loads((out / f'label_710to{n}.json').read_text()) == expected
    assert 'classes: 7' in stdout
    assert f"'throwing ball' -> '{THROW_NOT}' not applied: both are classes of k700" in stdout


def test_lists_deduplicated_and_val_cleaned(built):
    out, stdout = built
    assert lines(out / 'k710_train.txt') == TRAIN
    assert lines(out / 'k710_val.txt') == VAL
    assert 'train videos: 12, val videos: 4' in stdout
    assert ('dropped: duplicate train 3, duplicate val 1, label conflicts 1, '
            'val in a train split 2') in stdout


def test_without_renames_dying_hair_stays_apart(tmp_path):
    result = run_tool(tmp_path)
    assert result.returncode == 0, result.stderr
    assert lines(tmp_path / 'out' / 'k710_classes.txt') == [
        'abseiling', 'Changing Wheel', 'dying hair', 'throwing ball', 'dyeing hair', 'yoga',
        THROW_NOT, 'zumba']


def test_explicit_class_orders(tmp_path):
    order = ['zumba', 'Yoga', THROW_NOT, 'throwing ball', 'DYEING HAIR', 'changing wheel',
             'abseiling']
    (tmp_path / 'k710.txt').write_text('\n'.join(order) + '\n')
    (tmp_path / 'k400.txt').write_text('throwing ball\ndyeing hair\nabseiling\nchanging wheel\n')
    (tmp_path / 'merge.json').write_text(json.dumps(ALIASES))
    result = run_tool(tmp_path, '--merge', str(tmp_path / 'merge.json'), '--class-order',
                      f'k710={tmp_path / "k710.txt"}', '--class-order',
                      f'k400={tmp_path / "k400.txt"}')
    assert result.returncode == 0, result.stderr
    out = tmp_path / 'out'
    assert lines(out / 'k710_classes.txt') == order
    # k400 class i -> k710 row: throwing ball 3, dyeing hair 4, abseiling 6, changing wheel 5
    assert json.loads((out / 'label_710to400.json').read_text()) == [3, 4, 6, 5]
    assert lines(out / 'k710_train.txt')[0] == 'k400/train/a1_000012_000022.mp4 6'


def test_class_order_that_does_not_match_is_refused(tmp_path):
    (tmp_path / 'k710.txt').write_text('abseiling\nyoga\nsurfing\n')
    result = run_tool(tmp_path, '--class-order', f'k710={tmp_path / "k710.txt"}')
    assert result.returncode == 1
    assert "not in the annotations ['surfing']" in result.stderr
    assert "missing ['Changing Wheel', 'dying hair'" in result.stderr


def test_map_slices_a_k710_classifier_by_name(built):
    out, _ = built
    k710 = lines(out / 'k710_classes.txt')
    weight = torch.arange(len(k710) * 2, dtype=torch.float32).reshape(len(k710), 2)
    bias = torch.arange(len(k710), dtype=torch.float32)
    k700 = ['abseiling', 'changing wheel', 'dyeing hair', 'throwing ball', THROW_NOT, 'yoga',
            'zumba']  # sorted K700 classes
    sliced_w, sliced_b = slice_classifier(
        weight, bias, json.loads((out / 'label_710to700.json').read_text()))
    for i, name in enumerate(k700):
        row = [class_key(c) for c in k710].index(class_key(name))
        assert torch.equal(sliced_w[i], weight[row]) and sliced_b[i] == bias[row]


# --------------------------------------------------------------- bad inputs
def test_test_split_without_labels_is_refused(tmp_path):
    path = tmp_path / 'test.csv'
    path.write_text('youtube_id,time_start,time_end,split\nq1,0,10,test\n')
    with pytest.raises(ValueError, match=r"test.csv: columns \['label'\] missing .*test split"):
        parse_annotation(path.read_text().splitlines(), str(path), 'train')


def test_split_column_must_agree_with_the_role(tmp_path):
    text = [HEADER, 'abseiling,a1,0,10,train', 'abseiling,a2,0,10,val']
    with pytest.raises(ValueError, match=r"k400_train.csv:3: split 'val' in a file given as "
                       r'the train annotation'):
        parse_annotation(text, 'k400_train.csv', 'train')


@pytest.mark.parametrize('row,message', [
    (',a1,0,10,train', 'empty label'),
    ('abseiling,a1,zero,10,train', "time_start 'zero' is not a number"),
    ('abseiling,a1,0.5,10,train', "time_start '0.5' is not a whole number"),
])
def test_bad_rows_name_the_line(row, message):
    with pytest.raises(ValueError, match=rf'k.csv:3: {message}'):
        parse_annotation([HEADER, 'yoga,y1,0,10,train', row], 'k.csv', 'train')


def test_is_cc_column_and_quotes_are_read():
    rows = parse_annotation(['label,youtube_id,time_start,time_end,split,is_cc',
                             '"tying knot (not on a tie)",--x,  3,13,train,0'], 'k.csv', 'train')
    assert rows[0].label == 'tying knot (not on a tie)' and rows[0].youtube_id == '--x'
    assert (rows[0].time_start, rows[0].time_end) == (3, 13)


def test_one_dataset_cannot_merge_two_of_its_classes():
    aliases, ignored = effective_aliases({'a': 'b'}, {'k700': ['a', 'b']})
    assert aliases == {} and ignored == ["'a' -> 'b' not applied: both are classes of k700"]
    with pytest.raises(ValueError, match="k700: classes 'yoga' and 'Yoga ' are one class"):
        merge_classes({'k700': ['yoga', 'Yoga ']}, {})


def test_dataset_classes_fold_case_and_whitespace():
    clips = parse_annotation([HEADER, 'b  c,1,0,10,train', 'B C,2,0,10,train', 'a,3,0,1,train'],
                             'k.csv', 'train')
    assert dataset_classes(clips) == ['a', 'b c']
