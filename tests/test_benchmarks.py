"""The benchmarks still run end to end (`--quick`); their figures are read by people, not here.

mnist_mlp.py trains on the small MNIST look-alike of conftest.py: no real data, no download.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script, reported", [
    ("op_overhead.py", ["1-element per-op overhead", "100x100 within 1.3x of plain NumPy"]),
    ("mnist_mlp.py", ["lecture: engine (raw) / numpy time", "modern: nn / numpy time"]),
])
def test_benchmark_runs_and_reports_its_targets(script, reported, small_mnist_command,
                                                small_mnist_files):
    command = [sys.executable, str(ROOT / "benchmarks" / script), "--quick"]
    if script == "mnist_mlp.py":
        command = [*small_mnist_command, str(ROOT / "benchmarks" / script), "--quick",
                   "--mnist-dir", str(small_mnist_files[0])]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    for line in reported:
        assert line in result.stdout, result.stdout[-2000:]
