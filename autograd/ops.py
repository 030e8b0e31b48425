"""The operations as package-level functions (`autograd.exp(t)`), accepting arrays too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import backends
from . import primitives as P
from .tensor import Tensor, _binary, _data, apply, is_grad_enabled, shape_argument
from .tensor import where as _where


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new tensor (a copy of `data`), as `torch.tensor`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def zeros(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros; shape as separate ints or one tuple."""
    return Tensor(np.zeros(shape_argument(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones; shape as separate ints or one tuple."""
    return Tensor(np.ones(shape_argument(shape), dtype=dtype), requires_grad=requires_grad)


def full(shape: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `shape` filled with `fill_value` (NumPy's dtype from the value by default)."""
    return Tensor(np.full(shape, _data(fill_value), dtype=dtype), requires_grad=requires_grad)


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of x's shape and dtype (or `dtype`)."""
    return Tensor(np.zeros_like(_data(x), dtype=dtype), requires_grad=requires_grad)


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of x's shape and dtype (or `dtype`)."""
    return Tensor(np.ones_like(_data(x), dtype=dtype), requires_grad=requires_grad)


def full_like(x: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """`fill_value` in x's shape and dtype (or `dtype`)."""
    return Tensor(np.full_like(_data(x), _data(fill_value), dtype=dtype),
                  requires_grad=requires_grad)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop), as np.arange (integers unless a bound is a float)."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    return Tensor(np.arange(start, stop, step, dtype=dtype), requires_grad=requires_grad)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`num` evenly spaced values from start to stop (included unless endpoint=False)."""
    if not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"linspace: num must be a non-negative int, got {num!r}")
    return Tensor(np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype),
                  requires_grad=requires_grad)


def eye(n: int, m: int | None = None, k: int = 0, dtype: Any = np.float64,
        requires_grad: bool = False) -> Tensor:
    """The n×m identity (ones on the k-th diagonal)."""
    for name, value in (("n", n), ("m", n if m is None else m)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"eye: {name} must be a non-negative int, got {value!r}")
    return Tensor(np.eye(n, m, k, dtype=dtype), requires_grad=requires_grad)


def _generator(seed: Any, op: str) -> np.random.Generator:
    """np.random.default_rng(seed): an int, a Generator (used as it is), or None (fresh)."""
    if seed is not None and not isinstance(seed, (int, np.integer, np.random.Generator)):
        raise TypeError(f"{op}: seed must be an int, a np.random.Generator or None, got "
                        f"{type(seed).__name__}")
    return np.random.default_rng(seed)


def _random(samples: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    return Tensor(samples if dtype is None else samples.astype(dtype),
                  requires_grad=requires_grad)


def rand(*shape: Any, seed: Any = None, dtype: Any = np.float64,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) (torch.rand); shape as separate ints or one tuple."""
    samples = _generator(seed, "rand").random(shape_argument(shape))
    return _random(samples, dtype, requires_grad)


def randn(*shape: Any, seed: Any = None, dtype: Any = np.float64,
          requires_grad: bool = False) -> Tensor:
    """Standard-normal samples from `np.random.default_rng(seed)`."""
    samples = _generator(seed, "randn").standard_normal(shape_argument(shape))
    return _random(samples, dtype, requires_grad)


def randint(low: int, high: int | None = None, size: Any = None, seed: Any = None,
            dtype: Any = np.int64) -> Tensor:
    """Integers in [low, high) (or [0, low) with one bound), as Generator.integers."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    return Tensor(_generator(seed, "randint").integers(low, high, size=size, dtype=dtype))


def uniform(low: Any = 0.0, high: Any = 1.0, size: Any = None, seed: Any = None,
            dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [low, high), as Generator.uniform."""
    samples = np.asarray(_generator(seed, "uniform").uniform(low, high, size))
    return _random(samples, dtype, requires_grad)


def normal(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, seed: Any = None,
           dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """Normal samples with mean `loc` and standard deviation `scale`, as Generator.normal."""
    if np.any(np.asarray(scale) < 0):
        raise ValueError(f"normal: scale (a standard deviation) must be >= 0, got {scale}")
    samples = np.asarray(_generator(seed, "normal").normal(loc, scale, size))
    return _random(samples, dtype, requires_grad)


def exp(x: Any) -> Tensor: return _as_tensor(x).exp()
def log(x: Any) -> Tensor: return _as_tensor(x).log()
def sqrt(x: Any) -> Tensor: return _as_tensor(x).sqrt()
def tanh(x: Any) -> Tensor: return _as_tensor(x).tanh()
def sigmoid(x: Any) -> Tensor: return _as_tensor(x).sigmoid()
def relu(x: Any) -> Tensor: return _as_tensor(x).relu()
def abs(x: Any) -> Tensor: return _as_tensor(x).abs()  # noqa: A001


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise max; ties send the gradient to y, so maximum(x, 0) == relu(x)."""
    return _as_tensor(x).maximum(y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise min; ties send the gradient to y."""
    return _as_tensor(x).minimum(y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where `condition` holds, else y (the condition gets no gradient)."""
    return _where(condition, x, y)


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return _as_tensor(x).clip(min, max)


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    return _as_tensor(x).reshape(shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    return _as_tensor(x).transpose(axes) if axes is not None else _as_tensor(x).transpose()


def matmul(x: Any, y: Any) -> Tensor:
    """x @ y, as np.matmul (1-d operands and batch dimensions included)."""
    return _binary(P.matmul, x, y)


def _array_or_tensor(x: Any) -> Any:
    if isinstance(x, Tensor) or type(x) is np.ndarray:  # (the common cases, first)
        return x
    return backends.as_array(x)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight + bias with weight of shape (in, out), as in the lectures; one fused node."""
    x, w_shape = _array_or_tensor(x), np.shape(_data(weight))  # no NumPy dispatch
    if len(w_shape) != 2 or x.shape[-1:] != w_shape[:1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape "
                         f"{w_shape} (needs input.shape[-1] == weight.shape[0])")
    if bias is None:
        return apply(P.matmul, (x, weight))
    bias = _array_or_tensor(bias)
    if bias.shape != w_shape[1:]:
        raise ValueError(f"linear: bias of shape {bias.shape} does not fit weight of shape "
                         f"{w_shape} (needs ({w_shape[1]},))")
    return apply(P.linear, (x, weight, bias))


def _labels_in_range(labels: Any, classes: int) -> Any:
    """labels, if they all lie in [0, classes); else one clear error."""
    if type(labels) is np.ndarray:  # the ufuncs' reduce: no Python wrapper
        low, high = np.minimum.reduce(labels), np.maximum.reduce(labels)
    else:
        low, high = labels.min(), labels.max()
    if len(labels) and not 0 <= int(low) <= int(high) < classes:
        raise ValueError(f"softmax_cross_entropy: labels must lie in [0, {classes}), got "
                         f"values from {labels.min()} to {labels.max()}")
    return labels


def softmax_cross_entropy(logits: Tensor, target: Any) -> Tensor:
    """Mean cross-entropy of softmax(logits) against integer labels (N,) or probabilities (N, C).

    Fused and stable: the forward is logsumexp(z) - z[label], the backward (softmax - y) / N.
    The target is a constant: one that requires grad is refused rather than silently ignored.
    """
    logits = _as_tensor(logits)
    if isinstance(target, Tensor) and target.requires_grad and is_grad_enabled():
        raise ValueError("softmax_cross_entropy: the target requires grad, but targets are "
                         "constants here and target.grad would stay None; pass "
                         "target.detach(), or differentiate -(y * log_softmax(z)).sum(1).mean()")
    target = backends.as_array(target.data if isinstance(target, Tensor) else target)
    if logits.ndim != 2:
        raise ValueError(f"softmax_cross_entropy: logits must be 2-d (batch, classes), "
                         f"got shape {logits.shape}")
    n, classes = logits.shape
    if target.ndim == 1:
        if target.dtype.kind not in "iu" or len(target) != n:
            raise ValueError(f"softmax_cross_entropy: labels must be {n} integers, got shape "
                             f"{target.shape} of dtype {target.dtype}")
        if backends.is_lazy(target):  # checked as the chunks are computed, not now
            target = target.map_blocks(_labels_in_range, classes, dtype=target.dtype)
        else:
            _labels_in_range(target, classes)
    elif target.shape != logits.shape:
        raise ValueError(f"softmax_cross_entropy: target of shape {target.shape} must be labels "
                         f"({n},) or probabilities {logits.shape}")
    else:
        target = target.astype(logits.dtype, copy=False)
    return apply(P.softmax_cross_entropy, (logits, target))


# =================================================================================================
# Joining, shape, linear algebra and indexing. NumPy's names and signatures (so that NumPy's own
# functions can dispatch here by name); PyTorch's spellings (cat, unsqueeze, permute, chunk,
# gather, masked_fill) beside them. Single-tensor ops are Tensor methods; these accept arrays too.
# =================================================================================================
import builtins  # noqa: E402 - imported here, with the section that needs them
import collections  # noqa: E402
import string  # noqa: E402

from .tensor import _along_axis, _axis_tuple, _checked_indices, _grid_index  # noqa: E402


def _operands(op: str, arrays: Any) -> list[Any]:
    """A non-empty sequence of tensors and arrays (arrays are constants of the graph)."""
    if isinstance(arrays, (Tensor, np.ndarray)) or not isinstance(arrays, Sequence) or not arrays:
        raise TypeError(f"{op}: expects a non-empty list or tuple of tensors, got "
                        f"{type(arrays).__name__}")
    return [_array_or_tensor(x) for x in arrays]


def concatenate(arrays: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (all flattened if axis is None); one node, whose
    backward hands each input its slice of the gradient."""
    xs = _operands("concatenate", arrays)
    if axis is None:
        xs, axis = [x.reshape(-1) for x in xs], 0
    first = xs[0]
    if first.ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated "
                         "(use stack)")
    (axis,) = _axis_tuple("concatenate", axis, first.ndim)
    for x in xs[1:]:
        if x.ndim != first.ndim:
            raise ValueError(f"concatenate: shapes {first.shape} and {x.shape} have different "
                             f"numbers of axes")
        for d, (m, n) in enumerate(zip(first.shape, x.shape)):
            if d != axis and m != n:
                raise ValueError(f"concatenate: shapes {first.shape} and {x.shape} differ on "
                                 f"axis {d} (only axis {axis}, the joined one, may differ)")
    return apply(P.concatenate, tuple(xs), {"axis": axis})


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """PyTorch's name for concatenate."""
    return concatenate(tensors, dim)


def stack(arrays: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis; one node."""
    xs = _operands("stack", arrays)
    for x in xs[1:]:
        if x.shape != xs[0].shape:
            raise ValueError(f"stack: shapes {xs[0].shape} and {x.shape} differ (all must be "
                             f"equal)")
    (axis,) = _axis_tuple("stack", axis, xs[0].ndim + 1)
    return apply(P.stack, tuple(xs), {"axis": axis})


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """NumPy's split: `n` equal sections, or cuts at the given indices. (Tensor.split is
    PyTorch's, by piece size.) Pieces never used get zero gradient."""
    x = _as_tensor(ary)
    (a,) = _axis_tuple("split", axis, x.ndim)
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0 or x.shape[a] % sections:
            raise ValueError(f"split: axis {a} of shape {x.shape} does not divide into "
                             f"{sections} equal sections (array_split allows unequal ones)")
    return array_split(x, indices_or_sections, axis)


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """NumPy's array_split: like split, but n sections need not be equal (the first
    n % sections are one longer)."""
    x = _as_tensor(ary)
    (a,) = _axis_tuple("array_split", axis, x.ndim)
    n = x.shape[a]
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"array_split: sections must be positive, got {sections}")
        sizes = [n // sections + (i < n % sections) for i in range(sections)]
        cuts = np.cumsum(sizes)[:-1].tolist()
    else:  # NumPy's cut indices: clipped to the axis, like slices
        cuts = [int(c) for c in indices_or_sections]
    bounds = [0, *cuts, n]
    return [x[_along_axis(a, slice(start, builtins.max(start, stop)))]
            for start, stop in zip(bounds[:-1], bounds[1:])]


def chunk(input: Any, chunks: int, dim: int = 0) -> list[Tensor]:  # noqa: A002
    return _as_tensor(input).chunk(chunks, dim)


def squeeze(a: Any, axis: Any = None) -> Tensor:
    return _as_tensor(a).squeeze(axis)


def expand_dims(a: Any, axis: Any) -> Tensor:
    return _as_tensor(a).expand_dims(axis)


def unsqueeze(input: Any, dim: int) -> Tensor:  # noqa: A002
    return _as_tensor(input).unsqueeze(dim)


def flip(m: Any, axis: Any = None) -> Tensor:
    return _as_tensor(m).flip(axis)


def roll(a: Any, shift: Any, axis: Any = None) -> Tensor:
    return _as_tensor(a).roll(shift, axis)


def repeat(a: Any, repeats: Any, axis: int | None = None) -> Tensor:
    return _as_tensor(a).repeat(repeats, axis)


def tile(A: Any, reps: Any) -> Tensor:  # noqa: N803 - NumPy's name
    return _as_tensor(A).tile(reps)


def moveaxis(a: Any, source: Any, destination: Any) -> Tensor:
    return _as_tensor(a).moveaxis(source, destination)


def permute(input: Any, dims: Sequence[int]) -> Tensor:  # noqa: A002
    return _as_tensor(input).permute(dims)


def ravel(a: Any) -> Tensor:
    return _as_tensor(a).ravel()


def atleast_1d(*arys: Any) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least one axis (a 0-d one becomes shape (1,))."""
    out = tuple(x if x.ndim >= 1 else x.reshape(1) for x in map(_as_tensor, arys))
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: Any) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least two axes: (n,) becomes (1, n), 0-d becomes (1, 1)."""
    out = tuple(x if x.ndim >= 2 else x.reshape(1, -1) for x in map(_as_tensor, arys))
    return out[0] if len(out) == 1 else out


_PAD_MODES = ("constant", "edge", "reflect")


def pad(array: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    """NumPy's pad, modes constant, edge and reflect; pad_width as NumPy takes it (n, (before,
    after), or one pair per axis). One node; the backward slices and sums, never scatters."""
    x = _as_tensor(array)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit shape {x.shape} (give n, "
                         f"(before, after) or one pair per axis)") from None
    if widths.dtype.kind not in "iu" or np.any(widths < 0):
        raise ValueError(f"pad: pad_width must hold non-negative integers, got {pad_width!r}")
    widths = tuple((int(b), int(e)) for b, e in widths)
    for axis, (n, (before, after)) in enumerate(zip(x.shape, widths)):
        longest = builtins.max(before, after)
        if mode == "reflect" and longest and n <= longest:
            raise ValueError(f"pad: reflect padding of {longest} on axis {axis} of shape "
                             f"{x.shape} needs at least {longest + 1} elements on that axis")
        if mode == "edge" and longest and n == 0:
            raise ValueError(f"pad: edge padding of the empty axis {axis} of shape {x.shape}")
    if np.ndim(constant_values) or isinstance(constant_values, Tensor):
        raise ValueError(f"pad: constant_values must be one number, got {constant_values!r}")
    return apply(P.pad, (x,), {"widths": widths, "mode": mode, "value": constant_values})


# --- linear algebra ------------------------------------------------------------------------------
def einsum(subscripts: Any, *operands: Any, optimize: Any = "auto") -> Tensor:
    """NumPy's einsum, any subscripts it accepts (implicit output, '...', repeated labels, the
    sublist form); one node, whose VJPs are einsums of the gradient with the other operands.
    optimize="auto" uses NumPy's contraction path for 3+ operands or large ones."""
    if not isinstance(subscripts, str):  # einsum(x, [0, 1], y, [1, 2], [0, 2])
        subscripts, operands = _from_sublists((subscripts, *operands))
    subscripts = subscripts.replace(" ", "")
    xs = tuple(_array_or_tensor(x) for x in operands)
    try:
        P.einsum_labels(subscripts, tuple(x.ndim for x in xs))
    except ValueError as error:
        shapes = ", ".join(str(x.shape) for x in xs)
        raise ValueError(f"einsum: {error} (operand shapes {shapes})") from None
    if optimize == "auto":
        optimize = len(xs) > 2 or builtins.max(x.size for x in xs) >= 4096
    return apply(P.einsum, xs, {"subscripts": subscripts, "optimize": optimize})


def _from_sublists(args: tuple) -> tuple[str, tuple]:
    """einsum's sublist form (operand, [labels], ..., [output]) as a subscript string."""
    def letters(sublist):
        return "".join("..." if s is Ellipsis else string.ascii_letters[s] for s in sublist)
    has_output = len(args) % 2 == 1  # (x, labels, y, labels, output labels)
    pairs = args[:-1] if has_output else args
    output = "->" + letters(args[-1]) if has_output else ""
    return ",".join(letters(s) for s in pairs[1::2]) + output, tuple(pairs[0::2])


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """Sum products over axes[0] of a and axes[1] of b (the last/first `axes` if an int), as
    NumPy does it: a transpose and reshape of each, one matmul, a reshape."""
    a, b = _as_tensor(a), _as_tensor(b)
    if isinstance(axes, (int, np.integer)):
        axes = (range(a.ndim - int(axes), a.ndim), range(int(axes)))
    axes_a = _axis_tuple("tensordot", list(np.atleast_1d(axes[0])), a.ndim) if a.ndim else ()
    axes_b = _axis_tuple("tensordot", list(np.atleast_1d(axes[1])), b.ndim) if b.ndim else ()
    if [a.shape[i] for i in axes_a] != [b.shape[j] for j in axes_b]:
        raise ValueError(f"tensordot: axes {axes_a} of shape {a.shape} and axes {axes_b} of "
                         f"shape {b.shape} differ in length")
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [j for j in range(b.ndim) if j not in axes_b]
    k = int(np.prod([a.shape[i] for i in axes_a]))
    product = (a.transpose(free_a + list(axes_a)).reshape(-1, k)
               @ b.transpose(list(axes_b) + free_b).reshape(k, -1))
    return product.reshape([a.shape[i] for i in free_a] + [b.shape[j] for j in free_b])


def dot(a: Any, b: Any) -> Tensor:
    """NumPy's dot: a product for 0-d, matmul up to 2-d b, else a tensordot over a's last and
    b's second-to-last axis."""
    a, b = _array_or_tensor(a), _array_or_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return _as_tensor(a) * b
    inner = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} are not aligned "
                         f"({a.shape[-1]} != {inner})")
    if a.ndim == 1 or b.ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([-1], [-2]))


def inner(a: Any, b: Any) -> Tensor:
    """Sum of products over the last axes (a product for 0-d): a tensordot."""
    a, b = _array_or_tensor(a), _array_or_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return _as_tensor(a) * b
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: shapes {a.shape} and {b.shape} differ in their last axis")
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a: Any, b: Any) -> Tensor:
    """ravel(a)[:, None] * ravel(b)[None, :]."""
    return _as_tensor(a).reshape(-1, 1) * _as_tensor(b).reshape(1, -1)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    return _as_tensor(a).trace(offset, axis1, axis2)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    return _as_tensor(a).diagonal(offset, axis1, axis2)


def tril(m: Any, k: int = 0) -> Tensor:
    return _as_tensor(m).tril(k)


def triu(m: Any, k: int = 0) -> Tensor:
    return _as_tensor(m).triu(k)


def _square(op: str, a: Any) -> Tensor:
    a = _as_tensor(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{op}: needs square matrices (..., n, n), got shape {a.shape}")
    return a


def inv(a: Any) -> Tensor:
    """The inverse of a (stack of) square matrices; singular ones are an error."""
    return apply(P.inv, (_square("inv", a),))


def det(a: Any) -> Tensor:
    """The determinant; its gradient is the cofactor matrix, exact at singular matrices too."""
    return apply(P.det, (_square("det", a),))


SlogdetResult = collections.namedtuple("SlogdetResult", "sign logabsdet")


def slogdet(a: Any) -> SlogdetResult:
    """(sign, log|det|) as NumPy's; the sign is a constant, log|det| is differentiable."""
    a = _square("slogdet", a)
    sign = np.asarray(np.linalg.slogdet(a.data)[0])
    return SlogdetResult(Tensor._wrap(sign), apply(P.slogdet, (a,)))


def solve(a: Any, b: Any) -> Tensor:
    """x with a @ x = b: b is one vector (n,) or matrices (..., n, k) whose batch axes broadcast
    against a's (NumPy 2's rule). Both inputs are differentiable."""
    a, b = _square("solve", a), _array_or_tensor(b)
    n = a.shape[-1]
    if not (b.ndim == 1 and b.shape[0] == n or b.ndim >= 2 and b.shape[-2] == n):
        raise ValueError(f"solve: b of shape {b.shape} does not fit a of shape {a.shape} "
                         f"(needs ({n},) or (..., {n}, k))")
    return apply(P.solve, (a, b))


# --- indexing ------------------------------------------------------------------------------------
def take(a: Any, indices: Any, axis: int | None = None) -> Tensor:
    return _as_tensor(a).take(indices, axis)


def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Tensor:
    """NumPy's take_along_axis (e.g. with argsort's indices): one integer-indexing node."""
    x = _as_tensor(arr)
    if axis is None:
        x, axis = x.reshape(-1), 0
    (a,) = _axis_tuple("take_along_axis", axis, x.ndim)
    index = _checked_indices("take_along_axis", indices, x.shape, a)
    if index.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices of shape {index.shape} need the rank of "
                         f"the array, shape {x.shape}")
    return x[_grid_index(index, a, x.shape)]


def gather(input: Any, dim: int, index: Any) -> Tensor:  # noqa: A002
    return _as_tensor(input).gather(dim, index)


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:  # noqa: A002
    return _as_tensor(input).masked_fill(mask, value)


def one_hot(tensor: Any, num_classes: int = -1, dtype: Any = np.float64) -> Tensor:
    """Integer class labels (any shape) to one-hot rows along a new last axis: a float constant
    (no gradient). num_classes=-1 takes the largest label + 1, as PyTorch does."""
    labels = np.asarray(_data(tensor))
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"one_hot: labels must be non-negative, found {labels.min()}")
    largest = int(labels.max()) if labels.size else -1
    if num_classes == -1:
        num_classes = largest + 1
    if largest >= num_classes:
        raise ValueError(f"one_hot: label {largest} does not fit num_classes={num_classes}")
    out = np.zeros_like(labels, dtype=dtype, shape=(*labels.shape, num_classes))
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return Tensor._wrap(out)
