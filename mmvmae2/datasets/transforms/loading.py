"""Video decoding: decord by default, PyAV as the fallback.

``VideoMAEInit`` opens the file once (decord, else PyAV), ``SampleFrames`` (MMAction2)
picks the indices and ``VideoMAEDecode`` decodes only those frames. Missing, corrupt,
unreadable and too-short files raise :class:`VideoReadError` with the file name,
for the dataset to skip and replace.
"""
import io
import os
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmaction.registry import TRANSFORMS


class VideoReadError(RuntimeError):
    """A video is missing, corrupt or cannot be decoded."""


class VideoTooShortError(VideoReadError):
    """A video has fewer decodable frames than one clip needs."""


def _as_file(source: Union[str, bytes]):
    """A local path as is, downloaded bytes as a fresh file object."""
    return source if isinstance(source, str) else io.BytesIO(source)


def _open_decord(source: Union[str, bytes], num_threads: int):
    import decord
    reader = decord.VideoReader(_as_file(source), num_threads=num_threads)
    if len(reader) == 0:
        raise VideoReadError('no video frames')
    return reader, len(reader), float(reader.get_avg_fps())


def _open_pyav(source: Union[str, bytes], num_threads: int):
    import av
    container = av.open(_as_file(source))
    if not container.streams.video:
        raise VideoReadError('no video stream')
    stream = container.streams.video[0]
    total = stream.frames
    if total <= 0:  # frame count missing from the header: count by decoding
        total = sum(1 for _ in container.decode(video=0))
        container.seek(0)
    fps = float(stream.average_rate) if stream.average_rate else 0.
    return container, total, fps


_OPENERS = dict(decord=_open_decord, pyav=_open_pyav)


def _describe(backend: str, error: Exception) -> str:
    """``'backend: ErrorType: message'``, the message cut to 200 characters."""
    return f'{backend}: {type(error).__name__}: {str(error)[:200]}'


def _readers(reader, backend: str, fallbacks: Sequence[str], source: Union[str, bytes],
             errors: list):
    """``(backend, reader)`` pairs: the open one, then each fallback that
    opens (the others add their error to ``errors``)."""
    yield backend, reader
    for backend in fallbacks:
        try:
            yield backend, _OPENERS[backend](source, 1)[0]
        except Exception as e:
            errors.append(_describe(backend, e))


@TRANSFORMS.register_module()
class VideoMAEInit(BaseTransform):
    """Open a video with the first backend that can read it.

    Local files are opened by path, other storage (``backend_args``) is fetched
    once; each backend in ``backends`` is tried in order (one that is not
    installed counts as failed). Raises :class:`VideoReadError`
    naming the file when it is missing or no backend can open it, and
    :class:`VideoTooShortError` when it has fewer frames than
    ``results['min_frames']`` (set by the dataset, see
    ``VideoMAEPretrainDataset``).

    Required keys:

        - filename
        - min_frames (optional)

    Added keys:

        - video_reader
        - video_backend
        - video_source (the path, or the fetched bytes, for a fallback)
        - video_fallbacks (the backends after ``video_backend``)
        - total_frames
        - avg_fps

    Args:
        backends (Sequence[str]): Backends to try, in order, from ``'decord'``
            and ``'pyav'``. Defaults to ``('decord', 'pyav')``.
        num_threads (int): Decoding threads of decord. Defaults to 1.
        backend_args (dict, optional): Arguments of the mmengine file backend
            (e.g. for object storage). Defaults to None.
    """

    def __init__(self,
                 backends: Sequence[str] = ('decord', 'pyav'),
                 num_threads: int = 1,
                 backend_args: Optional[dict] = None) -> None:
        backends = (backends, ) if isinstance(backends, str) else tuple(backends)
        unknown = set(backends) - set(_OPENERS)
        if not backends or unknown:
            raise ValueError(f'backends must be taken from {tuple(_OPENERS)}, got {backends}')
        self.backends = backends
        self.num_threads = num_threads
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        filename = results['filename']
        try:  # local files are opened by path, others are fetched once
            if isinstance(fileio.get_file_backend(filename, backend_args=self.backend_args),
                          fileio.LocalBackend):
                if not os.path.isfile(filename):
                    raise FileNotFoundError(f'no such file: {filename}')
                if not os.access(filename, os.R_OK):
                    raise PermissionError(f'not readable: {filename}')
                source = filename
            else:
                source = fileio.get(filename, backend_args=self.backend_args)
        except Exception as e:  # missing, unreadable, storage errors
            raise VideoReadError(f'cannot read {filename}: {type(e).__name__}: {e}') from e
        errors = []
        for i, backend in enumerate(self.backends):
            try:
                reader, total, fps = _OPENERS[backend](source, self.num_threads)
                break
            except Exception as e:  # ImportError or a decoder error: try the next one
                errors.append(_describe(backend, e))
        else:
            raise VideoReadError(f'cannot open {filename} ({"; ".join(errors)})')
        min_frames = results.get('min_frames') or 0
        if total < min_frames:
            raise VideoTooShortError(
                f'{filename} has {total} frames, one clip needs {min_frames}')
        results.update(video_reader=reader, video_backend=backend, video_source=source,
                       video_fallbacks=self.backends[i + 1:], total_frames=total, avg_fps=fps)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(backends={self.backends}, '
                f'num_threads={self.num_threads})')


