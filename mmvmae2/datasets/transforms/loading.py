"""Video decoding: decord by default, PyAV as the fallback; raw frames.

``VideoMAEInit`` opens the file once (decord, else PyAV), ``SampleFrames`` (MMAction2)
picks the indices and ``VideoMAEDecode`` decodes only those frames;
``VideoMAERawFrameDecode`` reads the frames of a raw-frame folder. Missing,
corrupt, unreadable and too-short files raise :class:`VideoReadError` with the
file name, for the dataset to skip and replace; transient I/O errors are tried
again first (see :mod:`.errors`). Any other error (a bad index, a missing key)
is a config error or a bug and is not hidden as a bad file.
"""
import io
import os
import stat
from typing import Optional, Sequence, Union

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmaction.registry import TRANSFORMS
from .errors import VideoReadError, VideoTooShortError, with_retries

__all__ = ['VideoMAEInit', 'VideoMAEDecode', 'VideoMAERawFrameDecode', 'VideoReadError',
           'VideoTooShortError']


def _as_file(source: Union[str, bytes]):
    """A local path as is, downloaded bytes as a fresh file object."""
    return source if isinstance(source, str) else io.BytesIO(source)


def _open_decord(source: Union[str, bytes], num_threads: int):
    """``(reader, frame count, fps, count is exact)``."""
    import decord
    reader = decord.VideoReader(_as_file(source), num_threads=num_threads)
    if len(reader) == 0:
        raise VideoReadError('no video frames')
    return reader, len(reader), float(reader.get_avg_fps()), True


def pyav_frame_count(container, stream):
    """Frame count of a PyAV video ``stream`` without decoding it.

    The header's count when the container has one (mp4), else duration x
    frame rate (matroska/webm keep no count), and only when both are missing
    the number of packets, read without decoding.

    Returns:
        tuple[int, bool]: the count, and whether it is exact (not estimated
        from the duration).
    """
    if stream.frames > 0:
        return int(stream.frames), True
    rate = stream.average_rate or stream.guessed_rate
    seconds = 0.
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration:
        seconds = container.duration / 1e6  # in AV_TIME_BASE units
    if rate and seconds > 0:
        return int(round(seconds * float(rate))), False
    return sum(1 for packet in container.demux(stream) if packet.size), True


def _open_pyav(source: Union[str, bytes], num_threads: int):
    """``(container, frame count, fps, count is exact)``."""
    import av
    container = av.open(_as_file(source))
    try:
        if not container.streams.video:
            raise VideoReadError('no video stream')
        stream = container.streams.video[0]
        total, exact = pyav_frame_count(container, stream)
        demuxed = stream.frames <= 0 and exact  # the packets were read: start afresh
        fps = float(stream.average_rate) if stream.average_rate else 0.
    except BaseException:
        container.close()
        raise
    if demuxed:
        container.close()
        container = av.open(_as_file(source))
    if total <= 0:
        container.close()
        raise VideoReadError('no video frames')
    return container, total, fps, exact


_OPENERS = dict(decord=_open_decord, pyav=_open_pyav)


def _describe(backend: str, error: Exception) -> str:
    """``'backend: ErrorType: message'``, the message cut to 200 characters."""
    return f'{backend}: {type(error).__name__}: {str(error)[:200]}'


