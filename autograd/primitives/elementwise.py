"""Elementwise primitives: arithmetic and functions (inputs broadcast; the engine sums
gradients back to each input's shape)."""

from __future__ import annotations

import math

import numpy as np

from ..backends import as_array, backend_of, is_array, is_lazy, maybe_any
from ..tensor import Primitive, Tensor


def _raw(x):
    """The array behind a Tensor (for masks and other constants of a VJP), in its backend
    (autograd.compile's traced arrays stay traced)."""
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
                lambda g, out, x, y: g * x, reads=("y", "x"))
div = Primitive("div", np.divide, "d(x/y) = dx/y - (x/y²) dy",
                lambda g, out, x, y: g / y,
                lambda g, out, x, y: -g * out / y, reads=("y", "y out"))
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
                 lambda g, out, x, dtype: g, reads="none")  # the engine casts g back
def _clone(x):
    """np.copy, or the array's own copy (Dask's np.copy would compute the array)."""
    return np.copy(x) if type(x) is np.ndarray else x.copy()


clone = Primitive("clone", _clone, "d clone(x) = dx (a copy that stays in the graph)",
                  lambda g, out, x: g, reads="none")


# --- trigonometric and hyperbolic functions -----------------------------------------------------
sin = Primitive("sin", np.sin, "d sin x = cos x dx",
                lambda g, out, x: g * cos(x))
cos = Primitive("cos", np.cos, "d cos x = -sin x dx",
                lambda g, out, x: -g * sin(x))
tan = Primitive("tan", np.tan, "d tan x = (1 + tan²x) dx",
                lambda g, out, x: g * (1 + out * out))
arcsin = Primitive("arcsin", np.arcsin, "d arcsin x = dx / √(1 - x²)",
                   lambda g, out, x: g / sqrt(1 - x * x))
arccos = Primitive("arccos", np.arccos, "d arccos x = -dx / √(1 - x²)",
                   lambda g, out, x: -g / sqrt(1 - x * x))
arctan = Primitive("arctan", np.arctan, "d arctan x = dx / (1 + x²)",
                   lambda g, out, x: g / (1 + x * x))
sinh = Primitive("sinh", np.sinh, "d sinh x = cosh x dx",
                 lambda g, out, x: g * cosh(x))
cosh = Primitive("cosh", np.cosh, "d cosh x = sinh x dx",
                 lambda g, out, x: g * sinh(x))
arcsinh = Primitive("arcsinh", np.arcsinh, "d arcsinh x = dx / √(x² + 1)",
                    lambda g, out, x: g / sqrt(x * x + 1))
arccosh = Primitive("arccosh", np.arccosh, "d arccosh x = dx / (√(x - 1) √(x + 1))",
                    lambda g, out, x: g / (sqrt(x - 1) * sqrt(x + 1)))  # no x² - 1: no overflow
arctanh = Primitive("arctanh", np.arctanh, "d arctanh x = dx / (1 - x²)",
                    lambda g, out, x: g / (1 - x * x))

# --- exponentials and logarithms (NumPy's own roundings, hence primitives) ----------------------
_LN2, _LN10 = float(np.log(2)), float(np.log(10))
log1p = Primitive("log1p", np.log1p, "d ln(1 + x) = dx / (1 + x)",
                  lambda g, out, x: g / (1 + x))
expm1 = Primitive("expm1", np.expm1, "d(eˣ - 1) = eˣ dx",
                  lambda g, out, x: g * (out + 1))
log2 = Primitive("log2", np.log2, "d log₂x = dx / (x ln 2)",
                 lambda g, out, x: g / (x * _LN2))
log10 = Primitive("log10", np.log10, "d log₁₀x = dx / (x ln 10)",
                  lambda g, out, x: g / (x * _LN10))
exp2 = Primitive("exp2", np.exp2, "d 2ˣ = 2ˣ ln 2 dx",
                 lambda g, out, x: g * out * _LN2)


def _erf(x):
    """erf from the C library through Python's math.erf (accurate to float64; no SciPy)."""
    return _elementwise_math(math.erf, x)


def _erfc(x):
    """erfc = 1 - erf without the cancellation: erfc(5) = 1.5e-12 to full precision."""
    return _elementwise_math(math.erfc, x)


def _elementwise_math(f, x):
    """A `math` function of one float applied to every element, in x's dtype. Lazily per chunk
    on Dask; on a GPU by the array module's own kernel (CuPy's cupyx.scipy.special), if any."""
    if is_lazy(x):
        return x.map_blocks(_on_host, f, dtype=np.result_type(x.dtype, np.float16))
    if is_array(x) and backend_of(x) != "numpy":
        return _special_function(f.__name__, x)(x)
    return _on_host(as_array(x), f)


def _on_host(x, f):
    out = np.empty_like(x, dtype=np.result_type(x.dtype, np.float16))
    out.reshape(-1)[:] = [f(v) for v in x.reshape(-1).tolist()]
    return out if out.ndim else out[()]


