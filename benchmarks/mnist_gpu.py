"""Seconds per MNIST epoch of the modern preset on a GPU (CuPy) next to the same on NumPy.

The same `nn` model (784-512-256-10, ReLU, He init, Adam, batches of 128, float32; see
nn.mnist.PRESETS), the same initial weights and the same batches, trained on NumPy (the CPU,
one BLAS thread) and on CuPy (`model.to("cupy")`, batches copied to the device outside the
timing). The two alternate every --chunk batches in one process; a time is the median over
chunks, the ratio the median of per-chunk ratios. The GPU is synchronized before each clock
reading. Without CuPy and a GPU the script says so and measures nothing.

    python benchmarks/mnist_gpu.py            # needs cupy and a GPU
    python benchmarks/mnist_gpu.py --quick    # smoke test
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import _timing  # noqa: E402
import numpy as np  # noqa: E402

import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from nn.mnist import PRESETS  # noqa: E402


def load_backend(name: str):
    """The array module, or None with a reason if it cannot run here."""
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        return None, f"{name} does not import ({error})"
    if name == "cupy":
        try:
            if not module.cuda.runtime.getDeviceCount():
                return None, "CuPy sees no GPU"
        except Exception as error:  # noqa: BLE001 - no driver, no device
            return None, f"CuPy sees no GPU ({error})"
    return module, ""


def synchronize(module) -> None:
    """Wait for the GPU to finish queued kernels (a no-op for modules without a device)."""
    cuda = getattr(module, "cuda", None)
    if cuda is not None:
        cuda.Device().synchronize()


def training_step(model, optimizer, loss_fn):
    def step(X, y) -> None:
        optimizer.zero_grad()
        loss_fn(model(Tensor(X)), y).backward()
        optimizer.step()
    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke-test run")
    parser.add_argument("--backend", default="cupy", help="the GPU array module (cupy)")
    parser.add_argument("--chunk", type=int, help="batches per system between switches (20)")
    parser.add_argument("--chunks", type=int, help="chunks per system (15; quick 2)")
    parser.add_argument("--mnist-dir", help="folder with the MNIST .gz files")
    args = parser.parse_args()
    module, reason = load_backend(args.backend)
    if module is None:
        print(f"mnist_gpu: nothing measured: {reason}. Install CuPy for your CUDA "
              f"(pip install cupy-cuda12x) on a machine with a GPU.")
        return 0
    chunk, chunks = args.chunk or (2 if args.quick else 20), args.chunks or (
        2 if args.quick else 15)
    preset = PRESETS["modern"]
    batch = preset["batch_size"]
    try:
        if args.quick:
            raise FileNotFoundError("a smoke test times random images")
        (x_train, y_train), _ = nn.load_mnist(args.mnist_dir, download=False)
        X_all, y_all = nn.prepare_images(x_train), y_train.astype(np.int64)
        source = "MNIST"
    except Exception:  # noqa: BLE001 - a benchmark can time random images of the same shape
        rng = np.random.default_rng(0)
        X_all = rng.random((batch * chunk * 2, 784), dtype=np.float32)
        y_all = rng.integers(0, 10, len(X_all))
        source = "random images (MNIST not read)"
    print(_timing.header(f"MNIST modern preset, NumPy vs {args.backend}, batches of {batch}, "
                         f"{source}", "not pinned"))

    systems = {}
    for name in ("numpy", args.backend):
        model = nn.mlp([784, *preset["hidden"], 10], preset["activation"], preset["init"], rng=0)
        optimizer = nn.Adam(model.parameters(), preset["lr"])
        model.to(name)
        systems[name] = (model, training_step(model, optimizer, nn.CrossEntropyLoss()))
    move = {"numpy": lambda a: a, args.backend: module.asarray}
    rng = np.random.default_rng(1)
    batches_per_epoch = (len(X_all) - preset["validation"]) // batch

    def run(name):
        model, step = systems[name]
        def timed(_: int) -> float:
            starts = rng.integers(0, len(X_all) - batch, chunk)
            data = [(move[name](X_all[s:s + batch]), move[name](y_all[s:s + batch]))
                    for s in starts]
            synchronize(module)
            start = _timing.now()
            for X, y in data:
                step(X, y)
            synchronize(module)
            return (_timing.now() - start) / chunk
        return timed

    times = _timing.alternate({name: run(name) for name in systems}, chunks)
    for name, values in times.items():
        per_epoch = _timing.median(values) * batches_per_epoch
        print(f"{name:8s} {1e3 * _timing.median(values):8.2f} ms per batch, "
              f"{per_epoch:6.1f} s per epoch")
    ratio = _timing.ratios(times["numpy"], times[args.backend])
    print(f"numpy / {args.backend} time per batch: {_timing.ratio_text(ratio)} (speed-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
