"""Recognition lists: the same samples as MMAction2's VideoDataset /
RawframeDataset, and one clear start-up error per kind of bad list."""
import logging
import os.path as osp

import pytest
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

import mmvmae2  # noqa: F401  (registers modules)
from mmaction.datasets import RawframeDataset, VideoDataset
from mmaction.registry import DATASETS
from mmvmae2.datasets import RecognitionListError, VideoMAERawframeDataset, VideoMAEVideoDataset
from mmvmae2.datasets.recognition import (check_label_range, file_check_indices,
                                          parse_rawframe_fields, parse_video_fields,
                                          summarize_labels)


def write(path, text):
    path.write_text(text)
    return str(path)


def touch_videos(root, names):
    root.mkdir(exist_ok=True)
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b'')
    return str(root)


def touch_frames(root, dirs, first_index=1, tmpl='img_{:05}.jpg'):
    for name in dirs:
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / tmpl.format(first_index)).write_bytes(b'')
    return str(root)


def video_dataset(ann_file, prefix, num_classes=5, **kwargs):
    # serialize_data=False keeps ``data_list`` (mmengine empties it otherwise)
    return VideoMAEVideoDataset(ann_file=ann_file, pipeline=[], data_prefix=dict(video=prefix),
                                num_classes=num_classes, serialize_data=False, **kwargs)


# ---------------------------------------------------------------- pure parts


def test_parse_video_fields():
    assert parse_video_fields(['a/b.mp4', '3']) == ('a/b.mp4', 3)
    assert parse_video_fields(['a.mp4', '3', '0'], multi_class=True) == ('a.mp4', [3, 0])
    assert parse_video_fields(['a.mp4'], allow_unlabeled=True) == ('a.mp4', -1)
    with pytest.raises(ValueError, match='no label'):
        parse_video_fields(['a.mp4'])
    with pytest.raises(ValueError, match='2 labels .*multi_class=True'):
        parse_video_fields(['a.mp4', '1', '2'])
    with pytest.raises(ValueError, match="integers, got 'x'"):
        parse_video_fields(['a.mp4', 'x'])


def test_parse_rawframe_fields():
    assert parse_rawframe_fields(['d', '30', '2']) == dict(frame_dir='d', total_frames=30, label=2)
    assert parse_rawframe_fields(['d', '4', '30', '2', '1'], with_offset=True,
                                 multi_class=True) == dict(frame_dir='d', offset=4,
                                                           total_frames=30, label=[2, 1])
    with pytest.raises(ValueError, match='total_frames must be an integer'):
        parse_rawframe_fields(['d', '3.5', '2'])
    with pytest.raises(ValueError, match='total_frames must be positive'):
        parse_rawframe_fields(['d', '0', '2'])
    with pytest.raises(ValueError, match='offset must be >= 0'):
        parse_rawframe_fields(['d', '-1', '30', '2'], with_offset=True)
    with pytest.raises(ValueError, match='expected "frame_dir offset total_frames label"'):
        parse_rawframe_fields(['d', '30'], with_offset=True)


def test_check_label_range():
    check_label_range(0, 3)
    check_label_range([0, 2], 3)
    check_label_range(-1, 3, allow_unlabeled=True)
    for bad in (3, -1, [1, 3]):
        with pytest.raises(ValueError, match=r'outside \[0, 3\)'):
            check_label_range(bad, 3)


def test_file_check_indices():
    assert file_check_indices(3) == [0, 1, 2]
    assert file_check_indices(0) == []
    drawn = file_check_indices(1000, num_first=5, num_random=20, seed=0)
    assert drawn[:5] == [0, 1, 2, 3, 4] and len(set(drawn)) == 25
    assert drawn == sorted(drawn) and all(i < 1000 for i in drawn)
    assert drawn == file_check_indices(1000, 5, 20, seed=0)  # reproducible
    assert file_check_indices(1000, 0, 0) == []


def test_summarize_labels():
    assert summarize_labels([0, 2, 2, -1]) == (4, 2)
    assert summarize_labels([[0, 3], [3], [1]]) == (3, 3)


# ------------------------------------------ same samples as MMAction2's datasets


