"""Seconds per MNIST epoch: `nn` and raw `autograd` next to lecture 11's hand-written NumPy MLP.

These systems train the same network (float32, same initial weights, same batches):

  numpy         lecture 11's forward and backward written out by hand (Z1 = X @ W1 + B1, ...,
                dL = (Pred - Y)/N, dW3 = A2ᵀ dL, ...), then W -= lr·dW (or the same Adam).
  engine (raw)  autograd directly: Tensor parameters, autograd.linear, sigmoid/relu,
                softmax_cross_entropy, backward(); the same array update as numpy.
  nn            nn.Sequential of nn.Linear + activations, nn.CrossEntropyLoss, nn.optim.
  nn compiled   the same, each step one autograd.compile'd program.
  notes loss    (lecture preset) raw autograd with the notes' written-out softmax, log, mean;
  notes compiled  and the same, compiled.

They alternate every --chunk batches on the same batches, in one process; a system's time is
the median over chunks, and each ratio is the median of per-chunk ratios. Seconds per epoch
are extrapolated: median seconds per batch x (training images / batch size). Batch gathering is
outside the timing. Peak memory (tracemalloc) is measured afterwards, one system at a time.

    python benchmarks/mnist_mlp.py            # both presets, under a minute
    python benchmarks/mnist_mlp.py --quick    # smoke test, a few seconds
    python benchmarks/mnist_mlp.py --profile  # cProfile of nn, eager and compiled
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import math
import os
import tracemalloc
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

TARGET_TIME_RATIO = 1.10  # engine / numpy, seconds per epoch
TARGET_MEMORY_RATIO = 1.2  # engine / numpy, tracemalloc peak
# Compiled steps (issue 9): time against numpy, and peak memory at most their eager twin's.
COMPILED_TIME_RATIO = {"nn compiled": 1.00, "notes compiled": 1.05}
EAGER_TWIN = {"nn compiled": "nn", "notes compiled": "notes loss"}


# ---------------------------------------------------------------------------------------------
# The presets: those of nn.mnist, the command that trains them (lr decay is left out: it
# changes no step's cost).
# ---------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    sizes: tuple[int, ...]  # 784, hidden..., 10
    activation: str  # "sigmoid" or "relu"
    init: str  # weights; biases start at 0
    optimizer: str  # "sgd" (plain) or "adam"
    lr: float
    batch_size: int
    shuffle: bool
    validation: int  # the last `validation` training images are held out (not trained on)


def load_presets() -> dict[str, Preset]:
    """nn.mnist.PRESETS as Presets: the benchmark times what `python -m nn.mnist` trains."""
    presets = {}
    for name, config in PRESETS.items():
        if config.get("network", "mlp") != "mlp":  # the cnn preset: benchmarks/conv.py
            continue
        if config["optimizer"] == "sgd" and config["momentum"]:
            raise NotImplementedError(f"preset {name}: SGD with momentum is not benchmarked")
        presets[name] = Preset(name, (784, *config["hidden"], 10), config["activation"],
                               config["init"], config["optimizer"], config["lr"],
                               config["batch_size"], config["shuffle"], config["validation"])
    return presets


def initial_weights(preset: Preset, seed: int) -> list[np.ndarray]:
    """[W1, B1, W2, B2, W3, B3] in float32, W of shape (in, out); every system copies these."""
    rng = np.random.default_rng(seed)
    arrays = []
    for n_in, n_out in zip(preset.sizes[:-1], preset.sizes[1:]):
        weight = nn.init.initialize(preset.init, (n_in, n_out), rng, np.float32)
        arrays += [weight, np.zeros(n_out, dtype=np.float32)]
    return arrays


# ---------------------------------------------------------------------------------------------
# Array optimizers, shared by numpy and engine (raw): the same update nn.optim applies.
# ---------------------------------------------------------------------------------------------
class ArraySGD:
    """W -= lr·dW."""

    def __init__(self, params: list[np.ndarray], lr: float) -> None:
        self.params, self.lr = params, lr

    def step(self, grads: list[np.ndarray]) -> None:
        for p, g in zip(self.params, grads):
            p -= self.lr * g


class ArrayAdam:
    """m = β₁m + (1-β₁)g, v = β₂v + (1-β₂)g², p -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε).

    In place, through one scratch buffer per parameter, as nn.optim.Adam does.
    """

    def __init__(self, params: list[np.ndarray], lr: float, betas=(0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params, self.lr, (self.beta1, self.beta2), self.eps = params, lr, betas, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.scratch = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        beta1, beta2 = self.beta1, self.beta2
        step_size = self.lr / (1 - beta1**self.t)
        root_correction = math.sqrt(1 - beta2**self.t)
        for p, g, m, v, s in zip(self.params, grads, self.m, self.v, self.scratch):
            m *= beta1
            m += np.multiply(g, 1 - beta1, out=s)
            v *= beta2
            v += np.multiply(np.square(g, out=s), 1 - beta2, out=s)
            if self.t % 16 == 0:  # subnormals flushed, as nn.optim.Adam does (see there)
                tiny = np.finfo(v.dtype).tiny
                m[np.abs(m) < tiny] = 0
                v[v < tiny] = 0
            np.sqrt(v, out=s)
            s /= root_correction
            s += self.eps
            np.divide(m, s, out=s)
            s *= step_size
            p -= s


def array_optimizer(preset: Preset, params: list[np.ndarray]):
    if preset.optimizer == "adam":
        return ArrayAdam(params, preset.lr)
    return ArraySGD(params, preset.lr)


# ---------------------------------------------------------------------------------------------
# The three systems. Each has step(X, y) -> loss and parameters() -> arrays.
# ---------------------------------------------------------------------------------------------
def sigmoid(Z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # e^-Z overflows to inf for Z < -88: the right 0
        return 1 / (1 + np.exp(-Z))


def sigmoid_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    return dA * A * (1 - A)


def relu(Z: np.ndarray) -> np.ndarray:
    return np.maximum(Z, 0)


def relu_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    return dA * (Z > 0)


class NumpyMLP:
    """Lecture 11's three dense layers, forward and backward written out (softmax shifted)."""

    name = "numpy"

    def __init__(self, preset: Preset, weights: list[np.ndarray]) -> None:
        if len(preset.sizes) != 4:
            raise NotImplementedError("the hand-written network has exactly 3 dense layers")
        self.params = [w.copy() for w in weights]
        self.g, self.g_backward = {"sigmoid": (sigmoid, sigmoid_backward),
                                   "relu": (relu, relu_backward)}[preset.activation]
        self.optimizer = array_optimizer(preset, self.params)

    def parameters(self) -> list[np.ndarray]:
        return self.params

    def step(self, X: np.ndarray, labels: np.ndarray) -> float:
        W1, B1, W2, B2, W3, B3 = self.params
        g, g_backward = self.g, self.g_backward
        N = len(X)
        rows = np.arange(N)
        # forward
        Z1 = X @ W1 + B1
        A1 = g(Z1)
        Z2 = A1 @ W2 + B2
        A2 = g(Z2)
        L = A2 @ W3 + B3
        shifted = L - L.max(axis=1, keepdims=True)  # the lecture's softmax, without overflow
        E = np.exp(shifted)
        S = E.sum(axis=1, keepdims=True)
        Pred = E / S
        J = np.mean(np.log(S[:, 0]) - shifted[rows, labels])  # -mean log Pred[n, y_n]
        # backward
        Y = np.zeros_like(Pred)
        Y[rows, labels] = 1
        dL = (Pred - Y) / N
        dA2 = dL @ W3.T
        dW3 = A2.T @ dL
        dB3 = np.sum(dL, axis=0)
        dZ2 = g_backward(dA2, Z2, A2)
        dA1 = dZ2 @ W2.T
        dW2 = A1.T @ dZ2
        dB2 = np.sum(dZ2, axis=0)
        dZ1 = g_backward(dA1, Z1, A1)
        dW1 = X.T @ dZ1
        dB1 = np.sum(dZ1, axis=0)
        # update
        self.optimizer.step([dW1, dB1, dW2, dB2, dW3, dB3])
        return float(J)


