"""Reductions along NumPy's `axis=` with `keepdims=`."""

from __future__ import annotations

import numpy as np

from ..tensor import Primitive
from .elementwise import _raw
from .shape import broadcast_to


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
