"""The derivative table: each primitive's forward and, beside it, one VJP per input.

Contract. For out = f(x₁, …, xₙ; params), the i-th VJP is called as

    vjp_i(g, out, x₁, …, xₙ, **params)  ->  g · ∂out/∂xᵢ

where g is the gradient arriving at `out` (out's shape). A VJP may return a result of the
broadcast shape; the engine sums it back to xᵢ's shape (broadcasting's adjoint lives there,
once) and casts it to xᵢ's dtype. `None` marks an input that is never differentiated.

The VJPs use only operators, methods and the primitives themselves, so the same line runs on
NumPy arrays in an ordinary backward pass and on Tensors (recording a graph) when
`create_graph=True` asks for higher-order derivatives.

`sub`, `div` and `neg` could be composed (x - y is x + (-1)·y, x / y is x · y⁻¹); they are
primitives so that they round exactly as NumPy does, cost one node, and read as themselves in
graph pictures and the ledger.

Subgradient conventions: relu'(0) = 0, |x|'(0) = 0, and `max` and `min` split the gradient
evenly between tied extremes. (`maximum`, `minimum` and `clip` are composed from `where`; see
Tensor.)
"""

from __future__ import annotations

import numpy as np

from .tensor import Primitive, Tensor


def _raw(x):
    """The array behind a Tensor (for masks and other constants of a VJP)."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


# --- elementwise arithmetic (inputs broadcast; the engine sums gradients back) ------------------
add = Primitive("add", np.add, "d(x + y) = dx + dy",
                lambda g, out, x, y: g,
                lambda g, out, x, y: g)
sub = Primitive("sub", np.subtract, "d(x - y) = dx - dy",
                lambda g, out, x, y: g,
                lambda g, out, x, y: -g)
mul = Primitive("mul", np.multiply, "d(x·y) = y dx + x dy",
                lambda g, out, x, y: g * y,
                lambda g, out, x, y: g * x)
div = Primitive("div", np.divide, "d(x/y) = dx/y - (x/y²) dy",
                lambda g, out, x, y: g / y,
                lambda g, out, x, y: -g * out / y)
neg = Primitive("neg", np.negative, "d(-x) = -dx",
                lambda g, out, x: -g)


def _pow_vjp_x(g, out, x, y):
    """g·y·xʸ⁻¹, with y = 0 giving 0 even at x = 0 (x⁰ is the constant 1)."""
    constant = _raw(y) == 0
    return g * y * x ** ((where(constant, 1, y) if constant.any() else y) - 1)


def _pow_vjp_y(g, out, x, y):
    """g·xʸ·ln x, with x = 0 giving 0 (xʸ is 0 near x = 0 for y > 0)."""
    zero_base = _raw(x) == 0
    return g * out * log(where(zero_base, 1, x) if zero_base.any() else x)


pow = Primitive("pow", np.power, "d(xʸ) = y xʸ⁻¹ dx + xʸ ln(x) dy",  # noqa: A001
                _pow_vjp_x, _pow_vjp_y)

# --- elementwise functions ----------------------------------------------------------------------
exp = Primitive("exp", np.exp, "d(eˣ) = eˣ dx",
                lambda g, out, x: g * out)
log = Primitive("log", np.log, "d(ln x) = dx / x",
                lambda g, out, x: g / x)
sqrt = Primitive("sqrt", np.sqrt, "d(√x) = dx / (2√x)",
                 lambda g, out, x: g / (2 * out))
tanh = Primitive("tanh", np.tanh, "d(tanh x) = (1 - tanh²x) dx",
                 lambda g, out, x: g * (1 - out * out))
abs = Primitive("abs", np.abs, "d|x| = sign(x) dx, with sign(0) = 0",  # noqa: A001
                lambda g, out, x: g * np.sign(_raw(x)))


@np.errstate(over="ignore")
def _sigmoid(x):
    """1 / (1 + e⁻ˣ): for very negative x, e⁻ˣ overflows to inf and the result is the right 0."""
    return 1 / (1 + np.exp(-x))


sigmoid = Primitive("sigmoid", _sigmoid, "d σ(x) = σ(x)(1 - σ(x)) dx",
                    lambda g, out, x: g * out * (1 - out))
relu = Primitive("relu", lambda x: np.maximum(x, 0), "d relu(x) = [x > 0] dx",
                 lambda g, out, x: g * (_raw(x) > 0))
where = Primitive("where", np.where, "d where(c, x, y) = [c] dx + [not c] dy",
                  None,
                  lambda g, out, c, x, y: g * c,
                  lambda g, out, c, x, y: g * ~c)
cast = Primitive("cast", lambda x, dtype: x.astype(dtype), "d cast(x) = dx (in x's dtype)",
                 lambda g, out, x, dtype: g)  # the engine casts g back to x's dtype


# --- matrix product -----------------------------------------------------------------------------
def _matmul_vjp_x(g, out, x, y):
    """g · ∂(x @ y)/∂x = g @ yᵀ, with NumPy's 1-d and batched cases."""
    if x.ndim == 1 and y.ndim == 1:
        return g * y
    if y.ndim == 1:
        return g[..., None] * y
    if x.ndim == 1:
        return (y @ g[..., None])[..., 0]
    return g @ y.swapaxes(-1, -2)


