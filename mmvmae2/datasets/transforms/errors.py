"""Which pipeline errors skip a sample and which stop the run.

A pretraining dataset of millions of files always holds some that are
missing, truncated or undecodable: the loading transforms raise
:class:`VideoReadError` for those, and the dataset skips the file. Every other
exception of a transform is a bug or a config error that would hit every
sample alike: :func:`apply_transforms` turns it into :class:`TransformError`,
naming the transform and the sample, and it stops the run. Transient I/O
errors (an NFS or object-store hiccup) are retried by :func:`with_retries`
before a file is given up.
"""
import time
from typing import Callable, Optional, Sequence


class VideoReadError(RuntimeError):
    """A file of the sample is missing, unreadable, corrupt or cannot be
    decoded: the only error a dataset answers by skipping the file."""


class VideoTooShortError(VideoReadError):
    """A video has fewer decodable frames than one clip needs."""


class TransformError(RuntimeError):
    """A transform failed for another reason than an unreadable file (a bug
    or a config error): the run stops."""


# OSErrors that say what the file is, not how the storage behaves right now
_PERMANENT_OS_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError,
                        NotADirectoryError)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` may go away when the read is tried again: an
    ``OSError`` (I/O error, timeout, lost connection...) other than a missing
    file, a directory or missing permissions."""
    return isinstance(error, OSError) and not isinstance(error, _PERMANENT_OS_ERRORS)


def with_retries(read: Callable, retries: int, delay: float):
    """``read()``, tried again up to ``retries`` times while it raises a
    transient error (:func:`is_transient`), sleeping ``delay``, ``2 * delay``,
    ``4 * delay``... seconds in between.

    Raises:
        VideoReadError: the transient error was still there at the last try.
        Exception: any other error of ``read``, at once.
    """
    for attempt in range(retries + 1):
        try:
            return read()
        except OSError as e:
            if not is_transient(e):
                raise
            if attempt == retries:
                raise VideoReadError(f'{type(e).__name__}: {e} (a transient error, still there '
                                     f'after {retries + 1} attempts)') from e
            time.sleep(delay * 2**attempt)


def _sample_name(results) -> str:
    if not isinstance(results, dict):
        return '?'
    return str(results.get('filename', results.get('frame_dir', '?')))


def _short_repr(transform, limit: int = 300) -> str:
    text = ' '.join(repr(transform).split())
    return text if len(text) <= limit else text[:limit] + '...'


def apply_transforms(transforms: Sequence[Callable], results: dict) -> Optional[dict]:
    """Run ``transforms`` in order, as mmengine's ``Compose`` (None from a
    transform ends the pipeline with None).

    :class:`VideoReadError` (an unreadable file, for the dataset to skip) and
    an inner pipeline's :class:`TransformError` pass unchanged; any other
    exception becomes :class:`TransformError` naming the transform and the
    sample, the original error chained.
    """
    for t in transforms:
        name = _sample_name(results)
        try:
            results = t(results)
        except (VideoReadError, TransformError):
            raise
        except Exception as e:
            raise TransformError(
                f'{type(t).__name__} failed on {name}: {type(e).__name__}: {e}. This is not '
                'a read error of the file, so the run stops (a config error or a bug; the '
                f'transform: {_short_repr(t)})') from e
        if results is None:
            return None
    return results
