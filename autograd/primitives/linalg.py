"""Linear algebra primitives: the matrix product and the fused dense layer."""

from __future__ import annotations

import numpy as np

from ..tensor import Primitive


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
                   lambda g, out, x, w, b: g)