def _matmul_vjp_y(g, out, x, y):
    """g · ∂(x @ y)/∂y = xᵀ @ g, with NumPy's 1-d and batched cases."""
    if x.ndim == 1 and y.ndim == 1:
        return g * x
    if x.ndim == 1:
        return x[:, None] * g[..., None, :]
    if y.ndim == 1:
        return (g[..., None, :] @ x)[..., 0, :]
    return x.swapaxes(-1, -2) @ g


matmul = Primitive("matmul", np.matmul, "d(x @ y) = dx @ y + x @ dy",
                   _matmul_vjp_x, _matmul_vjp_y)


def _linear(x, w, b):
    """x @ w + b with the bias added in place (one temporary fewer)."""
    out = np.matmul(x, w)
    out += b
    return out


# A dense layer's affine map fused into one node (a textbook unit; tested against x @ w + b).
linear = Primitive("linear", _linear, "d(x @ w + b) = dx @ w + x @ dw + db",
                   lambda g, out, x, w, b: _matmul_vjp_x(g, out, x, w),
                   lambda g, out, x, w, b: _matmul_vjp_y(g, out, x, w),
                   lambda g, out, x, w, b: g)


# --- reductions ---------------------------------------------------------------------------------
def _keepdims(g, x, axis, keepdims):
    """g reshaped to x's rank, with length-1 reduced axes (undoes keepdims=False)."""
    if keepdims or axis is None and g.ndim == x.ndim:
        return g
    reduced = range(x.ndim) if axis is None else np.atleast_1d(axis) % x.ndim
    shape = list(x.shape)
    for a in reduced:
        shape[a] = 1
    return g.reshape(shape)


def _extreme_share(out, x, axis, keepdims):
    """1/k at each of the k tied extremes (maxima or minima) along `axis`, 0 elsewhere."""
    mask = _raw(x) == _keepdims(_raw(out), x, axis, keepdims)
    return (mask / mask.sum(axis=axis, keepdims=True)).astype(_raw(x).dtype, copy=False)


sum = Primitive("sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),  # noqa: A001
                "d Σx = Σdx: each element receives g",
                lambda g, out, x, axis, keepdims: broadcast_to(
                    _keepdims(g, x, axis, keepdims), shape=x.shape))
max = Primitive("max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),  # noqa: A001
                "d max(x) = dx at the argmax (ties share evenly)",
                lambda g, out, x, axis, keepdims: _keepdims(g, x, axis, keepdims)
                * _extreme_share(out, x, axis, keepdims))
min = Primitive("min", lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),  # noqa: A001
                "d min(x) = dx at the argmin (ties share evenly)",
                max.vjps[0])  # the same rule: g goes to wherever x equals the result


