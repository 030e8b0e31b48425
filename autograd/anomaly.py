"""Finding where a NaN or an infinity came from: anomaly mode and debug_nans.

`detect_anomaly()` records where each node was created (the user's file and line) and checks
every gradient backward computes: the first NaN or infinity raises `AnomalyError`, naming the op,
the input the gradient was flowing to, the element, and the forward traceback of the op.
`set_debug_nans(True)` (JAX's debug_nans) checks the forward instead: an op that turns finite
inputs into a NaN or an infinity raises `FloatingPointError` at once, at the user's line.

Both are off by default and then cost one flag test per op.
"""

from __future__ import annotations

import contextlib
import os
import sysconfig
import threading
import traceback
import weakref
from typing import Any

import numpy as np

from . import backends
from . import tensor as _tensor


class AnomalyError(RuntimeError):
    """Backward computed a NaN or an infinity (raised under `detect_anomaly`)."""


# The user's frames at each node's creation, recorded only while anomaly mode is on; keyed by
# id (tensors compare elementwise, so they cannot be dictionary keys) and dropped with the node.
_sites: dict[int, tuple[weakref.ref, traceback.StackSummary]] = {}

# Frames inside these folders are the engine's (or nn's), not the user's.
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_ENGINE_DIRS = (_PACKAGE + os.sep, os.path.join(os.path.dirname(_PACKAGE), "nn") + os.sep)
_LIBRARY_DIRS = ("<frozen", *{sysconfig.get_paths()[k] + os.sep for k in ("stdlib", "purelib",
                                                                          "platlib")})


# Anomaly mode is on while set_detect_anomaly(True) holds or any detect_anomaly block is open,
# in any thread (as PyTorch's, it is process-wide); the count makes overlapping blocks in two
# threads end with the mode as it was before them.
_lock = threading.Lock()
_blocks = 0
_setting = False


def _switch(anomaly: bool | None = None, debug_nans: bool | None = None) -> None:
    global _setting
    if anomaly is not None:
        _setting = bool(anomaly)
    if debug_nans is not None:
        _tensor._debug_nans = bool(debug_nans)
    _update()


def _update() -> None:
    _tensor._anomaly = _setting or _blocks > 0
    _tensor._debug = _tensor._anomaly or _tensor._debug_nans


def is_anomaly_enabled() -> bool:
    """True while `detect_anomaly` is on."""
    return _tensor._anomaly


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly mode on or off for the whole process (as PyTorch's)."""
    _switch(anomaly=mode)


class detect_anomaly(contextlib.ContextDecorator):
    """Within this block (or decorated call), backward checks every gradient it computes and
    names the op and the user's line behind the first NaN or infinity."""

    def __enter__(self) -> None:
        global _blocks
        with _lock:
            _blocks += 1
            _update()

    def __exit__(self, *exc: object) -> None:
        global _blocks
        with _lock:
            _blocks -= 1
            _update()


def set_debug_nans(mode: bool) -> None:
    """Raise FloatingPointError at the first op whose forward turns finite inputs into a NaN
    or an infinity (JAX's debug_nans); off by default."""
    _switch(debug_nans=mode)


# ---------------------------------------------------------------------------------------------
# The forward: called by tensor.apply and friends for every op while a switch is on.
# ---------------------------------------------------------------------------------------------
def record(op: Any, inputs: tuple, arrays: list, params: dict | None, out: Any) -> Any:
    """What apply() does, plus the checks and records the switches ask for."""
    if _tensor._debug_nans:
        _check_forward(op, arrays, out)
    result = _tensor._result(out, op, inputs, params)
    if backends.is_view(out):
        _tensor._share_versions(result, inputs)
    if _tensor._anomaly and result.requires_grad:
        key = id(result)
        _sites[key] = (weakref.ref(result, lambda _, key=key: _sites.pop(key, None)),
                       _user_frames())
    return result


def creation_frames(node: Any) -> traceback.StackSummary | None:
    """The user's frames where `node` was created, if anomaly mode was on then."""
    entry = _sites.get(id(node))
    return entry[1] if entry is not None and entry[0]() is node else None


def _user_frames() -> traceback.StackSummary:
    """The current stack without the engine's frames and without installed libraries' (the
    interpreter, Jupyter): the user's calls down to the op."""
    frames = [f for f in traceback.extract_stack() if not f.filename.startswith(_ENGINE_DIRS)]
    own = [f for f in frames if not f.filename.startswith(_LIBRARY_DIRS)]
    return traceback.StackSummary.from_list(own or frames)


def where_created(node: Any) -> str:
    """' (created at file:line)' for a node recorded under anomaly mode, else ''."""
    frames = creation_frames(node)
    if not frames:
        return ""
    return f" (created at {frames[-1].filename}:{frames[-1].lineno})"


def _non_finite(array: Any) -> tuple | None:
    """The index of the first NaN or infinity in a floating array, or None."""
    array = backends.as_array(array)
    if array.dtype.kind not in "fc":
        return None
    bad = ~np.isfinite(array)  # in the array's backend; a check reads values (Dask computes)
    if not bool(bad.any()):
        return None
    return tuple(int(i) for i in np.unravel_index(int(bad.argmax()), array.shape))


def _check_forward(op: Any, arrays: list, out: Any) -> None:
    where = _non_finite(out)
    if where is None or any(_non_finite(a) is not None for a in arrays):
        return  # finite, or the non-finite value came in with an input
    value = backends.to_host(backends.as_array(out)[where])
    frames = _user_frames()
    line = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    raise FloatingPointError(
        f"debug_nans: {op.name} turned finite inputs (shapes {shapes}) into {value} at element "
        f"{where}{line}.\n{_format(frames)}Turn the check off with "
        f"autograd.set_debug_nans(False).")


def _format(frames: traceback.StackSummary, depth: int = 4) -> str:
    """The innermost `depth` frames: the user's line and the calls just above it."""
    return "".join(frames.format()[-depth:]) if frames else ""


# ---------------------------------------------------------------------------------------------
# The backward: a tracer (see engine.backward) that checks every gradient it is shown.
# ---------------------------------------------------------------------------------------------
class BackwardCheck:
    """Told each step of a backward pass; raises at the first non-finite gradient."""

    def node(self, node: Any, g: Any) -> None:
        pass

    def edge(self, node: Any, i: int, x: Any, raw: Any, gx: Any) -> None:
        data = gx.data if isinstance(gx, _tensor.Tensor) else gx
        where = _non_finite(data)
        if where is None:
            return
        value = backends.to_host(backends.as_array(data)[where])
        name = f"'{x.name}', " if x.name else ""
        frames = creation_frames(node)
        history = (f"{node._op.name} was created here (most recent call last):\n"
                   f"{_format(frames)}" if frames else
                   f"{node._op.name} was created before detect_anomaly was on, so where is "
                   f"unknown.\n")
        raise AnomalyError(
            f"detect_anomaly: backward of {node._op.name}{where_created(node)} gave {value} in "
            f"the gradient for its input {i} ({name}shape {x.shape}), at element {where}.\n"
            f"{history}Look for a log, division or sqrt at 0 (or an overflow) on that line.")
