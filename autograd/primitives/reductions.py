"""Reductions along NumPy's `axis=` with `keepdims=`."""

from __future__ import annotations

import numpy as np

from ..tensor import Primitive, Tensor
from .elementwise import _raw, where
from .shape import broadcast_to, transpose


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
                    _keepdims(g, x, axis, keepdims), shape=x.shape), reads="none")
max = Primitive("max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),  # noqa: A001
                "d max(x) = dx at the argmax (ties share evenly)",
                lambda g, out, x, axis, keepdims: _keepdims(g, x, axis, keepdims)
                * _extreme_share(out, x, axis, keepdims))
min = Primitive("min", lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),  # noqa: A001
                "d min(x) = dx at the argmin (ties share evenly)",
                max.vjps[0])  # the same rule: g goes to wherever x equals the result


def _product_of_others(x, axis):
    """∏ of the other elements of x's slice along `axis`, at every element: exact with zeros.

    On arrays: products of the elements before (exclusive cumprod) times those after.
    On Tensors (create_graph): the product over a mask that puts 1 in place of the element
    itself, so that it is differentiable again (n² elements for a slice of n).
    """
    axes = tuple(range(x.ndim)) if axis is None else tuple(np.atleast_1d(axis) % x.ndim)
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    order = rest + axes  # the reduced axes last, flattened into one of length n
    inverse = tuple(np.argsort(order))
    moved = transpose(x, axes=order)
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    n = flat.shape[-1]
    if isinstance(x, Tensor):
        others = where(np.eye(n, dtype=bool), 1.0, flat[..., None, :]).prod(axis=-1)
    else:
        ones = np.ones_like(flat[..., :1])
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = before * after
    return transpose(others.reshape(moved.shape), axes=inverse)


def _norm(x, axis, keepdims):
    """√Σx² along `axis` (the Euclidean norm of each slice; Frobenius for two axes)."""
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def _norm_vjp(g, out, x, axis, keepdims):
    """g·x/‖x‖, and 0 where ‖x‖ = 0 (there x is 0 too): the subgradient 0 at 0."""
    norm = _keepdims(out, x, axis, keepdims)
    return _keepdims(g, x, axis, keepdims) * x / where(_raw(norm) == 0, 1, norm)


def _reverse(axis):
    """The index that reverses `axis`."""
    return (slice(None),) * axis + (slice(None, None, -1),)


prod = Primitive("prod", lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
                 "d Πx = Σᵢ (Π_{j≠i} xⱼ) dxᵢ",
                 lambda g, out, x, axis, keepdims: _keepdims(g, x, axis, keepdims)
                 * _product_of_others(x, axis))
norm = Primitive("norm", _norm, "d‖x‖ = xᵀdx / ‖x‖ (0 at x = 0)", _norm_vjp)
cumsum = Primitive("cumsum", lambda x, axis: np.cumsum(x, axis=axis),
                   "d cumsum(x)ᵢ = Σ_{j≤i} dxⱼ: g summed from the end backwards",
                   lambda g, out, x, axis: cumsum(g[_reverse(axis)], axis=axis)[_reverse(axis)])