class RawEngineMLP:
    """autograd directly: Tensor parameters, fused linear, activation, fused cross-entropy."""

    name = "engine (raw)"

    def __init__(self, preset: Preset, weights: list[np.ndarray]) -> None:
        self.params = [Tensor(w, requires_grad=True) for w in weights]
        self.g = {"sigmoid": autograd.sigmoid, "relu": autograd.relu}[preset.activation]
        self.optimizer = array_optimizer(preset, [p.data for p in self.params])

    def parameters(self) -> list[np.ndarray]:
        return [p.data for p in self.params]

    def step(self, X: np.ndarray, labels: np.ndarray) -> float:
        W1, B1, W2, B2, W3, B3 = self.params
        g = self.g
        A1 = g(autograd.linear(X, W1, B1))
        A2 = g(autograd.linear(A1, W2, B2))
        loss = autograd.softmax_cross_entropy(autograd.linear(A2, W3, B3), labels)
        loss.backward()
        self.optimizer.step([p.grad.data for p in self.params])
        for p in self.params:
            p.grad = None
        return loss.item()


class NnMLP:
    """nn's way: Sequential of Linear + activation, CrossEntropyLoss, nn.optim."""

    name = "nn"

    def __init__(self, preset: Preset, weights: list[np.ndarray]) -> None:
        activation = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[preset.activation]
        layers = []
        for n_in, n_out in zip(preset.sizes[:-1], preset.sizes[1:]):
            if layers:
                layers.append(activation())
            layers.append(nn.Linear(n_in, n_out, init=preset.init))
        self.model = nn.Sequential(*layers)
        params = self.model.parameters()
        for p, w in zip(params, weights, strict=True):
            np.copyto(p.data, w)
        self.loss_fn = nn.CrossEntropyLoss()
        if preset.optimizer == "adam":
            self.optimizer = nn.optim.Adam(params, lr=preset.lr)
        else:
            self.optimizer = nn.optim.SGD(params, lr=preset.lr)

    def parameters(self) -> list[np.ndarray]:
        return [p.data for p in self.model.parameters()]

    def step(self, X: np.ndarray, labels: np.ndarray) -> float:
        loss = self.loss_fn(self.model(X), labels)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


