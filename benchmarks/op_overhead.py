"""Per-op overhead: a chain of 1,000 elementwise ops, forward + backward, engine vs plain NumPy.

The chain repeats [x * 4, x - 2, tanh(x), sigmoid(x)] (values stay in (0, 1), gradients stay
far from underflow) on a 1-element and a 100x100 float64 tensor, then `y.sum().backward()`.
The NumPy side does the same ufuncs by hand and keeps the intermediates the backward needs, as
a tape would; PyTorch (if importable) runs the same chain. All run in one process, alternating
every round; the table shows medians and the median of per-round ratios.

    python benchmarks/op_overhead.py            # under a minute
    python benchmarks/op_overhead.py --quick    # smoke test, a few seconds
    python benchmarks/op_overhead.py --profile  # cProfile of the engine's 1-element chain
"""

from __future__ import annotations

import argparse
import os

# One BLAS/OpenMP thread, set before NumPy (or torch) is imported: 2 noisy shared cores.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import _timing  # noqa: E402
import numpy as np  # noqa: E402

from autograd import Tensor  # noqa: E402

try:
    import torch  # optional: a comparison column, never required
except ImportError:
    torch = None

CHAIN_LENGTH = 1000
BLOCK = 4  # ops per repetition of the pattern
C_MUL, C_ADD = 4.0, -2.0  # sigmoid output in (0, 1) -> x*4-2 in (-2, 2) -> tanh -> sigmoid
SIZES = {"1": (1,), "100x100": (100, 100)}
TARGET_ENGINE_OVER_TORCH_1 = 1.0  # 1-element chain: per-op overhead at most PyTorch's
TARGET_ENGINE_OVER_NUMPY_100 = 1.3  # 100x100 chain: within 1.3x of plain NumPy


# ---------------------------------------------------------------------------------------------
# The three implementations of the same chain. Each returns (forward s, backward s, dy/dx).
# ---------------------------------------------------------------------------------------------
def _tape_chain(x, blocks: int) -> tuple[float, float, object]:
    """The chain on a leaf of an autodiff system (ours or PyTorch: same methods)."""
    start = _timing.now()
    y = x
    for _ in range(blocks):
        y = y * C_MUL
        y = y + C_ADD
        y = y.tanh()
        y = y.sigmoid()
    loss = y.sum()
    middle = _timing.now()
    loss.backward()
    end = _timing.now()
    return middle - start, end - middle, x.grad


def engine_chain(x0: np.ndarray, blocks: int) -> tuple[float, float, np.ndarray]:
    forward, backward, grad = _tape_chain(Tensor(x0, requires_grad=True), blocks)
    return forward, backward, grad.data


def numpy_chain(x0: np.ndarray, blocks: int) -> tuple[float, float, np.ndarray]:
    """Plain NumPy as a student writes it; sigmoid is lecture 11's 1/(1 + np.exp(-x)).

    The sigmoid's input is a tanh, in (-1, 1), so exp cannot overflow and needs no errstate.
    """
    start = _timing.now()
    tape = []
    y = x0
    for _ in range(blocks):
        y = y * C_MUL
        y = y + C_ADD
        t = np.tanh(y)
        s = 1 / (1 + np.exp(-t))
        tape.append((t, s))
        y = s
    y.sum()
    middle = _timing.now()
    g = np.ones_like(y)
    while tape:
        t, s = tape.pop()
        g = g * s * (1 - s)  # sigmoid
        g = g * (1 - t * t)  # tanh
        g = g * C_MUL  # x * c (x + c passes g through)
    end = _timing.now()
    return middle - start, end - middle, g


def torch_chain(x0: np.ndarray, blocks: int) -> tuple[float, float, np.ndarray]:
    forward, backward, grad = _tape_chain(torch.tensor(x0, requires_grad=True), blocks)
    return forward, backward, grad.numpy()


# ---------------------------------------------------------------------------------------------
# Measuring.
# ---------------------------------------------------------------------------------------------
def systems_for(shape: tuple[int, ...], blocks: int, reps: int,
                splits: dict[str, list[tuple[float, float, float]]]) -> dict:
    """One timed callable per system: `reps` chains per round, seconds per chain returned."""
    x0 = np.random.default_rng(0).uniform(0.1, 0.9, size=shape)
    chains = {"engine": engine_chain, "numpy": numpy_chain}
    if torch is not None:
        chains["torch"] = torch_chain

    def timed(chain):
        def run(round_index: int) -> float:
            forward = backward = 0.0
            faults = _timing.minor_page_faults()
            for _ in range(reps):
                f, b, _ = chain(x0, blocks)
                forward, backward = forward + f, backward + b
            faults = _timing.minor_page_faults() - faults
            splits[chain.__name__].append((forward / reps, backward / reps, faults / reps))
            return (forward + backward) / reps
        return run

    return {name: timed(chain) for name, chain in chains.items()}


def check_gradients(shape: tuple[int, ...], blocks: int) -> str:
    """All implementations must compute the same gradient, or the comparison means nothing."""
    x0 = np.random.default_rng(0).uniform(0.1, 0.9, size=shape)
    reference = numpy_chain(x0, blocks)[2]
    others = [("engine", engine_chain)] + ([("torch", torch_chain)] if torch else [])
    worst = 0.0
    for name, chain in others:
        g = chain(x0, blocks)[2]
        error = float(np.max(np.abs(g - reference) / (np.abs(reference) + 1e-300)))
        if not np.allclose(g, reference, rtol=1e-9, atol=0):
            raise AssertionError(f"{name}: gradient differs from NumPy's (max rel. error {error})")
        worst = max(worst, error)
    return f"gradients agree (max rel. diff {worst:.1e}, |dy/dx| ~ {np.abs(reference).mean():.1e})"


