"""Pretraining data: demo videos, decoding backends, lists, repeated
augmentation, hybrid sources, and skipping broken files without dying."""
import errno
import logging
import math
import random
import re

import cv2
import mmcv
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.logging import MessageHub, MMLogger
from torch.utils.data import DataLoader

import mmvmae2  # noqa: F401  (registers everything)
from mmaction.registry import DATASETS, HOOKS, TRANSFORMS
from mmvmae2.datasets import VideoMAEHybridPretrainDataset, VideoMAEPretrainDataset
from mmvmae2.datasets.transforms import TransformError, errors, loading
from mmvmae2.datasets.transforms.loading import VideoReadError, VideoTooShortError
from mmvmae2.engine import VideoMAESkippedVideoHook
from mmvmae2.engine.geometry_check import UncheckablePipeline, blank_sample

BAD = {'corrupt.mp4', 'truncated.mp4', 'short.mp4', 'missing.mp4'}


class FakeMasks:
    """Stands in for VideoMAEMaskGenerator: (n, N) bool masks, a new pattern
    per call, and the crop box as a (1, 4) array so tests can stack it."""

    def __init__(self, num_tokens=8):
        self.num_tokens, self.calls = num_tokens, 0

    def __call__(self, results):
        n = results['imgs'].shape[0]
        enc = np.zeros((n, self.num_tokens), bool)
        enc[:, self.calls % self.num_tokens] = True
        self.calls += 1
        results.update(encoder_mask=enc, decoder_mask=~enc, bbox=results['crop_bbox'][None])
        return results


def video_pipeline(clip_len=8, interval=2, repeats=2, size=32, backends=('decord', 'pyav')):
    return [
        dict(type='VideoMAEInit', backends=backends),
        dict(type='SampleFrames', clip_len=clip_len, frame_interval=interval, num_clips=1,
             out_of_bound_opt='repeat_last'),  # as the pretraining configs
        dict(type='VideoMAEDecode'),
        dict(type='VideoMAERepeatedAugment', num_repeats=repeats, transforms=[
            dict(type='MultiScaleCrop', input_size=size, scales=(1, .875, .75, .66),
                 random_crop=False, max_wh_scale_gap=1, num_fixed_crops=13),
            dict(type='Resize', scale=(size, size), keep_ratio=False),
            dict(type='FormatShape', input_format='NCTHW'),
            FakeMasks(),
        ]),
        dict(type='PackVideoMAEInputs'),
    ]


def decode_all(path, backend):
    results = TRANSFORMS.build(dict(type='VideoMAEInit', backends=(backend, )))(
        dict(filename=str(path)))
    assert results['video_backend'] == backend
    results['frame_inds'] = np.arange(results['total_frames'])
    return np.stack(TRANSFORMS.build(dict(type='VideoMAEDecode'))(results)['imgs'])


@pytest.fixture
def log_records():
    """Warnings printed through mmengine's current logger."""
    logger = MMLogger.get_instance(f'test_pretrain_data_{random.random()}')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


# --------------------------------------------------------------------- videos
def test_demo_videos_decode_alike_with_decord_and_pyav(demo_video_dir):
    for name in ('video_000.mp4', 'video_003.mp4'):
        by_decord = decode_all(demo_video_dir / name, 'decord')
        by_pyav = decode_all(demo_video_dir / name, 'pyav')
        assert by_decord.shape == by_pyav.shape == (32, 64, 64, 3)
        assert by_decord.dtype == np.uint8
        assert np.abs(by_decord.astype(float) - by_pyav).mean() < 3
        data = (demo_video_dir / name).read_bytes()  # non-local storage: opened from bytes
        assert [loading._OPENERS[b](data, 1)[1] for b in ('decord', 'pyav')] == [32, 32]


def test_demo_videos_really_move(demo_video_dir, demo_data):
    frames = decode_all(demo_video_dir / 'video_001.mp4', 'decord').astype(float)
    step = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    assert (step > 1.5).all()  # every frame differs from the previous one
    # motion, not noise: differences grow with the time gap
    far = np.abs(frames[8:] - frames[:-8]).mean()
    assert far > 2 * step.mean()
    # and the encoded video is the rendered one (structure survives encoding)
    rendered = demo_data.render_video(10008, 32, 64).astype(float)  # seed 1, video 1
    assert np.abs(rendered - frames).mean() < 4
    other = decode_all(demo_video_dir / 'video_002.mp4', 'decord').astype(float)
    assert np.abs(other - frames).mean() > 20  # videos differ from each other


