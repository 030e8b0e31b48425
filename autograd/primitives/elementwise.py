"""Elementwise primitives: arithmetic and functions (inputs broadcast; the engine sums
gradients back to each input's shape)."""

from __future__ import annotations

import numpy as np

from ..backends import as_array, maybe_any
from ..tensor import Primitive, Tensor


def _raw(x):
    """The array behind a Tensor (for masks and other constants of a VJP), in its backend."""
    return x.data if isinstance(x, Tensor) else as_array(x)


# --- elementwise arithmetic (inputs broadcast; the engine sums gradients back) ------------------
add = Primitive("add", np.add, "d(x + y) = dx + dy",
                lambda g, out, x, y: g,
                lambda g, out, x, y: g, reads="none")
sub = Primitive("sub", np.subtract, "d(x - y) = dx - dy",
                lambda g, out, x, y: g,
                lambda g, out, x, y: -g, reads="none")
mul = Primitive("mul", np.multiply, "d(x·y) = y dx + x dy",
                lambda g, out, x, y: g * y,
                lambda g, out, x, y: g * x)
div = Primitive("div", np.divide, "d(x/y) = dx/y - (x/y²) dy",
                lambda g, out, x, y: g / y,
                lambda g, out, x, y: -g * out / y)
neg = Primitive("neg", np.negative, "d(-x) = -dx",
                lambda g, out, x: -g, reads="none")


def _pow_vjp_x(g, out, x, y):
    """g·y·xʸ⁻¹, with y = 0 giving 0 even at x = 0 (x⁰ is the constant 1)."""
    constant = _raw(y) == 0
    return g * y * x ** ((where(constant, 1, y) if maybe_any(constant) else y) - 1)


def _pow_vjp_y(g, out, x, y):
    """g·xʸ·ln x, with x = 0 giving 0 (xʸ is 0 near x = 0 for y > 0)."""
    zero_base = _raw(x) == 0
    return g * out * log(where(zero_base, 1, x) if maybe_any(zero_base) else x)


pow = Primitive("pow", np.power, "d(xʸ) = y xʸ⁻¹ dx + xʸ ln(x) dy",  # noqa: A001
                _pow_vjp_x, _pow_vjp_y)

# --- elementwise functions ----------------------------------------------------------------------
exp = Primitive("exp", np.exp, "d(eˣ) = eˣ dx",
                lambda g, out, x: g * out, reads="out")
log = Primitive("log", np.log, "d(ln x) = dx / x",
                lambda g, out, x: g / x)
sqrt = Primitive("sqrt", np.sqrt, "d(√x) = dx / (2√x)",
                 lambda g, out, x: g / (2 * out), reads="out")
tanh = Primitive("tanh", np.tanh, "d(tanh x) = (1 - tanh²x) dx",
                 lambda g, out, x: g * (1 - out * out), reads="out")
abs = Primitive("abs", np.abs, "d|x| = sign(x) dx, with sign(0) = 0",  # noqa: A001
                lambda g, out, x: g * np.sign(_raw(x)))


@np.errstate(over="ignore")
def _sigmoid(x):
    """1 / (1 + e⁻ˣ): for very negative x, e⁻ˣ overflows to inf and the result is the right 0."""
    return 1 / (1 + np.exp(-x))


sigmoid = Primitive("sigmoid", _sigmoid, "d σ(x) = σ(x)(1 - σ(x)) dx",
                    lambda g, out, x: g * out * (1 - out), reads="out")
relu = Primitive("relu", lambda x: np.maximum(x, 0), "d relu(x) = [x > 0] dx",
                 lambda g, out, x: g * (_raw(x) > 0))
where = Primitive("where", np.where, "d where(c, x, y) = [c] dx + [not c] dy",
                  None,
                  lambda g, out, c, x, y: g * c,
                  lambda g, out, c, x, y: g * ~c, reads="none")
cast = Primitive("cast", lambda x, dtype: x.astype(dtype), "d cast(x) = dx (in x's dtype)",
                 lambda g, out, x, dtype: g, reads="none")  # the engine casts g back to x's dtype