class CompiledNnMLP(NnMLP):
    """nn's way, with forward and backward run as one autograd.compile'd program."""

    name = "nn compiled"

    def __init__(self, preset: Preset, weights: list[np.ndarray]) -> None:
        super().__init__(preset, weights)
        self.compiled = nn.train.compiled_step(self.model, self.loss_fn)

    def step(self, X: np.ndarray, labels: np.ndarray) -> float:
        self.optimizer.zero_grad()
        loss, _ = self.compiled(X, labels)
        self.optimizer.step()
        return loss.item()


class NotesLossMLP(RawEngineMLP):
    """Raw autograd with the loss written out as the notes write it: Pred = exp(L) / Σ exp(L),
    J = mean(-log Pred[n, y_n]) (softmax, log and mean as separate ops)."""

    name = "notes loss"

    def loss(self, X: np.ndarray, labels: np.ndarray) -> Tensor:
        W1, B1, W2, B2, W3, B3 = self.params
        A1 = self.g(X @ W1 + B1)
        A2 = self.g(A1 @ W2 + B2)
        L = A2 @ W3 + B3
        E = L.exp()
        Pred = E / E.sum(axis=1, keepdims=True)
        return -Pred[np.arange(len(X)), labels].log().mean()

    def step(self, X: np.ndarray, labels: np.ndarray) -> float:
        loss = self.loss(X, labels)
        loss.backward()
        return self.update(loss)

    def update(self, loss: Tensor) -> float:
        self.optimizer.step([p.grad.data for p in self.params])
        for p in self.params:
            p.grad = None
        return loss.item()


class CompiledNotesLossMLP(NotesLossMLP):
    """The notes' written-out loss, compiled."""

    name = "notes compiled"

    def __init__(self, preset: Preset, weights: list[np.ndarray]) -> None:
        super().__init__(preset, weights)
        self.compiled = autograd.compile(self.loss)

    def step(self, X: np.ndarray, labels: np.ndarray) -> float:
        return self.update(self.compiled(X, labels))


