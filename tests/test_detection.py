"""AVA detection end to end on the tiny generated set (``make_demo_ava``):
a train step through the real dataset and pipeline, ``tools/train.py`` and
``tools/test.py`` with MMAction2's AVA metric, a fine-tuned detector that beats
an untrained one, the picture tool, and one of MMAction2's shipped AVA
configs through the same tools."""
import importlib.util
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmaction
import mmvmae2  # noqa: F401
from mmaction.registry import MODELS

ROOT = Path(__file__).resolve().parents[1]
DEMO_CFG = ROOT / 'configs/detection/demo/videomaev2_vit-tiny_demo-ava.py'
SHIPPED_CFG = (Path(mmaction.__file__).parent / '.mim/configs/detection/slowonly/'
               'slowonly_kinetics400-pretrained-r50_8xb16-4x16x1-20e_ava21-rgb.py')
MAP = re.compile(r'mAP/overall: ([0-9.]+|nan)')


def load_tool(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    """A working directory with ``data/demo_ava`` as the demo config expects."""
    root = tmp_path_factory.mktemp('det')
    load_tool(ROOT / 'tools/data/make_demo_ava.py').make_demo_ava(
        str(root / 'data' / 'demo_ava'), num_videos=8, num_val=4, seed=0)
    return root


def run_tool(tool: str, *args, cwd: Path) -> str:
    cmd = [sys.executable, str(ROOT / 'tools' / f'{tool}.py'), *map(str, args)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{" ".join(cmd)}\n{out[-6000:]}'
    return out


def logged_map(out: str) -> float:
    """The overall frame mAP that ``tools/test.py`` logged (never skipped)."""
    found = MAP.findall(out)
    assert found, out[-3000:]
    value = float(found[-1])
    assert 0. <= value <= 1., value
    return value


def test_featmap_of_a_non_square_clip():
    """The ViT resizes its position table to a non-square token grid and hands
    the detector a (B, C, T', H', W') map of it."""
    init_default_scope('mmaction')
    vit = MODELS.build(dict(type='VideoMAEViT', arch=dict(embed_dims=48, num_layers=2,
                                                          num_heads=3, feedforward_channels=96),
                            img_size=32, num_frames=4, patch_size=8, out_type='featmap'))
    out = vit(torch.randn(2, 3, 4, 48, 80))
    assert out.shape == (2, 48, 2, 6, 10)
    assert vit.position_embedding((2, 6, 10)).shape == (1, 2 * 6 * 10, 48)


def test_train_step_on_the_tiny_set(root, monkeypatch):
    """One train_step with batches of the real dataset and pipeline: the
    multi-label loss is finite and every part of the detector moved."""
    monkeypatch.chdir(root)
    init_default_scope('mmaction')
    cfg = Config.fromfile(str(DEMO_CFG))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    assert len(batch['inputs']) == 4 and batch['inputs'][0].shape == (3, 8, 64, 80)
    assert all(len(s.gt_instances.bboxes) == 2 for s in batch['data_samples'])
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    losses = model.train_step(batch, optim_wrapper)
    assert torch.isfinite(losses['loss_action_cls']) and losses['loss_action_cls'] > 0
    moved = {n.split('.')[0] + '.' + n.split('.')[1] for n, p in model.named_parameters()
             if not torch.equal(p.detach(), before[n])}
    assert {'backbone.patch_embed', 'backbone.blocks', 'roi_head.bbox_head'} <= moved


@pytest.fixture(scope='module')
def finetuned(root):
    """tools/train.py with the demo config (8 epochs of 8 steps, seed 0)."""
    run_tool('train', DEMO_CFG, '--work-dir', root / 'work', cwd=root)
    checkpoint = root / 'work' / 'epoch_8.pth'
    assert checkpoint.is_file()
    return checkpoint


def test_finetuned_beats_untrained(root, finetuned):
    """tools/test.py with MMAction2's AVAMetric on the tiny val set: an
    untrained detector ranks lit / dark persons at chance, the fine-tuned one
    tells them apart (measured with data seeds 0 / 1: 0.57 -> 0.87, 0.59 -> 0.87 mAP;
    'moving' stays near chance in so short a run)."""
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(DEMO_CFG)).model)
    model.init_weights()
    untrained = root / 'untrained.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), untrained)
    before = logged_map(run_tool('test', DEMO_CFG, untrained, '--work-dir', root / 'u', cwd=root))
    after_out = run_tool('test', DEMO_CFG, finetuned, '--work-dir', root / 'f', cwd=root)
    assert 'Class lit AP' in after_out and 'Class dark AP' in after_out
    after = logged_map(after_out)
    assert after > before + 0.2, (before, after)


