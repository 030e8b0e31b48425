"""The Tensor: a NumPy array that remembers the primitive operation that made it.

A tensor computed from inputs that require gradients is a graph node: it keeps the primitive
(`_op`), the inputs it was applied to (`_inputs`, tensors or plain constants) and the primitive's
static parameters (`_params`, e.g. `axis`). Nothing else is stored, and in particular no closure
over the output, so a graph is freed by reference counting alone once nobody holds its root.
"""

from __future__ import annotations

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
        self.previous: list[bool] = []  # a stack: one instance may be re-entered

    def __enter__(self) -> None:
        self.previous.append(_grad.enabled)
        _grad.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _grad.enabled = self.previous.pop()

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

    Each VJP is called as `vjp(g, out, *inputs, **params)` and returns g · ∂out/∂input. It is
    written with operators and primitives only, so it runs on plain arrays in an ordinary
    backward pass and on Tensors (recording a graph) when `create_graph=True`.

    A forward that `saves` returns (out, saved): something it computed anyway that the VJPs
    would otherwise recompute (PyTorch's save_for_backward); they receive it as `saved=`.

    `reads` says which values the VJPs read, so that backward can tell when one of them was
    changed in place after the forward ran: "all" (inputs and output, the safe default),
    "out" (only the output, as exp's VJP g·eˣ), or "none" (only shapes, as add and reshape).
    """

    __slots__ = ("name", "forward", "math", "vjps", "saves", "reads")

    def __init__(self, name: str, forward: Callable, math: str, *vjps: Callable | None,
                 saves: bool = False, reads: str = "all") -> None:
        if reads not in ("all", "out", "none"):
            raise ValueError(f"Primitive {name}: reads must be 'all', 'out' or 'none', "
                             f"got {reads!r}")
        self.name, self.forward, self.math, self.vjps = name, forward, math, vjps
        self.saves, self.reads = saves, reads

    def __call__(self, *inputs: Any, **params: Any) -> Any:
        """Apply to Tensors (recording a node) or to plain arrays (just the forward)."""
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


# Marks a node whose graph was freed by a backward pass without retain_graph.
FREED = Primitive("freed", None, "graph freed by backward()")

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
        self.count, self.stamps = 0, []


# The stamp of the latest in-place change anywhere: a node created after it needs no check.
_last_change = 0


def _share_versions(result: Tensor, inputs: tuple) -> None:
    """Give a view the version counter of the tensor whose memory it shares."""
    for x in inputs:
        if isinstance(x, Tensor) and backends.may_share_memory(result.data, x.data):
            result._versions = x._version_counter()
            return


def check_versions(node: Tensor) -> None:
    """Raise if a value that node's VJPs read was changed in place after node was created."""
    op = node._op
    if op.reads == "none" or op is FREED:
        return
    read = [(None, node)]
    if op.reads == "all":
        read += [(i, x) for i, x in enumerate(node._inputs) if isinstance(x, Tensor)]
    for position, t in read:
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
    if isinstance(data, (list, tuple)) and _holds_graph_tensor(data):
        raise TypeError("Tensor: the list holds tensors that require grad; Tensor([...]) "
                        "would copy their values into a constant and cut them off the graph. "
                        "Use autograd.stack([...]) to join them with their gradients (or "
                        "detach() them first if a constant is what you want)")
    try:
        array = np.array(data, dtype=dtype, copy=True)
    except ValueError as error:
        raise ValueError(f"Tensor: cannot make an array of {type(data).__name__} data "
                         f"(ragged nested lists?): {str(error).splitlines()[0]}") from None
    except TypeError as error:
        raise TypeError(f"Tensor: data must be numeric: {error}") from None
    if array.dtype.kind not in _DTYPE_KINDS:
        raise TypeError(f"Tensor: data must be numeric (float, int or bool), "
                        f"got {type(data).__name__} giving dtype {array.dtype}")
    return array


def _holds_graph_tensor(items: list | tuple) -> bool:
    """True if a (nested) list holds a tensor that requires grad."""
    return any(isinstance(x, Tensor) and x.requires_grad
               or isinstance(x, (list, tuple)) and _holds_graph_tensor(x) for x in items)


class Tensor:
    """An n-dimensional array that records the operations applied to it for `backward()`.

    `Tensor(data, requires_grad=False, dtype=None)` copies `data` (a number, nested list or
    array; a CuPy or Dask array stays one: see autograd.backends). Floating data keeps its dtype
    (float32 stays float32, gradients included); Python floats become float64 as in NumPy.
    Only floating tensors can require gradients.
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_op", "_inputs", "_params",
                 "_retains", "_seq", "_versions", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * tensor` defer to Tensor.__rmul__
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
        versions = self._version_counter()
        versions.count += 1
        _last_change = next(_creation_order)
        versions.stamps.append(_last_change)
        if len(versions.stamps) > _Versions.KEEP:
            del versions.stamps[0]

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
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if type(self.data) is not np.ndarray:
            if backends.device_of(self.data) != backends.HOST:
                raise TypeError(f"a {self.backend} tensor does not convert to a NumPy array "
                                f"implicitly: copy it to the host with t.numpy()")
            data = backends.to_host(self.data)  # Dask computes, as np.asarray(dask_array)
            return data if dtype is None else data.astype(dtype)
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype)

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

    # ----- reductions (NumPy's axis= and keepdims=) ---------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return apply(P.sum, (self,), {"axis": _axis(axis), "keepdims": keepdims})

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum along `axis`; tied maxima share the gradient evenly."""
        return apply(P.max, (self,), {"axis": _axis(axis), "keepdims": keepdims})

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum along `axis`; tied minima share the gradient evenly."""
        return apply(P.min, (self,), {"axis": _axis(axis), "keepdims": keepdims})

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean along `axis`, as sum / count."""
        return self.sum(axis, keepdims) / _count(self.shape, _axis(axis))

    def var(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Population variance along `axis`, as mean((x - mean)²)."""
        centred = self - self.mean(axis, keepdims=True)
        return (centred * centred).mean(axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / sum(exp(x)) along `axis`, computed stably (fused; see primitives)."""
        return apply(P.softmax, (self,), {"axis": axis})

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - logsumexp(x) along `axis`, computed stably (fused; see primitives)."""
        return apply(P.log_softmax, (self,), {"axis": axis})

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))) along `axis`, shifted by the (constant) max for stability."""
        shift = self.max(axis, keepdims=True).data  # a constant: the shift cancels out
        shift = np.where(np.isfinite(shift), shift, 0)
        out = (self - shift).exp().sum(axis, keepdims=True).log() + shift
        return out if keepdims else out.reshape(_reduced_shape(self.shape, _axis(axis)))

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


def _axis(axis: Any) -> Any:
    """NumPy accepts int, tuple or None; lists become tuples so params stay hashable."""
    return tuple(axis) if isinstance(axis, list) else axis


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


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where `condition` holds, else y; the condition is a constant (no gradient)."""
    return apply(P.where, (_mask(_data(condition)), x, y))


def _mask(condition: Any) -> Any:
    """The condition as a boolean array, in its own backend."""
    if type(condition) is not np.ndarray and backends.is_array(condition):
        return condition if condition.dtype == bool else condition.astype(bool)
    return np.asarray(condition, dtype=bool)


from . import anomaly, backends, engine  # noqa: E402 - these need Tensor and Primitive defined

backends.NOT_ARRAYS += (Tensor,)
from . import primitives as P  # noqa: E402
