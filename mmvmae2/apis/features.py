"""Clip features for temporal action localization (ActionFormer inputs).

A video of ``T`` frames becomes ``N`` windows of ``window`` consecutive frames
(``frame_interval`` apart), one every ``stride`` frames; each window goes
through the video ViT (``out_type='avg'``: ``fc_norm`` of the mean token) and
gives one row of an ``(N, C)`` float32 array, saved as ``<name>.npy``.

Official facts (``extract_tad_feature.py`` of OpenGVLab/VideoMAEv2): window
starts ``0, stride, ...`` up to ``T - window`` (frames after the last full
window are dropped), stride 4 on THUMOS14 and 16 on FineAction, frame
interval 1, every frame resized to 224 x 224 (bilinear, no crop, the aspect
ratio is not kept) and fed as ``[0, 1]`` floats, without the mean/std
normalization of training. Here normalization is on by default
(``normalize=False`` reproduces the official input); a video shorter than one
window (the official script fails on it) gives one window with its last frame
repeated.

The pure functions (:func:`window_starts`, :func:`window_indices`,
:func:`shard`, :func:`output_path`, :func:`is_done`, :func:`save_atomic`) are
tested on their own; :class:`VideoMAEFeatureExtractor` wires them to a model,
:func:`extract_videos` to a list of videos.
"""
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

__all__ = [
    'window_starts', 'window_indices', 'shard', 'output_path', 'is_done', 'save_atomic',
    'read_video_list', 'decode_all_frames', 'VideoFramesDataset', 'VideoMAEFeatureExtractor',
    'extract_videos', 'build_backbone', 'FEATURE_DEFAULTS'
]

# The official THUMOS14 settings; a config's ``feature_cfg`` overrides them.
FEATURE_DEFAULTS = dict(window=16, stride=4, frame_interval=1, frame_size=(224, 224),
                        normalize=True, min_frames=1)


def window_starts(num_frames: int, window: int = 16, stride: int = 4,
                  frame_interval: int = 1) -> np.ndarray:
    """First frame of every window, as the official script places them.

    Args:
        num_frames (int): Frames of the video, ``T >= 1``.
        window (int): Frames per window. Defaults to 16.
        stride (int): Frames between two window starts. Defaults to 4.
        frame_interval (int): Frames between two sampled frames of a window.
            Defaults to 1.

    Returns:
        np.ndarray: int64 starts ``(N, )``: ``0, stride, ...`` while the
        window fits, ``N = (T - span) // stride + 1`` with
        ``span = (window - 1) * frame_interval + 1``; ``[0]`` for a video
        shorter than ``span`` (padded by :func:`window_indices`).
    """
    if min(window, stride, frame_interval) < 1:
        raise ValueError(f'window, stride and frame_interval must be >= 1, got {window}, '
                         f'{stride}, {frame_interval}')
    if num_frames < 1:
        raise ValueError(f'a video needs at least one frame, got num_frames={num_frames}')
    span = (window - 1) * frame_interval + 1
    if num_frames < span:
        return np.zeros(1, dtype=np.int64)
    return np.arange(0, num_frames - span + 1, stride, dtype=np.int64)


def window_indices(num_frames: int, window: int = 16, stride: int = 4,
                   frame_interval: int = 1) -> np.ndarray:
    """Frame indices of every window, ``(N, window)`` int64; indices past the
    end (a video shorter than one window) take the last frame."""
    starts = window_starts(num_frames, window, stride, frame_interval)
    inds = starts[:, None] + frame_interval * np.arange(window, dtype=np.int64)  # (N, window)
    return np.minimum(inds, num_frames - 1)