def test_video_dataset_matches_mmaction(tmp_path):
    prefix = touch_videos(tmp_path / 'videos', ['a/x.mp4', 'b.mp4', 'c.mp4'])
    ann = write(tmp_path / 'list.txt', 'a/x.mp4 0\nb.mp4 4\nc.mp4 2\n')
    ours = video_dataset(ann, prefix)
    theirs = VideoDataset(ann_file=ann, pipeline=[], data_prefix=dict(video=prefix),
                          serialize_data=False)
    assert ours.data_list == theirs.data_list and len(ours.data_list) == 3
    assert ours.get_data_info(1) == theirs.get_data_info(1)
    assert ours.get_data_info(1)['filename'] == osp.join(prefix, 'b.mp4')
    assert ours.get_data_info(1)['label'] == 4

    # multi-label lines, as VideoDataset(multi_class=True)
    ann = write(tmp_path / 'multi.txt', 'a/x.mp4 0 3\nb.mp4 4\n')
    ours = video_dataset(ann, prefix, multi_class=True)
    theirs = VideoDataset(ann_file=ann, pipeline=[], data_prefix=dict(video=prefix),
                          multi_class=True, num_classes=5, serialize_data=False)
    assert ours.data_list == theirs.data_list == [
        dict(filename=osp.join(prefix, 'a/x.mp4'), label=[0, 3]),
        dict(filename=osp.join(prefix, 'b.mp4'), label=[4])]
    assert ours.get_data_info(0)['label'].tolist() == [1., 0., 0., 1., 0.]


def test_rawframe_dataset_matches_mmaction(tmp_path):
    prefix = touch_frames(tmp_path / 'frames', ['d1', 'd2'])
    ann = write(tmp_path / 'list.txt', 'd1 30 1\nd2 12 0\n')
    ours = VideoMAERawframeDataset(ann_file=ann, pipeline=[], data_prefix=dict(img=prefix),
                                   num_classes=2, serialize_data=False)
    theirs = RawframeDataset(ann_file=ann, pipeline=[], data_prefix=dict(img=prefix),
                             serialize_data=False)
    assert ours.data_list == theirs.data_list and len(ours.data_list) == 2
    assert ours.get_data_info(0) == theirs.get_data_info(0)
    assert ours.get_data_info(0)['filename_tmpl'] == 'img_{:05}.jpg'

    # offsets: the check looks for frame start_index + offset
    touch_frames(tmp_path / 'frames', ['d3'], first_index=1 + 7)
    ann = write(tmp_path / 'offset.txt', 'd3 7 20 1 0\n')
    ours = VideoMAERawframeDataset(ann_file=ann, pipeline=[], data_prefix=dict(img=prefix),
                                   with_offset=True, multi_class=True, num_classes=2,
                                   serialize_data=False)
    theirs = RawframeDataset(ann_file=ann, pipeline=[], data_prefix=dict(img=prefix),
                             with_offset=True, multi_class=True, num_classes=2,
                             serialize_data=False)
    assert ours.data_list == theirs.data_list == [
        dict(frame_dir=osp.join(prefix, 'd3'), offset=7, total_frames=20, label=[1, 0])]


def test_blank_and_comment_lines_keep_line_numbers(tmp_path):
    prefix = touch_videos(tmp_path / 'v', ['a.mp4', 'b.mp4'])
    ann = write(tmp_path / 'list.txt', '# my list\n\na.mp4 1\n\nb.mp4 7\n')
    with pytest.raises(RecognitionListError, match=r'list\.txt, line 5: label 7 is outside'):
        video_dataset(ann, prefix)
    ann = write(tmp_path / 'ok.txt', '# my list\n\na.mp4 1\n  \nb.mp4  2\n')
    assert len(video_dataset(ann, prefix)) == 2  # blank lines and double spaces are fine


def test_summary_is_logged(tmp_path):
    logger = MMLogger.get_instance(f'test_recognition_summary_{tmp_path.name}')  # now current
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger.addHandler(handler)
    prefix = touch_videos(tmp_path / 'v', ['a.mp4', 'b.mp4', 'c.mp4'])
    ann = write(tmp_path / 'list.txt', 'a.mp4 1\nb.mp4 1\nc.mp4 3\n')
    try:
        video_dataset(ann, prefix)
    finally:
        logger.removeHandler(handler)
    assert messages == [f'VideoMAEVideoDataset: 3 samples, 2 of 5 classes seen in {ann}']


