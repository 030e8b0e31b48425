"""Logistic regression by gradient descent on 10 million rows that are never in memory at once.

The data is a chunked Dask array, made chunk by chunk from a seed (data read from disk chunk by
chunk behaves the same); the model is two small NumPy tensors; the training step is the one you
would write for NumPy arrays. Forward and backward build a Dask task graph, and one
`autograd.compute(loss, w.grad, b.grad)` per step runs it: one pass over the data, chunk by
chunk. The script checks that it gets NumPy's weights on a sample that fits in memory, reports
its peak memory against the data's size, and with --cluster runs the same code on a
dask.distributed cluster of two local worker processes (loopback only).

    python examples/dask_logistic_regression.py                # 10 million rows, 2 threads
    python examples/dask_logistic_regression.py --cluster      # and on a two-worker cluster
    python examples/dask_logistic_regression.py --rows 20000 --chunk-rows 5000 --steps 3
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import dask.array as da
import numpy as np

import autograd
import nn
from autograd import Tensor, no_grad


def make_data(rows: int, features: int, chunk_rows: int, seed: int = 0):
    """Features and 0/1 labels drawn from a known logistic model, lazily, chunk by chunk."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, features), chunks=(chunk_rows, features))
    true_w, true_b = np.linspace(-1.0, 1.0, features), 0.5
    probability = 1 / (1 + np.exp(-(X @ true_w + true_b)))
    y = (rng.random(rows, chunks=chunk_rows) < probability).astype(np.float64)
    return X, y, true_w, true_b


def fit(X, y, steps: int, lr: float):
    """Gradient descent on the mean logistic loss. X and y are NumPy or Dask arrays: same code."""
    w = Tensor(np.zeros(X.shape[1]), requires_grad=True)
    b = Tensor(0.0, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = nn.functional.bce_with_logits(X @ w + b, y)
        loss.backward()  # on Dask: a task graph, nothing computed yet
        loss, w_grad, b_grad = autograd.compute(loss, w.grad, b.grad)  # one pass over the data
        with no_grad():
            w -= lr * w_grad
            b -= lr * b_grad
        w.grad = b.grad = None
        losses.append(loss.item())
    return w.numpy(), b.item(), losses


def peak_memory_mb() -> float:
    """The process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--sample-rows", type=int, default=100_000,
                        help="rows of the in-memory sample compared with NumPy")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--cluster", action="store_true",
                        help="also run on a dask.distributed LocalCluster of two workers")
    args = parser.parse_args(argv)
    X, y, true_w, true_b = make_data(args.rows, args.features, args.chunk_rows)
    data_mb = (X.nbytes + y.nbytes) / 2**20
    print(f"data: {args.rows:,} rows x {args.features} features, {X.npartitions} chunks, "
          f"{data_mb:,.0f} MB if it were in memory")

    # 1. The same code on a sample: NumPy arrays in memory, and the same rows as Dask chunks.
    n = min(args.sample_rows, args.rows)
    X_sample, y_sample = X[:n].compute(), y[:n].compute()
    w_numpy, b_numpy, _ = fit(X_sample, y_sample, args.steps, args.lr)
    w_dask, b_dask, _ = fit(X[:n], y[:n], args.steps, args.lr)
    difference = max(np.abs(w_dask - w_numpy).max(), abs(b_dask - b_numpy))
    print(f"sample of {n:,} rows: NumPy and Dask weights differ by at most {difference:.1e}")

    # 2. All rows, out of core.
    before = peak_memory_mb()
    start = time.perf_counter()
    w, b, losses = fit(X, y, args.steps, args.lr)
    seconds = time.perf_counter() - start
    print(f"all rows, {args.steps} steps in {seconds:.1f} s ({seconds / args.steps:.2f} s/step): "
          f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    print(f"  w = {np.array2string(w, precision=3)}, b = {b:.3f}")
    print(f"  (the model drawing the labels: w = {np.array2string(true_w, precision=3)}, "
          f"b = {true_b})")
    print(f"peak memory of the process: {peak_memory_mb():,.0f} MB ({before:,.0f} MB before "
          f"the full fit) for {data_mb:,.0f} MB of data")

    failed = difference > 1e-10
    if args.cluster:  # 3. The same code, the same graph, on two worker processes
        from dask.distributed import Client, LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
            start = time.perf_counter()
            w_cluster, b_cluster, _ = fit(X, y, args.steps, args.lr)
            seconds = time.perf_counter() - start
            workers = sorted(client.run(peak_memory_mb).values())
        cluster_difference = max(np.abs(w_cluster - w).max(), abs(b_cluster - b))
        print(f"local cluster of 2 workers: {seconds:.1f} s ({seconds / args.steps:.2f} s/step); "
              f"weights differ from the threaded run's by at most {cluster_difference:.1e}; "
              f"peak memory of the workers: {', '.join(f'{m:,.0f}' for m in workers)} MB")
        failed |= cluster_difference > 1e-10
    if failed:
        print("FAILED: the weights differ", file=sys.stderr)
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
