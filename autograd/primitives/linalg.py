"""Linear algebra primitives: the matrix product, the fused dense layer, einsum, inverse,
determinant and solve."""

from __future__ import annotations

import functools
import string

import numpy as np

from ..backends import as_array, is_lazy
from ..tensor import Primitive, Tensor
from .elementwise import _raw
from .shape import variadic


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
                   _matmul_vjp_x, _matmul_vjp_y, reads=("y", "x"))


def _linear(x, w, b):
    """x @ w + b with the bias added in place (one temporary fewer), unless the bias's dtype
    promotes the product's (float32 @ float32 + float64 is float64, as the composition)."""
    out = np.matmul(x, w)
    if out.dtype != b.dtype and np.result_type(out, b) != out.dtype:
        return out + b
    out += b
    return out


# A dense layer's affine map fused into one node (a textbook unit; tested against x @ w + b).
linear = Primitive("linear", _linear, "d(x @ w + b) = dx @ w + x @ dw + db",
                   lambda g, out, x, w, b: _matmul_vjp_x(g, out, x, w),
                   lambda g, out, x, w, b: _matmul_vjp_y(g, out, x, w),
                   lambda g, out, x, w, b: g, reads=("w", "x", ""))


# --- einsum -------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=512)
def einsum_labels(subscripts: str, ndims: tuple[int, ...]) -> tuple[tuple[str, ...], str]:
    """Each operand's labels and the output's, spelled out: '...' becomes letters (aligned on
    the right, as NumPy broadcasts them) and an implicit output is made explicit (the labels
    used once, in alphabetical order, after the ellipsis). Raises ValueError on a mismatch."""
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"{len(terms)} terms in {subscripts!r} for {len(ndims)} operands")
    letters = set(subscripts.replace("...", "")) - set(",->")
    if not letters <= set(string.ascii_letters):
        raise ValueError(f"{subscripts!r} may only hold letters, ',', '->' and '...'")
    spare = (c for c in string.ascii_letters if c not in letters)
    widths = [ndim - len(t.replace("...", "")) for t, ndim in zip(terms, ndims) if "..." in t]
    ellipsis = "".join(next(spare) for _ in range(max(widths, default=0)))
    labels = []
    for term, ndim in zip(terms, ndims):
        width = ndim - len(term.replace("...", ""))  # the axes this operand's '...' covers
        spelled = term.replace("...", ellipsis[len(ellipsis) - width:] if width > 0 else "")
        if len(spelled) != ndim:
            raise ValueError(f"term {term!r} has {len(term.replace('...', ''))} labels for an "
                             f"operand with {ndim} axes")
        labels.append(spelled)
    if arrow:
        return tuple(labels), output.replace("...", ellipsis)
    counts = inputs.replace("...", "").replace(",", "")
    return tuple(labels), ellipsis + "".join(sorted(c for c in letters if counts.count(c) == 1))


def _einsum_vjp(i, g, out, *xs, subscripts, optimize):
    """g · ∂out/∂xᵢ: an einsum of g with the other operands, output labelled as xᵢ.

    Two cases need a constant operand: a label only xᵢ has (summed inside xᵢ alone, so the
    gradient is the same along it: a vector of ones), and a label xᵢ repeats (a diagonal, as in
    'ii->i': a fresh label tied to the first by an identity matrix)."""
    labels, output = einsum_labels(subscripts, tuple(x.ndim for x in xs))
    terms, operands = [output], [g]
    for j, x in enumerate(xs):
        if j != i:
            terms.append(labels[j])
            operands.append(x)
    known = set("".join(terms))
    spare = (c for c in string.ascii_letters if c not in set("".join(labels)) | set(output))
    x, result = xs[i], []
    for axis, label in enumerate(labels[i]):
        n = x.shape[axis]
        if label in result:  # a repeated label
            fresh = next(spare)
            terms.append(label + fresh)
            operands.append(_identity(n, g.dtype, like=_raw(g)))
            result.append(fresh)
            continue
        if label not in known:
            terms.append(label)
            operands.append(np.ones(n, dtype=g.dtype, like=_raw(g)))
            known.add(label)
        result.append(label)
    return einsum(*operands, subscripts=",".join(terms) + "->" + "".join(result),
                  optimize=optimize)


def _identity(n, dtype, like):
    """The n×n identity in like's backend (Dask's eye takes no like=)."""
    if type(like) is np.ndarray:
        return np.eye(n, dtype=dtype)
    return (np.arange(n, like=like)[:, None] == np.arange(n, like=like)).astype(dtype)


einsum = variadic("einsum", lambda *xs, subscripts, optimize: np.einsum(
                      subscripts, *xs, optimize=optimize),
                  "d einsum(s, x₁, …, xₙ) = Σᵢ einsum(s, …, dxᵢ, …): the same contraction",
                  _einsum_vjp)