@TRANSFORMS.register_module()
class VideoMAEDecode(BaseTransform):
    """Decode the frames at ``frame_inds`` with the reader of :class:`VideoMAEInit`.

    decord seeks to the indices; PyAV decodes sequentially up to the largest
    one and raises :class:`VideoTooShortError` if the stream ends before it
    (header frame counts can lie for damaged files). When a backend opens a
    file but fails to decode it (decord cannot copy the frames of some
    widths, e.g. 72 pixels), the next backend of ``VideoMAEInit`` decodes it
    instead; :class:`VideoReadError` lists every backend's error. Readers are
    released.

    Required keys:

        - video_reader
        - video_backend
        - frame_inds
        - filename
        - video_source, video_fallbacks (optional, for the fallback)

    Modified keys:

        - video_backend (the backend that decoded the frames)

    Added keys:

        - imgs (list of ``(H, W, 3)`` uint8 RGB arrays)
        - original_shape
        - img_shape
    """

    def transform(self, results: dict) -> dict:
        reader, backend = results.pop('video_reader'), results['video_backend']
        source = results.pop('video_source', results['filename'])
        fallbacks = results.pop('video_fallbacks', ())
        filename = results['filename']
        inds = np.asarray(results['frame_inds']).reshape(-1)
        results['frame_inds'] = inds
        errors = []
        for backend, reader in _readers(reader, backend, fallbacks, source, errors):
            try:
                imgs = self._decode(reader, backend, inds, filename)
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
    def _decode(cls, reader, backend: str, inds: np.ndarray, filename: str) -> list:
        """The frames at ``inds`` as RGB arrays; a PyAV reader is closed."""
        if backend == 'decord':
            return list(reader.get_batch(inds).asnumpy())
        try:
            return cls._pyav_frames(reader, inds, filename)
        finally:
            reader.close()

    @staticmethod
    def _pyav_frames(container, inds: np.ndarray, filename: str) -> list:
        wanted, frames = set(inds.tolist()), {}
        last = int(inds.max())
        for i, frame in enumerate(container.decode(video=0)):
            if i in wanted:
                frames[i] = frame.to_ndarray(format='rgb24')
            if i >= last:
                break
        if last not in frames:
            raise VideoTooShortError(
                f'{filename}: decoded fewer frames than needed (frame {last} is missing)')
        return [frames[i] for i in inds.tolist()]

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
