"""Convolutions against PyTorch on one CPU thread: one conv layer, a cnn-preset epoch, memory.

Two measurements of time, each alternating the systems in one process (medians of per-round
ratios, with their interquartile ranges):

  conv layer   forward + backward of one 3×3 conv, 32 → 64 channels, on a batch of 64 images
               of 26×26 (gradients for the input, the kernel and the bias), float32.
  cnn epoch    training steps of the cnn preset of nn.mnist (nn.cnn, Adam, batches of 128,
               dropout) on real MNIST, against the same network in PyTorch, from the same
               weights, on the same batches; seconds per epoch = median s/batch × batches.

Peak memory: each system trains `--memory-steps` cnn steps alone in a fresh child process;
the figure is the rise of its peak resident set (VmHWM) over what it held before the first
step (interpreter, libraries, data, model). tracemalloc cannot see PyTorch's allocator, so
both are measured the same way, by the OS.

Before timing, the two systems must agree: the same logits and gradients on one batch.

    python benchmarks/conv.py            # a few minutes
    python benchmarks/conv.py --quick    # smoke test, seconds (figures mean little)
    python benchmarks/conv.py --profile  # cProfile of the engine's cnn steps
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

# One BLAS/OpenMP thread, set before NumPy is imported: 2 noisy shared cores.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import _timing  # noqa: E402
import numpy as np  # noqa: E402

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from nn.data import load_mnist, prepare_images  # noqa: E402
from nn.mnist import PRESETS  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional: without it, the engine's figures alone
    torch = None

TARGET_LAYER_RATIO = 1.5  # engine / PyTorch, forward + backward of the conv layer
TARGET_EPOCH_RATIO = 1.5  # engine / PyTorch, seconds per cnn epoch
TARGET_MEMORY_RATIO = 2.0  # engine / PyTorch, peak memory of cnn training
PRESET = PRESETS["cnn"]


# ---------------------------------------------------------------------------------------------
# The conv layer.
# ---------------------------------------------------------------------------------------------
def layer_systems(batch: int, size: int, c_in: int, c_out: int, seed: int = 0) -> dict:
    """name -> run(round) timing forward + backward of one conv layer, same data for all."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, size, size, c_in)).astype(np.float32)
    w = (rng.standard_normal((3, 3, c_in, c_out)) / np.sqrt(9 * c_in)).astype(np.float32)
    b = np.zeros(c_out, dtype=np.float32)
    g = rng.standard_normal((batch, size - 2, size - 2, c_out)).astype(np.float32)
    X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))

    def engine(r: int) -> float:
        X.grad = W.grad = B.grad = None
        start = _timing.now()
        autograd.conv2d(X, W, B).backward(g)
        return _timing.now() - start

    systems = {"engine": engine}
    if torch is not None:
        tx = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
        tw = torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)), requires_grad=True)
        tb = torch.tensor(b, requires_grad=True)
        tg = torch.tensor(np.ascontiguousarray(g.transpose(0, 3, 1, 2)))

        def pytorch(r: int) -> float:
            tx.grad = tw.grad = tb.grad = None
            start = _timing.now()
            torch.nn.functional.conv2d(tx, tw, tb).backward(tg)
            return _timing.now() - start

        systems["pytorch"] = pytorch
        # the same numbers, or the comparison means nothing
        autograd.conv2d(X, W, B).backward(g)
        torch.nn.functional.conv2d(tx, tw, tb).backward(tg)
        for ours, theirs in ((X.grad.data, tx.grad.numpy().transpose(0, 2, 3, 1)),
                             (W.grad.data, tw.grad.numpy().transpose(2, 3, 1, 0))):
            gap = np.abs(ours - theirs).max() / np.abs(theirs).max()  # float32 sums of 36,864
            if gap > 1e-4:
                raise AssertionError(f"conv layer: the engine and PyTorch disagree ({gap:.1e})")
    return systems


