"""Seconds per logistic-regression step on a chunked Dask array: the engine against Dask by hand.

Both compute the same step on the same chunked data (held in memory, so that the step, not
data generation, is timed): the mean logistic loss of X @ w + b and its gradient in w and b,
in one dask.compute.

  engine   nn.functional.bce_with_logits(X @ w + b, y), backward(), autograd.compute(...)
  by hand  the loss and its gradient Xᵀ(σ(z) - y)/n, σ(z) - y summed, written in Dask

They alternate rounds in one process (rotated order); a ratio is the median of per-round ratios.

    python benchmarks/dask_regression.py           # 2,000,000 rows, about a minute
    python benchmarks/dask_regression.py --quick   # smoke test
"""

from __future__ import annotations

import argparse
import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import _timing  # noqa: E402
import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import Tensor  # noqa: E402

TARGET_RATIO = 1.2  # engine / by hand, seconds per step


def engine_step(X, y, w, b):
    """The engine's step: the loss and both gradients, computed in one pass."""
    w, b = Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    loss = nn.functional.bce_with_logits(X @ w + b, y)
    loss.backward()
    return [t.data for t in autograd.compute(loss, w.grad, b.grad)]


def hand_step(X, y, w, b):
    """The same step written in Dask: stable loss max(z, 0) - zy + log(1 + e^-|z|)."""
    z = X @ w + b
    loss = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean()
    residual = (1 / (1 + np.exp(-z)) - y) / len(y)
    return list(dask.compute(loss, X.T @ residual, residual.sum()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke-test run")
    parser.add_argument("--rows", type=int, help="rows of X (default 2,000,000; quick 20,000)")
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--chunk-rows", type=int, help="rows per chunk (default rows / 16)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 9, quick 2)")
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 2_000_000)
    rounds = args.rounds or (2 if args.quick else 9)
    chunk_rows = args.chunk_rows or max(1, rows // 16)

    rng = np.random.default_rng(0)
    X_host = rng.standard_normal((rows, args.features))
    y_host = (rng.random(rows) < 0.5).astype(np.float64)
    X, y = da.from_array(X_host, chunks=(chunk_rows, args.features)), da.from_array(
        y_host, chunks=chunk_rows)
    w, b = rng.standard_normal(args.features) * 0.1, np.array(0.2)
    print(_timing.header(f"Logistic-regression step on Dask, {rows:,} x {args.features}, "
                         f"{X.npartitions} chunks", "not pinned",
                         [f"Dask {dask.__version__}, threaded scheduler"]))

    engine, by_hand = engine_step(X, y, w, b), hand_step(X, y, w, b)
    for name, a, c in zip(("loss", "dL/dw", "dL/db"), engine, by_hand):
        if not np.allclose(a, c, rtol=1e-10, atol=1e-14):
            print(f"the two steps disagree on {name}: {a} vs {c}")
            return 1
    print("correctness: loss and gradients agree (rtol 1e-10)")

    def timed(step):
        def run(_: int) -> float:
            start = _timing.now()
            step(X, y, w, b)
            return _timing.now() - start
        return run

    times = _timing.alternate({"engine": timed(engine_step), "by hand": timed(hand_step)},
                              rounds)
    ratio = _timing.ratios(times["engine"], times["by hand"])
    for name, values in times.items():
        print(f"{name:8s} {_timing.median(values):.3f} s per step (median of {rounds} rounds)")
    print(f"engine / by hand: {_timing.ratio_text(ratio)}; fastest rounds: "
          f"{min(times['engine']) / min(times['by hand']):.2f}x (the least disturbed by load)")
    met = _timing.verdict(_timing.median(ratio) <= TARGET_RATIO)
    print(f"target: the engine's step within {TARGET_RATIO}x of Dask by hand: "
          f"{_timing.median(ratio):.2f}  -> {met}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