def system_classes(preset: Preset | None = None) -> list[type]:
    """The hand-written loop first: every ratio is against it."""
    systems = [NumpyMLP, RawEngineMLP, NnMLP, CompiledNnMLP]
    if preset is not None and preset.activation == "sigmoid":  # the notes' own network
        systems += [NotesLossMLP, CompiledNotesLossMLP]
    return systems


# ---------------------------------------------------------------------------------------------
# Data and batches.
# ---------------------------------------------------------------------------------------------
def mnist_root(argument: str | None) -> str | None:
    """--mnist-dir, else $MNIST_DIR, else ../shared/data/mnist beside the repository."""
    if argument:
        return argument
    if os.environ.get("MNIST_DIR"):
        return os.environ["MNIST_DIR"]
    beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    return str(beside) if beside.is_dir() else None  # None: nn.data's cache (downloads)


def schedule(preset: Preset, n_train: int, steps: int, seed: int) -> list:
    """Indices of `steps` full batches: in order (slices), or reshuffled every epoch."""
    rng = np.random.default_rng(seed)
    per_epoch = n_train // preset.batch_size
    batches: list = []
    while len(batches) < steps:
        order = rng.permutation(n_train) if preset.shuffle else None
        for b in range(per_epoch):
            part = slice(b * preset.batch_size, (b + 1) * preset.batch_size)
            batches.append(part if order is None else order[part])
    return batches[:steps]


# ---------------------------------------------------------------------------------------------
# Measurements.
# ---------------------------------------------------------------------------------------------
def check_agreement(preset: Preset, X: np.ndarray, y: np.ndarray, steps: int = 3) -> str:
    """All systems take the same first steps from the same weights, or they are not comparable."""
    weights = initial_weights(preset, seed=1)
    systems = [cls(preset, weights) for cls in system_classes(preset)]
    losses = {s.name: [] for s in systems}
    for index in schedule(preset, len(X), steps, seed=1):
        for s in systems:
            losses[s.name].append(s.step(X[index], y[index]))
    reference = systems[0].parameters()
    scale = max(float(np.abs(w).max()) for w in reference)
    parts = []
    for s in systems[1:]:
        loss_gap = max(abs(a - b) for a, b in zip(losses[s.name], losses["numpy"]))
        param_gap = max(float(np.abs(a - b).max()) for a, b in zip(s.parameters(), reference))
        # Adam's first steps are ≈ lr·sign(g): a float-noise g may flip one entry by 2·lr.
        allowed = 1e-4 * scale + (3 * preset.lr if preset.optimizer == "adam" else 0)
        if loss_gap > 1e-3 or param_gap > allowed:
            raise AssertionError(f"{preset.name}: {s.name} disagrees with numpy after {steps} "
                                 f"steps (loss gap {loss_gap:.2e}, param gap {param_gap:.2e})")
        parts.append(f"{s.name}: loss Δ {loss_gap:.1e}, param Δ {param_gap:.1e}")
    return f"{steps} identical steps agree with numpy ({'; '.join(parts)})"


def time_preset(preset: Preset, X: np.ndarray, y: np.ndarray, chunks: int, chunk: int,
                warmup: int) -> dict:
    """Alternate the systems every `chunk` batches (same batches for all); per-chunk seconds."""
    weights = initial_weights(preset, seed=0)
    systems = {cls.name: cls(preset, weights) for cls in system_classes(preset)}
    order = schedule(preset, len(X), warmup + chunks * chunk, seed=0)
    warm = [(X[i], y[i]) for i in order[:warmup]]
    for system in systems.values():
        for xb, yb in warm:
            system.step(xb, yb)

    shared: dict = {}
    last_loss: dict[str, float] = {}

    def before_round(r: int) -> None:
        parts = order[warmup + r * chunk: warmup + (r + 1) * chunk]
        shared["batches"] = [(X[i], y[i]) for i in parts]

    def timed(system):
        def run(r: int) -> float:
            batches, total = shared["batches"], 0.0
            start = _timing.now()
            for xb, yb in batches:
                total += system.step(xb, yb)
            elapsed = _timing.now() - start
            last_loss[system.name] = total / len(batches)
            return elapsed / len(batches)
        return run

    times = _timing.alternate({name: timed(s) for name, s in systems.items()}, chunks,
                              before_round)
    return {"times": times, "loss": last_loss}