def test_visualize_detections(root, finetuned, monkeypatch):
    """The picture: one panel per keyframe, the person boxes of the proposal
    file outlined in green where they are, top actions named."""
    monkeypatch.chdir(root)
    tool = load_tool(ROOT / 'tools/visualize_detections.py')
    out = root / 'vis' / 'detections.png'
    cfg = Config.fromfile(str(DEMO_CFG))
    video = root / 'data/demo_ava/rawframes/demo_val_008'
    result = tool.visualize_detections(cfg, str(finetuned), str(video), str(out),
                                       max_frames=2, scale=4)
    assert result['timestamps'] == [901, 902]
    img = cv2.imread(str(out))[..., ::-1]
    panel_w = 80 * 4
    assert img.shape == (64 * 4, 2 * panel_w + 4, 3)
    with open(root / 'data/demo_ava/annotations/'
              'ava_dense_proposals_val.FAIR.recall_93.9.pkl', 'rb') as f:
        proposals = pickle.load(f)
    for i, ts in enumerate((901, 902)):
        people = proposals[f'demo_val_008,{ts:04d}']
        people = people[people[:, 4] >= 0.9, :4]
        np.testing.assert_allclose(result['boxes'][i], people, atol=1e-4)
        assert all(result['labels'][i]), 'every box gets a label'
        offset = i * (panel_w + 4)
        for x1, y1, x2, y2 in people * [320, 256, 320, 256]:
            cy = int(round((y1 + y2) / 2))
            left, right = int(round(x1)) + offset, int(round(x2)) + offset
            assert tuple(img[cy + 20, left]) == tool.BOX_COLOUR  # below the labels
            assert tuple(img[cy + 20, right]) == tool.BOX_COLOUR
            assert tuple(img[cy + 20, (left + right) // 2]) != tool.BOX_COLOUR  # the person
    # drawing is a pure function as well
    frame = np.zeros((10, 20, 3), np.uint8)
    drawn = tool.draw_detections(frame, np.array([[.25, .2, .75, .8]]), [[]], scale=2)
    assert tuple(drawn[10, 10]) == tool.BOX_COLOUR and tuple(drawn[10, 20]) == (0, 0, 0)


def test_shipped_mmaction_ava_config(root):
    """MMAction2's own SlowOnly AVA config, shrunk by --cfg-options (ResNet3d
    depth 18 with 8 base channels, no starting checkpoint, the tiny set and
    its 3 actions), trains one epoch and tests with the AVA metric."""
    anno = 'data/demo_ava/annotations'
    data = {'data_prefix.img': 'data/demo_ava/rawframes', 'num_classes': 4,
            'timestamp_start': 900, 'timestamp_end': 905,
            'label_file': f'{anno}/ava_action_list_v2.2_for_activitynet_2019.pbtxt'}
    options = ['model.init_cfg=None', 'model.backbone.depth=18',
               'model.backbone.base_channels=8', 'model.roi_head.bbox_head.in_channels=64',
               'model.roi_head.bbox_head.num_classes=4', 'model.roi_head.bbox_head.topk=(1,3)',
               'train_cfg.max_epochs=1', 'param_scheduler=[]',
               'optim_wrapper.optimizer.lr=0.01', 'env_cfg.dist_cfg.backend=gloo']
    for split in ('train', 'val', 'test'):
        loader = f'{split}_dataloader'
        options += [f'{loader}.batch_size={4 if split == "train" else 1}',
                    f'{loader}.num_workers=0',
                    f'{loader}.persistent_workers=False']
        file_split = 'train' if split == 'train' else 'val'
        options += [f'{loader}.dataset.{k}={v}' for k, v in dict(
            data, ann_file=f'{anno}/ava_{file_split}_v2.2.csv',
            exclude_file=f'{anno}/ava_{file_split}_excluded_timestamps_v2.2.csv',
            proposal_file=f'{anno}/ava_dense_proposals_{file_split}.FAIR.recall_93.9.pkl'
        ).items()]
        # 64 x 80 frames: rescale to 64-80 and crop 64 instead of 256-320 / 256
        pipe = f'{loader}.dataset.pipeline'
        options += ([f'{pipe}.2.scale_range=(64,80)', f'{pipe}.3.size=64'] if split == 'train'
                    else [f'{pipe}.2.scale=(-1,64)'])
    for key in ('val_evaluator', 'test_evaluator'):
        options += [f'{key}.num_classes=4', f'{key}.ann_file={anno}/ava_val_v2.2.csv',
                    f'{key}.exclude_file={anno}/ava_val_excluded_timestamps_v2.2.csv',
                    f'{key}.label_file={data["label_file"]}']
    work = root / 'slowonly'
    out = run_tool('train', SHIPPED_CFG, '--work-dir', work, '--cfg-options', *options, cwd=root)
    logged_map(out)
    logged_map(run_tool('test', SHIPPED_CFG, work / 'epoch_1.pth', '--work-dir', work,
                        '--cfg-options', *options, cwd=root))


def test_detector_backbone_starts_from_a_recognizer_checkpoint(tmp_path):
    """``VideoMAEPretrained`` on the detector's backbone loads the encoder of a
    recognizer checkpoint trained on square 32 x 32 clips into the 64 x 80
    detection ViT (the fixed position table is regenerated for its grid)."""
    init_default_scope('mmaction')
    cfg = Config.fromfile(str(DEMO_CFG))
    torch.manual_seed(1)
    source = MODELS.build(dict(cfg.model.backbone, img_size=32, init_cfg=None))
    checkpoint = tmp_path / 'recognizer.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in source.state_dict().items()},
                    meta=dict()), checkpoint)
    cfg.model.backbone.init_cfg = dict(type='VideoMAEPretrained', checkpoint=str(checkpoint))
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    loaded = detector.backbone.state_dict()
    for key, value in source.state_dict().items():
        if key != 'pos_embed':
            torch.testing.assert_close(loaded[key], value, msg=key)
    assert detector.backbone(torch.randn(1, 3, 8, 64, 80)).shape == (1, 96, 4, 8, 10)