def test_pyav_fallback_and_clear_errors(demo_video_dir, monkeypatch):
    def broken_decord(data, num_threads):
        raise RuntimeError('decord cannot read this')

    monkeypatch.setitem(loading._OPENERS, 'decord', broken_decord)
    init = TRANSFORMS.build(dict(type='VideoMAEInit'))
    results = init(dict(filename=str(demo_video_dir / 'video_000.mp4')))
    assert results['video_backend'] == 'pyav' and results['total_frames'] == 32
    monkeypatch.undo()
    with pytest.raises(VideoReadError, match='missing.mp4'):
        init(dict(filename=str(demo_video_dir / 'missing.mp4')))
    with pytest.raises(VideoReadError, match='corrupt.mp4.*decord.*pyav'):
        init(dict(filename=str(demo_video_dir / 'corrupt.mp4')))
    with pytest.raises(VideoTooShortError, match='short.mp4 has 4 frames, one clip needs 16'):
        init(dict(filename=str(demo_video_dir / 'short.mp4'), min_frames=16))
    # PyAV notices a video ending before the sampled frames (a header that lies)
    results = TRANSFORMS.build(dict(type='VideoMAEInit', backends='pyav'))(
        dict(filename=str(demo_video_dir / 'short.mp4')))
    assert results['total_frames'] == 4 and results['frame_count_exact']
    results.update(total_frames=10, frame_inds=np.array([0, 2, 9]))
    with pytest.raises(VideoTooShortError, match='short.mp4: decoded 4 frames'):
        TRANSFORMS.build(dict(type='VideoMAEDecode'))(results)
    # an index past the frames is a config error, not a bad file
    results = init(dict(filename=str(demo_video_dir / 'video_000.mp4')))
    results['frame_inds'] = np.arange(1, 33)  # start_index=1 on a video of 32 frames
    with pytest.raises(ValueError, match=r'not all in \[0, 32\).*start_index'):
        TRANSFORMS.build(dict(type='VideoMAEDecode'))(results)
    with pytest.raises(ValueError, match='backends'):
        TRANSFORMS.build(dict(type='VideoMAEInit', backends=('opencv', )))


def test_pyav_decodes_what_decord_opens_but_cannot_decode(demo_data, tmp_path, monkeypatch):
    """decord opens a 72-pixel-wide video but fails to copy its frames (a
    decord bug with some widths): PyAV decodes it instead of the file being
    skipped. A file no backend decodes raises naming every backend's error."""
    frames = np.ascontiguousarray(demo_data.render_video(seed=3, num_frames=20, size=96)[:, :, :72])
    path = demo_data.write_video(str(tmp_path / 'w72.mp4'), frames)
    results = TRANSFORMS.build(dict(type='VideoMAEInit'))(dict(filename=path))
    assert results['video_backend'] == 'decord'  # opened by decord...
    results['frame_inds'] = np.array([0, 7, 19])
    decoded = TRANSFORMS.build(dict(type='VideoMAEDecode'))(results)
    assert decoded['video_backend'] == 'pyav'  # ...decoded by PyAV
    assert decoded['img_shape'] == (96, 72) and len(decoded['imgs']) == 3
    assert np.abs(np.stack(decoded['imgs']).astype(float) - frames[[0, 7, 19]]).mean() < 4
    assert not {'video_reader', 'video_source', 'video_fallbacks'} & set(decoded)

    def failing_pyav(data, num_threads):
        raise RuntimeError('pyav is broken too')

    monkeypatch.setitem(loading._OPENERS, 'pyav', failing_pyav)
    results = TRANSFORMS.build(dict(type='VideoMAEInit'))(dict(filename=path))
    results['frame_inds'] = np.array([0])
    with pytest.raises(VideoReadError,
                       match=r'cannot decode .*w72.mp4 \(decord: .*; pyav: RuntimeError: pyav is'):
        TRANSFORMS.build(dict(type='VideoMAEDecode'))(results)


