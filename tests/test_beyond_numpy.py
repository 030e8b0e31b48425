"""The Dask example and the backend benchmarks run end to end, at small sizes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dask.array")
ROOT = Path(__file__).resolve().parents[1]


def run(script: str, *args: str, path: str = str(ROOT)) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT, env={**os.environ, "PYTHONPATH": path})


def test_the_dask_example_matches_numpy_and_runs_on_a_two_worker_cluster():
    pytest.importorskip("distributed")
    result = run("examples/dask_logistic_regression.py", "--rows", "8000", "--chunk-rows",
                 "2000", "--sample-rows", "4000", "--steps", "2", "--cluster")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "sample of 4,000 rows: NumPy and Dask weights differ by at most" in result.stdout
    assert "local cluster of 2 workers" in result.stdout
    assert "peak memory of the process" in result.stdout


def test_the_dask_regression_benchmark_runs_and_reports_its_target():
    result = run("benchmarks/dask_regression.py", "--quick")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "correctness: loss and gradients agree" in result.stdout
    assert "target: the engine's step within 1.2x of Dask by hand" in result.stdout


def test_the_gpu_benchmark_runs_on_the_stand_in_device():
    result = run("benchmarks/mnist_gpu.py", "--quick", "--backend", "device_array",
                 path=f"{ROOT}{os.pathsep}{ROOT / 'tests'}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "numpy / device_array time per batch" in result.stdout
