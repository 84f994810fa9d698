"""The tiny AVA set of ``tools/data/make_demo_ava.py``: the layout MMAction2's
``AVADataset`` reads, and boxes / actions that match the rendered pixels."""
import csv
import importlib.util
import pickle
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmvmae2  # noqa: F401
from mmaction.evaluation import read_labelmap
from mmaction.registry import DATASETS

ROOT = Path(__file__).resolve().parents[1]
DEMO_CFG = ROOT / 'configs/detection/demo/videomaev2_vit-tiny_demo-ava.py'
spec = importlib.util.spec_from_file_location('make_demo_ava',
                                              ROOT / 'tools/data/make_demo_ava.py')
make_demo_ava_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_demo_ava_module)
make_demo_ava = make_demo_ava_module.make_demo_ava


@pytest.fixture(scope='module')
def ava(tmp_path_factory):
    root = tmp_path_factory.mktemp('ava') / 'data' / 'demo_ava'
    return make_demo_ava(str(root), num_videos=3, num_val=2, seed=5)


def rows_of(path):
    with open(path) as f:
        return list(csv.reader(f))


def test_layout(ava):
    root = Path(ava['data_root'])
    videos = sorted(p.name for p in root.iterdir())
    assert videos == ['demo_train_000', 'demo_train_001', 'demo_train_002', 'demo_val_003',
                      'demo_val_004']
    frames = sorted((root / 'demo_train_000').iterdir())
    assert len(frames) == 150  # 5 s at 30 fps
    assert frames[0].name == 'img_00001.jpg' and frames[-1].name == 'img_00150.jpg'
    assert cv2.imread(str(frames[0])).shape == (64, 80, 3)
    rows = rows_of(ava['ann_file_train'])
    assert all(len(r) == 8 for r in rows)
    assert {r[1] for r in rows} == {'0901', '0902', '0903', '0904'}
    boxes = np.array([[float(v) for v in r[2:6]] for r in rows])
    assert (boxes >= 0).all() and (boxes <= 1).all()
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    # one of lit / dark per person and keyframe, moving on top for some
    actions = defaultdict(set)
    for r in rows:
        actions[(r[0], r[1], r[7])].add(int(r[6]))
    assert len(actions) == 3 * 4 * 2
    assert all(len(a & {1, 2}) == 1 and a <= {1, 2, 3} for a in actions.values())
    with open(ava['label_file']) as f:
        labelmap, ids = read_labelmap(f)
    assert ids == {1, 2, 3}
    assert [x['name'] for x in labelmap] == ['lit', 'dark', 'moving']
    assert rows_of(ava['exclude_file_val']) == [['demo_val_004', '0901']]
    assert rows_of(ava['exclude_file_train']) == []
    lines = Path(ava['frame_list_val']).read_text().splitlines()
    assert lines[0].split() == ['original_vido_id', 'video_idx', 'frame_idx', 'path', 'labels']
    assert len(lines) == 1 + 2 * 150


def test_proposals(ava):
    with open(ava['proposal_file_val'], 'rb') as f:
        proposals = pickle.load(f)
    assert len(proposals) == 2 * 4 and 'demo_val_003,0901' in proposals
    gt = defaultdict(list)
    for r in rows_of(ava['ann_file_val']):
        box = tuple(float(v) for v in r[2:6])
        if box not in gt[f'{r[0]},{r[1]}']:
            gt[f'{r[0]},{r[1]}'].append(box)
    for key, props in proposals.items():
        assert props.shape == (3, 5)
        people = props[props[:, 4] >= 0.9]
        assert len(people) == 2 and props[:, 4].min() == pytest.approx(0.3)
        np.testing.assert_allclose(people[:, :4], np.array(gt[key]), atol=0.0105)


def test_boxes_and_actions_match_pixels(ava):
    """The keyframe (frame 30 * (t - 900) of the 0-based frames) shows a bright
    person in every box labelled lit, a dark one in every box labelled dark;
    a still person's box stays, a moving person's box moves."""
    boxes = defaultdict(dict)
    for r in rows_of(ava['ann_file_train']):
        video, ts, box, action, pid = r[0], int(r[1]), [float(v) for v in r[2:6]], int(r[6]), r[7]
        img = cv2.imread(f'{ava["data_root"]}/{video}/img_{30 * (ts - 900) + 1:05d}.jpg')
        x1, y1, x2, y2 = np.array(box) * [80, 64, 80, 64]
        cx, cy = int((x1 + x2) / 2), int((y1 + y2) / 2)
        centre = img[cy - 2:cy + 3, cx - 2:cx + 3].mean()
        if action == 1:
            assert centre > 140, (video, ts, pid)
        elif action == 2:
            assert centre < 60, (video, ts, pid)
        boxes[(video, pid)][ts] = (tuple(box), action)
    moving = {k: any(a == 3 for _, a in v.values()) for k, v in boxes.items()}
    assert any(moving.values()) and not all(moving.values())
    for key, per_ts in boxes.items():
        distinct = {b for b, _ in per_ts.values()}
        assert (len(distinct) > 1) == moving[key], key


def test_avadataset_reads_it(ava, tmp_path, monkeypatch):
    init_default_scope('mmaction')
    monkeypatch.chdir(Path(ava['data_root']).parents[2])
    cfg = Config.fromfile(str(DEMO_CFG))
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(train) == 3 * 4 and len(val) == 2 * 4 - 1  # one val keyframe excluded
    sample = train.get_data_info(0)
    assert sample['frame_dir'].endswith('demo_train_000') and sample['timestamp'] == 901
    assert sample['gt_labels'].shape == (2, 4)  # 3 actions + background column
    assert len(sample['proposals']) == 2  # the 0.3 false detection dropped
    packed = val[0]
    assert packed['inputs'].shape == (3, 8, 64, 80)  # collapsed, C T H W
    row = rows_of(ava['ann_file_val'])[0]
    gt = packed['data_samples'].gt_instances.bboxes[0].numpy()
    np.testing.assert_allclose(gt, np.array([float(v) for v in row[2:6]]) * [80, 64, 80, 64],
                               atol=1e-3)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='at least one train'):
        make_demo_ava(str(tmp_path), num_videos=0)
    with pytest.raises(ValueError, match='at least 2 s'):
        make_demo_ava(str(tmp_path), timestamp_start=900, timestamp_end=901)