@TRANSFORMS.register_module()
class VideoMAEInit(BaseTransform):
    """Open a video with the first backend that can read it.

    Local files are opened by path, other storage (``backend_args``) is fetched
    once; each backend in ``backends`` is tried in order (one that is not
    installed counts as failed; none installed is a config error). A transient
    I/O error (:func:`~.errors.is_transient`: an ``OSError`` other than a
    missing file or missing permissions) is tried again ``io_retries`` times,
    waiting ``retry_delay``, then twice as long each time. Raises
    :class:`VideoReadError` naming the file when it is missing or no backend
    can open it, and :class:`VideoTooShortError` when it has fewer frames than
    ``results['min_frames']`` (set by the dataset, see
    ``VideoMAEPretrainDataset``). PyAV takes the frame count from the
    container (see :func:`pyav_frame_count`), it never decodes to count.

    Required keys:

        - filename
        - min_frames (optional)

    Added keys:

        - video_reader
        - video_backend
        - video_source (the path, or the fetched bytes, for a fallback)
        - video_fallbacks (the backends after ``video_backend``)
        - total_frames
        - frame_count_exact (False when PyAV estimated it from the duration)
        - avg_fps

    Args:
        backends (Sequence[str]): Backends to try, in order, from ``'decord'``
            and ``'pyav'``. Defaults to ``('decord', 'pyav')``.
        num_threads (int): Decoding threads of decord. Defaults to 1.
        backend_args (dict, optional): Arguments of the mmengine file backend
            (e.g. for object storage). Defaults to None.
        io_retries (int): Further tries after a transient I/O error.
            Defaults to 3.
        retry_delay (float): Seconds before the first retry, doubled for
            each next one. Defaults to 0.5.
    """

    def __init__(self,
                 backends: Sequence[str] = ('decord', 'pyav'),
                 num_threads: int = 1,
                 backend_args: Optional[dict] = None,
                 io_retries: int = 3,
                 retry_delay: float = 0.5) -> None:
        backends = (backends, ) if isinstance(backends, str) else tuple(backends)
        unknown = set(backends) - set(_OPENERS)
        if not backends or unknown:
            raise ValueError(f'backends must be taken from {tuple(_OPENERS)}, got {backends}')
        if io_retries < 0 or retry_delay < 0:
            raise ValueError(f'io_retries and retry_delay must be >= 0, got {io_retries} and '
                             f'{retry_delay}')
        self.backends = backends
        self.num_threads = num_threads
        self.backend_args = backend_args
        self.io_retries = io_retries
        self.retry_delay = retry_delay

    def _fetch(self, filename: str) -> Union[str, bytes]:
        """The path of a readable local file, or the bytes of a remote one."""
        local = isinstance(fileio.get_file_backend(filename, backend_args=self.backend_args),
                           fileio.LocalBackend)

        def fetch():
            if not local:
                return fileio.get(filename, backend_args=self.backend_args)
            # os.stat and open, not os.path.isfile/os.access: those answer False
            # to an I/O error too, and a storage hiccup would look like a missing file
            if not stat.S_ISREG(os.stat(filename).st_mode):
                raise IsADirectoryError(f'not a regular file: {filename}')
            with open(filename, 'rb'):
                return filename

        try:
            return with_retries(fetch, self.io_retries, self.retry_delay)
        except VideoReadError as e:
            raise VideoReadError(f'cannot read {filename}: {e}') from e
        except Exception as e:  # missing, unreadable, storage errors
            raise VideoReadError(f'cannot read {filename}: {type(e).__name__}: {e}') from e

    def transform(self, results: dict) -> dict:
        filename = results['filename']
        source = self._fetch(filename)
        errors, not_installed = [], []
        for i, backend in enumerate(self.backends):
            try:
                reader, total, fps, exact = with_retries(
                    lambda: _OPENERS[backend](source, self.num_threads), self.io_retries,
                    self.retry_delay)
                break
            except ImportError as e:
                not_installed.append(backend)
                errors.append(_describe(backend, e))
            except Exception as e:  # a decoder error: try the next backend
                errors.append(_describe(backend, e))
        else:
            if len(not_installed) == len(self.backends):
                raise RuntimeError(f'no video backend of {self.backends} is installed '
                                   f'({"; ".join(errors)})')
            raise VideoReadError(f'cannot open {filename} ({"; ".join(errors)})')
        min_frames = results.get('min_frames') or 0
        if total < min_frames:
            if backend == 'pyav':
                reader.close()
            raise VideoTooShortError(
                f'{filename} has {total} frames, one clip needs {min_frames}')
        results.update(video_reader=reader, video_backend=backend, video_source=source,
                       video_fallbacks=self.backends[i + 1:], total_frames=total,
                       frame_count_exact=exact, avg_fps=fps)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(backends={self.backends}, '
                f'num_threads={self.num_threads}, io_retries={self.io_retries})')