def test_built_from_a_config_and_decodes(demo_video_dir):
    """Through the registry, with the plugin's video pipeline, on real videos
    (the demo list labels video i with i % 4)."""
    cfg = dict(type='VideoMAEVideoDataset', ann_file=str(demo_video_dir / 'train_list.txt'),
               data_prefix=dict(video=str(demo_video_dir)), num_classes=4,
               pipeline=[dict(type='VideoMAEInit'),
                         dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
                         dict(type='VideoMAEDecode')])
    with DefaultScope.overwrite_default_scope('mmaction'):
        dataset = DATASETS.build(cfg)
        assert len(dataset) == 6
        sample = dataset[5]
        assert len(sample['imgs']) == 4 and sample['imgs'][0].shape == (64, 64, 3)
        assert sample['label'] == 1 and sample['total_frames'] == 32
        # the list with broken entries: the missing file stops the start
        cfg['ann_file'] = str(demo_video_dir / 'train_list_with_bad.txt')
        with pytest.raises(RecognitionListError, match=r'1 of 10 checked .*missing\.mp4'):
            DATASETS.build(cfg)


# --------------------------------------------- each bad input, its own error


def test_label_out_of_range_names_file_and_line(tmp_path):
    prefix = touch_videos(tmp_path / 'v', ['a.mp4', 'b.mp4'])
    ann = write(tmp_path / 'list.txt', 'a.mp4 0\nb.mp4 5\n')
    with pytest.raises(RecognitionListError,
                       match=r"list\.txt, line 2: label 5 is outside \[0, 5\) .*'b\.mp4 5'"):
        video_dataset(ann, prefix, num_classes=5)
    ann = write(tmp_path / 'neg.txt', 'a.mp4 -1\n')
    with pytest.raises(RecognitionListError, match=r'neg\.txt, line 1: label -1 is outside'):
        video_dataset(ann, prefix)
    ann = write(tmp_path / 'multi.txt', 'a.mp4 0 1\nb.mp4 2 9\n')
    with pytest.raises(RecognitionListError, match=r'multi\.txt, line 2: label 9 is outside'):
        video_dataset(ann, prefix, multi_class=True)
    prefix = touch_frames(tmp_path / 'f', ['d'])
    ann = write(tmp_path / 'raw.txt', 'd 30 2\n')
    with pytest.raises(RecognitionListError, match=r'raw\.txt, line 1: label 2 is outside'):
        VideoMAERawframeDataset(ann_file=ann, pipeline=[], data_prefix=dict(img=prefix),
                                num_classes=2)


def test_unparsable_lines_name_file_and_line(tmp_path):
    prefix = touch_videos(tmp_path / 'v', ['a.mp4', 'b.mp4'])
    cases = {
        'a.mp4 0\nb.mp4 cat\n': r"line 2: labels must be integers, got 'cat'",
        'a.mp4 0\nb.mp4\n': r'line 2: no label \(set allow_unlabeled=True',
        'a.mp4 0 1\n': r'line 1: 2 labels \(0 1\) in a single-label list; set multi_class=True',
    }
    for i, (text, message) in enumerate(cases.items()):
        ann = write(tmp_path / f'list{i}.txt', text)
        with pytest.raises(RecognitionListError, match=rf'list{i}\.txt, {message}'):
            video_dataset(ann, prefix)
    prefix = touch_frames(tmp_path / 'f', ['d'])
    ann = write(tmp_path / 'raw.txt', 'd 30 0\nd thirty 0\n')
    with pytest.raises(RecognitionListError,
                       match=r"raw\.txt, line 2: total_frames must be an integer, got 'thirty'"):
        VideoMAERawframeDataset(ann_file=ann, pipeline=[], data_prefix=dict(img=prefix),
                                num_classes=2)