def memory_preset(preset: Preset, X: np.ndarray, y: np.ndarray, steps: int,
                  early: int) -> dict[str, tuple[int, int, int]]:
    """tracemalloc (peak, current after `early` steps, current after `steps`) per system.

    One system at a time (tracing slows everything). Its weights and optimizer state are made
    inside the trace, so they count; batches are gathered into buffers made outside it.
    """
    weights = initial_weights(preset, seed=0)
    order = schedule(preset, len(X), steps, seed=0)
    x_buffer = np.empty((preset.batch_size, X.shape[1]), dtype=X.dtype)
    y_buffer = np.empty(preset.batch_size, dtype=y.dtype)
    results = {}
    for cls in system_classes(preset):
        gc.collect()
        tracemalloc.start()
        system = cls(preset, weights)
        current_early = 0
        for step, index in enumerate(order, 1):
            if isinstance(index, slice):
                xb, yb = X[index], y[index]
            else:
                xb = np.take(X, index, axis=0, out=x_buffer)
                yb = np.take(y, index, out=y_buffer)
            system.step(xb, yb)
            if step == early:
                current_early = tracemalloc.get_traced_memory()[0]
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del system
        results[cls.name] = (peak, current_early, current)
    return results


# ---------------------------------------------------------------------------------------------
# Report.
# ---------------------------------------------------------------------------------------------
def report_time(preset: Preset, n_train: int, timing: dict, chunk: int) -> list[str]:
    times, losses = timing["times"], timing["loss"]
    per_epoch = n_train / preset.batch_size
    numpy_times = times["numpy"]
    lines = [f"  {'system':<14}{'ms/batch':>10}{'s/epoch':>10}{'vs numpy':>22}"
             f"{'loss (last chunk)':>20}"]
    for name, t in times.items():
        ratio = "1" if name == "numpy" else _timing.ratio_text(_timing.ratios(t, numpy_times))
        lines.append(f"  {name:<14}{_timing.median(t) * 1e3:10.3f}"
                     f"{_timing.median(t) * per_epoch:10.2f}{ratio:>22}{losses[name]:20.4f}")
    lines.append(f"  ({len(numpy_times)} chunks of {chunk} batches per system; an epoch is "
                 f"{n_train} images = {per_epoch:.1f} batches of {preset.batch_size})")
    return lines


def report_memory(memory: dict, steps: int, early: int) -> list[str]:
    mib = 1 / 2**20
    reference = memory["numpy"][0]
    lines = [f"  {'system':<14}{'peak MiB':>10}{'vs numpy':>10}"
             f"{f'MiB @{early}':>12}{f'MiB @{steps}':>12}{'drift KiB':>11}"]
    for name, (peak, current_early, current) in memory.items():
        lines.append(f"  {name:<14}{peak * mib:10.2f}{peak / reference:9.2f}×"
                     f"{current_early * mib:12.2f}{current * mib:12.2f}"
                     f"{(current - current_early) / 1024:11.1f}")
    return lines


def targets(name: str, timing: dict, memory: dict | None, drift_limit: int) -> list[str]:
    times = timing["times"]
    lines = []
    for system in times:
        if system == "numpy":
            continue
        ratio = _timing.median(_timing.ratios(times[system], times["numpy"]))
        target = COMPILED_TIME_RATIO.get(system, TARGET_TIME_RATIO)
        lines.append(f"  {name}: {system} / numpy time {ratio:.2f} <= {target:.2f}  "
                     f"-> {_timing.verdict(ratio <= target)}")
        twin = EAGER_TWIN.get(system)
        if memory is not None and twin in memory:
            twin_ratio = memory[system][0] / memory[twin][0]
            lines.append(f"  {name}: {system} / {twin} peak memory {twin_ratio:.2f} <= 1.00  "
                         f"-> {_timing.verdict(twin_ratio <= 1.0)}")
        if memory is not None:
            peak_ratio = memory[system][0] / memory["numpy"][0]
            drift = memory[system][2] - memory[system][1]
            peak_ok = _timing.verdict(peak_ratio <= TARGET_MEMORY_RATIO)
            lines.append(f"  {name}: {system} / numpy peak memory {peak_ratio:.2f} <= "
                         f"{TARGET_MEMORY_RATIO}  -> {peak_ok}; flat (drift "
                         f"{drift / 1024:.1f} KiB) -> {_timing.verdict(abs(drift) <= drift_limit)}")
    return lines


