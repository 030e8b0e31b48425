"""Epoch times of the modern preset with Adam's subnormal flush on and off.

Two trainings of the same network (nn, compiled step) run side by side in one process, an epoch
of one, then an epoch of the other, so both see the same machine load. After each epoch the
share of subnormal floats in the first layer's Adam moments is printed: without the flush they
pile up and the epochs slow down; with it they stay at zero and the epochs stay flat.

    python benchmarks/adam_subnormals.py               # 4 epochs each, a few minutes
    python benchmarks/adam_subnormals.py --epochs 2 --limit 6000   # quicker
"""

from __future__ import annotations

import argparse
import os
import time

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import _timing  # noqa: E402
import numpy as np  # noqa: E402
from mnist_mlp import mnist_root  # noqa: E402

import nn  # noqa: E402
from nn.mnist import PRESETS  # noqa: E402


def subnormal_share(a: np.ndarray) -> float:
    """The fraction of entries that are nonzero and below the smallest normal float."""
    magnitude = np.abs(a)
    return float(np.count_nonzero((magnitude > 0) & (magnitude < np.finfo(a.dtype).tiny))
                 / a.size)


class Run:
    """One training of the modern preset; `flush` switches Adam's subnormal flush."""

    def __init__(self, flush: bool, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        config = PRESETS["modern"]
        self.name = "flush on" if flush else "flush off"
        self.model = nn.mlp([784, *config["hidden"], 10], config["activation"], config["init"],
                            rng=seed)
        self.optimizer = nn.Adam(self.model.parameters(), config["lr"])
        self.optimizer.flush_every = nn.Adam.flush_every if flush else 0
        self.loader = nn.DataLoader(X, y, config["batch_size"], shuffle=True, seed=seed)
        self.step = nn.train.compiled_step(self.model, nn.CrossEntropyLoss())
        self.decay, self.lr = config["lr_decay"], config["lr"]
        self.seconds: list[float] = []
        self.shares: list[tuple[float, float]] = []

    def epoch(self) -> None:
        start = time.perf_counter()
        for X, y in self.loader:
            self.optimizer.zero_grad()
            self.step(X, y)
            self.optimizer.step()
        self.seconds.append(time.perf_counter() - start)
        self.optimizer.lr = self.lr * self.decay ** len(self.seconds)
        self.shares.append((subnormal_share(self.optimizer.m[0]),
                            subnormal_share(self.optimizer.v[0])))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--limit", type=int, help="train on the first N images only")
    parser.add_argument("--mnist-dir", help="folder with the MNIST .gz files")
    args = parser.parse_args(argv)
    print(_timing.header("adam_subnormals: modern preset, nn compiled, epoch seconds",
                         _timing.pin_to_cpu(None), [_timing.steady_malloc()]))
    (x_train, y_train), _ = nn.load_mnist(mnist_root(args.mnist_dir), progress=False)
    X, y = nn.prepare_images(x_train)[:55000], y_train[:55000].astype(np.int64)
    if args.limit:
        X, y = X[:args.limit], y[:args.limit]
    runs = [Run(True, X, y, seed=0), Run(False, X, y, seed=0)]
    print(f"  {len(X)} images, batches of {PRESETS['modern']['batch_size']}, shuffled; "
          f"epochs alternate between the two runs")
    print(f"  {'epoch':>5}" + "".join(f"{r.name + ' s':>14}{'subnormal m, v':>20}" for r in runs))
    for epoch in range(args.epochs):
        for run in runs:
            run.epoch()
        row = f"  {epoch + 1:>5}"
        for run in runs:
            m, v = run.shares[-1]
            row += f"{run.seconds[-1]:14.2f}{f'{100 * m:.2f}%, {100 * v:.2f}%':>20}"
        print(row)
    on, off = runs
    print(f"  last / first epoch: flush on {on.seconds[-1] / on.seconds[0]:.2f}, "
          f"flush off {off.seconds[-1] / off.seconds[0]:.2f}")


if __name__ == "__main__":
    main()