def test_unlabeled_lines_only_when_allowed(tmp_path):
    prefix = touch_videos(tmp_path / 'v', ['a.mp4'])
    ann = write(tmp_path / 'list.txt', 'a.mp4\n')
    dataset = video_dataset(ann, prefix, allow_unlabeled=True)
    assert dataset.data_list == [dict(filename=osp.join(prefix, 'a.mp4'), label=-1)]


def test_empty_list(tmp_path):
    ann = write(tmp_path / 'empty.txt', '\n# nothing yet\n\n')
    with pytest.raises(RecognitionListError, match=r'empty\.txt has no samples'):
        video_dataset(ann, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"ann_file '.*absent\.txt' does not exist"):
        video_dataset(str(tmp_path / 'absent.txt'), str(tmp_path))


def test_list_pointing_at_no_file_names_prefix_and_example(tmp_path):
    touch_videos(tmp_path / 'videos', ['a.mp4', 'b.mp4'])
    ann = write(tmp_path / 'list.txt', 'a.mp4 0\nb.mp4 1\n')
    wrong = str(tmp_path / 'vids')
    with pytest.raises(RecognitionListError) as info:
        video_dataset(ann, wrong)
    message = str(info.value)
    assert f"list.txt: none of the 2 checked entries exists under data_prefix '{wrong}'" in message
    assert f'line 1 -> {osp.join(wrong, "a.mp4")}' in message

    # rawframes: the folder exists but not its first frame (wrong template)
    prefix = touch_frames(tmp_path / 'frames', ['d'], tmpl='{:05}.jpg')
    ann = write(tmp_path / 'raw.txt', 'd 30 0\n')
    with pytest.raises(RecognitionListError,
                       match=r'none of the 1 checked .* line 1 -> .*d/img_00001\.jpg'):
        VideoMAERawframeDataset(ann_file=ann, pipeline=[], data_prefix=dict(img=prefix),
                                num_classes=2)


def test_some_files_missing_are_listed(tmp_path):
    prefix = touch_videos(tmp_path / 'v', [f'{i}.mp4' for i in range(8) if i != 6])
    ann = write(tmp_path / 'list.txt', ''.join(f'{i}.mp4 0\n' for i in range(8)))
    with pytest.raises(RecognitionListError,
                       match=r'1 of 8 checked entries do not exist .*line 7 -> .*6\.mp4'):
        video_dataset(ann, prefix)
    # only the first and a sample are checked; (0, 0) turns the check off
    assert len(video_dataset(ann, prefix, file_checks=(0, 0))) == 8
    assert len(video_dataset(ann, prefix, file_checks=(5, 0))) == 8


def test_num_classes_is_required(tmp_path):
    with pytest.raises(ValueError, match='VideoMAEVideoDataset needs num_classes'):
        VideoMAEVideoDataset(ann_file=str(tmp_path / 'x.txt'), pipeline=[])
    with pytest.raises(ValueError, match='needs num_classes, .* got 0'):
        video_dataset(str(tmp_path / 'x.txt'), '', num_classes=0)


def test_repeated_clips_become_samples_of_their_own():
    """2 videos x 2 augmented clips -> 4 samples, clips of a video adjacent,
    each with the video's label (official multiple_samples_collate)."""
    import torch
    from mmengine.registry import FUNCTIONS
    from mmaction.structures import ActionDataSample

    def packed(label, first):
        sample = ActionDataSample().set_gt_label(label)
        clips = torch.arange(first, first + 2.).view(2, 1, 1, 1, 1).expand(2, 3, 2, 4, 4)
        return dict(inputs=clips.clone(), data_samples=sample)

    collate = FUNCTIONS.get('VideoMAERepeatedCollate')
    batch = collate([packed(3, 10.), packed(7, 20.)], num_repeats=2)
    assert [x.shape for x in batch['inputs']] == [(1, 3, 2, 4, 4)] * 4
    assert [float(x[0, 0, 0, 0, 0]) for x in batch['inputs']] == [10., 11., 20., 21.]
    assert [int(s.gt_label) for s in batch['data_samples']] == [3, 3, 7, 7]
    assert batch['data_samples'][0] is not batch['data_samples'][1]
    with pytest.raises(ValueError, match='not a multiple of num_repeats=3'):
        collate([packed(3, 10.)], num_repeats=3)