def _special_function(name, x):
    """`name` (erf, erfc) from x's array module: only CuPy has one (no host round trip)."""
    backend = backend_of(x)
    if backend == "cupy":
        import cupyx.scipy.special
        return getattr(cupyx.scipy.special, name)
    raise TypeError(f"{name} runs Python's math.{name} element by element in host memory, and "
                    f"{backend} has no {name} kernel; move the tensor to the host first "
                    f"(t.to('numpy'))")


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
erf = Primitive("erf", _erf, "d erf x = (2/√π) e^(-x²) dx",
                lambda g, out, x: g * (_TWO_OVER_SQRT_PI * exp(-(x * x))))
erfc = Primitive("erfc", _erfc, "d erfc x = -(2/√π) e^(-x²) dx",
                 lambda g, out, x: g * (-_TWO_OVER_SQRT_PI * exp(-(x * x))))


# --- piecewise constant: the derivative is 0 wherever it exists; we use 0 everywhere ------------
def _zero_gradient(g, out, *inputs, **params):
    """A zero gradient shaped like g (as a Tensor when a graph is being recorded)."""
    zeros = np.zeros_like(_raw(g))
    return Tensor._wrap(zeros) if isinstance(g, Tensor) else zeros


sign = Primitive("sign", np.sign, "d sign(x) = 0 (also at 0, where it jumps)", _zero_gradient)
floor = Primitive("floor", np.floor, "d ⌊x⌋ = 0 (also at the integers)", _zero_gradient)
ceil = Primitive("ceil", np.ceil, "d ⌈x⌉ = 0 (also at the integers)", _zero_gradient)
trunc = Primitive("trunc", np.trunc, "d trunc(x) = 0 (also at the integers)", _zero_gradient)
round = Primitive("round", lambda x, decimals: np.round(x, decimals),  # noqa: A001
                  "d round(x) = 0 (also at the half-way points)", _zero_gradient)
floor_divide = Primitive("floor_divide", np.floor_divide, "d ⌊x / y⌋ = 0 (in x and in y)",
                         _zero_gradient, _zero_gradient)


# --- remainders: x = q·y + r with q = ⌊x/y⌋ (mod, Python's %) or trunc(x/y) (fmod, C's) ---------
# r = x - q·y with q piecewise constant, so dr = dx - q dy (at the jumps too, as in PyTorch).
mod = Primitive("mod", np.remainder, "d(x mod y) = dx - ⌊x/y⌋ dy",
                lambda g, out, x, y: g,
                lambda g, out, x, y: -g * np.floor_divide(_raw(x), _raw(y)))
fmod = Primitive("fmod", np.fmod, "d fmod(x, y) = dx - trunc(x/y) dy",
                 lambda g, out, x, y: g,
                 lambda g, out, x, y: -g * np.trunc(_raw(x) / _raw(y)))


# --- two-argument functions -------------------------------------------------------------------
logaddexp = Primitive("logaddexp", np.logaddexp, "d ln(eˣ + eʸ) = eˣ⁻ᵒᵘᵗ dx + eʸ⁻ᵒᵘᵗ dy",
                      lambda g, out, x, y: g * exp(x - out),
                      lambda g, out, x, y: g * exp(y - out))
logaddexp2 = Primitive("logaddexp2", np.logaddexp2,
                       "d log₂(2ˣ + 2ʸ) = 2ˣ⁻ᵒᵘᵗ dx + 2ʸ⁻ᵒᵘᵗ dy",
                       lambda g, out, x, y: g * exp2(x - out),
                       lambda g, out, x, y: g * exp2(y - out))
arctan2 = Primitive("arctan2", np.arctan2, "d arctan2(y, x) = (x dy - y dx) / (x² + y²)",
                    lambda g, out, y, x: g * x / (x * x + y * y),
                    lambda g, out, y, x: -g * y / (x * x + y * y))


def _hypot_vjp(g, out, x, y):
    """g·x/hypot(x, y), and 0 at the origin (the subgradient of a norm at 0)."""
    return g * x / where(_raw(out) == 0, 1, out)


hypot = Primitive("hypot", np.hypot, "d √(x² + y²) = (x dx + y dy) / √(x² + y²), 0 at 0",
                  _hypot_vjp,
                  lambda g, out, x, y: _hypot_vjp(g, out, y, x))


# --- activations with a fused, stable forward ---------------------------------------------------
softplus = Primitive("softplus", lambda x: np.logaddexp(0, x), "d ln(1 + eˣ) = σ(x) dx",
                     lambda g, out, x: g * sigmoid(x))


def _elu(x, alpha):
    """x for x > 0, α(eˣ - 1) otherwise; expm1 of min(x, 0) cannot overflow."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


elu = Primitive("elu", _elu, "d elu(x) = dx for x > 0, else α eˣ dx = (elu(x) + α) dx",
                lambda g, out, x, alpha: g * where(_raw(x) > 0, 1, out + alpha))
