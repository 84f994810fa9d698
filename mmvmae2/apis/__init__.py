"""High-level entry points built on the library: clip features for temporal
action localization (:mod:`.features`)."""
from .features import (FEATURE_DEFAULTS, VideoFramesDataset, VideoMAEFeatureExtractor,
                       build_backbone, decode_all_frames, extract_videos, is_done,
                       output_path, read_video_list, save_atomic, shard, window_indices,
                       window_starts)

__all__ = [
    'FEATURE_DEFAULTS', 'VideoFramesDataset', 'VideoMAEFeatureExtractor', 'build_backbone',
    'decode_all_frames', 'extract_videos', 'is_done', 'output_path', 'read_video_list',
    'save_atomic', 'shard', 'window_indices', 'window_starts'
]