@TRANSFORMS.register_module()
class VideoMAEDecode(BaseTransform):
    """Decode the frames at ``frame_inds`` with the reader of :class:`VideoMAEInit`.

    decord seeks to the indices; PyAV decodes sequentially up to the largest
    one (exact for any frame timing). When a backend opens a file but fails to
    decode it (decord cannot copy the frames of some widths, e.g. 72 pixels),
    the next backend of ``VideoMAEInit`` decodes it instead;
    :class:`VideoReadError` lists every backend's error. A transient I/O error
    is tried again on a freshly opened reader (``io_retries``, ``retry_delay``
    as in :class:`VideoMAEInit`). Readers are released.

    If PyAV's stream ends before the largest index, the header's frame count
    was wrong (a damaged file): :class:`VideoTooShortError`. When the count
    was only estimated from the duration (``frame_count_exact`` False) and
    the video still has ``min_frames`` frames, the missing indices take the
    last frame instead, as ``SampleFrames(out_of_bound_opt='repeat_last')``
    does past the end. An index outside ``[0, total_frames)`` is a config
    error (e.g. ``start_index=1`` for a video) and raises ``ValueError``.

    Required keys:

        - video_reader
        - video_backend
        - frame_inds
        - filename
        - total_frames
        - video_source, video_fallbacks, frame_count_exact, min_frames
          (optional)

    Modified keys:

        - video_backend (the backend that decoded the frames)

    Added keys:

        - imgs (list of ``(H, W, 3)`` uint8 RGB arrays)
        - original_shape
        - img_shape

    Args:
        io_retries (int): Further tries after a transient I/O error.
            Defaults to 3.
        retry_delay (float): Seconds before the first retry, doubled for
            each next one. Defaults to 0.5.
    """

    def __init__(self, io_retries: int = 3, retry_delay: float = 0.5) -> None:
        self.io_retries = io_retries
        self.retry_delay = retry_delay

    def transform(self, results: dict) -> dict:
        reader, first = results.pop('video_reader'), results['video_backend']
        source = results.pop('video_source', results['filename'])
        fallbacks = results.pop('video_fallbacks', ())
        filename, total = results['filename'], results['total_frames']
        inds = np.asarray(results['frame_inds']).reshape(-1)
        if inds.size == 0 or inds.min() < 0 or inds.max() >= total:
            if first == 'pyav':
                reader.close()
            raise ValueError(
                f'frame_inds {inds.tolist()} are not all in [0, {total}), the frames of '
                f'{filename} (is start_index 0, as videos need?)')
        results['frame_inds'] = inds
        errors = []
        for backend in (first, ) + tuple(fallbacks):
            readers = [reader] if backend == first else []  # the open one serves first

            def decode():
                current = readers.pop() if readers else _OPENERS[backend](source, 1)[0]
                return self._decode(current, backend, inds, results)

            try:
                imgs = with_retries(decode, self.io_retries, self.retry_delay)
                break
            except VideoTooShortError:
                raise
            except Exception as e:  # this backend cannot decode the file: try the next one
                errors.append(_describe(backend, e))
        else:
            raise VideoReadError(f'cannot decode {filename} ({"; ".join(errors)})')
        results['video_backend'] = backend
        results['original_shape'] = results['img_shape'] = imgs[0].shape[:2]
        results['imgs'] = imgs
        return results

    @classmethod
    def _decode(cls, reader, backend: str, inds: np.ndarray, results: dict) -> list:
        """The frames at ``inds`` as RGB arrays; a PyAV reader is closed."""
        if backend == 'decord':
            return list(reader.get_batch(inds).asnumpy())
        try:
            return cls._pyav_frames(reader, inds, results)
        finally:
            reader.close()

    @staticmethod
    def _pyav_frames(container, inds: np.ndarray, results: dict) -> list:
        wanted, frames = set(inds.tolist()), {}
        last, count, frame = int(inds.max()), 0, None
        for count, frame in enumerate(container.decode(video=0), 1):
            if count - 1 in wanted:
                frames[count - 1] = frame.to_ndarray(format='rgb24')
            if count > last:
                break
        if last not in frames:
            filename, min_frames = results['filename'], results.get('min_frames') or 0
            if results.get('frame_count_exact', True) or not count or count < min_frames:
                raise VideoTooShortError(
                    f'{filename}: decoded {count} frames, fewer than needed (frame {last} '
                    'is missing)')
            tail = frame.to_ndarray(format='rgb24')  # the estimate was high: repeat the last
            frames.update({i: tail for i in wanted if i >= count})
        return [frames[i] for i in inds.tolist()]

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(io_retries={self.io_retries})'


@TRANSFORMS.register_module()
class VideoMAERawFrameDecode(BaseTransform):
    """Read the RGB frames at ``frame_inds`` of a raw-frame folder.

    MMAction2's ``RawFrameDecode`` with the errors of this module: a missing
    or undecodable frame raises :class:`VideoReadError` naming the folder (the
    dataset skips it), a transient I/O error is tried again first.

    Required keys:

        - frame_dir
        - filename_tmpl
        - frame_inds
        - offset (optional)

    Added keys:

        - imgs (list of ``(H, W, 3)`` uint8 RGB arrays)
        - original_shape
        - img_shape

    Args:
        backend_args (dict, optional): Arguments of the mmengine file backend.
            Defaults to None.
        io_retries (int): Further tries after a transient I/O error.
            Defaults to 3.
        retry_delay (float): Seconds before the first retry, doubled for
            each next one. Defaults to 0.5.
    """

    def __init__(self,
                 backend_args: Optional[dict] = None,
                 io_retries: int = 3,
                 retry_delay: float = 0.5) -> None:
        self.backend_args = backend_args
        self.io_retries = io_retries
        self.retry_delay = retry_delay

    def _read(self, path: str) -> np.ndarray:
        try:
            data = with_retries(lambda: fileio.get(path, backend_args=self.backend_args),
                                self.io_retries, self.retry_delay)
        except VideoReadError:
            raise
        except Exception as e:
            raise VideoReadError(f'cannot read {path}: {type(e).__name__}: {e}') from e
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        if img is None:
            raise VideoReadError(f'cannot decode the image {path}')
        return mmcv.bgr2rgb(img)

    def transform(self, results: dict) -> dict:
        inds = np.asarray(results['frame_inds']).reshape(-1)
        offset = results.get('offset', 0)
        directory, tmpl = results['frame_dir'], results['filename_tmpl']
        frames = {}
        for i in dict.fromkeys(inds.tolist()):
            try:
                frames[i] = self._read(os.path.join(directory, tmpl.format(i + offset)))
            except VideoReadError as e:
                raise VideoReadError(f'{directory}: {e}') from e
        results['frame_inds'] = inds
        results['imgs'] = [frames[i].copy() for i in inds.tolist()]
        results['original_shape'] = results['img_shape'] = results['imgs'][0].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(io_retries={self.io_retries})'