# --- shape operations ---------------------------------------------------------------------------
def _scatter(g, index, shape):
    """Zeros of `shape` with g added at `index` (repeated indices add up)."""
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _is_basic(index) -> bool:
    """True for slices, ints, None and Ellipsis: indexing that cannot repeat an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice, np.integer))
               for p in parts)


reshape = Primitive("reshape", lambda x, shape: np.reshape(x, shape), "d reshape(x) = reshape(dx)",
                    lambda g, out, x, shape: g.reshape(x.shape))
transpose = Primitive("transpose", lambda x, axes: np.transpose(x, axes),
                      "d xᵀ = (dx)ᵀ: g goes back through the inverse permutation",
                      lambda g, out, x, axes: transpose(
                          g, axes=None if axes is None else tuple(np.argsort(axes))))
broadcast_to = Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                         "d broadcast(x) = broadcast(dx): g is summed back by the engine",
                         lambda g, out, x, shape: g)
getitem = Primitive("getitem", lambda x, index: x[index], "d x[i] = dx[i]: g is scattered back",
                    lambda g, out, x, index: scatter(g, index=index, shape=x.shape))
scatter = Primitive("scatter", _scatter, "d scatter(h) = dh gathered at the index",
                    lambda g, out, h, index, shape: getitem(g, index=index))


# --- softmax family (fused: stable forwards, short VJPs; tested against their compositions) -----
# np.maximum.reduce and np.add.reduce are np.max and np.sum without their Python wrappers:
# on a batch of 64 rows of 10 logits, the wrappers cost more than the arithmetic.
def _softmax(x, axis):
    """exp(x - max) / Σ exp(x - max): the shift cancels and keeps exp from overflowing."""
    e = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


def _log_softmax(x, axis):
    """(x - max) - ln Σ exp(x - max)."""
    shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


softmax = Primitive("softmax", _softmax, "d softmax(x) = (diag(p) - p pᵀ) dx",
                    lambda g, out, x, axis: out * (g - (g * out).sum(axis=axis, keepdims=True)))
log_softmax = Primitive("log_softmax", _log_softmax, "d log_softmax(x) = (I - 1 pᵀ) dx",
                        lambda g, out, x, axis: g - exp(out) * g.sum(axis=axis, keepdims=True))


def _as_probabilities(target, logits_shape, dtype):
    """Integer labels (N,) become one-hot rows; probability rows (N, C) pass through."""
    target = np.asarray(target)
    if target.ndim == len(logits_shape):
        return target.astype(dtype, copy=False)
    probs = np.zeros(logits_shape, dtype=dtype)
    probs[np.arange(len(target)), target] = 1
    return probs


def _shifted_rows(z):
    """z minus each row's max. The max is read at the argmax: on short rows (10 classes)
    NumPy's argmax is several times faster than its max."""
    return z - z[np.arange(len(z)), z.argmax(axis=-1)][:, None]


def _cross_entropy(z, target):
    """mean over rows of Σ_c y_c (logsumexp(z) - z_c), never forming log(softmax).

    Saves softmax(z) for the VJP: it is exp(shifted) / Σ exp(shifted), half computed already.
    """
    shifted = _shifted_rows(z)  # the shift cancels out
    e = np.exp(shifted)
    total = np.add.reduce(e, axis=-1)
    logsumexp = np.log(total)
    if target.ndim == 1:
        losses = logsumexp - shifted[np.arange(len(z)), target]
    else:
        losses = np.add.reduce(target * (logsumexp[:, None] - shifted), axis=-1)
    e /= total[:, None]
    return np.add.reduce(losses) / len(z), e


def _cross_entropy_vjp(g, out, z, target, saved):
    """g · (softmax(z) Σy - y) / N, which is (p - y) / N for labels or probability rows."""
    if isinstance(z, Tensor):  # create_graph: the same formula, recorded
        y = _as_probabilities(target, z.shape, z.dtype)
        return (softmax(z, axis=-1) * y.sum(axis=-1, keepdims=True) - y) * (g / len(z))
    if target.ndim == 1:  # subtract the labels in place instead of building one-hot rows
        p = saved.copy()  # a copy: with retain_graph the VJP may run again
        p[np.arange(len(z)), target] -= 1
    else:
        p = saved * np.add.reduce(target, axis=-1, keepdims=True) - target
    p *= g / len(z)
    return p


softmax_cross_entropy = Primitive("softmax_cross_entropy", _cross_entropy,
                                  "dJ/dz = (softmax(z) - y) / N", _cross_entropy_vjp, None,
                                  saves=True)
