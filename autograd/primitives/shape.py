"""Shape primitives: reshape, transpose, broadcasting and indexing."""

from __future__ import annotations

import numpy as np

from ..backends import scatter_add
from ..tensor import Primitive


# --- shape operations ---------------------------------------------------------------------------
def _scatter(g, index, shape):
    """Zeros of `shape` (in g's backend) with g added at `index` (repeated indices add up)."""
    out = np.zeros_like(g, shape=shape)
    if _is_basic(index):
        out[index] = g
    else:
        out = scatter_add(out, index, g)  # np.add.at, or what g's backend has instead
    return out


def _is_basic(index) -> bool:
    """True for slices, ints, None and Ellipsis: indexing that cannot repeat an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice, np.integer))
               for p in parts)


reshape = Primitive("reshape", lambda x, shape: np.reshape(x, shape), "d reshape(x) = reshape(dx)",
                    lambda g, out, x, shape: g.reshape(x.shape), reads="none")
transpose = Primitive("transpose", lambda x, axes: np.transpose(x, axes),
                      "d xᵀ = (dx)ᵀ: g goes back through the inverse permutation",
                      lambda g, out, x, axes: transpose(
                          g, axes=None if axes is None else tuple(np.argsort(axes))), reads="none")
broadcast_to = Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                         "d broadcast(x) = broadcast(dx): g is summed back by the engine",
                         lambda g, out, x, shape: g, reads="none")
getitem = Primitive("getitem", lambda x, index: x[index], "d x[i] = dx[i]: g is scattered back",
                    lambda g, out, x, index: scatter(g, index=index, shape=x.shape),
                    reads="none")
scatter = Primitive("scatter", _scatter, "d scatter(h) = dh gathered at the index",
                    lambda g, out, h, index, shape: getitem(g, index=index),
                    reads="none")