# --- inverse, determinant, solve ----------------------------------------------------------------
def _mT(a):
    """The last two axes swapped (the matrix transpose of a stack of matrices)."""
    return a.swapaxes(-1, -2)


def _per_matrix(function, out_shape, needs_inverse=""):
    """`function` (of NumPy's stacks of matrices) that also takes Dask arrays: there it stays
    lazy as one task on the whole arrays (np.linalg needs each matrix in one piece; Dask's own
    linalg wants square chunks and has no batches). `out_shape(*arrays)` is the result's.
    With `needs_inverse` (the op's name), a singular matrix is one LinAlgError naming the op."""
    def forward(*arrays):
        if any(map(is_lazy, arrays)):
            import dask
            import dask.array as da
            dtype = np.result_type(*(a.dtype for a in arrays), np.float32)  # as np.linalg's
            return da.from_delayed(dask.delayed(forward)(*arrays), shape=out_shape(*arrays),
                                   dtype=dtype)
        try:
            return function(*arrays)
        except np.linalg.LinAlgError:
            if not needs_inverse:
                raise
            raise np.linalg.LinAlgError(f"the matrix of shape {arrays[0].shape} is singular "
                                        f"({needs_inverse} needs an invertible matrix)") from None
    return forward


def _same_shape(a, *rest):
    return a.shape


def _batch_shape(a):
    return a.shape[:-2]


def _solve_shape(a, b):
    """np.linalg.solve's result: b is one vector only when 1-d."""
    if b.ndim == 1:
        return a.shape[:-1]
    return np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:]


inv = Primitive("inv", _per_matrix(np.linalg.inv, _same_shape, needs_inverse="inv"),
                "d(A⁻¹) = -A⁻¹ dA A⁻¹",
                lambda g, out, a: -(_mT(out) @ g @ _mT(out)), reads="out")


def _cofactor(a):
    """The cofactor matrix det(A)·A⁻ᵀ, continuous through singular A: with A = U S Vᵀ,
    it is det(U) det(V) U diag(Π_{j≠i} sⱼ) Vᵀ (no division by a zero singular value)."""
    u, s, vt = np.linalg.svd(a)
    ones = np.ones_like(s[..., :1])
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(s, -1)[..., :-1]], axis=-1),
                               axis=-1), -1)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    return sign[..., None, None] * (u * (before * after)[..., None, :]) @ vt


_cofactor_lazily_too = _per_matrix(_cofactor, _same_shape)


def _det_vjp(g, out, a):
    """g · cof(A). Recorded (create_graph) as g · det(A) · A⁻ᵀ, which needs A invertible."""
    if not isinstance(a, Tensor):
        return as_array(g)[..., None, None] * _cofactor_lazily_too(a)
    return (g * out)[..., None, None] * _mT(_inverse_for("det's second derivative", a))


def _slogdet_vjp(g, out, a):
    """g · A⁻ᵀ."""
    return g[..., None, None] * _mT(_inverse_for("slogdet's gradient", a))


def _inverse_for(what, a):
    """inv(a), or one clear error saying what needed it when a is singular."""
    try:
        return inv(a)
    except ValueError:  # LinAlgError, or apply's ValueError about it
        raise np.linalg.LinAlgError(f"{what} needs an invertible matrix, but the matrix of "
                                    f"shape {a.shape} is singular") from None


det = Primitive("det", _per_matrix(np.linalg.det, _batch_shape),
                "d det(A) = det(A) tr(A⁻¹ dA): the gradient is cof(A)",
                _det_vjp)
slogdet = Primitive("slogdet", _per_matrix(lambda a: np.linalg.slogdet(a)[1], _batch_shape),
                    "d ln|det A| = tr(A⁻¹ dA): the gradient is A⁻ᵀ (the sign is a constant)",
                    _slogdet_vjp)


def _solve_vjp_a(g, out, a, b):
    """-A⁻ᵀ g xᵀ for x = A⁻¹ b (an outer product when b is one vector)."""
    gb = _solve_vjp_b(g, out, a, b)
    if b.ndim == 1:
        return -(gb[..., :, None] * out[..., None, :])
    return -(gb @ _mT(out))


def _solve_vjp_b(g, out, a, b):
    """A⁻ᵀ g."""
    if b.ndim == 1:  # NumPy treats only a 1-d b as a vector
        return solve(_mT(a), g[..., None])[..., 0]
    return solve(_mT(a), g)


solve = Primitive("solve", _per_matrix(np.linalg.solve, _solve_shape,
                                       needs_inverse="solve"),
                  "x = A⁻¹b: dx = A⁻¹(db - dA x)", _solve_vjp_a, _solve_vjp_b)