# ---------------------------------------------------------------------- lists
def test_video_list_with_and_without_labels(demo_video_dir, tmp_path):
    ann = tmp_path / 'list.txt'
    ann.write_text('# comment\nvideo_000.mp4 3\n\nvideo_001.mp4\n')
    ds = VideoMAEPretrainDataset(str(ann), pipeline=[], data_prefix=dict(video=str(
        demo_video_dir)))
    assert len(ds) == 2
    assert [ds.get_data_info(i)['label'] for i in range(2)] == [3, -1]
    assert ds.get_data_info(1)['filename'] == str(demo_video_dir / 'video_001.mp4')
    assert ds.min_frames == 0  # no sampler in the pipeline
    ds = VideoMAEPretrainDataset(str(ann), pipeline=video_pipeline(clip_len=4, interval=3),
                                 data_prefix=dict(video=str(demo_video_dir)))
    assert ds.min_frames == 4  # clip_len: a clip has 4 frames (spanning 12)
    labeled, unlabeled = ds[0]['data_samples'], ds[1]['data_samples']
    assert labeled.gt_label.tolist() == [3] and 'gt_label' not in unlabeled


@pytest.mark.parametrize('line, data_type', [('a.mp4 1 2', 'video'), ('a.mp4 x', 'video'),
                                             ('frames/a', 'rawframes'),
                                             ('frames/a ten 1', 'rawframes')])
def test_malformed_line_names_file_and_line(tmp_path, line, data_type):
    ann = tmp_path / 'bad_list.txt'
    ok = 'ok.mp4 1' if data_type == 'video' else 'frames/ok 10 1'
    ann.write_text(f'{ok}\n{line}\n')
    with pytest.raises(ValueError, match=r'bad_list.txt, line 2: expected'):
        VideoMAEPretrainDataset(str(ann), pipeline=[], data_type=data_type)


def write_rawframes(root, demo_data, num_frames=20, size=32, label=None):
    frames = demo_data.render_video(7, num_frames, size)
    (root / 'clip_a').mkdir(parents=True)
    for i, frame in enumerate(frames, 1):  # img_00001.jpg, ... as MMAction2 extracts them
        cv2.imwrite(str(root / 'clip_a' / f'img_{i:05d}.jpg'), frame[..., ::-1])
    ann = root / 'frames.txt'
    ann.write_text(f'clip_a {num_frames}' + (f' {label}' if label is not None else '') + '\n')
    return ann, frames


def rawframe_pipeline(clip_len, interval):
    pipeline = video_pipeline(clip_len, interval)
    pipeline[:3] = [dict(type='SampleFrames', clip_len=clip_len, frame_interval=interval,
                         num_clips=1, out_of_bound_opt='repeat_last'),
                    dict(type='VideoMAERawFrameDecode')]
    return pipeline


def test_rawframe_folder_source(tmp_path, demo_data):
    ann, frames = write_rawframes(tmp_path, demo_data, label=5)
    ds = VideoMAEPretrainDataset(str(ann), rawframe_pipeline(4, 2), data_type='rawframes',
                                 data_prefix=dict(img=str(tmp_path)))
    info = ds.get_data_info(0)
    assert info['frame_dir'] == str(tmp_path / 'clip_a') and info['total_frames'] == 20
    assert info['label'] == 5 and info['start_index'] == 1
    out = ds[0]
    assert out['inputs'].shape == (2, 3, 4, 32, 32)
    inds = out['data_samples'].frame_inds
    assert inds.min() >= 1 and inds.max() <= 20 and (np.diff(inds) == 2).all()
    # 20 frames, shorter than a clip of 8 at interval 4 spans (32): kept, sampled from
    # the start, holding the last frame it reaches (the official loader's behaviour)
    ds = VideoMAEPretrainDataset(str(ann), rawframe_pipeline(8, 4), data_type='rawframes',
                                 data_prefix=dict(img=str(tmp_path)))
    assert ds[0]['data_samples'].frame_inds.tolist() == [1, 5, 9, 13, 17, 17, 17, 17]
    assert not ds.bad_files
    # fewer frames than a clip has (20 < 24): too short, skipped as a whole
    ds = VideoMAEPretrainDataset(str(ann), rawframe_pipeline(24, 1), data_type='rawframes',
                                 data_prefix=dict(img=str(tmp_path)))
    with pytest.raises(RuntimeError, match='every sample'):
        ds[0]
    assert 'clip_a has 20 frames, one clip needs 24' in ds.bad_files[str(tmp_path / 'clip_a')]


