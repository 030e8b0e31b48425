"""The Tensor: a NumPy array that remembers the primitive operation that made it.

A tensor computed from inputs that require gradients is a graph node: it keeps the primitive
(`_op`), the inputs it was applied to (`_inputs`, tensors or plain constants) and the primitive's
static parameters (`_params`, e.g. `axis`). Nothing else is stored, and in particular no closure
over the output, so a graph is freed by reference counting alone once nobody holds its root.
"""

from __future__ import annotations

import collections
import functools
import inspect
import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


# ---------------------------------------------------------------------------------------------
# Grad mode: whether operations record the graph. Per thread, as in PyTorch: `no_grad()` in
# one thread never stops another from recording.
# ---------------------------------------------------------------------------------------------
class _GradState(threading.local):
    enabled = True


_grad = _GradState()


def is_grad_enabled() -> bool:
    """True while operations record the graph in this thread (i.e. outside `no_grad`)."""
    return _grad.enabled


class _GradMode:
    """Sets grad mode on entering a `with` block or a decorated call, restores it on exit.

    As a decorator it works with and without parentheses (`@no_grad` and `@no_grad()`), and on
    a generator function it covers the generator's body each time it resumes.
    """

    mode = True

    def __new__(cls, func: Callable | None = None):
        if func is None:
            return super().__new__(cls)
        return cls()(func)  # bare @no_grad

    def __init__(self, func: Callable | None = None) -> None:
        self._local = threading.local()  # per thread, a stack: an instance may be re-entered

    def __enter__(self) -> None:
        self._local.__dict__.setdefault("previous", []).append(_grad.enabled)
        _grad.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _grad.enabled = self._local.previous.pop()

    def __call__(self, func: Callable) -> Callable:
        return _decorate(func, lambda: type(self)())


class no_grad(_GradMode):
    """Record nothing inside: for evaluation and in-place parameter updates."""

    mode = False


class enable_grad(_GradMode):
    """Record the graph inside, even within `no_grad`."""

    mode = True


