"""Shared helpers for the benchmarks: one thread, alternating rounds, medians of ratios.

Each benchmark sets OPENBLAS/OMP/MKL_NUM_THREADS=1 itself, before importing NumPy; this module
only reports that and runs the systems. It imports neither NumPy nor the engine.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def minor_page_faults() -> int:
    """Minor page faults of this process so far (0 where `resource` is missing).

    Memory that malloc fetches fresh from the OS costs one fault per 4 KiB page on first touch.
    """
    try:
        import resource
    except ImportError:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def steady_malloc(enabled: bool = True) -> str:
    """Make glibc keep freed memory in the process; returns a line for the header.

    By default glibc gives the top of the heap back to the OS once more than 128 KiB of it is
    free, and gets it back later with one page fault per 4 KiB. Which system pays then depends
    on the heap's layout, i.e. on what ran before: in one process, a 100x100 chain of the
    engine took ~4.5 faults per op while NumPy's took none, and alone, NumPy's took ~10 per op
    and the engine's none. Turning trimming off (and using the heap for arrays up to 32 MiB)
    measures every system in the steady state a long training run reaches.
    """
    if not enabled:
        return "malloc: glibc defaults (page faults may favour whichever system ran last)"
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return "malloc: defaults (no glibc mallopt on this platform)"
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    settings = ((M_TRIM_THRESHOLD, 2**30), (M_TOP_PAD, 64 * 2**20), (M_MMAP_THRESHOLD, 32 * 2**20))
    if all(mallopt(option, value) == 1 for option, value in settings):
        return ("malloc: glibc keeps freed memory (no trimming, no mmap below 32 MiB; "
                "--default-malloc to turn off)")
    return "malloc: mallopt refused the settings; glibc defaults"


def pin_to_cpu(cpu: int | None) -> str:
    """Pin this process to one CPU (Linux only) if asked; returns a line for the header."""
    if cpu is None:
        return "not pinned to a CPU (pass --cpu N to pin)"
    if not hasattr(os, "sched_setaffinity"):
        return f"--cpu {cpu} ignored: no sched_setaffinity on this platform"
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def header(title: str, cpu_line: str, extra: Sequence[str] = ()) -> str:
    """What ran where: Python, NumPy, thread settings, CPU count, pinning."""
    numpy = sys.modules.get("numpy")
    threads = ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in THREAD_VARIABLES)
    lines = [
        title,
        f"  Python {platform.python_version()}, NumPy {getattr(numpy, '__version__', '?')}, "
        f"{os.cpu_count()} CPUs, {cpu_line}",
        f"  {threads}",
        *(f"  {line}" for line in extra),
    ]
    return "\n".join(lines)


def rotated(names: Sequence[str], round_index: int) -> list[str]:
    """The order of the systems in one round: rotated every round (AB, BA, ... / ABC, BCA, ...).

    Rotating cancels a steady drift (a neighbour starting up, the CPU clocking down) and any
    advantage of running first or second.
    """
    shift = round_index % len(names)
    return list(names[shift:]) + list(names[:shift])


def alternate(systems: dict[str, Callable[[int], float]], rounds: int,
              before_round: Callable[[int], None] | None = None,
              progress: bool | None = None) -> dict[str, list[float]]:
    """Run every system once per round, in rotated order; return each one's per-round times.

    A system is called as `run(round_index)` and returns the seconds it measured itself, so
    that setup (copying inputs, making batches) stays outside the timing; `before_round(r)`
    prepares what all systems share in round r. A garbage collection runs before each call so
    that no system pays for another's garbage.
    """
    if progress is None:
        progress = sys.stderr.isatty()
    times: dict[str, list[float]] = {name: [] for name in systems}
    names = list(systems)
    for r in range(rounds):
        if before_round is not None:
            before_round(r)
        for name in rotated(names, r):
            gc.collect()
            times[name].append(systems[name](r))
        if progress:
            print(f"\r  round {r + 1}/{rounds}", end="", file=sys.stderr, flush=True)
    if progress:
        print("\r" + " " * 30 + "\r", end="", file=sys.stderr, flush=True)
    return times


def ratios(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    """Per-round ratios: both systems ran in the same round, so the noise largely cancels."""
    return [a / b for a, b in zip(numerator, denominator)]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """First and third quartile (both the value itself for fewer than two values)."""
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def ratio_text(values: Sequence[float]) -> str:
    """'1.23× [1.20–1.27]': the median ratio and its interquartile range."""
    q1, q3 = quartiles(values)
    return f"{median(values):.2f}× [{q1:.2f}–{q3:.2f}]"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


now = time.perf_counter


def print_profile(run: Callable[[], None], title: str, top: int = 25) -> None:
    """cProfile `run()` and print its `top` functions by own time, under `title`."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(run)
    print(f"\ncProfile: {title}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)
