"""The Tensor: a NumPy array that remembers the primitive operation that made it.

A tensor computed from inputs that require gradients is a graph node: it keeps the primitive
(`_op`), the inputs it was applied to (`_inputs`, tensors or plain constants) and the primitive's
static parameters (`_params`, e.g. `axis`). Nothing else is stored, and in particular no closure
over the output, so a graph is freed by reference counting alone once nobody holds its root.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------------------------
# Grad mode: whether operations record the graph.
# ---------------------------------------------------------------------------------------------
_grad_enabled = True


def is_grad_enabled() -> bool:
    """True while operations record the graph (i.e. outside `no_grad`)."""
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Sets grad mode on entering a `with` block (or a decorated call), restores it on exit."""

    mode = True

    def __init__(self) -> None:
        self.previous: list[bool] = []  # a stack: one decorator instance may be re-entered

    def __enter__(self) -> None:
        global _grad_enabled
        self.previous.append(_grad_enabled)
        _grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self.previous.pop()


class no_grad(_GradMode):
    """Record nothing inside: for evaluation and in-place parameter updates."""

    mode = False


class enable_grad(_GradMode):
    """Record the graph inside, even within `no_grad`."""

    mode = True


class set_grad_enabled:
    """Turn graph recording on or off at once, as PyTorch does; as a context manager, the
    previous mode comes back on exit."""

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        self.previous, _grad_enabled = _grad_enabled, bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self.previous


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
    """

    __slots__ = ("name", "forward", "math", "vjps", "saves")

    def __init__(self, name: str, forward: Callable, math: str, *vjps: Callable | None,
                 saves: bool = False) -> None:
        self.name, self.forward, self.math, self.vjps, self.saves = name, forward, math, vjps, saves

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


def apply(op: Primitive, inputs: tuple, params: dict | None = None) -> Tensor:
    """Run `op` forward on the inputs' data and, if any input needs a gradient, record a node."""
    arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
    try:
        out, params = op.run(arrays, params)
    except (ValueError, IndexError, TypeError) as error:
        raise _explain(op, arrays, params, error) from None
    if _grad_enabled:
        for x in inputs:
            if isinstance(x, Tensor) and x.requires_grad:
                return _node(out, op, inputs, params)
    return _constant(out)


# _unary and _binary are apply() for the elementwise operators and functions, without its
# generality. Measured on 1-element arrays, they halve the engine's own forward cost of a unary
# op (0.4 µs instead of 0.7 µs beside NumPy's) and cut a binary op's by a quarter.
def _unary(op: Primitive, x: Tensor) -> Tensor:
    """apply() for one Tensor input and no parameters: the common case, kept lean."""
    try:
        out = op.forward(x.data)
    except (ValueError, TypeError) as error:
        raise _explain(op, [x.data], None, error) from None
    if _grad_enabled and x.requires_grad:
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
    if _grad_enabled and (x_is_tensor and x.requires_grad or y_is_tensor and y.requires_grad):
        return _node(out, op, (x if x_is_tensor else a, y if y_is_tensor else b), None)
    return _constant(out)


def _array_if_sequence(x: Any) -> Any:
    """Lists and tuples become arrays; Python numbers stay weakly typed (float32 stays float32)."""
    return np.asarray(x) if isinstance(x, (list, tuple)) else x


def _node(out: Any, op: Primitive, inputs: tuple, params: dict | None) -> Tensor:
    """Wrap a forward result as a graph node that requires grad."""
    if type(out) is not np.ndarray:
        out = np.asarray(out)  # NumPy returns scalars from 0-d operations
    node = _new(Tensor)
    node.data, node.grad, node.requires_grad, node.name = out, None, True, None
    node._op, node._inputs, node._params = op, inputs, params
    node._retains, node._seq = False, next(_creation_order)
    return node


def _constant(out: Any) -> Tensor:
    """Wrap a forward result that needs no gradient (no input required one, or no_grad)."""
    return Tensor._wrap(out if type(out) is np.ndarray else np.asarray(out))


_new = object.__new__

# Every node is numbered when created. Its inputs existed before it, so they carry smaller
# numbers: creation order is a topological order, and backward walks it from the top down.
_creation_order = itertools.count(1)


def _explain(op: Primitive, arrays: list, params: dict | None, error: Exception) -> Exception:
    """Turn NumPy's error from deep inside a forward into one that names the op and the shapes."""
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
        detail = str(error).split("\n")[0]
    extra = f" with {params}" if params else ""
    kind = IndexError if isinstance(error, IndexError) else TypeError if isinstance(
        error, TypeError) else ValueError
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


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    """Copy `data` into a fresh ndarray, with clear errors for ragged or non-numeric input."""
    if isinstance(data, Tensor):
        data = data.data
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


class Tensor:
    """An n-dimensional array that records the operations applied to it for `backward()`.

    `Tensor(data, requires_grad=False, dtype=None)` copies `data` (a number, nested list or
    array). Floating data keeps its dtype (float32 stays float32, gradients included); Python
    floats become float64 as in NumPy. Only floating tensors can require gradients.
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_op", "_inputs", "_params",
                 "_retains", "_seq", "__weakref__")
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
        self._seq = 0

    # ----- basic properties ------------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="Shape of the data.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions.")
    dtype = property(lambda self: self.data.dtype, doc="NumPy dtype of the data.")
    size = property(lambda self: self.data.size, doc="Number of elements.")
    is_leaf = property(lambda self: self._op is None, doc="True unless made by an op.")
    op = property(lambda self: self._op, doc="The primitive that made this tensor, or None.")

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert to a Python number, "
                             f"this one has shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """The same data as a new leaf that does not require grad."""
        return Tensor._wrap(self.data)

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
        t._seq = 0
        return t

    # ----- conversions -------------------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
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
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", threshold=100)
        extras = [f"dtype={self.dtype}"] if self.dtype not in (np.float64, np.int64) else []
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
        """Update the data in place where no graph can see it: a leaf while nothing records
        (a parameter update under no_grad). Anywhere else `t -= u` is `t = t - u`."""
        recording = _grad_enabled and (self.requires_grad or getattr(other, "requires_grad", 0))
        if self._op is not None or recording:
            return _binary(op, self, other)
        try:
            op.forward(self.data, _array_if_sequence(_data(other)), out=self.data)
        except (ValueError, TypeError) as error:
            raise _explain(op, [self.data, _data(other)], None, error) from None
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
        """Elementwise max; at ties the gradient goes to `other`, so maximum(x, 0) is relu(x)."""
        return where(_compare("maximum", np.greater, self, other), self, other)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise min; at ties the gradient goes to `other`."""
        return where(_compare("minimum", np.less, self, other), self, other)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy's names
        """Clamp to [min, max]. The gradient goes to x on the closed interval (as in PyTorch)
        and to the bound outside it (bounds may be tensors)."""
        out = self
        if min is not None:
            out = where(_compare("clip", np.less, self, min), min, out)
        if max is not None:
            out = where(_compare("clip", np.greater, self, max), max, out)
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
        """PyTorch's gather: out[i][j] = x[index[i][j]][j] for dim 0 (and so on); index has
        this tensor's rank and may be shorter along the other axes."""
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


def _compare(name: str, comparison: np.ufunc, x: Any, y: Any) -> np.ndarray:
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
    return apply(P.where, (np.asarray(_data(condition), dtype=bool), x, y))


from . import engine  # noqa: E402 - these modules need Tensor and Primitive defined
from . import primitives as P  # noqa: E402
