"""tools/benchmark.py runs and reports the token counts of each masking set-up
(speed itself is measured by the benchmark, never asserted by a test)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_tables(tmp_path):
    out = tmp_path / 'bench.md'
    proc = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'benchmark.py'), '--arch', 'small', '--frames', '4',
         '--size', '64', '--repeats', '1', '--out', str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert 'Command: `python tools/benchmark.py --arch small --frames 4 --size 64' in text
    rows = {line.split('|')[1].strip(): [c.strip() for c in line.split('|')[2:5]]
            for line in text.splitlines() if line.startswith('| v') or line.startswith('| mae')}
    # grid 2 x 4 x 4: tube 0.9 hides int(14.4) = 14 of 16 per slice -> 4 visible tokens;
    # running cell keeps 16 of 32; V1 reconstructs all 28 hidden ones
    assert rows['v1'] == ['4', '32', '28']
    assert rows['mae-st'] == ['4', '32', '28']  # random 0.9 of 32: int(28.8) = 28 hidden
    loss_tokens = float(rows['v2-official'][2])  # mean over the batch's clips
    assert rows['v2-efficient'][2] == rows['v2-official'][2] and 12 <= loss_tokens <= 16
    assert rows['v2-official'][1] == '20'  # 4 visible + a query at each of the 16 kept
    # the efficient decoder queries only loss tokens (padded to the batch's largest count)
    assert 4 + loss_tokens <= int(rows['v2-efficient'][1]) <= 20