def profile(presets: dict[str, Preset], X: np.ndarray, y: np.ndarray, steps: int) -> None:
    """cProfile of the nn side, eager and compiled, for `steps` steps per preset."""
    for preset in presets.values():
        for cls in (NnMLP, CompiledNnMLP):
            system = cls(preset, initial_weights(preset, seed=0))
            batches = [(X[i], y[i]) for i in schedule(preset, len(X), steps + 10, seed=0)]
            for xb, yb in batches[:10]:
                system.step(xb, yb)

            def run(system=system, batches=batches[10:]) -> None:
                for xb, yb in batches:
                    system.step(xb, yb)

            _timing.print_profile(run, f"{cls.name}, preset {preset.name}, {steps} steps")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke-test run")
    parser.add_argument("--preset", action="append", help="only this preset (repeatable)")
    parser.add_argument("--chunk", type=int, help="batches per system between switches (50)")
    parser.add_argument("--chunks", type=int,
                        help="chunks per system (default: 2 epochs' worth, at least 30)")
    parser.add_argument("--memory-steps", type=int, help="steps traced per system (1000)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument("--mnist-dir", help="folder with the MNIST .gz files")
    parser.add_argument("--cpu", type=int, help="pin the process to this CPU")
    parser.add_argument("--default-malloc", action="store_true",
                        help="keep glibc's heap trimming (see _timing.steady_malloc)")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of the nn side instead")
    args = parser.parse_args(argv)
    chunk = args.chunk or (10 if args.quick else 50)
    memory_steps = args.memory_steps or (60 if args.quick else 1000)
    early = min(100, memory_steps // 3)

    presets = load_presets()
    if args.preset:
        presets = {name: presets[name] for name in args.preset}
    cpu_line = _timing.pin_to_cpu(args.cpu)
    malloc_line = _timing.steady_malloc(not args.default_malloc)
    systems = ", ".join(cls.name for cls in system_classes())
    print(_timing.header("mnist_mlp: training step time and memory, float32", cpu_line,
                         [malloc_line, f"systems: {systems}", "presets from nn.mnist.PRESETS"]))

    (x_train, y_train), _ = load_mnist(mnist_root(args.mnist_dir), progress=False)
    X_all, y_all = prepare_images(x_train), y_train.astype(np.int64)
    if args.profile:
        profile(presets, X_all, y_all, steps=60 if args.quick else 400)
        return

    verdicts = []
    for preset in presets.values():
        n_train = len(X_all) - preset.validation
        X, y = X_all[:n_train], y_all[:n_train]
        epoch_batches = n_train // preset.batch_size
        chunks = args.chunks or (3 if args.quick else max(30, math.ceil(2 * epoch_batches / chunk)))
        print(f"\npreset {preset.name}: {'-'.join(map(str, preset.sizes))}, {preset.activation}, "
              f"init {preset.init}, {preset.optimizer} lr {preset.lr}, batch {preset.batch_size}"
              f"{', shuffled' if preset.shuffle else ', in order'}")
        print(f"  {check_agreement(preset, X, y)}")
        timing = time_preset(preset, X, y, chunks, chunk, warmup=chunk // 5 + 1)
        print("\n".join(report_time(preset, n_train, timing, chunk)))
        memory = None
        if not args.no_memory:
            memory = memory_preset(preset, X, y, memory_steps, early)
            print(f"\n  memory (tracemalloc, one system at a time, {memory_steps} steps; "
                  f"weights and optimizer state included)")
            print("\n".join(report_memory(memory, memory_steps, early)))
        verdicts += targets(preset.name, timing, memory, drift_limit=64 * 1024)

    print("\ntargets")
    print("\n".join(verdicts))
    if args.quick:
        print("  (--quick: a smoke test; too few chunks for these verdicts to mean much)")


if __name__ == "__main__":
    main()