class set_grad_enabled:
    """Turn graph recording on or off at once, as PyTorch does; as a context manager the
    previous mode comes back on exit, and as a decorator it applies to each call."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.previous, _grad.enabled = _grad.enabled, self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _grad.enabled = self.previous

    def __call__(self, func: Callable) -> Callable:
        _grad.enabled = self.previous  # decorating a function must not switch the mode now
        return _decorate(func, lambda: _ModeFor(self.mode))


class _ModeFor(_GradMode):
    """A grad mode given as a value (for set_grad_enabled used as a decorator)."""

    def __new__(cls, mode: bool):
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = mode


def _decorate(func: Callable, mode: Callable[[], Any]) -> Callable:
    """Run `func` (each resumption of it, for a generator function) inside a fresh `mode()`."""
    if inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def generator(*args: Any, **kwargs: Any):
            with mode():
                inner = func(*args, **kwargs)
            return (yield from _each_step_in(mode, inner))
        return generator

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mode():
            return func(*args, **kwargs)
    return wrapper


def _each_step_in(mode: Callable[[], Any], inner: Any):
    """Drive the generator `inner`, running each of its steps (not the caller's) in mode()."""
    step, value = inner.send, None
    while True:
        try:
            with mode():
                request = step(value)
        except StopIteration as stop:
            return stop.value
        step = inner.send
        try:
            value = yield request
        except GeneratorExit:
            with mode():
                inner.close()
            raise
        except BaseException as error:  # thrown in by the caller: pass it to the body
            step, value = inner.throw, error


# ---------------------------------------------------------------------------------------------
# Primitives and their application.
# ---------------------------------------------------------------------------------------------
class Primitive:
    """A differentiable operation: a NumPy forward and one VJP per input (None: constant input).
    Public: `Primitive(name, forward, math, *vjps)` is how users add an op (README, notebook 07).

    Each VJP is called as `vjp(g, out, *inputs, **params)` and returns g · ∂out/∂input. It is
    written with operators and primitives only, so it runs on plain arrays in an ordinary
    backward pass and on Tensors (recording a graph) when `create_graph=True`.

    A forward that `saves` returns (out, saved): something it computed anyway that the VJPs
    would otherwise recompute (PyTorch's save_for_backward); they receive it as `saved=`.

    `reads` says which values the VJPs read, so that backward can tell when one of them was
    changed in place after the forward ran: "all" (inputs and output, the safe default),
    "out" (only the output, as exp's VJP g·eˣ), "none" (only shapes, as add and reshape), or
    one entry per input naming what that input's VJP reads, by the VJP's argument names:
    mul's `reads=("y", "x")` (d/dx reads y), div's `("y", "y out")`. Only the VJPs that run
    (for inputs that require grad) are checked, as in PyTorch.
    """

    __slots__ = ("name", "forward", "math", "vjps", "saves", "reads")

    def __init__(self, name: str, forward: Callable, math: str, *vjps: Callable | None,
                 saves: bool = False, reads: str = "all") -> None:
        self.name, self.forward, self.math, self.vjps = name, forward, math, vjps
        self.saves, self.reads = saves, _reads(name, reads, vjps)

    def __call__(self, *inputs: Any, **params: Any) -> Any:
        """Apply to Tensors (recording a node) or to plain arrays (just the forward)."""
        # More inputs than VJPs is a mistake; fewer leaves out optional trailing inputs (a
        # bias); a variadic op (concatenate) takes any number.
        if type(self.vjps) is tuple and len(inputs) > len(self.vjps):
            raise TypeError(f"{self.name}: called with {len(inputs)} inputs, but it has "
                            f"{len(self.vjps)} VJPs (one per input, None for a constant one)")
        for x in inputs:
            if isinstance(x, Tensor):
                return apply(self, inputs, params)
        return self.run(inputs, params)[0]

    def run(self, arrays: Sequence, params: dict | None) -> tuple[Any, dict | None]:
        """The forward's output, and the params its VJPs receive (with `saved` if it saves)."""
        out = self.forward(*arrays, **params) if params else self.forward(*arrays)
        if not self.saves:
            return out, params
        out, saved = out
        return out, {**(params or {}), "saved": saved}

    def __repr__(self) -> str:
        return f"<primitive {self.name}: {self.math}>"


def _reads(name: str, reads: Any, vjps: tuple) -> Any:
    """"all", "out", "none", or per input the positions its VJP reads (-1: the output)."""
    if reads in ("all", "out", "none"):
        return reads
    rule = next((v for v in vjps if v is not None), None) if isinstance(vjps, tuple) else None
    if not isinstance(reads, tuple) or rule is None or len(reads) != len(vjps):
        raise ValueError(f"Primitive {name}: reads must be 'all', 'out', 'none' or one entry "
                         f"per input, got {reads!r}")
    names = list(inspect.signature(rule).parameters)[2:2 + len(vjps)]  # after (g, out)
    positions = {**{n: i for i, n in enumerate(names)}, "out": -1}
    try:
        return tuple(tuple(positions[n] for n in entry.split()) for entry in reads)
    except KeyError as unknown:
        raise ValueError(f"Primitive {name}: reads names {unknown}, which is not one of its "
                         f"VJPs' arguments {names} or 'out'") from None


class Freed:
    """What a graph node keeps once a backward pass without retain_graph has passed it and no
    one else holds it: the parameters of its op and its shape and dtype, but not its data. The
    node keeps its op and inputs, so the graph can still be drawn; its `_seq` is 0, which marks
    every passed node (held or not) as freed: a second backward through it is an error."""

    __slots__ = ("params", "shape", "dtype")

    def __init__(self, params: dict | None, shape: tuple, dtype: np.dtype) -> None:
        self.params, self.shape, self.dtype = params, shape, dtype


class Constant:
    """A large constant input of a freed node, described instead of kept (pictures show it)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, array: Any) -> None:
        self.shape, self.dtype = array.shape, array.dtype


def is_freed(t: Tensor) -> bool:
    """True for a node that backward has passed without retain_graph."""
    return t._op is not None and t._seq == 0


# Debugging switches (see autograd.anomaly). `_debug` is their union, the one flag the apply
# functions test, so that when both are off they cost one global lookup per op.
_debug = _anomaly = _debug_nans = False


def apply(op: Primitive, inputs: tuple, params: dict | None = None) -> Tensor:
    """Run `op` forward on the inputs' data and, if any input needs a gradient, record a node."""
    arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
    try:
        out, params = op.run(arrays, params)
    except (ValueError, IndexError, TypeError, NotImplementedError) as error:  # (a backend's)
        raise _explain(op, arrays, params, error) from None
    if _debug:
        return anomaly.record(op, inputs, arrays, params, out)
    result = _result(out, op, inputs, params)
    if type(out) is np.ndarray and out.base is not None or type(out) is not np.ndarray and \
            backends.is_view(out):  # a view (reshape, slice, ...)
        _share_versions(result, inputs)
    return result


def _result(out: Any, op: Primitive, inputs: tuple, params: dict | None) -> Tensor:
    """A node if grad mode records and an input requires grad, else a constant."""
    if _grad.enabled:
        for x in inputs:
            if isinstance(x, Tensor) and x.requires_grad:
                return _node(out, op, inputs, params)
    return _constant(out, op, inputs)


# _unary and _binary are apply() for the elementwise operators and functions, without its
# generality. Measured on 1-element arrays, they halve the engine's own forward cost of a unary
# op (0.4 µs instead of 0.7 µs beside NumPy's) and cut a binary op's by a quarter.
def _unary(op: Primitive, x: Tensor) -> Tensor:
    """apply() for one Tensor input and no parameters: the common case, kept lean."""
    try:
        out = op.forward(x.data)
    except (ValueError, TypeError) as error:
        raise _explain(op, [x.data], None, error) from None
    if _debug:
        return anomaly.record(op, (x,), [x.data], None, out)
    if _grad.enabled and x.requires_grad:
        return _node(out, op, (x,), None)
    return _constant(out)


def _binary(op: Primitive, x: Any, y: Any) -> Tensor:
    """apply() for two inputs, at least one a Tensor, and no parameters."""
    x_is_tensor, y_is_tensor = isinstance(x, Tensor), isinstance(y, Tensor)
    try:
        a = x.data if x_is_tensor else _array_if_sequence(x)
        b = y.data if y_is_tensor else _array_if_sequence(y)
        out = op.forward(a, b)
    except (ValueError, TypeError) as error:
        raise _explain(op, [_data(x), _data(y)], None, error) from None
    if _debug:
        return anomaly.record(op, (x if x_is_tensor else a, y if y_is_tensor else b), [a, b],
                              None, out)
    if _grad.enabled and (x_is_tensor and x.requires_grad or y_is_tensor and y.requires_grad):
        return _node(out, op, (x if x_is_tensor else a, y if y_is_tensor else b), None)
    return _constant(out, op, (a, b))


def _array_if_sequence(x: Any) -> Any:
    """Lists and tuples become arrays; Python numbers stay weakly typed (float32 stays float32)."""
    return np.asarray(x) if isinstance(x, (list, tuple)) else x


def _node(out: Any, op: Primitive, inputs: tuple, params: dict | None) -> Tensor:
    """Wrap a forward result as a graph node that requires grad."""
    if type(out) is not np.ndarray:
        out = _not_ndarray(out, op, inputs)
    node = _new(Tensor)
    node.data, node.grad, node.requires_grad, node.name = out, None, True, None
    node._op, node._inputs, node._params = op, inputs, params
    node._retains, node._seq, node._versions = False, next(_creation_order), None
    return node


def _constant(out: Any, op: Primitive | None = None, inputs: tuple = ()) -> Tensor:
    """Wrap a forward result that needs no gradient (no input required one, or no_grad)."""
    return Tensor._wrap(out if type(out) is np.ndarray else _not_ndarray(out, op, inputs))


def _not_ndarray(out: Any, op: Primitive | None, inputs: tuple) -> Any:
    """A NumPy scalar (from a 0-d operation) as a 0-d array; another backend's array as it is,
    once its inputs are known to live on one device (Dask would mix them without a word)."""
    if not backends.is_array(out):
        return np.asarray(out)
    arrays = [_data(x) for x in inputs]
    if len(inputs) > 1:
        backends.check_one_device(op.name, arrays)
    if backends.is_lazy(out) and any(n != n for n in out.shape):  # NaN: a length Dask lacks
        raise _explain(op, arrays, None, ValueError(
            f"Dask cannot know the result's shape {out.shape} without computing it (a boolean "
            f"mask over several axes?); index by integer arrays, or compute the mask's chunk "
            f"sizes first (dask_array.compute_chunk_sizes())"))
    return out


_new = object.__new__

# Every node is numbered when created. Its inputs existed before it, so they carry smaller
# numbers: creation order is a topological order, and backward walks it from the top down.
# In-place changes draw their numbers from the same count (see _Versions).
_creation_order = itertools.count(1)


# ---------------------------------------------------------------------------------------------
# Version counters: backward refuses data that changed in place after the graph read it.
# ---------------------------------------------------------------------------------------------
class _Versions:
    """How often a tensor's data was changed in place, shared by every tensor that sees the
    same memory (`detach()`, views). Each change is stamped from the creation count, so a node
    created at number s saw every change stamped below s and none stamped above it."""

    __slots__ = ("count", "stamps")
    KEEP = 64  # stamps kept: enough to name the expected version in any realistic case

    def __init__(self) -> None:
        self.count, self.stamps = 0, collections.deque(maxlen=self.KEEP)


# The stamp of the latest in-place change anywhere: a node created after it needs no check.
_last_change = 0
_versions_lock = threading.Lock()


def _share_versions(result: Tensor, inputs: tuple) -> None:
    """Give a view the version counter of the tensor whose memory it shares."""
    for x in inputs:
        if isinstance(x, Tensor) and backends.may_share_memory(result.data, x.data):
            result._versions = x._version_counter()
            return


def check_versions(node: Tensor) -> None:
    """Raise if a value that node's VJPs read was changed in place after node was created."""
    reads, inputs = node._op.reads, node._inputs
    if reads == "none" or node._seq == 0:
        return
    if reads == "out":
        read = [None]
    elif reads == "all":
        read = [None, *range(len(inputs))]
    else:  # what the VJPs that will run read
        read = sorted({j for i, x in enumerate(inputs) if isinstance(x, Tensor) and
                       x.requires_grad for j in reads[i]}, key=lambda j: j)
        read = [None if j == -1 else j for j in read]
    for position in read:
        t = node if position is None else inputs[position]
        if not isinstance(t, Tensor):
            continue
        versions = t._versions
        if versions is not None and versions.stamps and versions.stamps[-1] > node._seq:
            raise RuntimeError(_version_message(node, position, t, versions))


def _version_message(node: Tensor, position: int | None, t: Tensor, versions: _Versions) -> str:
    later = [s for s in versions.stamps if s > node._seq]
    expected = versions.count - len(later)
    at_most = "at most " if len(versions.stamps) == _Versions.KEEP and len(later) == len(
        versions.stamps) else ""
    what = "its output" if position is None else f"its input {position}"
    name = f"'{t.name}', " if t.name else ""
    site = anomaly.where_created(node)
    return (f"backward: {node._op.name}{site} needs {what} ({name}shape {t.shape}, {t.dtype}) "
            f"as it was when {node._op.name} ran, but it was changed in place since: it is at "
            f"version {versions.count}, expected version {at_most}{expected}. Change it after "
            f"backward(), or give {node._op.name} a copy (t.clone()) instead of the tensor you "
            f"change.")


def _explain(op: Primitive, arrays: list, params: dict | None, error: Exception) -> Exception:
    """Turn NumPy's error from deep inside a forward into one that names the op and the shapes."""
    mixed = backends.mixed_devices(arrays)
    if mixed is not None:  # e.g. CuPy refusing a NumPy array
        return TypeError(backends.mixed_device_message(op.name, mixed))
    shapes = " and ".join(_shape_of(a) for a in arrays)
    if op.name == "matmul" and all(np.ndim(a) >= 1 for a in arrays):
        (x, y) = arrays
        inner_y = np.shape(y)[-2] if np.ndim(y) >= 2 else np.shape(y)[0]
        if np.shape(x)[-1] != inner_y:
            detail = f"inner dimensions differ ({np.shape(x)[-1]} != {inner_y})"
        else:
            detail = "the batch dimensions (all but the last two) do not broadcast"
    elif op.name == "matmul":
        detail = "matmul needs at least 1-d operands (use * for scalars)"
    else:
        detail = next((line for line in str(error).splitlines() if line.strip()), repr(error))
    extra = f" with {params}" if params else ""
    kind = next(k for k in (IndexError, TypeError, NotImplementedError, ValueError)
                if isinstance(error, k))
    return kind(f"{op.name}: cannot apply to shapes {shapes}{extra}: {detail}")


def _shape_of(a: Any) -> str:
    try:
        return str(np.shape(a))
    except ValueError:
        return f"(ragged {type(a).__name__})"


# ---------------------------------------------------------------------------------------------
# The Tensor.
# ---------------------------------------------------------------------------------------------
_DTYPE_KINDS = "fiub"  # float, signed/unsigned int, bool
_SQRT_HALF, _SQRT_2_OVER_PI = float(np.sqrt(0.5)), float(np.sqrt(2 / np.pi))
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _as_array(data: Any, dtype: Any) -> Any:
    """Copy `data` into a fresh array of its own backend (a NumPy array for lists and numbers),
    with clear errors for ragged or non-numeric input."""
    if isinstance(data, Tensor):
        data = data.data
    if type(data) is not np.ndarray and backends.is_array(data):
        array = backends.copy(data, dtype)  # CuPy stays on its device, Dask stays lazy
        if array.dtype.kind not in _DTYPE_KINDS:
            raise TypeError(f"Tensor: data must be numeric (float, int or bool), got a "
                            f"{backends.backend_of(data)} array of dtype {array.dtype}")
        return array
    _building.active = True  # Tensor.__array__ refuses graph tensors inside a list
    try:
        array = np.array(data, dtype=dtype, copy=True)
    except _GraphTensorInList:
        raise TypeError("Tensor: the list holds tensors that require grad; Tensor([...]) "
                        "would copy their values into a constant and cut them off the graph. "
                        "Use autograd.stack([...]) to join them with their gradients (or "
                        "detach() them first if a constant is what you want)") from None
    except ValueError as error:
        raise ValueError(f"Tensor: cannot make an array of {type(data).__name__} data "
                         f"(ragged nested lists?): {str(error).splitlines()[0]}") from None
    except TypeError as error:
        raise TypeError(f"Tensor: data must be numeric: {error}") from None
    finally:
        _building.active = False
    if array.dtype.kind not in _DTYPE_KINDS:
        raise TypeError(f"Tensor: data must be numeric (float, int or bool), "
                        f"got {type(data).__name__} giving dtype {array.dtype}")
    return array


class _GraphTensorInList(Exception):
    """Raised by Tensor.__array__ while Tensor(...) copies a list holding a graph tensor."""


class _Building(threading.local):
    active = False  # True while _as_array copies data into a new Tensor


_building = _Building()


class Tensor:
    """An n-dimensional array that records the operations applied to it for `backward()`.

    `Tensor(data, requires_grad=False, dtype=None)` copies `data` (a number, nested list or
    array; a CuPy or Dask array stays one: see autograd.backends). Floating data keeps its dtype
    (float32 stays float32, gradients included); Python floats become float64 as in NumPy.
    Only floating tensors can require gradients.
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_op", "_inputs", "_params",
                 "_retains", "_seq", "_versions", "__weakref__")
    __hash__ = object.__hash__  # tensors are graph nodes: hashed by identity

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self.data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"Tensor: only floating-point tensors can require gradients, "
                            f"got dtype {self.data.dtype} (use float data or dtype=np.float64)")
        self.requires_grad, self.grad, self.name = bool(requires_grad), None, name
        self._op, self._inputs, self._params, self._retains = None, (), None, False
        self._seq, self._versions = 0, None

    # ----- basic properties ------------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="Shape of the data.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions.")
    dtype = property(lambda self: self.data.dtype, doc="NumPy dtype of the data.")
    size = property(lambda self: self.data.size, doc="Number of elements.")
    is_leaf = property(lambda self: self._op is None, doc="True unless made by an op.")
    op = property(lambda self: self._op, doc="The primitive that made this tensor, or None.")

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array: the underlying array itself for a NumPy tensor (shared,
        not copied: a change made to it through NumPy is not seen by the version counter), an
        explicit copy to the host for a GPU tensor, the computed values for a Dask tensor."""
        return self.data if type(self.data) is np.ndarray else backends.to_host(self.data)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert to a Python number, "
                             f"this one has shape {self.shape}")
        return self.numpy().item()

    @property
    def backend(self) -> str:
        """The package of the data's array type: "numpy", "cupy" or "dask"."""
        return backends.backend_of(self.data)

    def to(self, backend: str) -> Tensor:
        """This tensor on `backend` ("numpy", "cupy", "dask"): itself if it is there already,
        else a copy, a leaf with the same requires_grad. Move inputs and parameters before
        computing with them (a graph node cannot move: its graph would be cut)."""
        if backends.backend_of(self.data) == backend:
            return self
        if self._op is not None:
            raise RuntimeError(f"to({backend!r}): this tensor was computed by "
                               f"{self._op.name}; moving it would cut it off its graph. Move "
                               f"the inputs and parameters (model.to({backend!r})) before the "
                               f"computation, or detach() it first")
        t = Tensor._wrap(backends.to(self.data, backend), self.requires_grad)
        t.name = self.name
        return t

    def compute(self) -> Tensor:
        """A Dask tensor's values, computed, as a NumPy tensor without graph (as Dask's
        .compute()); any other tensor as it is. autograd.compute(a, b) shares the work."""
        return backends.compute(self)[0]

    def detach(self) -> Tensor:
        """The same data as a new leaf that does not require grad. It shares the version
        counter: an in-place change through it is seen by every graph that read this tensor."""
        t = Tensor._wrap(self.data)
        t._versions = self._version_counter()
        return t

    @property
    def _version(self) -> int:
        """How many times the data was changed in place (PyTorch's `t._version`)."""
        return 0 if self._versions is None else self._versions.count

    def _version_counter(self) -> _Versions:
        if self._versions is None:
            self._versions = _Versions()
        return self._versions

    def _bump_version(self) -> None:
        """Record an in-place change of the data (in-place operators and optimizer steps call
        this; so must code that writes into `.data` itself)."""
        global _last_change
        with _versions_lock:  # threads: the count, the stamp and the latest stamp agree
            versions = self._version_counter()
            versions.count += 1
            _last_change = next(_creation_order)
            versions.stamps.append(_last_change)  # the oldest drops out past KEEP

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set `requires_grad` in place on a leaf; returns self."""
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"requires_grad_: dtype {self.dtype} cannot require gradients")
        if not self.is_leaf:
            raise RuntimeError("requires_grad_: only leaf tensors can change requires_grad")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> Tensor:
        """Keep this non-leaf tensor's gradient in `.grad` after backward (leaves always do)."""
        self._retains = True
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def astype(self, dtype: Any) -> Tensor:
        """Cast to another dtype; gradients are cast back. A cast to integers or bool gives a
        constant: it has no derivative."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            return Tensor._wrap(self.data.astype(dtype))
        return apply(P.cast, (self,), {"dtype": dtype})

    def float(self) -> Tensor:
        """As float32 (PyTorch's .float())."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """As float64 (PyTorch's .double())."""
        return self.astype(np.float64)

    @staticmethod
    def _wrap(data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """A leaf around an existing array, without copying or checks (internal fast path)."""
        t = Tensor.__new__(Tensor)
        t.data, t.grad, t.requires_grad, t.name = data, None, requires_grad, None
        t._op, t._inputs, t._params, t._retains = None, (), None, False
        t._seq, t._versions = 0, None
        return t

    # ----- conversions -------------------------------------------------------------------
    # np.exp(t), ndarray * t, np.sum(t, axis=1): NumPy hands calls on Tensors to the engine's
    # op of the same name (autograd.numpy_dispatch); a ufunc seen before is one dict lookup.
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs:
            function = numpy_dispatch.UFUNCS.get(ufunc)
            if function is not None:
                return function(*inputs)
        return numpy_dispatch.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: tuple, args: tuple, kwargs: dict) -> Any:
        return numpy_dispatch.function(func, types, args, kwargs)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if _building.active and self.requires_grad:
            raise _GraphTensorInList
        if type(self.data) is not np.ndarray:
            if backends.device_of(self.data) != backends.HOST:
                raise TypeError(f"a {self.backend} tensor does not convert to a NumPy array "
                                f"implicitly: copy it to the host with t.numpy()")
            data = backends.to_host(self.data)  # Dask computes, as np.asarray(dask_array)
            return data if dtype is None else data.astype(dtype)
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype)

    # PyTorch's spellings (t.size stays NumPy's int; t.numel() is the same number).
    def numel(self) -> int:
        """Number of elements (PyTorch's name for .size)."""
        return self.data.size

    def tolist(self) -> Any:
        """The values as (nested lists of) Python numbers."""
        return self.data.tolist()

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (the gradient flows through unchanged)."""
        return _unary(P.clone, self)

    def __format__(self, spec: str) -> str:
        """format(t, ".2f") formats a one-element tensor's value; "" gives str(t)."""
        if not spec:
            return str(self)
        if self.data.size != 1:
            raise TypeError(f"format: only one-element tensors take a format spec ({spec!r}); "
                            f"this one has shape {self.shape} (format t.item() or t.tolist())")
        return format(self.data.item(), spec)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __repr__(self) -> str:
        if self.data is None:  # an interior node whose data backward freed (see engine)
            return f"Tensor(<freed by backward()>, op={self._op.name})"
        extras = [f"dtype={self.dtype}"] if self.dtype not in (np.float64, np.int64) else []
        if backends.is_lazy(self.data):  # never compute to show a tensor
            body = repr(self.data)
        else:
            body = np.array2string(self.numpy(), separator=", ", prefix="Tensor(", threshold=100)
            if type(self.data) is not np.ndarray:
                extras.append(f"backend={self.backend!r}")
        if self.requires_grad:
            extras.append(f"op={self._op.name}" if self._op else "requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    # ----- backward ------------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (vᵀJ with v = `gradient`).

        A scalar output seeds 1. The graph is freed as it is consumed unless `retain_graph`;
        `create_graph=True` records the backward pass itself, for higher-order gradients.
        """
        engine.backward([self], [gradient], retain_graph=retain_graph or create_graph,
                 create_graph=create_graph)

    # ----- arithmetic: each is one primitive ------------------------------------------------
    def __add__(self, other): return _binary(P.add, self, other)
    def __radd__(self, other): return _binary(P.add, other, self)
    def __sub__(self, other): return _binary(P.sub, self, other)
    def __rsub__(self, other): return _binary(P.sub, other, self)
    def __mul__(self, other): return _binary(P.mul, self, other)
    def __rmul__(self, other): return _binary(P.mul, other, self)
    def __truediv__(self, other): return _binary(P.div, self, other)
    def __rtruediv__(self, other): return _binary(P.div, other, self)
    def __pow__(self, other): return _binary(P.pow, self, other)
    def __rpow__(self, other): return _binary(P.pow, other, self)
    def __matmul__(self, other): return _binary(P.matmul, self, other)
    def __rmatmul__(self, other): return _binary(P.matmul, other, self)
    def __neg__(self): return _unary(P.neg, self)

    # ----- in place: `p -= lr * g` on a leaf under no_grad, as in PyTorch -------------------
    def __iadd__(self, other): return self._in_place(P.add, other)
    def __isub__(self, other): return self._in_place(P.sub, other)
    def __imul__(self, other): return self._in_place(P.mul, other)
    def __itruediv__(self, other): return self._in_place(P.div, other)

    def _in_place(self, op: Primitive, other: Any) -> Tensor:
        """Update a leaf's data in place and bump its version (a parameter update under
        no_grad). On a graph node, or with an operand the graph records, `t -= u` is
        `t = t - u`: the graph keeps the value it saw."""
        if self._op is not None:
            return _binary(op, self, other)
        if _grad.enabled:
            if self.requires_grad:
                raise RuntimeError(
                    f"{_IN_PLACE[op.name]}: a leaf tensor that requires grad (shape "
                    f"{self.shape}) cannot be changed in place while the graph is recorded. "
                    f"Update parameters under no_grad(): `with autograd.no_grad(): "
                    f"w -= lr * w.grad`")
            if getattr(other, "requires_grad", False):
                return _binary(op, self, other)
        try:
            op.forward(self.data, _array_if_sequence(_data(other)), out=self.data)
        except (ValueError, TypeError) as error:
            raise _explain(op, [self.data, _data(other)], None, error) from None
        self._bump_version()
        return self
    def __pos__(self): return self

    # ----- comparisons: plain boolean tensors, never part of the graph ----------------------
    def __lt__(self, other): return Tensor._wrap(self.data < _data(other))
    def __le__(self, other): return Tensor._wrap(self.data <= _data(other))
    def __gt__(self, other): return Tensor._wrap(self.data > _data(other))
    def __ge__(self, other): return Tensor._wrap(self.data >= _data(other))
    def __eq__(self, other): return Tensor._wrap(self.data == _data(other))  # type: ignore
    def __ne__(self, other): return Tensor._wrap(self.data != _data(other))  # type: ignore

    # ----- elementwise functions ----------------------------------------------------------
    def exp(self) -> Tensor: return _unary(P.exp, self)
    def log(self) -> Tensor: return _unary(P.log, self)
    def sqrt(self) -> Tensor: return _unary(P.sqrt, self)
    def tanh(self) -> Tensor: return _unary(P.tanh, self)
    def sigmoid(self) -> Tensor: return _unary(P.sigmoid, self)
    def relu(self) -> Tensor: return _unary(P.relu, self)
    def abs(self) -> Tensor: return _unary(P.abs, self)
    __abs__ = abs
    def sin(self) -> Tensor: return _unary(P.sin, self)
    def cos(self) -> Tensor: return _unary(P.cos, self)
    def tan(self) -> Tensor: return _unary(P.tan, self)
    def arcsin(self) -> Tensor: return _unary(P.arcsin, self)
    def arccos(self) -> Tensor: return _unary(P.arccos, self)
    def arctan(self) -> Tensor: return _unary(P.arctan, self)
    def sinh(self) -> Tensor: return _unary(P.sinh, self)
    def cosh(self) -> Tensor: return _unary(P.cosh, self)
    def arcsinh(self) -> Tensor: return _unary(P.arcsinh, self)
    def arccosh(self) -> Tensor: return _unary(P.arccosh, self)
    def arctanh(self) -> Tensor: return _unary(P.arctanh, self)
    def log1p(self) -> Tensor: return _unary(P.log1p, self)
    def expm1(self) -> Tensor: return _unary(P.expm1, self)
    def log2(self) -> Tensor: return _unary(P.log2, self)
    def log10(self) -> Tensor: return _unary(P.log10, self)
    def exp2(self) -> Tensor: return _unary(P.exp2, self)
    def erf(self) -> Tensor: return _unary(P.erf, self)
    def erfc(self) -> Tensor: return _unary(P.erfc, self)
    def softplus(self) -> Tensor: return _unary(P.softplus, self)

    # Exact one-line composites.
    def square(self) -> Tensor: return self * self  # np.square(x) is x·x, bit for bit
    def reciprocal(self) -> Tensor: return 1 / self
    def rsqrt(self) -> Tensor: return 1 / self.sqrt()
    def silu(self) -> Tensor: return self * self.sigmoid()  # x·σ(x), also called swish
    def logsigmoid(self) -> Tensor: return -(-self).softplus()  # ln σ(x) = -ln(1 + e⁻ˣ)

    def gelu(self, approximate: str = "none") -> Tensor:
        """x·Φ(x) (Φ the standard normal CDF), exactly as x·erfc(-x/√2)/2 (stable for x ≪ 0);
        approximate="tanh": x(1 + tanh(√(2/π)(x + 0.044715x³)))/2, as PyTorch."""
        if approximate == "none":
            return 0.5 * self * (self * -_SQRT_HALF).erfc()
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (self + 0.044715 * self * self * self)
            return 0.5 * self * (1 + inner.tanh())
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    def elu(self, alpha: float = 1.0) -> Tensor:
        """x for x > 0, α(eˣ - 1) otherwise (fused; the gradient at 0 is α, the left one)."""
        return apply(P.elu, (self,), {"alpha": _number("elu", "alpha", alpha)})

    def selu(self) -> Tensor:
        """scale·elu(x, α) with PyTorch's (self-normalising) constants."""
        return _SELU_SCALE * self.elu(_SELU_ALPHA)

    def celu(self, alpha: float = 1.0) -> Tensor:
        """α·elu(x/α): x for x > 0, α(e^(x/α) - 1) otherwise."""
        alpha = _number("celu", "alpha", alpha)
        if alpha == 0:
            raise ValueError("celu: alpha must not be 0 (it divides x)")
        return alpha * (self / alpha).elu()

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """x for x > 0, else negative_slope·x; the gradient at 0 is negative_slope (PyTorch's)."""
        slope = _number("leaky_relu", "negative_slope", negative_slope)
        return where(self.data > 0, self, slope * self)

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        """x clipped to [min_val, max_val]; the gradient is 1 strictly inside, 0 at the bounds
        and outside (PyTorch's, and like relu'(0) = 0; `clip` passes it at the bounds)."""
        low, high = _number("hardtanh", "min_val", min_val), _number("hardtanh", "max_val", max_val)
        if low > high:
            raise ValueError(f"hardtanh: min_val {low} is greater than max_val {high}")
        inside = (self.data > low) & (self.data < high)
        return where(inside, self, np.clip(self.data, low, high))

    def relu6(self) -> Tensor:
        """min(max(x, 0), 6) = hardtanh(x, 0, 6): gradient 0 at 0 and at 6."""
        return self.hardtanh(0.0, 6.0)

    # Piecewise constant: zero gradient everywhere (also at the jumps), as PyTorch's.
    def sign(self) -> Tensor: return _unary(P.sign, self)
    def floor(self) -> Tensor: return _unary(P.floor, self)
    def ceil(self) -> Tensor: return _unary(P.ceil, self)
    def trunc(self) -> Tensor: return _unary(P.trunc, self)

    def round(self, decimals: int = 0) -> Tensor:
        """Round half to even, as NumPy, to `decimals` places; zero gradient."""
        if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
            raise TypeError(f"round: decimals must be an int, got {decimals!r}")
        return apply(P.round, (self,), {"decimals": int(decimals)})

    # Two-argument functions (broadcasting like the operators).
    def logaddexp(self, other: Any) -> Tensor: return _binary(P.logaddexp, self, other)
    def logaddexp2(self, other: Any) -> Tensor: return _binary(P.logaddexp2, self, other)
    def arctan2(self, other: Any) -> Tensor: return _binary(P.arctan2, self, other)
    def hypot(self, other: Any) -> Tensor: return _binary(P.hypot, self, other)
    def mod(self, other: Any) -> Tensor: return _binary(P.mod, self, other)
    remainder = mod
    def fmod(self, other: Any) -> Tensor: return _binary(P.fmod, self, other)
    def floor_divide(self, other: Any) -> Tensor: return _binary(P.floor_divide, self, other)
    def __mod__(self, other): return _binary(P.mod, self, other)
    def __rmod__(self, other): return _binary(P.mod, other, self)
    def __floordiv__(self, other): return _binary(P.floor_divide, self, other)
    def __rfloordiv__(self, other): return _binary(P.floor_divide, other, self)

    # Tests of the values: boolean tensors, never part of the graph.
    def isnan(self) -> Tensor: return Tensor._wrap(np.isnan(self.data))
    def isinf(self) -> Tensor: return Tensor._wrap(np.isinf(self.data))
    def isfinite(self) -> Tensor: return Tensor._wrap(np.isfinite(self.data))

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        """NaN and ±inf replaced as NumPy does; the gradient is 1 where x was finite, else 0."""
        replaced = np.nan_to_num(self.data, nan=nan, posinf=posinf, neginf=neginf)
        return where(np.isfinite(self.data), self, replaced)

    def maximum(self, other: Any) -> Tensor:
        """Elementwise max; at ties the gradient goes to `other`, so maximum(x, 0) is relu(x).
        A NaN in either propagates (as NumPy's), with the gradient."""
        return where(_compare("maximum", _greater_or_nan, self, other), self, other)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise min; at ties the gradient goes to `other`; NaN propagates."""
        return where(_compare("minimum", _less_or_nan, self, other), self, other)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy's names
        """Clamp to [min, max], as NumPy's minimum(maximum(x, min), max): with min > max every
        element is max. The gradient goes to x on the closed interval (as in PyTorch) and to
        the bound outside it (bounds may be tensors)."""
        out = self
        if min is not None:
            out = where(_compare("clip", np.less, out, min), min, out)
        if max is not None:
            out = where(_compare("clip", np.greater, out, max), max, out)
        return out

    # ----- reductions (NumPy's axis= and keepdims=; PyTorch's dim= and keepdim= too) -------
    # Each method normalises its axis with _axis() (int, tuple, None, negative, np.int64; axis
    # 0 or -1 of a 0-d tensor); the dim=/keepdim= spellings are added once, by _torch_names.
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return apply(P.sum, (self,), {"axis": _axis(self, axis, "sum"), "keepdims": keepdims})

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum along `axis`; tied maxima share the gradient evenly."""
        return apply(P.max, (self,), {"axis": _axis(self, axis, "max"), "keepdims": keepdims})

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum along `axis`; tied minima share the gradient evenly."""
        return apply(P.min, (self,), {"axis": _axis(self, axis, "min"), "keepdims": keepdims})

    def prod(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Product along `axis`; its gradient is the product of the other elements, exact with
        zeros in the input (never out / x)."""
        return apply(P.prod, (self,), {"axis": _axis(self, axis, "prod"), "keepdims": keepdims})

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean along `axis`, as sum / count."""
        axis = _axis(self, axis, "mean")
        return self.sum(axis, keepdims) / _count(self.shape, axis)

    def var(self, axis: Any = None, ddof: float | None = None, keepdims: bool = False, *,
            correction: float | None = None) -> Tensor:
        """Σ(x - mean)² / (n - ddof) along `axis`. The default is NumPy's ddof=0 (population
        variance), not PyTorch's correction=1: pass ddof=1 or correction=1 for the sample one."""
        axis, ddof = _axis(self, axis, "var"), _ddof("var", ddof, correction)
        centred = self - self.mean(axis, keepdims=True)
        return (centred * centred).sum(axis, keepdims) / (_count(self.shape, axis) - ddof)

    def std(self, axis: Any = None, ddof: float | None = None, keepdims: bool = False, *,
            correction: float | None = None) -> Tensor:
        """√var as ‖x - mean‖₂ / √(n - ddof) (NumPy's ddof=0 by default); the gradient is 0
        where all the elements are equal (the norm's subgradient at 0)."""
        axis, ddof = _axis(self, axis, "std"), _ddof("std", ddof, correction)
        centred = self - self.mean(axis, keepdims=True)
        norm = apply(P.norm, (centred,), {"axis": axis, "keepdims": keepdims})
        return norm / np.sqrt(np.asarray(_count(self.shape, axis) - ddof, dtype=self.dtype))

    def norm(self, ord: Any = None, axis: Any = None,  # noqa: A002 - NumPy's name
             keepdims: bool = False) -> Tensor:
        """np.linalg.norm: vectors ord 2 (default), 1, inf, -inf; matrices (two axes) the
        Frobenius norm. Subgradient 0 at 0 (as for |x| and relu)."""
        axis = _axis(self, axis, "norm")
        vector, matrix = (len(_axes(self.ndim, axis)) == n for n in (1, 2))
        if ord is None or (ord == 2 and vector) or (ord == "fro" and matrix):
            return apply(P.norm, (self,), {"axis": axis, "keepdims": keepdims})
        if vector and ord == 1:
            return self.abs().sum(axis, keepdims)
        if vector and ord in (np.inf, -np.inf):
            return self.abs().max(axis, keepdims) if ord > 0 else self.abs().min(axis, keepdims)
        kind = "vector" if vector else "matrix (or more than one axis)"
        raise ValueError(f"norm: ord={ord!r} is not supported for a {kind} norm of shape "
                         f"{self.shape} with axis={axis}; use ord None, 2, 1 or inf for "
                         f"vectors, None or 'fro' for matrices")

    def argmax(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Index of the (first) maximum: an integer tensor, never part of the graph."""
        axis = _single_axis(self, axis, "argmax", allow_none=True)
        return Tensor._wrap(np.asarray(np.argmax(self.data, axis=axis, keepdims=keepdims)))

    def argmin(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Index of the (first) minimum: an integer tensor, never part of the graph."""
        axis = _single_axis(self, axis, "argmin", allow_none=True)
        return Tensor._wrap(np.asarray(np.argmin(self.data, axis=axis, keepdims=keepdims)))

    def any(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Whether any element is nonzero: a boolean tensor, never part of the graph."""
        axis = _axis(self, axis, "any")
        return Tensor._wrap(np.asarray(np.any(self.data, axis=axis, keepdims=keepdims)))

    def all(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Whether all elements are nonzero: a boolean tensor, never part of the graph."""
        axis = _axis(self, axis, "all")
        return Tensor._wrap(np.asarray(np.all(self.data, axis=axis, keepdims=keepdims)))

    def cumsum(self, axis: Any = None) -> Tensor:
        """Running sums along `axis` (None: of the flattened tensor, as NumPy)."""
        if axis is None:
            return self.reshape(-1).cumsum(0)
        return apply(P.cumsum, (self,), {"axis": _single_axis(self, axis, "cumsum")})

    def cumprod(self, axis: Any = None) -> Tensor:
        """Running products along `axis` (None: flattened), composed as prod over a triangular
        mask so that the gradient is exact with zeros; O(n²) in the axis' length n."""
        if axis is None:
            return self.reshape(-1).cumprod(0)
        axis = _single_axis(self, axis, "cumprod")
        n = self.shape[axis] if self.ndim else 1
        x = self.reshape(1) if self.ndim == 0 else self.swapaxes(axis, -1)
        # rows[..., i, j] = x[..., j] for j ≤ i, else 1; the product over j is x₀·…·xᵢ
        rows = where(np.tri(n, dtype=bool), x[..., None, :], 1.0)
        out = rows.prod(-1)
        return out.reshape(()) if self.ndim == 0 else out.swapaxes(axis, -1)

    def softmax(self, axis: Any = -1) -> Tensor:
        """exp(x) / sum(exp(x)) along `axis`, computed stably (fused; see primitives)."""
        if self.ndim == 0:  # one element: softmax is 1 (a function of x with zero gradient)
            return self.reshape(1).softmax(0).reshape(())
        return apply(P.softmax, (self,), {"axis": _single_axis(self, axis, "softmax")})

    def log_softmax(self, axis: Any = -1) -> Tensor:
        """x - logsumexp(x) along `axis`, computed stably (fused; see primitives)."""
        if self.ndim == 0:
            return self.reshape(1).log_softmax(0).reshape(())
        return apply(P.log_softmax, (self,), {"axis": _single_axis(self, axis, "log_softmax")})

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))) along `axis`, shifted by the (constant) max for stability;
        -inf over an empty axis (the log of an empty sum), as NumPy and PyTorch."""
        axis = _axis(self, axis, "logsumexp")
        if _count(self.shape, axis) == 0:
            return self.sum(axis, keepdims) - np.inf
        shift = self.max(axis, keepdims=True).data  # a constant: the shift cancels out
        shift = np.where(np.isfinite(shift), shift, 0)
        out = (self - shift).exp().sum(axis, keepdims=True).log() + shift
        return out if keepdims else out.reshape(_reduced_shape(self.shape, axis))

    # ----- shape operations ---------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """Same data, new shape: reshape(2, 3) or reshape((2, 3)); -1 infers one length."""
        return apply(P.reshape, (self,), {"shape": shape_argument(shape)})

    def flatten(self, start_axis: int = 0) -> Tensor:
        """Merge the axes from `start_axis` on into one (flatten(1) keeps the batch axis)."""
        return self.reshape(*self.shape[:start_axis], -1)

    def transpose(self, *axes: Any) -> Tensor:
        """Permute axes as NumPy does: reversed by default, else by the given permutation."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        if axes:  # non-negative, so that the VJP's inverse permutation (argsort) is right
            axes = tuple(int(a) % self.ndim if -self.ndim <= a < self.ndim else a for a in axes)
        return apply(P.transpose, (self,), {"axes": axes or None})

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Exchange two axes (a transpose)."""
        if not (-self.ndim <= axis1 < self.ndim and -self.ndim <= axis2 < self.ndim):
            raise ValueError(f"swapaxes: axes {axis1} and {axis2} do not exist in a tensor of "
                             f"shape {self.shape}")
        order = list(range(self.ndim))
        order[axis1], order[axis2] = order[axis2], order[axis1]
        return self.transpose(order)

    T = property(lambda self: self.transpose(), doc="Axes reversed, as ndarray.T.")
    mT = property(lambda self: self.swapaxes(-1, -2), doc="Last two axes swapped.")

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return apply(P.broadcast_to, (self,), {"shape": tuple(shape)})

    def __getitem__(self, index: Any) -> Tensor:
        """Basic slicing and integer-array indexing; repeated indices accumulate gradients."""
        return apply(P.getitem, (self,), {"index": _index(index)})

    # ----- joining, linear algebra, indexing (composites of the shape primitives, mostly) ---------
    def view(self, *shape: Any) -> Tensor:
        """PyTorch's name for reshape (the data is shared where NumPy can share it)."""
        return self.reshape(*shape)

    def permute(self, *dims: Any) -> Tensor:
        """PyTorch's name for transpose(axes): every axis, in its new order."""
        dims = shape_argument(dims)
        if sorted(_axis_tuple("permute", dims, self.ndim, unique=False)) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {tuple(dims)} are not a permutation of the "
                             f"{self.ndim} axes of shape {self.shape}")
        return self.transpose(dims)

    def ravel(self) -> Tensor:
        """The elements as one axis (reshape(-1))."""
        return self.reshape(-1)

    def squeeze(self, axis: Any = None) -> Tensor:
        """Drop length-1 axes: all of them, or those named (NumPy: naming a longer one is an
        error)."""
        axes = (tuple(a for a, n in enumerate(self.shape) if n == 1) if axis is None
                else _axis_tuple("squeeze", axis, self.ndim))
        for a in axes:
            if self.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {self.shape} has length "
                                 f"{self.shape[a]}, not 1")
        return self.reshape(tuple(n for a, n in enumerate(self.shape) if a not in axes))

    def expand_dims(self, axis: Any) -> Tensor:
        """New length-1 axes at the positions `axis` (an int or tuple) of the result."""
        axes = _axis_tuple("expand_dims", axis, self.ndim + len(np.atleast_1d(axis)))
        lengths = iter(self.shape)
        return self.reshape(tuple(1 if a in axes else next(lengths)
                                  for a in range(self.ndim + len(axes))))

    def unsqueeze(self, dim: int) -> Tensor:
        """PyTorch's expand_dims with one axis."""
        return self.expand_dims(_axis_tuple("unsqueeze", dim, self.ndim + 1)[0])

    def moveaxis(self, source: Any, destination: Any) -> Tensor:
        """Move axes to new positions, the others keeping their order (a transpose)."""
        source = _axis_tuple("moveaxis", source, self.ndim)
        destination = _axis_tuple("moveaxis", destination, self.ndim)
        if len(source) != len(destination):
            raise ValueError(f"moveaxis: source {source} and destination {destination} must "
                             f"name as many axes")
        order = [a for a in range(self.ndim) if a not in source]
        for to, origin in sorted(zip(destination, source)):
            order.insert(to, origin)
        return self.transpose(order)

    def flip(self, axis: Any = None) -> Tensor:
        """Reverse the order of elements along `axis` (all axes by default). One primitive."""
        axes = tuple(range(self.ndim)) if axis is None else _axis_tuple("flip", axis, self.ndim)
        return apply(P.flip, (self,), {"axis": axes})

    def roll(self, shift: Any, axis: Any = None) -> Tensor:
        """Shift elements along `axis` cyclically (the flattened tensor if None). One primitive."""
        shifts = tuple(int(s) for s in np.atleast_1d(shift))
        if axis is None:
            if len(shifts) != 1:
                raise ValueError(f"roll: {len(shifts)} shifts need as many axes, got axis=None")
            return self.ravel().roll(shifts[0], 0).reshape(self.shape)
        axes = _axis_tuple("roll", axis, self.ndim, unique=False)
        if len(shifts) != len(axes) and len(shifts) != 1:
            raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
        return apply(P.roll, (self,), {"shift": shifts * (len(axes) // len(shifts)),
                                       "axis": axes})

    def repeat(self, repeats: Any, axis: int | None = None) -> Tensor:
        """NumPy's repeat: each element `repeats` times along `axis` (flattened if None).
        PyTorch's Tensor.repeat is `tile`. A broadcast for one count, else integer indexing."""
        x = self.ravel() if axis is None else self
        a = _axis_tuple("repeat", 0 if axis is None else axis, x.ndim)[0]
        counts = np.asarray(_data(repeats))
        if counts.dtype.kind not in "iu" or counts.ndim > 1 or np.any(counts < 0) or (
                counts.ndim == 1 and len(counts) not in (1, x.shape[a])):
            raise ValueError(f"repeat: repeats must be a non-negative integer or one per element "
                             f"of axis {a} (length {x.shape[a]}), got {counts.tolist()}")
        if counts.ndim == 1 and len(counts) > 1:
            return x[_along_axis(a, np.repeat(np.arange(x.shape[a]), counts))]
        r = int(counts.reshape(-1)[0])
        before, n, after = x.shape[:a], x.shape[a], x.shape[a + 1:]
        return x.reshape(*before, n, 1, *after).broadcast_to((*before, n, r, *after)).reshape(
            *before, n * r, *after)

    def tile(self, reps: Any) -> Tensor:
        """The tensor repeated `reps` times along each axis (NumPy's tile, PyTorch's repeat):
        a reshape, a broadcast and a reshape."""
        reps = tuple(int(r) for r in np.atleast_1d(reps))
        if any(r < 0 for r in reps):
            raise ValueError(f"tile: reps must be non-negative, got {reps}")
        ndim = max(self.ndim, len(reps))
        shape = (1,) * (ndim - self.ndim) + self.shape
        reps = (1,) * (ndim - len(reps)) + reps
        interleaved = [d for pair in zip((1,) * ndim, shape) for d in pair]
        stretched = [d for pair in zip(reps, shape) for d in pair]
        return self.reshape(interleaved).broadcast_to(stretched).reshape(
            [r * n for r, n in zip(reps, shape)])

    def split(self, split_size_or_sections: Any, dim: int = 0) -> list[Tensor]:
        """PyTorch's split: pieces of `split_size` along `dim` (the last may be shorter), or of
        the given sizes. (autograd.split is NumPy's.) Each piece is a slice of this tensor."""
        a = _axis_tuple("split", dim, self.ndim)[0]
        n = self.shape[a]
        if isinstance(split_size_or_sections, (int, np.integer)):
            size = int(split_size_or_sections)
            if size <= 0:
                raise ValueError(f"split: split_size must be positive, got {size}")
            return self._pieces(range(size, n, size), a)
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: sizes {sizes} must be non-negative and add up to {n}, "
                             f"the length of axis {a} of shape {self.shape}")
        return self._pieces(np.cumsum(sizes)[:-1].tolist(), a)

    def chunk(self, chunks: int, dim: int = 0) -> list[Tensor]:
        """PyTorch's chunk: `chunks` pieces of ⌈n / chunks⌉ along `dim` (maybe fewer pieces)."""
        if int(chunks) <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        n = self.shape[_axis_tuple("chunk", dim, self.ndim)[0]]
        return self.split(max(-(-n // int(chunks)), 1), dim)

    def _pieces(self, cuts: Any, axis: int) -> list[Tensor]:
        """The slices between consecutive cuts along `axis`. Each is its own small node (a basic
        slice), so a piece never used adds nothing to backward: its part of the gradient is 0."""
        bounds = [0, *cuts, self.shape[axis]]
        return [self[_along_axis(axis, slice(start, stop))]
                for start, stop in zip(bounds[:-1], bounds[1:])]

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The diagonal of the matrices on axes (axis1, axis2), as a new last axis (NumPy's)."""
        axis1, axis2 = _axis_tuple("diagonal", (axis1, axis2), self.ndim)
        return apply(P.diagonal, (self,), {"offset": int(offset), "axis1": axis1,
                                           "axis2": axis2})

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The sum of the diagonal: diagonal(...).sum(-1)."""
        return self.diagonal(offset, axis1, axis2).sum(-1)

    def tril(self, k: int = 0) -> Tensor:
        """The lower triangle of the last two axes (the rest 0): where(mask, x, 0)."""
        return where(_triangle("tril", self.shape, k, np.tril), self, 0)

    def triu(self, k: int = 0) -> Tensor:
        """The upper triangle of the last two axes (the rest 0): where(mask, x, 0)."""
        return where(_triangle("triu", self.shape, k, np.triu), self, 0)

    def take(self, indices: Any, axis: int | None = None) -> Tensor:
        """Elements at `indices` along `axis` (of the flattened tensor if None), as NumPy's
        take: integer indexing, repeated indices accumulating their gradients."""
        x = self.ravel() if axis is None else self
        a = _axis_tuple("take", 0 if axis is None else axis, x.ndim)[0]
        return x[_along_axis(a, _checked_indices("take", indices, x.shape, a))]

    def gather(self, dim: int, index: Any) -> Tensor:
        """PyTorch's gather: `out[i, j] = x[index[i, j], j]` for dim 0 (and so on); index
        has this tensor's rank and may be shorter along the other axes."""
        a = _axis_tuple("gather", dim, self.ndim)[0]
        index = _checked_indices("gather", index, self.shape, a)
        if index.ndim != self.ndim or any(
                m > n for d, (m, n) in enumerate(zip(index.shape, self.shape)) if d != a):
            raise ValueError(f"gather: index of shape {index.shape} must have the rank of the "
                             f"input {self.shape} and be no longer on every axis but {a}")
        return self[_grid_index(index, a, index.shape)]

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """`value` where `mask` is True, else this tensor: where(mask, value, x)."""
        mask = np.asarray(_data(mask))
        if mask.dtype != bool or not _broadcasts_to(mask.shape, self.shape):
            raise ValueError(f"masked_fill: mask must be boolean and broadcast to {self.shape}, "
                             f"got {mask.dtype} of shape {mask.shape}")
        return where(mask, value, self)

    def __setitem__(self, index: Any, value: Any) -> None:
        """t[i] = v writes into t's data, as NumPy does, where no graph can see it: a tensor
        that does not require grad, or a leaf under no_grad(). Anywhere else it is an error:
        build the new tensor instead (where, masked_fill, concatenate, stack)."""
        recording = is_grad_enabled() and (self.requires_grad
                                            or getattr(value, "requires_grad", False))
        if self._op is not None or recording:
            raise RuntimeError(
                f"setitem: cannot assign into a tensor of shape {self.shape} that "
                f"{'was made by ' + self._op.name if self._op else 'requires grad'}"
                f"{' (or from one that requires grad)' if not self.requires_grad else ''}: "
                f"the graph would not see the change. Build a new tensor instead, e.g. "
                f"t.masked_fill(mask, v), autograd.where(mask, v, t) or concatenate/stack; "
                f"to change a parameter's values, assign under autograd.no_grad()")
        try:
            self.data[_index(index)] = _data(value)
        except (ValueError, IndexError, TypeError) as error:
            raise type(error)(f"setitem: cannot assign a value of shape {_shape_of(_data(value))} "
                              f"into a tensor of shape {self.shape}: "
                              f"{str(error).splitlines()[0]}") from None


def shape_argument(shape: tuple) -> tuple:
    """A shape given as separate ints, f(2, 3), or as one sequence, f((2, 3))."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


# The symbol of each in-place operator, for its error messages.
_IN_PLACE = {"add": "+=", "sub": "-=", "mul": "*=", "div": "/="}


def _greater_or_nan(x: Any, y: Any) -> np.ndarray:
    """Where maximum(x, y) takes x: x > y, or x is NaN (a NaN y fails x > y and is taken)."""
    return np.greater(x, y) | np.isnan(x)


def _less_or_nan(x: Any, y: Any) -> np.ndarray:
    return np.less(x, y) | np.isnan(x)


def _compare(name: str, comparison: Callable, x: Any, y: Any) -> np.ndarray:
    """A comparison of the data, as a constant mask, with an error that names the op."""
    try:
        return comparison(_data(x), _array_if_sequence(_data(y)))
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name}: cannot compare shapes {_shape_of(_data(x))} and "
                         f"{_shape_of(_data(y))}: {str(error).splitlines()[0]}") from None


def _data(x: Any) -> Any:
    """The array inside a Tensor, or x itself."""
    return x.data if isinstance(x, Tensor) else x


def _axis(x: Tensor, axis: Any, op: str) -> None | int | tuple[int, ...]:
    """NumPy's axis argument in one form: None, a non-negative int, or a tuple of them.

    Accepts ints (also np.int64), negative ones, tuples and lists; a 0-d tensor accepts axis 0
    and -1 as NumPy does (reducing over it is the identity: axis None). Bad axes raise one line
    naming the op and the shape.
    """
    if axis is None:
        return None
    ndim = x.ndim
    several = isinstance(axis, (tuple, list))
    axes = tuple(axis) if several else (axis,)
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, (bool, np.bool_)):
            raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise np.exceptions.AxisError(
                f"{op}: axis {int(a)} is out of range for a tensor of shape {x.shape} "
                f"(ndim {ndim})")
    if ndim == 0:
        return None
    normal = tuple(int(a) % ndim for a in axes)
    if len(set(normal)) != len(normal):
        raise ValueError(f"{op}: axis {tuple(axis)} names an axis twice (shape {x.shape})")
    return normal if several else normal[0]


def _single_axis(x: Tensor, axis: Any, op: str, allow_none: bool = False) -> int | None:
    """One axis as a non-negative int (0 for a 0-d tensor), or None where the op allows it."""
    if axis is None and allow_none:
        return None
    if isinstance(axis, (tuple, list)) or axis is None:
        raise TypeError(f"{op}: axis must be one int, got {axis!r}")
    normal = _axis(x, axis, op)
    return 0 if normal is None else normal


def _ddof(op: str, ddof: Any, correction: Any) -> float:
    """NumPy's ddof= or PyTorch's correction= (the same number); NumPy's default, 0."""
    if ddof is not None and correction is not None:
        raise TypeError(f"{op}: pass ddof= (NumPy's name) or correction= (PyTorch's), not both")
    value = ddof if ddof is not None else correction if correction is not None else 0
    return _number(op, "ddof" if ddof is not None else "correction", value)


def _number(op: str, name: str, value: Any) -> float:
    """A real number argument (Python or NumPy, not a Tensor), checked."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} {value!r}")
    return value


# PyTorch's spellings of NumPy's arguments, added in one place to every method that takes an
# axis: t.sum(dim=1, keepdim=True) is t.sum(axis=1, keepdims=True).
_TORCH_NAMES = {"dim": "axis", "keepdim": "keepdims"}
_TAKES_AXIS = ("sum", "max", "min", "prod", "mean", "var", "std", "norm", "argmax", "argmin",
               "any", "all", "cumsum", "cumprod", "softmax", "log_softmax", "logsumexp")


def _torch_names(method: Callable) -> Callable:
    """`method`, also accepting dim= for axis= and keepdim= for keepdims=."""
    parameters = list(inspect.signature(method).parameters)
    position = {name: parameters.index(name) - 1 for name in _TORCH_NAMES.values()
                if name in parameters}  # where each may come positionally (after self)

    @functools.wraps(method)
    def with_torch_names(self, *args, **kwargs):
        if "dim" in kwargs or "keepdim" in kwargs:
            for torch_name, numpy_name in _TORCH_NAMES.items():
                if torch_name not in kwargs:
                    continue
                if numpy_name in kwargs or len(args) > position.get(numpy_name, len(args)):
                    raise TypeError(f"{method.__name__}: got both {numpy_name}= and "
                                    f"{torch_name}= (PyTorch's name for it); pass one")
                kwargs[numpy_name] = kwargs.pop(torch_name)
        return method(self, *args, **kwargs)
    return with_torch_names


for _name in _TAKES_AXIS:
    setattr(Tensor, _name, _torch_names(getattr(Tensor, _name)))


def _index(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, tuple):
        return tuple(_data(i) for i in index)
    return _data(index)


def _axes(ndim: int, axis: Any) -> tuple[int, ...]:
    """The reduced axes as a tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


def _count(shape: tuple, axis: Any) -> int:
    """How many elements a reduction over `axis` combines."""
    return int(np.prod([shape[a] for a in _axes(len(shape), axis)]))


def _reduced_shape(shape: tuple, axis: Any) -> tuple[int, ...]:
    """The shape after reducing `axis` without keepdims."""
    gone = _axes(len(shape), axis)
    return tuple(n for i, n in enumerate(shape) if i not in gone)


def _axis_tuple(op: str, axis: Any, ndim: int, unique: bool = True) -> tuple[int, ...]:
    """`axis` (an int or a sequence of ints) as non-negative ints, checked against `ndim`."""
    axes = tuple(np.atleast_1d(np.asarray(axis)).tolist())
    for a in axes:
        if not isinstance(a, int) or not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a!r} is out of range for {ndim} axes (valid axes: "
                             f"{-ndim} to {ndim - 1})")
    axes = tuple(a % ndim for a in axes)
    if unique and len(set(axes)) != len(axes):
        raise ValueError(f"{op}: axis {axis} repeats an axis")
    return axes


def _along_axis(axis: int, index: Any) -> tuple:
    """An index that applies `index` to one axis and keeps the others whole."""
    return (slice(None),) * axis + (index,)


def _checked_indices(op: str, indices: Any, shape: tuple, axis: int) -> np.ndarray:
    """Integer indices into axis `axis` of `shape`, checked to lie in [-n, n)."""
    indices = np.asarray(_data(indices))
    n = shape[axis]
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {indices.dtype}")
    if indices.size and not -n <= indices.min() <= indices.max() < n:
        bad = indices[(indices < -n) | (indices >= n)].flat[0]
        raise IndexError(f"{op}: index {bad} is out of range for axis {axis} of length {n} "
                         f"(shape {shape})")
    return indices


def _grid_index(index: np.ndarray, axis: int, sizes: tuple) -> tuple:
    """An integer-array index that picks index[..] along `axis` and runs over `sizes` on the
    other axes (take_along_axis and gather as one indexing, so one getitem node)."""
    grid = [np.arange(n).reshape([-1 if d == a else 1 for d in range(len(sizes))])
            for a, n in enumerate(sizes)]
    grid[axis] = index
    return tuple(grid)


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """True if an array of `shape` broadcasts to `target` without growing it."""
    return len(shape) <= len(target) and all(
        m in (1, n) for m, n in zip(shape[::-1], target[::-1]))


def _triangle(op: str, shape: tuple, k: int, triangle: Callable) -> np.ndarray:
    """The boolean mask of a triangle of the last two axes."""
    if len(shape) < 2:
        raise ValueError(f"{op}: needs at least 2 axes, got shape {shape}")
    return triangle(np.ones(shape[-2:], dtype=bool), int(k))


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where `condition` holds, else y; the condition is a constant (no gradient)."""
    return apply(P.where, (_mask(_data(condition)), x, y))


def _mask(condition: Any) -> Any:
    """The condition as a boolean array, in its own backend."""
    if type(condition) is not np.ndarray and backends.is_array(condition):
        return condition if condition.dtype == bool else condition.astype(bool)
    return np.asarray(condition, dtype=bool)


from . import anomaly, backends, engine, numpy_dispatch  # noqa: E402 - they need Tensor

backends.NOT_ARRAYS += (Tensor,)
from . import primitives as P  # noqa: E402
