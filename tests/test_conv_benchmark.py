"""benchmarks/conv.py still runs end to end (`--quick`); its figures are read by people."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_conv_benchmark_runs_and_reports_its_targets():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "conv.py"), "--quick"],
                            capture_output=True, text=True, timeout=600, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    for line in ["conv layer: 3×3, 32 → 64 channels", "cnn preset:", "targets"]:
        assert line in result.stdout, result.stdout[-2000:]
    if "PyTorch not installed" not in result.stdout:
        for line in ["conv layer: engine / PyTorch time", "cnn epoch: engine / PyTorch time",
                     "cnn memory: engine / PyTorch peak rise"]:
            assert line in result.stdout, result.stdout[-2000:]