def test_visualize_a_video_file_and_errors(root, finetuned, monkeypatch):
    """A video file is decoded to frames first (its stem names the video in
    the proposal file); a video without person boxes is refused."""
    monkeypatch.chdir(root)
    tool = load_tool(ROOT / 'tools/visualize_detections.py')
    writer = load_tool(ROOT / 'tools/make_demo_data.py')
    frames_dir = root / 'data/demo_ava/rawframes/demo_val_009'
    frames = np.stack([cv2.imread(str(p))[..., ::-1] for p in sorted(frames_dir.iterdir())])
    video = root / 'videos' / 'demo_val_009.mp4'
    video.parent.mkdir()
    writer.write_video(str(video), frames, fps=30)
    cfg = Config.fromfile(str(DEMO_CFG))
    out = root / 'vis' / 'video.png'
    result = tool.visualize_detections(cfg, str(finetuned), str(video), str(out),
                                       timestamps=[903], scale=2)
    assert out.is_file() and cv2.imread(str(out)).shape == (128, 160, 3)
    from_frames = tool.visualize_detections(cfg, str(finetuned), str(frames_dir),
                                            str(root / 'vis' / 'frames.png'), timestamps=[903])
    np.testing.assert_allclose(result['boxes'][0], from_frames['boxes'][0], atol=1e-5)
    with pytest.raises(ValueError, match='no person boxes for demo_val_009 at \\[905\\]'):
        tool.visualize_detections(cfg, str(finetuned), str(frames_dir), str(out),
                                  timestamps=[905])
    with pytest.raises(FileNotFoundError, match='video or frame directory not found'):
        tool.visualize_detections(cfg, str(finetuned), str(root / 'nope'), str(out))
