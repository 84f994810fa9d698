"""tools/infer.py (MMAction2's init_recognizer / inference_recognizer with the
plugin), tools/test.py's accuracies and --dump, tools/analysis/plot_results.py.

The tiny recognizer's classifier has zero weights and the bias
``[0, 2, 1, 3, -1, .5]``, so every clip of every video scores
``softmax(bias)`` = ``[.0301, .2225, .0819, .6048, .0111, .0496]`` (computed by
hand: ``exp(b) / sum(exp(b))``), the top-5 is 3, 1, 2, 5, 0 and every video
is predicted as class 3. The demo list labels its 6 videos ``i % 4``
(0 1 2 3 0 1): top-1 = 1/6, top-5 = 6/6 and MMAction2's mean class accuracy
= mean(0, 0, 0, 1) = .25.
"""
import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.registry import init_default_scope

import mmvmae2  # noqa: F401  (registers modules)
from mmaction.registry import MODELS
from mmvmae2.compat import checkpoint_loading

ROOT = Path(__file__).resolve().parents[1]
BIAS = [0., 2., 1., 3., -1., .5]
SOFTMAX = [.0301, .2225, .0819, .6048, .0111, .0496]  # by hand, 4 decimals
NAMES = ['zero', 'one', 'two', 'three', 'four', 'five']

CONFIG = '''
_base_ = {runtime!r}
num_classes = 6
model = dict(
    type='Recognizer3D',
    backbone=dict(type='VideoMAEViT', arch=dict(embed_dims=48, num_layers=2, num_heads=3,
                  feedforward_channels=96), img_size=32, patch_size=8, num_frames=4,
                  with_fc_norm=True, out_type='avg'),
    cls_head=dict(type='TimeSformerHead', num_classes=num_classes, in_channels=48,
                  average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[114.75, 114.75, 114.75],
                           std=[57.375, 57.375, 57.375], format_shape='NCTHW'))
test_pipeline = [
    dict(type='VideoMAEInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=2, test_mode=True),
    dict(type='VideoMAEDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='ThreeCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
test_dataloader = dict(
    batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='VideoMAEVideoDataset', ann_file={ann_file!r},
                 data_prefix=dict(video={root!r}), num_classes=num_classes, test_mode=True,
                 pipeline=test_pipeline))
test_evaluator = dict(type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_cfg = dict(type='TestLoop')
'''


def load_tool(relative):
    path = ROOT / 'tools' / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def infer():
    return load_tool('infer.py')


@pytest.fixture(scope='module')
def plots():
    return load_tool('analysis/plot_results.py')


@pytest.fixture(scope='module')
def recognizer(demo_video_dir, tmp_path_factory):
    """``(config path, checkpoint path, label map path)``; the checkpoint has
    what a runner writes besides weights (meta with numpy scalars, message hub
    with HistoryBuffers)."""
    out = tmp_path_factory.mktemp('recognizer')
    config = out / 'tiny_recognizer.py'
    config.write_text(CONFIG.format(runtime=str(ROOT / 'configs/_base_/default_runtime.py'),
                                    ann_file=str(demo_video_dir / 'train_list.txt'),
                                    root=str(demo_video_dir)))
    init_default_scope('mmaction')
    torch.manual_seed(0)
    state = MODELS.build(Config.fromfile(str(config)).model).state_dict()
    state['cls_head.fc_cls.weight'].zero_()
    state['cls_head.fc_cls.bias'].copy_(torch.tensor(BIAS))
    checkpoint = out / 'epoch_1.pth'
    torch.save(dict(meta=dict(epoch=1, iter=3, seed=np.int64(0), mmengine_version='0.10.7'),
                    state_dict=state,
                    message_hub=dict(log_scalars={'train/loss': HistoryBuffer([1., .5], [1, 1])},
                                     runtime_info=dict(epoch=1))), checkpoint)
    label_map = out / 'names.txt'
    label_map.write_text('\n'.join(NAMES) + '\n')
    return str(config), str(checkpoint), str(label_map)


def run_tool(*args):
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


# ------------------------------------------------------------------ infer


def test_init_recognizer_loads_mmengine_checkpoints_through_the_plugin(recognizer):
    from mmaction.apis import init_recognizer
    config, checkpoint, _ = recognizer
    # torch >= 2.6 loads with weights_only=True, which refuses mmengine's HistoryBuffer
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        init_recognizer(config, checkpoint, device='cpu')
    with checkpoint_loading():
        model = init_recognizer(config, checkpoint, device='cpu')
    assert model.cls_head.fc_cls.bias.tolist() == BIAS