# --------------------------------------------------------- repeated augment
def test_repeated_augment_crops_the_same_frames(demo_video_dir):
    random.seed(3)
    pipeline = video_pipeline(clip_len=8, interval=2, repeats=6)
    pipeline[3]['stack_keys'] = ('encoder_mask', 'decoder_mask', 'bbox')
    pipeline[-1] = dict(type='PackVideoMAEInputs',
                        meta_keys=('filename', 'frame_inds', 'bbox', 'skipped_videos'))
    ds = VideoMAEPretrainDataset(str(demo_video_dir / 'train_list.txt'), pipeline,
                                 data_prefix=dict(video=str(demo_video_dir)))
    out = ds[2]
    sample = out['data_samples']
    assert out['inputs'].shape == (6, 3, 8, 32, 32) and out['inputs'].dtype == torch.uint8
    assert sample.encoder_mask.shape == sample.decoder_mask.shape == (6, 8)
    assert sample.encoder_mask.dtype == torch.bool
    assert (sample.encoder_mask ^ sample.decoder_mask).all()
    # one mask per run, in run order (FakeMasks shifts its pattern per call)
    hidden = sample.encoder_mask.int().argmax(1).tolist()
    assert hidden == [(hidden[0] + i) % 8 for i in range(6)]
    boxes = sample.bbox
    assert len({tuple(b) for b in boxes}) > 1  # distinct crops...
    frames = decode_all(demo_video_dir / 'video_002.mp4', 'decord')[sample.frame_inds]
    for clip, (x1, y1, x2, y2) in zip(out['inputs'].numpy(), boxes):  # ...of the same frames
        expected = np.stack([mmcv.imresize(f[y1:y2, x1:x2], (32, 32)) for f in frames])
        np.testing.assert_array_equal(clip.transpose(1, 2, 3, 0), expected)
    assert sample.skipped_videos == []
    assert 'VideoMAERepeatedAugment(num_repeats=6' in repr(ds.pipeline)


def test_pack_without_repeats_and_masks():
    imgs = np.zeros((3, 4, 8, 8), np.uint8)  # (C, T, H, W): one clip
    out = TRANSFORMS.build(dict(type='PackVideoMAEInputs'))(
        dict(imgs=imgs, encoder_mask=np.ones(16, bool), label=-1, filename='x.mp4'))
    assert out['inputs'].shape == (1, 3, 4, 8, 8)
    assert out['data_samples'].encoder_mask.shape == (1, 16)
    assert out['data_samples'].metainfo == dict(filename='x.mp4', skipped_videos=[])
    assert 'decoder_mask' not in out['data_samples'] and 'gt_label' not in out['data_samples']


# ------------------------------------------------------------------- hybrid
def test_hybrid_sources_keep_their_own_root_list_and_interval(demo_video_dir, demo_data,
                                                              tmp_path):
    ann, _ = write_rawframes(tmp_path, demo_data)
    ds = DATASETS.build(dict(type='VideoMAEHybridPretrainDataset', sources=[
        dict(ann_file=str(demo_video_dir / 'train_list.txt'),
             data_prefix=dict(video=str(demo_video_dir)), pipeline=video_pipeline(4, 2)),
        dict(type='VideoMAEPretrainDataset', ann_file=str(ann), data_type='rawframes',
             data_prefix=dict(img=str(tmp_path)), pipeline=rawframe_pipeline(4, 4)),
    ]))
    assert isinstance(ds, VideoMAEHybridPretrainDataset) and len(ds) == 6 + 1
    assert [d.min_frames for d in ds.datasets] == [4, 4]  # clip_len of each source
    assert ds.locate(5) == (0, 5) and ds.locate(6) == (1, 0) and ds.locate(-1) == (1, 0)
    with pytest.raises(IndexError):
        ds.locate(7)
    for idx in range(len(ds)):
        meta = ds[idx]['data_samples'].metainfo
        step = 2 if idx < 6 else 4
        assert meta['frame_interval'] == step and (np.diff(meta['frame_inds']) == step).all()
        assert ('filename' in meta) == (idx < 6)


# --------------------------------------------------------------- robustness
class FakeRunner:
    """What VideoMAESkippedVideoHook touches on a runner."""

    def __init__(self, dataset):
        self.message_hub = MessageHub.get_instance(f'skip_test_{random.random()}')
        self.logged = []
        self.logger = logging.getLogger('fake_runner')
        self.logger.info = self.logged.append  # the hook names each new file at INFO
        self.train_loop = type('Loop', (), {})()
        self.train_loop.dataloader = type('Loader', (), {'dataset': dataset})()