def shard(items: Sequence, rank: int, world_size: int) -> list:
    """Items of process ``rank`` out of ``world_size``: ``items[rank::world_size]``."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f'need 0 <= rank < world_size, got rank={rank}, '
                         f'world_size={world_size}')
    return list(items)[rank::world_size]


def output_path(out_dir: str, video: str) -> str:
    """``out_dir/<video without extension>.npy`` (subfolders of the list kept)."""
    if osp.isabs(video) or '..' in video.replace('\\', '/').split('/'):
        raise ValueError(f'video list entries must be relative paths inside the video root, '
                         f'got {video!r}')
    return osp.join(out_dir, osp.splitext(video)[0] + '.npy')


def is_done(path: str, dims: int) -> bool:
    """Whether ``path`` holds a finished feature file: a 2-D array with at
    least one row of ``dims`` channels that numpy can read."""
    if not osp.isfile(path):
        return False
    try:
        array = np.load(path, mmap_mode='r', allow_pickle=False)
    except Exception:  # noqa: BLE001  (any unreadable file is redone)
        return False
    return array.ndim == 2 and array.shape[0] >= 1 and array.shape[1] == dims


def save_atomic(path: str, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` through a temporary file in the same
    folder and ``os.replace``: ``path`` is either absent or complete."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.{os.getpid()}.tmp'
    try:
        with open(tmp, 'wb') as f:
            np.save(f, array, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def read_video_list(path: str) -> List[str]:
    """Videos of a list file: the first field of every non-empty line (a
    VideoDataset list ``name label`` works as well as plain names)."""
    with open(path) as f:
        return [line.split()[0] for line in f if line.strip()]


def decode_all_frames(filename: str) -> np.ndarray:
    """Every frame of a video, ``(T, H, W, 3)`` uint8 RGB, through
    ``VideoMAEInit`` / ``VideoMAEDecode`` (decord, else PyAV). Raises
    ``VideoReadError`` for a missing, corrupt or undecodable file."""
    from ..datasets.transforms import VideoMAEDecode, VideoMAEInit
    results = VideoMAEInit(io_retries=0).transform(dict(filename=filename))
    results['frame_inds'] = np.arange(results['total_frames'])
    imgs = VideoMAEDecode(io_retries=0).transform(results)['imgs']
    return np.stack(imgs)


class VideoFramesDataset(Dataset):
    """One item per video: ``dict(video, frames)``, or ``dict(video, error)``
    with the reason when it cannot be decoded (the run goes on)."""

    def __init__(self, videos: Sequence[str], video_root: str,
                 decode: Callable[[str], np.ndarray] = decode_all_frames) -> None:
        self.videos = list(videos)
        self.video_root = video_root
        self.decode = decode

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> dict:
        video = self.videos[index]
        try:
            frames = self.decode(osp.join(self.video_root, video))
        except Exception as e:  # noqa: BLE001  (reported in the summary)
            return dict(video=video, error=f'{type(e).__name__}: {e}')
        return dict(video=video, frames=frames)


def _first(batch: list) -> dict:
    return batch[0]


class VideoMAEFeatureExtractor:
    """Features of sliding windows of a video with a video ViT.

    Args:
        backbone (nn.Module): ``VideoMAEViT`` with ``out_type='avg'``.
        mean (Sequence[float]): Per-channel mean of training, 0-255 scale.
        std (Sequence[float]): Per-channel std of training, 0-255 scale.
        window (int): Frames per window. Defaults to 16.
        stride (int): Frames between window starts. Defaults to 4.
        frame_interval (int): Frames between sampled frames. Defaults to 1.
        frame_size (tuple[int]): ``(H, W)`` every frame is resized to
            (bilinear). Defaults to ``(224, 224)``.
        normalize (bool): ``(x - mean) / std`` as in training; False feeds
            ``x / 255`` as the official script. Defaults to True.
        batch_size (int): Windows per forward. Defaults to 8.
        device (str): Defaults to ``'cpu'``.
    """

    def __init__(self,
                 backbone: nn.Module,
                 mean: Sequence[float],
                 std: Sequence[float],
                 window: int = 16,
                 stride: int = 4,
                 frame_interval: int = 1,
                 frame_size: Tuple[int, int] = (224, 224),
                 normalize: bool = True,
                 batch_size: int = 8,
                 device: str = 'cpu') -> None:
        if getattr(backbone, 'out_type', 'avg') != 'avg':
            raise ValueError(f"features need the backbone's out_type='avg' (fc_norm of the "
                             f'mean token), got {backbone.out_type!r}')
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.backbone = backbone.to(device).eval()
        self.window, self.stride, self.frame_interval = window, stride, frame_interval
        self.frame_size = tuple(frame_size)
        self.normalize, self.batch_size, self.device = normalize, batch_size, device
        if normalize:
            self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1, 1)
            self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1, 1)
        else:
            self.mean, self.std = torch.zeros(1), torch.full((1, ), 255.)
        self.mean, self.std = self.mean.to(device), self.std.to(device)

    def num_windows(self, num_frames: int) -> int:
        return len(window_starts(num_frames, self.window, self.stride, self.frame_interval))

    def clips(self, frames: torch.Tensor, inds: np.ndarray) -> torch.Tensor:
        """Model inputs ``(B, 3, window, H, W)`` float32 from uint8 frames
        ``(T, H0, W0, 3)`` and window indices ``(B, window)``."""
        B, L = inds.shape
        x = frames[torch.from_numpy(inds).reshape(-1)].to(self.device)  # (B*L, H0, W0, 3)
        x = x.permute(0, 3, 1, 2).float()  # (B*L, 3, H0, W0)
        x = F.interpolate(x, size=self.frame_size, mode='bilinear', align_corners=False)
        x = x.reshape(B, L, 3, *self.frame_size).transpose(1, 2)  # (B, 3, L, H, W)
        return (x - self.mean) / self.std

    @torch.no_grad()
    def extract(self, frames: np.ndarray) -> np.ndarray:
        """Features ``(N, C)`` float32 of uint8 RGB frames ``(T, H, W, 3)``."""
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f'frames must be uint8 (T, H, W, 3), got {frames.dtype} '
                             f'{frames.shape}')
        inds = window_indices(len(frames), self.window, self.stride, self.frame_interval)
        frames = torch.from_numpy(np.ascontiguousarray(frames))
        out = [self.backbone(self.clips(frames, inds[i:i + self.batch_size])).float().cpu()
               for i in range(0, len(inds), self.batch_size)]
        return torch.cat(out).numpy()  # (N, C)


def extract_videos(extractor: VideoMAEFeatureExtractor,
                   videos: Sequence[str],
                   video_root: str,
                   out_dir: str,
                   dims: int,
                   num_workers: int = 0,
                   min_frames: int = 1,
                   on_saved: Optional[Callable[[str, str], None]] = None,
                   progress: bool = False) -> Dict[str, list]:
    """Write ``out_dir/<video>.npy`` for every video not done yet.

    Videos whose file :func:`is_done` are skipped; the others are decoded by a
    DataLoader (``num_workers`` processes, one video per item, in list
    order; each holds one whole decoded video), their features written with
    :func:`save_atomic`. A video that
    cannot be decoded or extracted is recorded and the run goes on.

    Args:
        min_frames (int): Videos with fewer frames fail as too short
            (shorter ones down to ``min_frames`` give one padded window).
            Defaults to 1.
        on_saved (Callable, optional): Called as ``on_saved(video, path)``
            after each written file. Defaults to None.
        progress (bool): Show mmengine's progress bar (videos/s).

    Returns:
        dict: ``written``, ``skipped`` (lists of videos) and ``failed``
        (list of ``(video, reason)``).
    """
    summary = dict(written=[], skipped=[], failed=[])
    todo = []
    for video in videos:
        done = is_done(output_path(out_dir, video), dims)
        (summary['skipped'] if done else todo).append(video)
    # one decoded video ahead per worker: a whole video's frames are in memory
    extra = dict(prefetch_factor=1) if num_workers > 0 else {}
    loader = DataLoader(VideoFramesDataset(todo, video_root), batch_size=1, shuffle=False,
                        num_workers=num_workers, collate_fn=_first, **extra)
    bar = None
    if progress and todo:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(todo))
    for item in loader:
        video = item['video']
        if 'error' in item:
            summary['failed'].append((video, item['error']))
        elif len(item['frames']) < min_frames:
            summary['failed'].append(
                (video, f'too short: {len(item["frames"])} frames, min_frames={min_frames}'))
        else:
            try:
                path = output_path(out_dir, video)
                save_atomic(path, extractor.extract(item['frames']))
            except (ValueError, RuntimeError, OSError) as e:
                summary['failed'].append((video, f'{type(e).__name__}: {e}'))
            else:
                summary['written'].append(video)
                if on_saved is not None:
                    on_saved(video, path)
        if bar is not None:
            bar.update()
    return summary


def build_backbone(model_cfg: dict, checkpoint: Optional[str]) -> nn.Module:
    """The config's ``VideoMAEViT`` with the encoder of ``checkpoint`` (any
    layout ``VideoMAEPretrained`` reads: this project's recognizer or
    pretraining checkpoints, official pretrained / fine-tuned, MMAction2,
    HF), in eval mode. ``checkpoint=None`` keeps the config's ``init_cfg``."""
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    cfg = dict(model_cfg['backbone'])
    if cfg.get('out_type', 'avg') != 'avg':
        raise ValueError(f"features need backbone out_type='avg', got {cfg['out_type']!r}")
    if checkpoint is not None:
        cfg['init_cfg'] = dict(type='VideoMAEPretrained', checkpoint=checkpoint)
    backbone = MODELS.build(cfg)
    backbone.init_weights()
    return backbone.eval()
