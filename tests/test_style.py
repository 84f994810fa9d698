"""The code follows the project's flake8 settings (setup.cfg)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_flake8_clean():
    proc = subprocess.run([sys.executable, '-m', 'flake8', 'mmvmae2', 'tools', 'tests', 'configs'],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
