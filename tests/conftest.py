"""Shared fixtures: tiny synthetic videos made by ``tools/make_demo_data.py``."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def demo_data():
    """The ``tools/make_demo_data.py`` module (``make_demo_videos``, ``render_video``...)."""
    return _load_tool('make_demo_data')


@pytest.fixture(scope='session')
def demo_video_dir(demo_data, tmp_path_factory) -> Path:
    """A folder with 6 videos of 32 frames at 64x64 (``video_000.mp4``...),
    ``train_list.txt`` (``name label``), broken entries (``corrupt.mp4``,
    ``truncated.mp4``, ``short.mp4`` with 4 frames, ``missing.mp4`` absent) and
    ``train_list_with_bad.txt`` = the good entries + the 4 broken ones."""
    out = tmp_path_factory.mktemp('demo_videos')
    demo_data.make_demo_videos(str(out), num_videos=6, num_frames=32, size=64, seed=1)
    demo_data.make_bad_entries(str(out), short_frames=4, size=64, seed=1)
    return out