# ---------------------------------------------------------------------------------------------
# The cnn preset: nn.cnn and the same network in PyTorch.
# ---------------------------------------------------------------------------------------------
class EngineCNN:
    name = "engine"

    def __init__(self, seed: int) -> None:
        self.model = nn.cnn(PRESET["hidden"], PRESET["activation"], PRESET["init"], rng=seed)
        self.optimizer = nn.Adam(self.model.parameters(), PRESET["lr"])
        self.loss = nn.CrossEntropyLoss()

    def weights(self) -> list[np.ndarray]:
        return [p.data for p in self.model.parameters()]

    def step(self, X: np.ndarray, y: np.ndarray) -> float:
        loss = self.loss(self.model(X), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


class TorchCNN:
    """The same layers in NCHW: conv 5×5 1→32, ReLU, pool, conv 5×5 32→64, ReLU, pool, 1024 →
    128, ReLU, dropout 0.5, 10; weights copied from the engine's, transposed."""

    name = "pytorch"

    def __init__(self, engine_weights: list[np.ndarray]) -> None:
        F = torch.nn
        self.model = F.Sequential(
            F.Conv2d(1, 32, 5), F.ReLU(), F.MaxPool2d(2), F.Conv2d(32, 64, 5), F.ReLU(),
            F.MaxPool2d(2), F.Flatten(), F.Linear(1024, 128), F.ReLU(), F.Dropout(0.5),
            F.Linear(128, 10))
        k1, b1, k2, b2, w3, b3, w4, b4 = engine_weights
        # the engine flattens (4, 4, 64) channels last, PyTorch (64, 4, 4) channels first
        w3 = w3.reshape(4, 4, 64, 128).transpose(2, 0, 1, 3).reshape(1024, 128)
        arrays = [k1.transpose(3, 2, 0, 1), b1, k2.transpose(3, 2, 0, 1), b2, w3.T, b3, w4.T, b4]
        with torch.no_grad():
            for p, a in zip(self.model.parameters(), arrays):
                p.copy_(torch.from_numpy(np.ascontiguousarray(a)))
        self.optimizer = torch.optim.Adam(self.model.parameters(), PRESET["lr"])

    def step(self, X: np.ndarray, y: np.ndarray) -> float:
        images = torch.from_numpy(X).reshape(-1, 1, 28, 28)
        loss = torch.nn.functional.cross_entropy(self.model(images), torch.from_numpy(y))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def check_agreement(X: np.ndarray, y: np.ndarray) -> str:
    """One batch, dropout off: the same logits and the same first-layer kernel gradient."""
    engine = EngineCNN(seed=1)
    pytorch = TorchCNN(engine.weights())
    engine.model.eval(), pytorch.model.eval()
    logits = engine.model(X)
    engine.loss(logits, y).backward()
    images = torch.from_numpy(X).reshape(-1, 1, 28, 28)
    t_logits = pytorch.model(images)
    torch.nn.functional.cross_entropy(t_logits, torch.from_numpy(y)).backward()
    logit_gap = float(np.abs(logits.data - t_logits.detach().numpy()).max())
    ours = engine.model[1].weight.grad.data
    theirs = pytorch.model[0].weight.grad.numpy().transpose(2, 3, 1, 0)
    grad_gap = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
    if logit_gap > 1e-3 or grad_gap > 1e-3:
        raise AssertionError(f"the engine and PyTorch disagree: logits Δ {logit_gap:.1e}, "
                             f"relative kernel gradient Δ {grad_gap:.1e}")
    return f"one batch agrees with PyTorch (logits Δ {logit_gap:.1e}, kernel grad Δ {grad_gap:.1e})"


def batches(n_train: int, steps: int, batch_size: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    order: list[np.ndarray] = []
    while len(order) < steps:
        permutation = rng.permutation(n_train)
        order += [permutation[i:i + batch_size]
                  for i in range(0, n_train - batch_size + 1, batch_size)]
    return order[:steps]


def epoch_systems(X: np.ndarray, y: np.ndarray, chunk: int, rounds: int, warmup: int):
    """(systems for _timing.alternate, before_round): each round, `chunk` shared batches."""
    engine = EngineCNN(seed=0)
    systems = {"engine": engine}
    if torch is not None:
        systems["pytorch"] = TorchCNN(engine.weights())
    order = batches(len(X), warmup + rounds * chunk, PRESET["batch_size"], seed=0)
    for system in systems.values():
        for index in order[:warmup]:
            system.step(X[index], y[index])
    shared: dict = {}

    def before_round(r: int) -> None:
        start = warmup + r * chunk
        shared["batches"] = [(X[i], y[i]) for i in order[start:start + chunk]]

    def timed(system):
        def run(r: int) -> float:
            start = _timing.now()
            for xb, yb in shared["batches"]:
                system.step(xb, yb)
            return (_timing.now() - start) / len(shared["batches"])
        return run

    return {name: timed(s) for name, s in systems.items()}, before_round


# ---------------------------------------------------------------------------------------------
# Memory: each system alone in a child process, peak RSS above its starting point.
# ---------------------------------------------------------------------------------------------
def resident_kib(field: str) -> int:
    """VmRSS or VmHWM (peak) of this process, in KiB, from /proc (Linux only)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(system_name: str, steps: int, mnist_dir: str | None) -> None:
    """Runs in a child: train `steps` cnn steps; print the rise of the peak RSS as JSON."""
    (x_train, y_train), _ = load_mnist(mnist_dir, progress=False)
    X, y = prepare_images(x_train), y_train.astype(np.int64)
    engine = EngineCNN(seed=0)
    system = engine if system_name == "engine" else TorchCNN(engine.weights())
    if system_name != "engine":
        del engine
    order = batches(len(X), steps, PRESET["batch_size"], seed=0)
    x_buffer = np.empty((PRESET["batch_size"], X.shape[1]), dtype=X.dtype)
    y_buffer = np.empty(PRESET["batch_size"], dtype=y.dtype)
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = resident_kib("VmRSS")
    for index in order:
        system.step(np.take(X, index, axis=0, out=x_buffer), np.take(y, index, out=y_buffer))
    print(json.dumps({"before_kib": before, "peak_kib": resident_kib("VmHWM"),
                      "after_kib": resident_kib("VmRSS")}))


def measure_memory(names: list[str], steps: int, mnist_dir: str | None) -> dict[str, dict]:
    results = {}
    for name in names:
        command = [sys.executable, __file__, "--memory-child", name, "--memory-steps",
                   str(steps)] + (["--mnist-dir", mnist_dir] if mnist_dir else [])
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


# ---------------------------------------------------------------------------------------------
# Report.
# ---------------------------------------------------------------------------------------------
def report_times(title: str, times: dict[str, list[float]], scale: float, unit: str) -> list[str]:
    lines = [f"  {title}", f"  {'system':<10}{unit:>12}{'range (q1-q3)':>22}{'vs PyTorch':>24}"]
    for name, t in times.items():
        q1, q3 = _timing.quartiles(t)
        ratio = ("" if "pytorch" not in times or name == "pytorch"
                 else _timing.ratio_text(_timing.ratios(t, times["pytorch"])))
        lines.append(f"  {name:<10}{_timing.median(t) * scale:12.3f}"
                     f"{f'{q1 * scale:.3f}-{q3 * scale:.3f}':>22}{ratio:>24}")
    return lines


def verdict_line(what: str, ratio: float, target: float) -> str:
    return f"  {what} {ratio:.2f} <= {target}  -> {_timing.verdict(ratio <= target)}"


def mnist_root(argument: str | None) -> str | None:
    """--mnist-dir, else $MNIST_DIR, else ../shared/data/mnist beside the repository."""
    if argument:
        return argument
    if os.environ.get("MNIST_DIR"):
        return os.environ["MNIST_DIR"]
    beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    return str(beside) if beside.is_dir() else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke-test run")
    parser.add_argument("--rounds", type=int, help="rounds per measurement (layer 30, cnn 20)")
    parser.add_argument("--chunk", type=int, help="cnn batches per system per round (10)")
    parser.add_argument("--memory-steps", type=int, help="cnn steps per memory child (200)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument("--mnist-dir", help="folder with the MNIST .gz files")
    parser.add_argument("--cpu", type=int, help="pin the process to this CPU")
    parser.add_argument("--profile", action="store_true", help="cProfile the engine's cnn steps")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    memory_steps = args.memory_steps or (8 if args.quick else 200)
    mnist_dir = mnist_root(args.mnist_dir)
    if torch is not None:
        torch.set_num_threads(1)
    if args.memory_child:
        memory_child(args.memory_child, memory_steps, mnist_dir)
        return

    cpu_line = _timing.pin_to_cpu(args.cpu)
    malloc_line = _timing.steady_malloc(True)
    versions = f"PyTorch {torch.__version__}, 1 thread" if torch else "PyTorch not installed"
    print(_timing.header("conv: convolution layer and cnn epoch, float32", cpu_line,
                         [malloc_line, versions]))
    (x_train, y_train), _ = load_mnist(mnist_dir, progress=False)
    n_train = len(x_train) - PRESET["validation"]
    X, y = prepare_images(x_train)[:n_train], y_train[:n_train].astype(np.int64)

    if args.profile:
        engine = EngineCNN(seed=0)
        order = batches(n_train, 10 if args.quick else 100, PRESET["batch_size"], seed=0)
        _timing.print_profile(lambda: [engine.step(X[i], y[i]) for i in order],
                              f"engine, cnn preset, {len(order)} steps", top=20)
        return

    verdicts = []
    layer_rounds = args.rounds or (3 if args.quick else 30)
    shape = (8, 10, 32, 64) if args.quick else (64, 26, 32, 64)
    print(f"\nconv layer: 3×3, {shape[2]} → {shape[3]} channels, batch {shape[0]} at "
          f"{shape[1]}×{shape[1]}, forward + backward (input, kernel, bias)")
    times = _timing.alternate(layer_systems(*shape), layer_rounds)
    print("\n".join(report_times(f"{layer_rounds} rounds", times, 1e3, "ms")))
    if torch is not None:
        ratio = _timing.median(_timing.ratios(times["engine"], times["pytorch"]))
        verdicts.append(verdict_line("conv layer: engine / PyTorch time", ratio,
                                     TARGET_LAYER_RATIO))

    chunk, rounds = args.chunk or (2 if args.quick else 10), args.rounds or (3 if args.quick
                                                                              else 20)
    per_epoch = n_train / PRESET["batch_size"]
    print(f"\ncnn preset: {n_train} images = {per_epoch:.1f} batches of {PRESET['batch_size']}"
          f" per epoch; {rounds} rounds of {chunk} batches per system")
    if torch is not None:
        print(f"  {check_agreement(X[:PRESET['batch_size']], y[:PRESET['batch_size']])}")
    systems, before_round = epoch_systems(X, y, chunk, rounds, warmup=chunk)
    times = _timing.alternate(systems, rounds, before_round)
    print("\n".join(report_times("seconds per epoch (median s/batch × batches)", times,
                                 per_epoch, "s/epoch")))
    if torch is not None:
        ratio = _timing.median(_timing.ratios(times["engine"], times["pytorch"]))
        verdicts.append(verdict_line("cnn epoch: engine / PyTorch time", ratio,
                                     TARGET_EPOCH_RATIO))

    if not args.no_memory:
        names = ["engine"] + (["pytorch"] if torch is not None else [])
        memory = measure_memory(names, memory_steps, mnist_dir)
        print(f"\nmemory: peak RSS rise over {memory_steps} cnn steps, each system alone in a "
              f"child process (MiB)")
        print(f"  {'system':<10}{'peak rise':>12}{'after':>10}")
        for name, m in memory.items():
            print(f"  {name:<10}{(m['peak_kib'] - m['before_kib']) / 1024:12.1f}"
                  f"{(m['after_kib'] - m['before_kib']) / 1024:10.1f}")
        if torch is not None:
            rise = {name: m["peak_kib"] - m["before_kib"] for name, m in memory.items()}
            verdicts.append(verdict_line("cnn memory: engine / PyTorch peak rise",
                                         rise["engine"] / max(rise["pytorch"], 1),
                                         TARGET_MEMORY_RATIO))

    print("\ntargets")
    print("\n".join(verdicts) if verdicts else "  (PyTorch not installed: no ratios)")
    if args.quick:
        print("  (--quick: a smoke test; too few rounds for these verdicts to mean much)")


if __name__ == "__main__":
    main()