@pytest.mark.parametrize('num_workers', [0, 2])
def test_broken_files_are_skipped_warned_counted_and_logged(demo_video_dir, log_records,
                                                            num_workers):
    ds = VideoMAEPretrainDataset(str(demo_video_dir / 'train_list_with_bad.txt'),
                                 video_pipeline(clip_len=8, interval=2),
                                 data_prefix=dict(video=str(demo_video_dir)))
    assert len(ds) == 10 and ds.min_frames == 8
    hook = HOOKS.build(dict(type='VideoMAESkippedVideoHook'))
    assert isinstance(hook, VideoMAESkippedVideoHook)
    runner = FakeRunner(ds)
    loader = DataLoader(ds, batch_size=3, shuffle=True, num_workers=num_workers,
                        collate_fn=pseudo_collate)
    skipped, returned = [], []
    for i, batch in enumerate(loader):  # a whole epoch, no exception
        assert batch['inputs'][0].shape == (2, 3, 8, 32, 32)
        for sample in batch['data_samples']:
            returned.append(sample.filename.rsplit('/', 1)[-1])
            skipped += sample.skipped_videos
        hook.after_train_iter(runner, i, data_batch=batch)
    assert i + 1 == math.ceil(10 / 3) and len(returned) == 10
    assert not set(returned) & BAD  # every bad sample was replaced by a good one
    names = [s.rsplit('/', 1)[-1] for s in skipped]
    assert set(names) == BAD  # the sampler visits each bad file once
    assert hook.total == len(skipped) == runner.message_hub.get_scalar(
        'train/skipped_videos').current()
    logged = [m.split()[2].rsplit('/', 1)[-1] for m in runner.logged]
    assert sorted(logged) == sorted(BAD)  # the hook logs each file once
    assert set(ds.bad_files) >= set(skipped)  # told back to the main-process dataset
    if num_workers == 0:  # the dataset warns once per file, naming it and the reason
        warned = [r.getMessage() for r in log_records if r.levelno == logging.WARNING]
        assert sorted(w.split()[2].rsplit('/', 1)[-1][:-1] for w in warned) == sorted(BAD)
        assert any('short.mp4: VideoTooShortError' in w for w in warned)
        assert any('missing.mp4: VideoReadError: cannot read' in w for w in warned)
        # a second epoch skips the known files again, counted, without new warnings
        before = len(log_records)
        for batch in loader:
            hook.after_train_iter(runner, 0, data_batch=batch)
        assert len(log_records) == before and len(runner.logged) == 4
        assert hook.total >= len(skipped) + 4


def test_all_files_bad_raises_a_clear_error(tmp_path):
    ann = tmp_path / 'list.txt'
    ann.write_text('gone_1.mp4\ngone_2.mp4\n')
    ds = VideoMAEPretrainDataset(str(ann), video_pipeline(), data_prefix=dict(video=str(
        tmp_path)))
    with pytest.raises(RuntimeError, match='every sample of .*list.txt failed.*gone_1.mp4: '
                       'VideoReadError'):
        ds[0]
    ds = VideoMAEPretrainDataset(str(ann), video_pipeline(), test_mode=True)
    with pytest.raises(RuntimeError, match='cannot load gone_1.mp4 in test mode'):
        ds[0]  # evaluation never replaces samples


def test_skipped_count_reaches_the_training_log(demo_video_dir, tmp_path):
    """A real mmengine Runner with DataLoader workers: the total is logged."""
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class ToyModel(BaseModel):

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, inputs, data_samples=None, mode='tensor'):
            x = torch.stack(inputs).float().mean()
            return dict(loss=(self.w - x / 255)**2)

    runner = Runner(
        model=ToyModel(), work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=dict(type='VideoMAEPretrainDataset',
                         ann_file=str(demo_video_dir / 'train_list_with_bad.txt'),
                         data_prefix=dict(video=str(demo_video_dir)),
                         pipeline=video_pipeline(clip_len=8, interval=2)),
            sampler=dict(type='DefaultSampler', shuffle=True), batch_size=2, num_workers=2,
            collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1), checkpoint=None),
        custom_hooks=[dict(type='VideoMAESkippedVideoHook')], default_scope='mmaction')
    runner.train()
    total = runner.message_hub.get_scalar('train/skipped_videos').current()
    assert total >= 4
    log = next(tmp_path.rglob('*.log')).read_text()
    assert re.search(rf'skipped_videos: {total:g}(\.0+)?\b', log)
    for name in BAD:
        assert f'Skipped video {demo_video_dir / name}' in log


