"""Shape primitives: reshape, transpose, broadcasting, indexing, joining, padding, diagonals."""

from __future__ import annotations

import functools

import numpy as np

from ..backends import is_lazy, scatter_add
from ..tensor import Primitive, _along_axis


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


# --- joining, reordering and padding ------------------------------------------------------------
class EachInput:
    """The VJPs of a primitive that takes any number of inputs (concatenate, stack, einsum):
    `vjps[i]` is `rule(i, g, out, *inputs, **params)`, one rule that is told which input.

    Iterating yields the rule for input 0 only: how many inputs there are is known per call."""

    __slots__ = ("rule",)

    def __init__(self, rule):
        self.rule = rule

    def __getitem__(self, i: int):
        return functools.partial(self.rule, i)

    def __iter__(self):
        return iter((self[0],))


def variadic(name: str, forward, math: str, rule, reads: str = "all") -> Primitive:
    """A primitive of any number of inputs, with vjps = EachInput(rule)."""
    op = Primitive(name, forward, math, reads=reads)
    op.vjps = EachInput(rule)
    return op


def _concatenate_vjp(i, g, out, *xs, axis):
    """Input i's slice of g along `axis` (a view: concatenate's backward is slicing)."""
    start = sum(x.shape[axis] for x in xs[:i])
    return g[_along_axis(axis, slice(start, start + xs[i].shape[axis]))]


concatenate = variadic("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis),
                       "d concatenate(x₁, …, xₙ) = concatenate(dx₁, …, dxₙ): g is sliced back",
                       _concatenate_vjp, reads="none")
stack = variadic("stack", lambda *xs, axis: np.stack(xs, axis=axis),
                 "d stack(x₁, …, xₙ) = stack(dx₁, …, dxₙ): input i gets g[…, i, …]",
                 lambda i, g, out, *xs, axis: g[_along_axis(axis, i)], reads="none")
flip = Primitive("flip", lambda x, axis: np.flip(x, axis), "d flip(x) = flip(dx)",
                 lambda g, out, x, axis: flip(g, axis=axis), reads="none")
roll = Primitive("roll", lambda x, shift, axis: np.roll(x, shift, axis),
                 "d roll(x, s) = roll(dx, s): g is rolled back by -s",
                 lambda g, out, x, shift, axis: roll(g, shift=tuple(-s for s in shift),
                                                     axis=axis), reads="none")


def _pad(x, widths, mode, value):
    widths = widths or 0  # a 0-d x has no widths; NumPy takes 0 for it
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=value)
    return np.pad(x, widths, mode=mode)


def _pad_vjp(g, out, x, widths, mode, value):
    """Fold g back onto x one axis at a time: the centre is x itself, and each padded cell
    sends its gradient to the cell it copied (none for constant, the border for edge, the
    mirror image for reflect)."""
    for axis, (before, after) in enumerate(widths):
        if before or after:
            g = _fold(g, axis, x.shape[axis], before, after, mode)
    return g


def _fold(g, axis, n, before, after, mode):
    centre = g[_along_axis(axis, slice(before, before + n))]
    if mode == "constant":
        return centre
    head = g[_along_axis(axis, slice(0, before))]
    tail = g[_along_axis(axis, slice(before + n, before + n + after))]
    if mode == "edge":  # every padded cell copied the first (last) cell
        head, tail = head.sum(axis=axis, keepdims=True), tail.sum(axis=axis, keepdims=True)
        head_at, tail_at = (0, n - 1), (n - 1, 0)
    else:  # reflect: cell before - j copied x[j], cell before + n - 1 + j copied x[n - 1 - j]
        head, tail = flip(head, axis=(axis,)), flip(tail, axis=(axis,))
        head_at, tail_at = (1, n - 1 - before), (n - 1 - after, 1)
    if before:
        centre = centre + _zero_pad(head, axis, head_at)
    if after:
        centre = centre + _zero_pad(tail, axis, tail_at)
    return centre


def _zero_pad(h, axis, widths):
    """h with zeros added before and after along one axis (the adjoint of a slice)."""
    all_widths = tuple(widths if a == axis else (0, 0) for a in range(h.ndim))
    return pad(h, widths=all_widths, mode="constant", value=0)


pad = Primitive("pad", _pad, "d pad(x) = pad(dx): g's centre, plus what padded cells copied",
                _pad_vjp, reads="none")


# --- diagonals ----------------------------------------------------------------------------------
def _embed_diagonal(d, shape, offset, axis1, axis2):
    """Zeros of `shape` with d written on the diagonal (the adjoint of np.diagonal)."""
    rows = np.arange(d.shape[-1]) + max(-offset, 0)
    if is_lazy(d):  # Dask assigns through one integer array at a time
        return _embed_diagonal_by_mask(d, shape, rows, offset, axis1, axis2)
    out = np.zeros_like(d, shape=shape)
    np.moveaxis(out, (axis1, axis2), (-2, -1))[..., rows, rows + offset] = d
    return out


def _embed_diagonal_by_mask(d, shape, rows, offset, axis1, axis2):
    """_embed_diagonal without assignment: d gathered onto an (n, m) grid by one integer index
    (its element k at (rows[k], rows[k] + offset)), zeros kept off the diagonal by a mask."""
    n, m = shape[axis1], shape[axis2]
    on_diagonal = np.zeros((n, m), dtype=bool)
    on_diagonal[rows, rows + offset] = True
    source = np.zeros((n, m), dtype=np.intp)
    source[rows, rows + offset] = np.arange(len(rows))
    grid = d[..., source.reshape(-1)].reshape(*d.shape[:-1], n, m)
    out = np.where(on_diagonal, grid, np.zeros_like(grid, shape=()))
    return np.moveaxis(out, (-2, -1), (axis1, axis2))


diagonal = Primitive("diagonal", lambda x, offset, axis1, axis2: np.diagonal(
                         x, offset, axis1, axis2),
                     "d diagonal(x) = diagonal(dx): g goes back onto the diagonal",
                     lambda g, out, x, offset, axis1, axis2: embed_diagonal(
                         g, shape=x.shape, offset=offset, axis1=axis1, axis2=axis2),
                     reads="none")
embed_diagonal = Primitive("embed_diagonal", _embed_diagonal,
                           "d embed_diagonal(d) = diagonal of the embedded dd",
                           lambda g, out, d, shape, offset, axis1, axis2: diagonal(
                               g, offset=offset, axis1=axis1, axis2=axis2), reads="none")