def calibrate(shape: tuple[int, ...], blocks: int, budget: float) -> int:
    """Chains per round so that the engine's share of a round takes about `budget` seconds."""
    x0 = np.random.default_rng(0).uniform(0.1, 0.9, size=shape)
    engine_chain(x0, blocks)  # warm-up
    f, b, _ = engine_chain(x0, blocks)
    return max(1, round(budget / (f + b)))


def measure(rounds: int, budget: float, blocks: int) -> list[dict]:
    results = []
    for label, shape in SIZES.items():
        agreement = check_gradients(shape, blocks)
        reps = calibrate(shape, blocks, budget)
        splits: dict[str, list[tuple[float, float, float]]] = {
            "engine_chain": [], "numpy_chain": [], "torch_chain": []}
        systems = systems_for(shape, blocks, reps, splits)
        for run in systems.values():  # warm-up round, not recorded
            run(-1)
        for split in splits.values():
            split.clear()
        times = _timing.alternate(systems, rounds)
        results.append({"label": label, "reps": reps, "times": times, "splits": splits,
                        "agreement": agreement})
    return results


def report(results: list[dict], ops: int, rounds: int) -> None:
    def per_op(seconds: float) -> float:
        return seconds / ops * 1e6

    def cell(times: dict, name: str) -> str:
        return f"{per_op(_timing.median(times[name])):12.2f}" if name in times else f"{'-':>12}"

    print(f"\n{ops}-op chain, forward + backward, µs per op (median of {rounds} rounds; "
          f"ratios: median of per-round ratios [interquartile range])")
    print(f"{'size':<9}{'engine':>12}{'numpy':>12}{'torch':>12}"
          f"{'engine/numpy':>22}{'engine/torch':>22}")
    for result in results:
        times = result["times"]
        vs_numpy = _timing.ratio_text(_timing.ratios(times["engine"], times["numpy"]))
        vs_torch = (_timing.ratio_text(_timing.ratios(times["engine"], times["torch"]))
                    if "torch" in times else "-")
        print(f"{result['label']:<9}{cell(times, 'engine')}{cell(times, 'numpy')}"
              f"{cell(times, 'torch')}{vs_numpy:>22}{vs_torch:>22}")

    print("\nsplit (medians): forward and backward µs per op, minor page faults per op")
    print(f"{'size':<9}{'system':<8}{'forward':>10}{'backward':>10}{'faults':>8}"
          f"{'chains/round':>14}")
    for result in results:
        for name, split in result["splits"].items():
            if split:
                forward = per_op(_timing.median([f for f, _, _ in split]))
                backward = per_op(_timing.median([b for _, b, _ in split]))
                faults = _timing.median([n for _, _, n in split]) / ops
                print(f"{result['label']:<9}{name.removesuffix('_chain'):<8}{forward:10.2f}"
                      f"{backward:10.2f}{faults:8.2f}{result['reps']:14d}")

    print("\ncorrectness")
    for result in results:
        print(f"  {result['label']}: {result['agreement']}")

    print("\ntargets")
    small, large = results[0]["times"], results[-1]["times"]
    if "torch" in small:
        ratio = _timing.median(_timing.ratios(small["engine"], small["torch"]))
        print(f"  1-element per-op overhead <= PyTorch's: engine/torch = {ratio:.2f}  "
              f"-> {_timing.verdict(ratio <= TARGET_ENGINE_OVER_TORCH_1)}")
    else:
        print("  1-element per-op overhead <= PyTorch's: not measured (torch not importable)")
    ratio = _timing.median(_timing.ratios(large["engine"], large["numpy"]))
    print(f"  100x100 within {TARGET_ENGINE_OVER_NUMPY_100}x of plain NumPy: engine/numpy = "
          f"{ratio:.2f}  -> {_timing.verdict(ratio <= TARGET_ENGINE_OVER_NUMPY_100)}")


def profile(blocks: int, repeats: int = 200) -> None:
    """cProfile of the engine's 1-element chain (forward + backward), top functions by tottime."""
    x0 = np.full((1,), 0.5)
    engine_chain(x0, blocks)

    def run() -> None:
        for _ in range(repeats):
            engine_chain(x0, blocks)

    _timing.print_profile(run, f"engine, 1-element {blocks * BLOCK}-op chain x {repeats}", 20)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke-test run")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 25, quick 3)")
    parser.add_argument("--cpu", type=int, help="pin the process to this CPU")
    parser.add_argument("--default-malloc", action="store_true",
                        help="keep glibc's heap trimming (see _timing.steady_malloc)")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of the engine's 1-element chain instead")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 25)
    budget = 0.01 if args.quick else 0.15  # seconds of engine work per round and size
    blocks = CHAIN_LENGTH // BLOCK

    cpu_line = _timing.pin_to_cpu(args.cpu)
    malloc_line = _timing.steady_malloc(not args.default_malloc)
    if torch is not None:
        torch.set_num_threads(1)
        torch_line = f"PyTorch {torch.__version__}, 1 thread"
    else:
        torch_line = "PyTorch not importable: no torch column"
    print(_timing.header("op_overhead: engine vs NumPy (vs PyTorch), float64", cpu_line,
                         [malloc_line, torch_line]))
    if args.profile:
        profile(blocks, repeats=20 if args.quick else 200)
        return
    report(measure(rounds, budget, blocks), blocks * BLOCK, rounds)
    if args.quick:
        print("  (--quick: a smoke test; too few rounds for these verdicts to mean much)")


if __name__ == "__main__":
    main()