def test_infer_prints_top5_with_names(recognizer, demo_video_dir):
    config, checkpoint, label_map = recognizer
    video = demo_video_dir / 'video_000.mp4'
    out = run_tool('tools/infer.py', config, checkpoint, video, '--label-map', label_map,
                   '--device', 'cpu')
    expected = '\n'.join([
        f'top-5 of {video}:',
        '  1. three (3): 0.6048',
        '  2. one (1): 0.2225',
        '  3. two (2): 0.0819',
        '  4. five (5): 0.0496',
        '  5. zero (0): 0.0301'])
    assert expected in out


def test_infer_without_label_map(infer, recognizer, demo_video_dir, capsys):
    config, checkpoint, _ = recognizer
    infer.main([config, checkpoint, str(demo_video_dir / 'video_003.mp4'), '--device', 'cpu',
                '--top-k', '2'])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2:] == ['  1. 3: 0.6048', '  2. 1: 0.2225']


def test_infer_on_a_raw_frame_config(infer, recognizer, demo_video_dir):
    """An SSv1-like config decodes raw frames; infer reads the video file."""
    config, checkpoint, _ = recognizer
    cfg = Config.fromfile(config)
    cfg.test_dataloader.dataset.pipeline = [
        dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1, test_mode=True),
        dict(type='RawFrameDecode'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')]
    scores = infer.predict(cfg, checkpoint, str(demo_video_dir / 'video_001.mp4'))
    assert [round(s, 4) for s in scores.tolist()] == SOFTMAX


def test_video_test_pipeline(infer):
    video = [dict(type='mmaction.DecordInit'), dict(type='SampleFrames', clip_len=4),
             dict(type='DecordDecode')]
    frames = [dict(type='SampleFrames', clip_len=4), dict(type='RawFrameDecode'),
              dict(type='PackActionInputs')]
    # the dataset's pipeline wins over the test_pipeline variable
    cfg = Config(dict(test_pipeline=frames, test_dataloader=dict(dataset=dict(pipeline=video))))
    assert infer.video_test_pipeline(cfg) == video
    assert infer.video_test_pipeline(Config(dict(test_pipeline=frames))) == [
        dict(type='VideoMAEInit'), dict(type='SampleFrames', clip_len=4),
        dict(type='VideoMAEDecode'), dict(type='PackActionInputs')]
    with pytest.raises(KeyError, match='neither test_dataloader.dataset.pipeline nor'):
        infer.video_test_pipeline(Config(dict(model=dict())))
    with pytest.raises(ValueError, match='opens no video'):
        infer.video_test_pipeline(Config(dict(test_pipeline=[dict(type='PackActionInputs')])))


def test_top_k(infer):
    scores = torch.tensor(SOFTMAX)
    assert [i for i, _, _ in infer.top_k(scores)] == [3, 1, 2, 5, 0]
    assert infer.top_k(scores, 1, NAMES) == [(3, 'three', pytest.approx(.6048))]
    with pytest.raises(ValueError, match='label map has 2 names, the model 6 classes'):
        infer.top_k(scores, 5, ['a', 'b'])


def test_infer_refuses_a_checkpoint_of_another_model(infer, recognizer, tmp_path):
    config, checkpoint, _ = recognizer
    state = mmvmae2.load_checkpoint_file(checkpoint)['state_dict']
    del state['cls_head.fc_cls.weight'], state['cls_head.fc_cls.bias']
    torch.save(dict(state_dict=state), tmp_path / 'backbone_only.pth')
    with pytest.raises(RuntimeError,
                       match=r'(?s)does not fit the recognizer .*missing keys.*cls_head\.fc_cls'):
        infer.load_recognizer(Config.fromfile(config), str(tmp_path / 'backbone_only.pth'),
                              'cpu')


# ------------------------------------------------ tools/test.py and its dump


@pytest.fixture(scope='module')
def dump(recognizer, tmp_path_factory):
    config, checkpoint, _ = recognizer
    out = tmp_path_factory.mktemp('test_py')
    log = run_tool('tools/test.py', config, checkpoint, '--work-dir', out / 'work',
                   '--dump', out / 'dump.pkl')
    return log, str(out / 'dump.pkl')


def test_test_py_prints_top1_top5_and_mean_class_accuracy(dump):
    log, _ = dump
    assert 'acc/top1: 0.1667  acc/top5: 1.0000  acc/mean1: 0.2500' in log


def test_dump_holds_per_video_scores_and_labels(dump, plots):
    _, path = dump
    with open(path, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 6  # one dict per video, in list order
    assert [int(r['gt_label']) for r in results] == [0, 1, 2, 3, 0, 1]
    for result in results:
        assert [round(s, 4) for s in result['pred_score'].tolist()] == SOFTMAX
        assert int(result['pred_label']) == 3
    scores, labels = plots.read_dump(path)
    assert scores.shape == (6, 6) and labels.tolist() == [0, 1, 2, 3, 0, 1]


def test_confusion_of_the_dump(dump, plots, recognizer, tmp_path):
    _, path = dump
    _, _, label_map = recognizer
    out = tmp_path / 'cm.png'
    matrix = plots.plot_confusion(path, str(out), label_map)
    expected = np.zeros((6, 6))
    expected[:4, 3] = 1.  # classes 0-3 all predicted as 3; 4 and 5 have no video
    assert np.array_equal(matrix, expected)
    assert matplotlib.image.imread(str(out)).ndim == 3
    log = run_tool('tools/analysis/plot_results.py', 'confusion', path, '--out',
                   tmp_path / 'cli.png')
    assert '6-class confusion matrix' in log and (tmp_path / 'cli.png').stat().st_size > 0


# ------------------------------------------------------------ plot_results


def test_confusion_matrix_by_hand(plots):
    labels = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    preds = [0, 0, 1, 1, 2, 2, 2, 0, 2]
    expected = [[2 / 3, 1 / 3, 0.],
                [0., .5, .5],
                [.25, 0., .75]]
    assert np.allclose(plots.confusion_matrix(labels, preds, 3), expected, atol=0, rtol=1e-12)
    assert plots.confusion_matrix([0], [1], 3).tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match=r'a label is outside \[0, 3\)'):
        plots.confusion_matrix([3], [0], 3)


def test_read_dump_rejects_multi_label(plots, tmp_path):
    path = tmp_path / 'multi.pkl'
    with open(path, 'wb') as f:
        pickle.dump([dict(pred_score=torch.zeros(3), gt_label=torch.tensor([0, 2]))], f)
    with pytest.raises(ValueError, match='item 0: 2 labels'):
        plots.read_dump(str(path))


def write_scalars(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_curves(plots, tmp_path):
    # the format mmengine's LocalVisBackend writes: training records every
    # logger interval (step = iter), validation records per epoch (step = epoch)
    records = [
        dict(lr=1e-4, data_time=.01, loss=2.0, top1_acc=0., loss_cls=2.0, time=.1, epoch=1,
             iter=2, step=2),
        dict(lr=2e-4, data_time=.01, loss=1.5, top1_acc=.5, loss_cls=1.5, time=.1, epoch=1,
             iter=4, step=4),
        {'acc/top1': .25, 'acc/top5': 1., 'acc/mean1': .2, 'data_time': .01, 'time': .05,
         'step': 1},
        dict(lr=1e-4, data_time=.01, loss=1.0, top1_acc=1., loss_cls=1.0, time=.1, epoch=2,
             iter=6, step=6),
        {'acc/top1': .5, 'acc/top5': 1., 'acc/mean1': .4, 'data_time': .01, 'time': .05,
         'step': 2},
    ]
    write_scalars(tmp_path / 'work' / '20240101_000000' / 'vis_data' / 'scalars.json',
                  records[:2])
    write_scalars(tmp_path / 'work' / '20240102_000000' / 'vis_data' / 'scalars.json', records)
    newest = str(tmp_path / 'work' / '20240102_000000' / 'vis_data' / 'scalars.json')
    assert plots.find_scalars(str(tmp_path / 'work')) == newest

    panels = {title: (x_label, series)
              for title, x_label, series in plots.curve_panels(*plots.read_scalars(newest))}
    assert list(panels) == ['loss', 'learning rate', 'training accuracy', 'validation']
    assert panels['loss'] == ('iteration', {'loss': ([2, 4, 6], [2., 1.5, 1.]),
                                            'loss_cls': ([2, 4, 6], [2., 1.5, 1.])})
    assert panels['learning rate'][1] == {'lr': ([2, 4, 6], [1e-4, 2e-4, 1e-4])}
    assert panels['validation'] == ('epoch', {'acc/mean1': ([1, 2], [.2, .4]),
                                              'acc/top1': ([1, 2], [.25, .5]),
                                              'acc/top5': ([1, 2], [1., 1.])})

    out = tmp_path / 'curves.png'
    log = run_tool('tools/analysis/plot_results.py', 'curves', tmp_path / 'work', '--out', out)
    assert f'loss, learning rate, training accuracy, validation of {newest}' in log
    image = matplotlib.image.imread(str(out))
    assert image.shape[1] > image.shape[0] > 100  # four panels side by side


def test_curves_errors(plots, tmp_path):
    with pytest.raises(FileNotFoundError, match='no \\*/vis_data/scalars.json under'):
        plots.find_scalars(str(tmp_path))
    write_scalars(tmp_path / 'bad.json', [])
    (tmp_path / 'bad.json').write_text('{"lr": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r'bad\.json, line 2: not JSON'):
        plots.read_scalars(str(tmp_path / 'bad.json'))