def test_a_batch_feeds_the_videomae_model(demo_video_dir):
    """The packed layout is the one the model unpacks: (B, S, C, T, H, W) + (S, N) masks."""
    pipeline = video_pipeline(clip_len=8, interval=2, repeats=2)
    pipeline[3]['transforms'][-1] = dict(type='VideoMAEMaskGenerator', encoder_ratio=0.75,
                                         decoder_ratio=0.5, patch_size=16, tubelet_size=2)
    ds = VideoMAEPretrainDataset(str(demo_video_dir / 'train_list.txt'), pipeline,
                                 data_prefix=dict(video=str(demo_video_dir)))
    batch = next(iter(DataLoader(ds, batch_size=3, collate_fn=pseudo_collate)))
    assert batch['data_samples'][0].encoder_mask.shape == (2, 4 * 2 * 2)
    assert batch['data_samples'][0].encoder_mask.sum(1).tolist() == [12, 12]  # tube, 3/4 of 16
    from mmaction.registry import MODELS
    from mmengine.optim import OptimWrapper
    tiny = dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)
    model = MODELS.build(dict(
        type='VideoMAEPretrainer',
        backbone=dict(type='VideoMAEViT', arch=tiny, img_size=32, num_frames=8, patch_size=16,
                      out_type='raw'),
        neck=dict(type='VideoMAEPretrainDecoder', arch=dict(tiny, embed_dims=16)),
        head=dict(type='VideoMAEPretrainHead')))
    video, enc, dec = model.unpack(model.data_preprocessor(batch)['inputs'],
                                   batch['data_samples'])
    assert video.shape == (6, 3, 8, 32, 32) and enc.shape == dec.shape == (6, 16)
    losses = model.train_step(batch, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    assert torch.isfinite(losses['loss'])


def test_official_videomaev2_list_feeds_a_video_and_a_rawframe_source(
        demo_video_dir, demo_data, tmp_path):
    """One official hybrid list (``path 0 -1`` videos, ``folder start total``
    raw frames) read as it is by two sources, each taking its own lines."""
    write_rawframes(tmp_path, demo_data)  # clip_a/img_00001.jpg ... img_00020.jpg
    ann = tmp_path / 'hybrid_official.txt'
    ann.write_text(f'{demo_video_dir}/video_000.mp4 0 -1\n{tmp_path}/clip_a 1 20\n'
                   f'{demo_video_dir}/video_001.mp4 0 -1\n')
    ds = DATASETS.build(dict(type='VideoMAEHybridPretrainDataset', sources=[
        dict(ann_file=str(ann), list_format='videomaev2', pipeline=video_pipeline(4, 2)),
        dict(ann_file=str(ann), list_format='videomaev2', data_type='rawframes',
             pipeline=rawframe_pipeline(4, 2), frame_interval=3)]))
    assert len(ds) == 3
    assert [ds[i]['data_samples'].filename for i in range(2)] == [
        f'{demo_video_dir}/video_000.mp4', f'{demo_video_dir}/video_001.mp4']
    raw = ds.datasets[1].get_data_info(0)
    assert raw['frame_dir'] == f'{tmp_path}/clip_a' and raw['total_frames'] == 20
    assert raw['start_index'] == 1 and raw['label'] == -1  # the line's own start index
    inds = ds[2]['data_samples'].frame_inds
    assert inds.min() >= 1 and inds.max() <= 20 and (np.diff(inds) == 3).all()
    # a list without lines of the dataset's type, and a line in another format
    videos_only = tmp_path / 'videos_official.txt'
    videos_only.write_text(f'{demo_video_dir}/video_000.mp4 0 -1\n')
    with pytest.raises(ValueError, match=r'none of its 1 lines is a raw-frame folder'):
        VideoMAEPretrainDataset(str(videos_only), [], data_type='rawframes',
                                list_format='videomaev2')
    videos_only.write_text('a.mp4 0 -1\nb.mp4 3\n')
    with pytest.raises(ValueError, match=r'line 2: expected the VideoMAE V2 format'):
        VideoMAEPretrainDataset(str(videos_only), [], list_format='videomaev2')
    with pytest.raises(ValueError, match='list_format must be one of'):
        VideoMAEPretrainDataset(str(videos_only), [], list_format='csv')


# ------------------------------------------------ errors that are not bad files
def write_mkv(path, num_frames=37, size=32):
    """A matroska video: the container keeps no frame count, only a duration."""
    import av
    with av.open(str(path), 'w', format='matroska') as out:
        stream = out.add_stream('mpeg4', rate=25)
        stream.width = stream.height = size
        stream.pix_fmt = 'yuv420p'
        for i in range(num_frames):
            frame = np.full((size, size, 3), 6 * i, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')))
        out.mux(stream.encode())
    return str(path)


class CountingContainer:
    """Wraps a PyAV container and counts the frames it decodes."""

    def __init__(self, container, decoded):
        self._container, self._decoded = container, decoded

    def decode(self, *args, **kwargs):
        for frame in self._container.decode(*args, **kwargs):
            self._decoded.append(frame)
            yield frame

    def __getattr__(self, name):
        return getattr(self._container, name)


def test_pyav_counts_frames_without_decoding(demo_video_dir, tmp_path, monkeypatch):
    """The frame count comes from the header (mp4), else duration x rate
    (matroska), else the demuxed packets: no frame is decoded to count, and
    decoding stops at the last wanted frame."""
    import av
    mkv = write_mkv(tmp_path / 'no_count.mkv')
    decoded, real_open = [], av.open

    def counting_open(*args, **kwargs):
        return CountingContainer(real_open(*args, **kwargs), decoded)

    monkeypatch.setattr(av, 'open', counting_open)
    for path, exact in ((str(demo_video_dir / 'video_000.mp4'), True), (mkv, False)):
        container, total, _, is_exact = loading._open_pyav(path, 1)
        assert (total, is_exact) == ((32, True) if exact else (37, False))
        container.close()
    assert decoded == []
    # neither a count nor a duration: the packets are counted, not decoded
    with real_open(mkv) as container:
        stream = container.streams.video[0]
        fake = type('Stream', (), dict(frames=0, duration=None, time_base=None,
                                       average_rate=None, guessed_rate=None))()
        holder = type('Container', (), dict(duration=None, demux=lambda self, s: container.demux(
            stream), decode=lambda *a, **k: decoded.append('decode') or iter(())))()
        assert loading.pyav_frame_count(holder, fake) == (37, True)
    assert decoded == []
    init = TRANSFORMS.build(dict(type='VideoMAEInit', backends='pyav'))
    results = init(dict(filename=mkv))
    results['frame_inds'] = np.array([3, 5, 10])
    out = TRANSFORMS.build(dict(type='VideoMAEDecode'))(results)
    assert len(decoded) == 11  # frames 0..10, not 37
    assert [int(f[0, 0].mean()) for f in out['imgs']] == pytest.approx([18, 30, 60], abs=3)


def test_pyav_estimated_count_too_high_repeats_the_last_frame(tmp_path, monkeypatch):
    mkv = write_mkv(tmp_path / 'no_count.mkv', num_frames=37)
    monkeypatch.setattr(loading, 'pyav_frame_count', lambda c, s: (40, False))
    init, decode = (TRANSFORMS.build(dict(type=t)) for t in ('VideoMAEInit', 'VideoMAEDecode'))
    results = init(dict(filename=mkv, min_frames=8))
    assert results['video_backend'] == 'decord'  # decord counts itself
    results.update(video_backend='pyav', video_fallbacks=(), total_frames=40,
                   frame_count_exact=False)
    results['video_reader'] = loading._open_pyav(mkv, 1)[0]
    results['frame_inds'] = np.array([30, 36, 38, 39])
    imgs = decode(results)['imgs']
    assert [int(f[0, 0].mean()) for f in imgs] == pytest.approx([180, 216, 216, 216], abs=3)
    results = init(dict(filename=mkv))  # the same shortfall with an exact count: damaged
    results.update(video_backend='pyav', video_fallbacks=(), total_frames=40,
                   frame_count_exact=True, video_reader=loading._open_pyav(mkv, 1)[0],
                   frame_inds=np.array([39]))
    with pytest.raises(VideoTooShortError, match='decoded 37 frames'):
        decode(results)


def test_config_error_in_the_pipeline_stops_at_once_naming_the_transform(demo_video_dir):
    """A transform that raises for another reason than an unreadable file
    stops the dataset at the first sample, naming the transform; nothing is
    marked bad or skipped."""
    pipeline = video_pipeline()
    pipeline[3]['transforms'][1]['interpolation'] = 'bogus'  # Resize: fails when called
    ds = VideoMAEPretrainDataset(str(demo_video_dir / 'train_list.txt'), pipeline,
                                 data_prefix=dict(video=str(demo_video_dir)))
    with pytest.raises(TransformError, match=r"Resize failed on .*video_000.mp4: KeyError: "
                       r"'bogus'.*the run stops.*Resize\(scale=\(32, 32\)"):
        ds[0]
    assert ds.bad_files == {}
    loader = DataLoader(ds, batch_size=2, num_workers=1, collate_fn=pseudo_collate)
    with pytest.raises(TransformError, match='Resize failed on'):
        next(iter(loader))
    # the geometry check runs the same transforms on blank frames and stops too
    with pytest.raises(TransformError, match=r'Resize failed on blank.mp4'):
        blank_sample(ds.pipeline)
    with pytest.raises(UncheckablePipeline):
        blank_sample([dict(type='PackVideoMAEInputs')])


def failing_then_working(opener, failures, calls):
    """An opener raising a transient EIO ``failures`` times, then ``opener``."""

    def open_video(source, num_threads):
        calls.append(source)
        if len(calls) <= failures:
            raise OSError(errno.EIO, 'Input/output error (NFS hiccup)')
        return opener(source, num_threads)

    return open_video


def test_transient_read_error_is_retried_and_loses_nothing(demo_video_dir, monkeypatch):
    sleeps, calls = [], []
    monkeypatch.setattr(errors.time, 'sleep', sleeps.append)
    monkeypatch.setitem(loading._OPENERS, 'decord',
                        failing_then_working(loading._OPENERS['decord'], 2, calls))
    ds = VideoMAEPretrainDataset(str(demo_video_dir / 'train_list.txt'), video_pipeline(),
                                 data_prefix=dict(video=str(demo_video_dir)))
    sample = ds[1]['data_samples']
    assert sample.filename == str(demo_video_dir / 'video_001.mp4')  # not a replacement
    assert sample.skipped_videos == [] and ds.bad_files == {}
    assert len(calls) == 3 and sleeps == [0.5, 1.0]  # two retries, backing off
    # a transient error that never ends gives the file up after 4 attempts per backend
    sleeps.clear()
    monkeypatch.setitem(loading._OPENERS, 'decord',
                        failing_then_working(None, 100, []))
    monkeypatch.setitem(loading._OPENERS, 'pyav', failing_then_working(None, 100, []))
    ds = VideoMAEPretrainDataset(str(demo_video_dir / 'train_list.txt'), video_pipeline(),
                                 data_prefix=dict(video=str(demo_video_dir)))
    with pytest.raises(RuntimeError, match='every sample'):
        ds[0]
    reason = ds.bad_files[str(demo_video_dir / 'video_000.mp4')]
    assert reason.startswith('VideoReadError: cannot open') and reason.count(
        'still there after 4 attempts') == 2
    assert sleeps[:6] == [0.5, 1.0, 2.0] * 2


def test_unreadable_raw_frames_are_skipped(tmp_path, demo_data):
    ann, _ = write_rawframes(tmp_path, demo_data)
    (tmp_path / 'clip_a' / 'img_00003.jpg').write_bytes(b'not a jpeg')
    ds = VideoMAEPretrainDataset(str(ann), rawframe_pipeline(4, 2), data_type='rawframes',
                                 data_prefix=dict(img=str(tmp_path)))
    results = dict(ds.get_data_info(0), frame_inds=np.array([1, 3]))
    with pytest.raises(VideoReadError, match=r'clip_a: cannot decode the image .*img_00003'):
        TRANSFORMS.build(dict(type='VideoMAERawFrameDecode'))(results)
    (tmp_path / 'clip_a' / 'img_00003.jpg').unlink()
    with pytest.raises(VideoReadError, match=r'clip_a: cannot read .*img_00003.jpg: '
                       'FileNotFoundError'):
        TRANSFORMS.build(dict(type='VideoMAERawFrameDecode'))(results)
