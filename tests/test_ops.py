"""Every primitive and composite op: forward values against NumPy, gradients against finite
differences (autograd.gradcheck, and an independent helper that differentiates the NumPy
reference), fused ops against their compositions, subgradient conventions and stability."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import Tensor

RNG = np.random.default_rng(20240611)


# --- inputs: float64, and away from kinks and ties unless a test is about them ------------------
def rand(*shape, low=-2.0, high=2.0):
    """Uniform floats; `rand()` is a 0-d array."""
    return np.asarray(RNG.uniform(low, high, size=shape))


def positive(*shape):
    """In [0.5, 2]: safe for log, sqrt, division and a tensor base of pow."""
    return rand(*shape, low=0.5, high=2.0)


def away(*shape):
    """|x| in [0.2, 2] with random sign: away from the kink of relu and abs."""
    return rand(*shape, low=0.2, high=2.0) * RNG.choice([-1.0, 1.0], size=shape)


def distinct(*shape):
    """Values at least 0.3 apart: no ties for max and min."""
    n = int(np.prod(shape))
    return RNG.permutation(n).reshape(shape) * 0.5 + rand(*shape, low=-0.1, high=0.1)


# --- NumPy references ---------------------------------------------------------------------------
def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def np_softmax(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    return x - np_logsumexp(x, axis=axis, keepdims=True)


def np_cross_entropy(z, target):
    """Mean over rows of -Σ y log softmax(z); integer labels become one-hot rows."""
    if target.ndim == 1:
        target = np.eye(z.shape[1])[target]
    return -(target * np_log_softmax(z, axis=1)).sum(axis=1).mean()


def np_linear(x, w, b):
    return x @ w + b


np_erf = np.vectorize(math.erf)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def np_softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(x) - 1))


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def unit(*shape):
    """In [-0.8, 0.8]: inside the domain of arcsin, arccos and arctanh."""
    return rand(*shape, low=-0.8, high=0.8)


def off_integers(*shape):
    """k + 0.1..0.4 or k + 0.6..0.9: away from the jumps of floor, ceil, round and trunc."""
    return RNG.integers(-3, 3, size=shape) + RNG.choice([0.25, 0.75], size=shape) + rand(
        *shape, low=-0.15, high=0.15)


# --- the independent finite-difference helper -------------------------------------------------
def numeric_gradients(reference, inputs, weights, eps=1e-6):
    """Central differences of Σ weights·reference(*inputs) in each input, on NumPy alone."""
    gradients = []
    for i, x in enumerate(inputs):
        gradient = np.zeros_like(x, dtype=np.float64)
        for j in np.ndindex(x.shape):
            plus = [a.astype(np.float64, copy=True) for a in inputs]
            minus = [a.astype(np.float64, copy=True) for a in inputs]
            plus[i][j] += eps
            minus[i][j] -= eps
            difference = np.sum(weights * reference(*plus)) - np.sum(weights * reference(*minus))
            gradient[j] = difference / (2 * eps)
        gradients.append(gradient)
    return gradients


def engine_gradients(op, inputs, weights):
    """(output, gradients of Σ weights·op(*inputs)) from the engine's backward."""
    leaves = [Tensor(x, requires_grad=True) for x in inputs]
    out = op(*leaves)
    out.backward(gradient=weights)
    return out, [x.grad for x in leaves]


# --- the table ----------------------------------------------------------------------------------
SAME = None  # the reference is the same expression evaluated on NumPy arrays

LABELS = np.array([2, 0, 1, 2])
TARGET_PROBS = np_softmax(rand(4, 3))
MASK = np.array([[1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 0]], dtype=bool)
IDX_REPEATED = np.array([0, 2, 0, 0, 3])
IDX_2D = np.array([[1, 1], [0, 2]])


def case(name, op, reference, *inputs):
    return pytest.param(op, reference if reference is not None else op, inputs, id=name)


CASES = [
    # arithmetic, with 0-d scalars and broadcasting pairs
    case("add-scalars", lambda x, y: x + y, SAME, rand(), rand()),
    case("add-(3,4)+(4,)", lambda x, y: x + y, SAME, rand(3, 4), rand(4)),
    case("add-(3,1)+(1,4)", lambda x, y: x + y, SAME, rand(3, 1), rand(1, 4)),
    case("add-(2,3)+0d", lambda x, y: x + y, SAME, rand(2, 3), rand()),
    case("add-python-number", lambda x: x + 2.5, SAME, rand(3)),
    case("radd-python-number", lambda x: 2.5 + x, SAME, rand(3)),
    case("sub-(2,3)-(3,)", lambda x, y: x - y, SAME, rand(2, 3), rand(3)),
    case("rsub-python-number", lambda x: 1.0 - x, SAME, rand(2, 2)),
    case("mul-(2,3)*(2,1)", lambda x, y: x * y, SAME, rand(2, 3), rand(2, 1)),
    case("mul-0d*(3,)", lambda x, y: x * y, SAME, rand(), rand(3)),
    case("mul-self", lambda x: x * x, SAME, rand(4)),
    case("div-(2,3)/(3,)", lambda x, y: x / y, SAME, rand(2, 3), positive(3)),
    case("div-(4,1)/(1,3)", lambda x, y: x / y, SAME, rand(4, 1), -positive(1, 3)),
    case("rdiv-python-number", lambda x: 1.0 / x, SAME, positive(3)),
    case("neg", lambda x: -x, SAME, rand(2, 3)),
    case("pow-constant-3", lambda x: x**3, SAME, rand(5)),
    case("pow-constant-2-0d", lambda x: x**2, SAME, rand()),
    case("pow-constant-half", lambda x: x**0.5, SAME, positive(4)),
    case("pow-constant-minus-1", lambda x: x**-1, SAME, positive(4)),
    case("pow-tensor-exponent", lambda x, y: x**y, SAME, positive(3), rand(3)),
    case("pow-tensor-exponent-broadcast", lambda x, y: x**y, SAME, positive(3), rand(2, 1)),
    case("rpow-2**x", lambda x: 2.0**x, SAME, rand(4)),
    # elementwise functions
    case("exp", lambda x: x.exp(), np.exp, rand(2, 3)),
    case("exp-function-0d", ag.exp, np.exp, rand()),
    case("log", lambda x: x.log(), np.log, positive(2, 3)),
    case("log-function", ag.log, np.log, positive(4)),
    case("sqrt", lambda x: x.sqrt(), np.sqrt, positive(2, 3)),
    case("sqrt-function", ag.sqrt, np.sqrt, positive(3)),
    case("tanh", lambda x: x.tanh(), np.tanh, rand(2, 3)),
    case("sigmoid", lambda x: x.sigmoid(), np_sigmoid, rand(2, 3, low=-5, high=5)),
    case("sigmoid-function-0d", ag.sigmoid, np_sigmoid, rand()),
    case("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0), away(3, 4)),
    case("relu-function", ag.relu, lambda x: np.maximum(x, 0), away(5)),
    case("abs", lambda x: abs(x), np.abs, away(3, 4)),
    case("abs-function", ag.abs, np.abs, away(5)),
    case("maximum-tensors", ag.maximum, np.maximum, rand(3, 4), rand(3, 4) + 0.01),
    case("maximum-broadcast", ag.maximum, np.maximum, distinct(3, 1), distinct(4) + 0.05),
    case("maximum-constant-0", lambda x: ag.maximum(x, 0.0), lambda x: np.maximum(x, 0), away(6)),
    case("minimum-tensors", ag.minimum, np.minimum, rand(3, 4), rand(3, 4) + 0.01),
    case("minimum-method", lambda x, y: x.minimum(y), np.minimum, rand(5), rand(5) + 0.01),
    case("where-same-shape", lambda x, y: ag.where(MASK, x, y), lambda x, y: np.where(MASK, x, y),
         rand(3, 4), rand(3, 4)),
    case("where-broadcast", lambda x, y: ag.where(MASK[:, :1], x, y),
         lambda x, y: np.where(MASK[:, :1], x, y), rand(4), rand(3, 1)),
    case("where-constant-branch", lambda x: ag.where(x > 0, x, 0.0),
         lambda x: np.where(x > 0, x, 0.0), away(6)),
    case("clip-both", lambda x: x.clip(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
         np.array([-1.2, -0.3, 0.1, 0.4, 0.9, -0.8])),
    case("clip-min-only", lambda x: ag.clip(x, min=0.1), lambda x: np.clip(x, 0.1, None),
         np.array([-1.2, -0.3, 0.2, 0.4, 0.9])),
    # reductions: axis int, negative, tuple, None; keepdims
    case("sum-all", lambda x: x.sum(), np.sum, rand(3, 4)),
    case("sum-0d", lambda x: x.sum(), np.sum, rand()),
    case("sum-axis0", lambda x: x.sum(0), lambda x: x.sum(0), rand(3, 4)),
    case("sum-axis-1-keepdims", lambda x: x.sum(-1, keepdims=True),
         lambda x: x.sum(-1, keepdims=True), rand(3, 4)),
    case("sum-axis-tuple", lambda x: ag.sum(x, axis=(0, 2)), lambda x: x.sum((0, 2)),
         rand(2, 3, 4)),
    case("sum-axis-list", lambda x: x.sum([0, 2]), lambda x: x.sum((0, 2)), rand(2, 3, 4)),
    case("sum-None-keepdims", lambda x: x.sum(None, keepdims=True),
         lambda x: x.sum(keepdims=True), rand(2, 3)),
    case("mean-all", lambda x: x.mean(), np.mean, rand(3, 4)),
    case("mean-axis1", lambda x: ag.mean(x, axis=1), lambda x: x.mean(1), rand(3, 4)),
    case("mean-axis-tuple-keepdims", lambda x: x.mean((0, -1), keepdims=True),
         lambda x: x.mean((0, -1), keepdims=True), rand(2, 3, 4)),
    case("max-all", lambda x: x.max(), np.max, distinct(3, 4)),
    case("max-axis0", lambda x: ag.max(x, axis=0), lambda x: x.max(0), distinct(3, 4)),
    case("max-axis-1-keepdims", lambda x: x.max(-1, keepdims=True),
         lambda x: x.max(-1, keepdims=True), distinct(3, 4)),
    case("max-axis-tuple", lambda x: x.max((0, 2)), lambda x: x.max((0, 2)), distinct(2, 3, 4)),
    case("max-0d", lambda x: x.max(), np.max, rand()),
    case("min-all", lambda x: x.min(), np.min, distinct(3, 4)),
    case("min-axis1", lambda x: ag.min(x, axis=1), lambda x: x.min(1), distinct(3, 4)),
    case("min-axis-tuple-keepdims", lambda x: x.min((1, 2), keepdims=True),
         lambda x: x.min((1, 2), keepdims=True), distinct(2, 3, 4)),
    case("var-all", lambda x: x.var(), np.var, rand(3, 4)),
    case("var-axis0", lambda x: x.var(0), lambda x: x.var(0), rand(3, 4)),
    case("var-axis-1-keepdims", lambda x: x.var(-1, keepdims=True),
         lambda x: x.var(-1, keepdims=True), rand(3, 4)),
    case("logsumexp-all", lambda x: x.logsumexp(), np_logsumexp, rand(3, 4)),
    case("logsumexp-axis1", lambda x: ag.logsumexp(x, axis=1),
         lambda x: np_logsumexp(x, axis=1), rand(3, 4)),
    case("logsumexp-axis-tuple-keepdims", lambda x: x.logsumexp((0, 2), keepdims=True),
         lambda x: np_logsumexp(x, (0, 2), keepdims=True), rand(2, 3, 4)),
    case("logsumexp-0d", lambda x: x.logsumexp(), np_logsumexp, rand()),
    case("softmax-last-axis", lambda x: x.softmax(), np_softmax, rand(3, 4)),
    case("softmax-axis0", lambda x: ag.softmax(x, axis=0), lambda x: np_softmax(x, 0), rand(3, 4)),
    case("softmax-1d", ag.softmax, np_softmax, rand(5)),
    case("log_softmax-last-axis", lambda x: x.log_softmax(), np_log_softmax, rand(3, 4)),
    case("log_softmax-axis0", lambda x: ag.log_softmax(x, axis=0),
         lambda x: np_log_softmax(x, 0), rand(3, 4)),
    case("cross_entropy-labels", lambda z: ag.softmax_cross_entropy(z, LABELS),
         lambda z: np_cross_entropy(z, LABELS), rand(4, 3)),
    case("cross_entropy-probabilities", lambda z: ag.softmax_cross_entropy(z, TARGET_PROBS),
         lambda z: np_cross_entropy(z, TARGET_PROBS), rand(4, 3)),
    # shape operations
    case("reshape", lambda x: x.reshape(3, 4), lambda x: x.reshape(3, 4), rand(2, 6)),
    case("reshape-tuple-minus-1", lambda x: x.reshape((4, -1)), lambda x: x.reshape(4, -1),
         rand(2, 3, 2)),
    case("reshape-0d-to-(1,1)", lambda x: ag.reshape(x, (1, 1)), lambda x: x.reshape(1, 1),
         rand()),
    case("flatten", lambda x: x.flatten(), lambda x: x.reshape(-1), rand(2, 3, 2)),
    case("flatten-from-1", lambda x: x.flatten(1), lambda x: x.reshape(2, -1), rand(2, 3, 2)),
    case("transpose-default", lambda x: x.transpose(), lambda x: x.transpose(), rand(2, 3, 4)),
    case("transpose-axes", lambda x: x.transpose(1, 2, 0), lambda x: x.transpose(1, 2, 0),
         rand(2, 3, 4)),
    case("transpose-axes-tuple", lambda x: ag.transpose(x, (2, 0, 1)),
         lambda x: x.transpose(2, 0, 1), rand(2, 3, 4)),
    case("transpose-negative-axes", lambda x: x.transpose(0, -1, 1),
         lambda x: x.transpose(0, -1, 1), rand(2, 3, 4)),
    case("swapaxes", lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2), rand(2, 3, 4)),
    case("swapaxes-negative", lambda x: x.swapaxes(-1, -3), lambda x: x.swapaxes(-1, -3),
         rand(2, 3, 4)),
    case(".T", lambda x: x.T, lambda x: x.T, rand(2, 3)),
    case(".mT", lambda x: x.mT, lambda x: x.swapaxes(-1, -2), rand(2, 3, 4)),
    case("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)),
         lambda x: np.broadcast_to(x, (2, 3, 4)), rand(3, 1)),
    case("broadcast_to-0d", lambda x: x.broadcast_to((2, 2)), lambda x: np.broadcast_to(x, (2, 2)),
         rand()),
    # getitem
    case("getitem-slices", lambda x: x[1:, ::2], lambda x: x[1:, ::2], rand(3, 4)),
    case("getitem-int", lambda x: x[1], lambda x: x[1], rand(3, 4)),
    case("getitem-negative-int", lambda x: x[-1, -2], lambda x: x[-1, -2], rand(3, 4)),
    case("getitem-reverse-slice", lambda x: x[::-1], lambda x: x[::-1], rand(5)),
    case("getitem-newaxis", lambda x: x[None, :, 1], lambda x: x[None, :, 1], rand(3, 4)),
    case("getitem-ellipsis", lambda x: x[..., 0], lambda x: x[..., 0], rand(2, 3, 4)),
    case("getitem-ellipsis-newaxis", lambda x: x[1, ..., np.newaxis],
         lambda x: x[1, ..., np.newaxis], rand(2, 3)),
    case("getitem-repeated-int-array", lambda x: x[IDX_REPEATED], lambda x: x[IDX_REPEATED],
         rand(4)),
    case("getitem-repeated-list", lambda x: x[[1, 1, 1]], lambda x: x[[1, 1, 1]], rand(3, 2)),
    case("getitem-2d-int-array", lambda x: x[IDX_2D], lambda x: x[IDX_2D], rand(3, 2)),
    case("getitem-paired-arrays", lambda x: x[[0, 0, 2], [1, 1, 3]],
         lambda x: x[[0, 0, 2], [1, 1, 3]], rand(3, 4)),
    case("getitem-slice-and-array", lambda x: x[:, [3, 0, 3]], lambda x: x[:, [3, 0, 3]],
         rand(2, 4)),
    case("getitem-tensor-index", lambda x: x[Tensor(IDX_REPEATED)], lambda x: x[IDX_REPEATED],
         rand(4)),
    case("getitem-bool-mask", lambda x: x[MASK], lambda x: x[MASK], rand(3, 4)),
    case("getitem-bool-rows", lambda x: x[MASK[:, 0]], lambda x: x[MASK[:, 0]], rand(3, 4)),
    # matmul and linear
    case("matmul-1d@1d", lambda x, y: x @ y, SAME, rand(4), rand(4)),
    case("matmul-1d@2d", lambda x, y: x @ y, SAME, rand(3), rand(3, 4)),
    case("matmul-2d@1d", lambda x, y: x @ y, SAME, rand(2, 3), rand(3)),
    case("matmul-2d@2d", lambda x, y: x @ y, SAME, rand(2, 3), rand(3, 4)),
    case("matmul-3d@2d", lambda x, y: x @ y, SAME, rand(2, 3, 4), rand(4, 2)),
    case("matmul-2d@3d", ag.matmul, np.matmul, rand(3, 4), rand(2, 4, 2)),
    case("matmul-batch-broadcast", lambda x, y: x @ y, SAME, rand(2, 1, 3, 4), rand(3, 4, 2)),
    case("matmul-1d@3d", lambda x, y: x @ y, SAME, rand(3), rand(2, 3, 4)),
    case("matmul-3d@1d", lambda x, y: x @ y, SAME, rand(2, 3, 4), rand(4)),
    case("linear-batch", ag.linear, np_linear, rand(4, 3), rand(3, 2), rand(2)),
    case("linear-1d-input", ag.linear, np_linear, rand(3), rand(3, 2), rand(2)),
    case("linear-3d-input", ag.linear, np_linear, rand(2, 4, 3), rand(3, 2), rand(2)),
    case("linear-no-bias", lambda x, w: ag.linear(x, w), np.matmul, rand(4, 3), rand(3, 2)),
    # trigonometric and hyperbolic
    case("sin", lambda x: x.sin(), np.sin, rand(2, 3)),
    case("cos", ag.cos, np.cos, rand(2, 3)),
    case("tan", lambda x: x.tan(), np.tan, rand(2, 3, low=-1.2, high=1.2)),
    case("arcsin", lambda x: x.arcsin(), np.arcsin, unit(2, 3)),
    case("arccos", ag.arccos, np.arccos, unit(2, 3)),
    case("arctan", lambda x: x.arctan(), np.arctan, rand(2, 3)),
    case("sinh", lambda x: x.sinh(), np.sinh, rand(2, 3)),
    case("cosh", ag.cosh, np.cosh, rand(2, 3)),
    case("arcsinh", lambda x: x.arcsinh(), np.arcsinh, rand(2, 3)),
    case("arccosh", lambda x: x.arccosh(), np.arccosh, rand(2, 3, low=1.2, high=3.0)),
    case("arctanh", ag.arctanh, np.arctanh, unit(2, 3)),
    # exponentials, logarithms, powers
    case("log1p", lambda x: x.log1p(), np.log1p, positive(2, 3)),
    case("expm1", ag.expm1, np.expm1, rand(2, 3)),
    case("log2", lambda x: x.log2(), np.log2, positive(2, 3)),
    case("log10", ag.log10, np.log10, positive(2, 3)),
    case("exp2", lambda x: x.exp2(), np.exp2, rand(2, 3)),
    case("erf", lambda x: x.erf(), np_erf, rand(2, 3)),
    case("erfc", ag.erfc, lambda x: 1 - np_erf(x), rand(2, 3)),
    case("square", lambda x: x.square(), np.square, rand(2, 3)),
    case("reciprocal", ag.reciprocal, np.reciprocal, positive(2, 3)),
    case("rsqrt", lambda x: x.rsqrt(), lambda x: 1 / np.sqrt(x), positive(2, 3)),
    # piecewise constant (zero gradient away from the jumps, and at them: see SUBGRADIENTS)
    case("sign", lambda x: x.sign(), np.sign, away(2, 3)),
    case("floor", ag.floor, np.floor, off_integers(2, 3)),
    case("ceil", lambda x: x.ceil(), np.ceil, off_integers(2, 3)),
    case("round", lambda x: x.round(), np.round, off_integers(2, 3)),
    case("round-decimals", lambda x: ag.round(x, 1), lambda x: np.round(x, 1),
         np.array([0.123, -1.26, 2.0])),
    case("trunc", lambda x: x.trunc(), np.trunc, off_integers(2, 3)),
    case("floor_divide-//", lambda x, y: x // y, SAME, off_integers(2, 3), np.ones(3)),
    case("mod-%", lambda x, y: x % y, SAME, off_integers(2, 3) * 1.7, np.array([1.1, -1.3, 2.1])),
    case("rmod-number%x", lambda y: 5.0 % y, SAME, np.array([1.1, -1.3, 2.1])),
    case("mod-function", ag.mod, np.mod, off_integers(4) * 1.7, np.array([1.1])),
    case("fmod", ag.fmod, np.fmod, off_integers(2, 3) * 1.7, np.array([1.1, -1.3, 2.1])),
    case("remainder-method", lambda x, y: x.remainder(y), np.remainder, off_integers(3) * 1.7,
         np.array([-1.3])),
    # activations
    case("softplus", lambda x: x.softplus(), np_softplus, rand(2, 3, low=-5, high=5)),
    case("silu", lambda x: x.silu(), lambda x: x * np_sigmoid(x), rand(2, 3)),
    case("gelu-exact", lambda x: x.gelu(), lambda x: 0.5 * x * (1 + np_erf(x / np.sqrt(2))),
         rand(2, 3, low=-3, high=3)),
    case("gelu-tanh", lambda x: ag.gelu(x, approximate="tanh"), np_gelu_tanh, rand(2, 3)),
    case("elu", lambda x: x.elu(), np_elu, away(2, 3)),
    case("elu-alpha", lambda x: ag.elu(x, alpha=0.5), lambda x: np_elu(x, 0.5), away(2, 3)),
    case("selu", lambda x: x.selu(), lambda x: SELU_SCALE * np_elu(x, SELU_ALPHA), away(2, 3)),
    case("celu", lambda x: x.celu(2.0), lambda x: np.where(x > 0, x, 2 * np.expm1(x / 2)),
         away(2, 3)),
    case("leaky_relu", lambda x: x.leaky_relu(), lambda x: np.where(x > 0, x, 0.01 * x),
         away(2, 3)),
    case("leaky_relu-slope", lambda x: ag.leaky_relu(x, 0.2),
         lambda x: np.where(x > 0, x, 0.2 * x), away(5)),
    case("hardtanh", lambda x: x.hardtanh(), lambda x: np.clip(x, -1, 1),
         np.array([-1.5, -0.7, 0.3, 0.9, 1.4])),
    case("relu6", lambda x: x.relu6(), lambda x: np.clip(x, 0, 6),
         np.array([-1.5, 0.7, 3.3, 5.9, 6.4])),
    case("logsigmoid", lambda x: x.logsigmoid(), lambda x: np.log(np_sigmoid(x)),
         rand(2, 3, low=-5, high=5)),
    # two-argument functions
    case("logaddexp", ag.logaddexp, np.logaddexp, rand(2, 3), rand(3)),
    case("logaddexp2", lambda x, y: x.logaddexp2(y), np.logaddexp2, rand(2, 1), rand(3)),
    case("arctan2", ag.arctan2, np.arctan2, rand(2, 3), away(2, 3)),
    case("hypot", lambda x, y: x.hypot(y), np.hypot, away(2, 3), rand(3)),
    case("nan_to_num-finite", lambda x: x.nan_to_num(), np.nan_to_num, rand(2, 3)),
    case("clone", lambda x: x.clone(), np.copy, rand(2, 3)),
    # reductions
    case("prod-all", lambda x: x.prod(), np.prod, rand(2, 3)),
    case("prod-axis1", lambda x: ag.prod(x, axis=1), lambda x: x.prod(1), rand(3, 4)),
    case("prod-one-zero", lambda x: x.prod(1), lambda x: x.prod(1),
         np.array([[0.0, 1.5, -2.0], [0.7, 1.1, 0.9]])),
    case("prod-two-zeros", lambda x: x.prod(), np.prod, np.array([0.0, 1.5, 0.0, 2.0])),
    case("prod-axis-tuple-keepdims", lambda x: x.prod((0, 2), keepdims=True),
         lambda x: x.prod((0, 2), keepdims=True), rand(2, 3, 2)),
    case("var-ddof1", lambda x: x.var(ddof=1), lambda x: np.var(x, ddof=1), rand(3, 4)),
    case("var-correction1-axis0", lambda x: x.var(0, correction=1),
         lambda x: np.var(x, 0, ddof=1), rand(3, 4)),
    case("std-all", lambda x: x.std(), np.std, rand(3, 4)),
    case("std-axis1-ddof1-keepdims", lambda x: ag.std(x, axis=1, ddof=1, keepdims=True),
         lambda x: np.std(x, axis=1, ddof=1, keepdims=True), rand(3, 4)),
    case("norm-vector-2", lambda x: x.norm(), np.linalg.norm, rand(5)),
    case("norm-vector-1", lambda x: x.norm(1), lambda x: np.linalg.norm(x, 1), away(5)),
    case("norm-vector-inf", lambda x: x.norm(np.inf), lambda x: np.linalg.norm(x, np.inf),
         distinct(5)),
    case("norm-vector--inf", lambda x: ag.norm(x, -np.inf),
         lambda x: np.linalg.norm(x, -np.inf), distinct(5) + 0.1),
    case("norm-frobenius", lambda x: x.norm("fro"), lambda x: np.linalg.norm(x, "fro"),
         rand(3, 4)),
    case("norm-rows", lambda x: x.norm(axis=1), lambda x: np.linalg.norm(x, axis=1), rand(3, 4)),
    case("cumsum-axis1", lambda x: x.cumsum(1), lambda x: np.cumsum(x, 1), rand(3, 4)),
    case("cumsum-flat", ag.cumsum, np.cumsum, rand(2, 3)),
    case("cumprod-axis0", lambda x: x.cumprod(0), lambda x: np.cumprod(x, 0), rand(3, 4)),
    case("cumprod-with-zeros", lambda x: x.cumprod(-1), lambda x: np.cumprod(x, -1),
         np.array([[1.5, 0.0, -2.0, 0.7], [0.0, 0.0, 1.3, 2.0]])),
    case("cumprod-flat", ag.cumprod, np.cumprod, rand(2, 3)),
    case("mean-dim-keepdim", lambda x: x.mean(dim=1, keepdim=True),
         lambda x: x.mean(1, keepdims=True), rand(3, 4)),
    case("sum-0d-axis0", lambda x: x.sum(0), lambda x: np.sum(x, 0), rand()),
    case("mean-0d-axis-1", lambda x: x.mean(-1), np.mean, rand()),
    case("logsumexp-0d-axis0", lambda x: x.logsumexp(0), lambda x: np_logsumexp(x, 0), rand()),
    case("max-0d-axis0", lambda x: x.max(axis=0), lambda x: np.max(x, axis=0), rand()),
    case("softmax-0d", lambda x: x.softmax(), lambda x: np.ones(()), rand()),
    case("mean-axis-int64", lambda x: x.mean(axis=np.int64(1)), lambda x: x.mean(1), rand(3, 4)),
]


@pytest.mark.parametrize(("op", "reference", "inputs"), CASES)
def test_forward_matches_numpy(op, reference, inputs):
    """The engine's forward value (and shape) equals NumPy's."""
    out = op(*[Tensor(x) for x in inputs])
    expected = np.asarray(reference(*inputs))
    assert isinstance(out, Tensor)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("op", "reference", "inputs"), CASES)
def test_gradcheck(op, reference, inputs):
    """autograd.gradcheck: the full Jacobian from the VJPs equals central differences."""
    assert ag.gradcheck(op, inputs)


@pytest.mark.parametrize(("op", "reference", "inputs"), CASES)
def test_gradient_matches_numeric_gradient_of_numpy_reference(op, reference, inputs):
    """Independent of gradcheck: backward(v) against central differences of NumPy's Σ v·f."""
    weights = np.random.default_rng(1).standard_normal(np.shape(reference(*inputs)))
    _, analytic = engine_gradients(op, inputs, weights)
    numeric = numeric_gradients(reference, inputs, weights)
    for x, a, n in zip(inputs, analytic, numeric):
        assert a is not None
        assert a.shape == x.shape
        assert a.dtype == np.float64
        np.testing.assert_allclose(a.data, n, rtol=1e-5, atol=1e-6)


def first_derivative(op, inputs):
    """f(x) = Σᵢ wᵢ·∂(v·op(x))/∂xᵢ for fixed random v and wᵢ, built with create_graph: its
    gradient is a Hessian-vector product, so gradchecking f checks every VJP's own VJPs."""
    rng = np.random.default_rng(4)
    v = rng.standard_normal(np.shape(op(*[Tensor(x) for x in inputs])))
    w = [rng.standard_normal(np.shape(x)) for x in inputs]

    def f(*xs):
        with ag.enable_grad():
            xs = [x if x.requires_grad else Tensor(x.data, requires_grad=True) for x in xs]
            grads = ag.grad((op(*xs) * v).sum(), xs, create_graph=True, allow_unused=True)
        return sum((g * wi).sum() for g, wi in zip(grads, w) if g is not None)
    return f


@pytest.mark.parametrize(("op", "reference", "inputs"), CASES)
def test_second_order_gradcheck(op, reference, inputs):
    """The VJPs differentiated again (create_graph=True) agree with finite differences."""
    assert ag.gradcheck(first_derivative(op, inputs), inputs, atol=1e-4)


# --- Hypothesis: broadcasting pairs and matmul signatures --------------------------------------
FLOATS = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
DENOMINATORS = st.floats(0.5, 2.0)
BINARY = {
    "add": (lambda x, y: x + y, FLOATS),
    "sub": (lambda x, y: x - y, FLOATS),
    "mul": (lambda x, y: x * y, FLOATS),
    "div": (lambda x, y: x / y, DENOMINATORS),
    "logaddexp": (ag.logaddexp, FLOATS),
    "logaddexp2": (ag.logaddexp2, FLOATS),
    "arctan2": (ag.arctan2, DENOMINATORS),
    "hypot": (ag.hypot, DENOMINATORS),
}
NUMPY_BINARY = {"logaddexp": np.logaddexp, "logaddexp2": np.logaddexp2, "arctan2": np.arctan2,
                "hypot": np.hypot}


def check_against_numpy(op, reference, inputs):
    """Forward equals NumPy; gradients have the inputs' shapes and match differences."""
    expected = np.asarray(reference(*inputs))
    weights = np.random.default_rng(0).standard_normal(expected.shape)
    out, analytic = engine_gradients(op, inputs, weights)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    for x, a, n in zip(inputs, analytic, numeric_gradients(reference, inputs, weights)):
        assert a.shape == x.shape
        np.testing.assert_allclose(a.data, n, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=30, deadline=None)
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_side=3))
def test_broadcasting_binary_ops(name, data, shapes):
    """Any mutually broadcastable pair: NumPy's value, gradients summed back to each shape."""
    op, second_elements = BINARY[name]
    x = data.draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=FLOATS), label="x")
    y = data.draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=second_elements),
                  label="y")
    check_against_numpy(op, NUMPY_BINARY.get(name, op), [x, y])


@settings(max_examples=30, deadline=None)
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_side=3))
def test_broadcasting_where(data, shapes):
    """where(c, x, y) with c, x and y of mutually broadcastable shapes."""
    c_shape, x_shape, y_shape = shapes.input_shapes
    c = data.draw(hnp.arrays(np.bool_, c_shape), label="condition")
    x = data.draw(hnp.arrays(np.float64, x_shape, elements=FLOATS), label="x")
    y = data.draw(hnp.arrays(np.float64, y_shape, elements=FLOATS), label="y")
    check_against_numpy(lambda x, y: ag.where(c, x, y), lambda x, y: np.where(c, x, y), [x, y])


@settings(max_examples=30, deadline=None)
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(
    signature="(m?,n),(n,p?)->(m?,p?)", max_dims=2, max_side=3))
def test_matmul_signatures(data, shapes):
    """x @ y for every matmul signature: 1-d operands, batch dims that broadcast."""
    x = data.draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=FLOATS), label="x")
    y = data.draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=FLOATS), label="y")
    assert np.shape(np.matmul(x, y)) == shapes.result_shape
    check_against_numpy(lambda x, y: x @ y, np.matmul, [x, y])


# --- fused ops against their compositions ------------------------------------------------------
def composed_cross_entropy(z, labels):
    onehot = np.eye(z.shape[1])[labels]
    return -(onehot * z.log_softmax(axis=1)).sum(1).mean()


FUSED = [
    pytest.param(lambda x: x.softmax(), lambda x: x.exp() / x.exp().sum(-1, keepdims=True),
                 rand(3, 4), id="softmax=exp/sum(exp)"),
    pytest.param(lambda x: x.softmax(0), lambda x: x.exp() / x.exp().sum(0, keepdims=True),
                 rand(3, 4), id="softmax-axis0=exp/sum(exp)"),
    pytest.param(lambda x: x.log_softmax(), lambda x: x - x.logsumexp(-1, keepdims=True),
                 rand(3, 4), id="log_softmax=x-logsumexp"),
    pytest.param(lambda x: x.log_softmax(), lambda x: x.softmax().log(),
                 rand(3, 4), id="log_softmax=log(softmax)"),
    pytest.param(lambda x: x.logsumexp(1), lambda x: x.exp().sum(1).log(),
                 rand(3, 4), id="logsumexp=log(sum(exp))"),
    pytest.param(lambda x: x.sigmoid(), lambda x: 1 / (1 + (-x).exp()),
                 rand(3, 4, low=-6, high=6), id="sigmoid=1/(1+exp(-x))"),
    pytest.param(lambda x: x.relu(), lambda x: ag.maximum(x, 0.0), away(3, 4),
                 id="relu=maximum(x,0)"),
    pytest.param(lambda x: x.relu(), lambda x: ag.where(x > 0, x, 0.0), away(3, 4),
                 id="relu=where(x>0,x,0)"),
    pytest.param(lambda x: x.min(1), lambda x: -((-x).max(1)), distinct(3, 4),
                 id="min=-max(-x)"),
    pytest.param(lambda x: x.var(0), lambda x: ((x - x.mean(0)) ** 2).mean(0), rand(3, 4),
                 id="var=mean((x-mean)^2)"),
    pytest.param(lambda x: x.mean(1), lambda x: x.sum(1) / 4, rand(3, 4), id="mean=sum/n"),
    pytest.param(lambda x: x.softplus(), lambda x: (1 + x.exp()).log(), rand(3, 4, low=-5, high=5),
                 id="softplus=log(1+exp)"),
    pytest.param(lambda x: x.elu(0.7), lambda x: ag.where(x > 0, x, 0.7 * (x.exp() - 1)),
                 away(3, 4), id="elu=where(x>0,x,a(exp-1))"),
    pytest.param(lambda x: x.logsigmoid(), lambda x: x.sigmoid().log(), rand(3, 4),
                 id="logsigmoid=log(sigmoid)"),
    pytest.param(lambda x: x.prod(1), lambda x: x[:, 0] * x[:, 1] * x[:, 2] * x[:, 3],
                 rand(3, 4), id="prod=x0*x1*x2*x3"),
    pytest.param(lambda x: x.std(0), lambda x: x.var(0).sqrt(), rand(3, 4), id="std=sqrt(var)"),
    pytest.param(lambda x: x.norm(axis=1), lambda x: (x * x).sum(1).sqrt(), rand(3, 4),
                 id="norm=sqrt(sum(x^2))"),
    pytest.param(lambda x: x.cumsum(1), lambda x: x @ np.triu(np.ones((4, 4))), rand(3, 4),
                 id="cumsum=x@triu(1)"),
    pytest.param(lambda x: ag.softmax_cross_entropy(x, LABELS),
                 lambda x: composed_cross_entropy(x, LABELS), rand(4, 3),
                 id="cross_entropy=-(onehot*log_softmax).sum(1).mean()"),
    pytest.param(lambda x: ag.softmax_cross_entropy(x, np.eye(3)[LABELS]),
                 lambda x: composed_cross_entropy(x, LABELS), rand(4, 3),
                 id="cross_entropy-onehot-probabilities=labels"),
]


@pytest.mark.parametrize(("fused", "composed", "x"), FUSED)
def test_fused_matches_composed(fused, composed, x):
    """A fused op and its composition from simpler ops agree in value and gradient."""
    weights = np.random.default_rng(2).standard_normal(fused(Tensor(x)).shape)
    out_fused, (grad_fused,) = engine_gradients(fused, [x], weights)
    out_composed, (grad_composed,) = engine_gradients(composed, [x], weights)
    np.testing.assert_allclose(out_fused.data, out_composed.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_fused.data, grad_composed.data, rtol=1e-10, atol=1e-12)


def test_linear_matches_matmul_plus_bias():
    """linear(x, w, b) is x @ w + b: same value, same gradients for x, w and b."""
    x, w, b = rand(4, 3), rand(3, 2), rand(2)
    weights = np.random.default_rng(3).standard_normal((4, 2))
    out_fused, grads_fused = engine_gradients(ag.linear, [x, w, b], weights)
    out_composed, grads_composed = engine_gradients(lambda x, w, b: x @ w + b, [x, w, b], weights)
    np.testing.assert_allclose(out_fused.data, out_composed.data, rtol=1e-12)
    for fused, composed in zip(grads_fused, grads_composed):
        np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12)


# --- dtypes: float32 stays float32 through every new op ----------------------------------------
FLOAT32_OPS = """sin cos tan arctan sinh cosh arcsinh log1p expm1 exp2 erf erfc square softplus silu
gelu elu selu celu leaky_relu hardtanh relu6 logsigmoid sign floor ceil round trunc clone
nan_to_num prod std var norm cumsum cumprod logsumexp""".split()


@pytest.mark.parametrize("name", FLOAT32_OPS)
def test_float32_stays_float32(name):
    x = Tensor(np.array([[0.3, 0.6], [0.2, 0.4]], dtype=np.float32), requires_grad=True)
    out = getattr(x, name)()
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32, name


# --- subgradient conventions --------------------------------------------------------------------
def gradient_of_sum(op, x):
    leaf = Tensor(x, requires_grad=True)
    op(leaf).sum().backward()
    return leaf.grad.data


KINKS = np.array([-1.0, 0.0, 2.0])
SUBGRADIENTS = [
    pytest.param(lambda x: x.relu(), KINKS, [0.0, 0.0, 1.0], id="relu'(0)=0"),
    pytest.param(lambda x: ag.maximum(x, 0.0), KINKS, [0.0, 0.0, 1.0], id="maximum(x,0)'(0)=0"),
    pytest.param(lambda x: ag.where(x > 0, x, 0.0), KINKS, [0.0, 0.0, 1.0],
                 id="where(x>0,x,0)'(0)=0"),
    pytest.param(lambda x: abs(x), KINKS, [-1.0, 0.0, 1.0], id="abs'(0)=0"),
    pytest.param(lambda x: x.max(), np.array([1.0, 3.0, 3.0]), [0.0, 0.5, 0.5],
                 id="max-ties-split-evenly"),
    pytest.param(lambda x: x.max(), np.array([2.0, 2.0, 2.0, 2.0]), [0.25] * 4,
                 id="max-four-way-tie"),
    pytest.param(lambda x: x.min(), np.array([1.0, 3.0, 1.0]), [0.5, 0.0, 0.5],
                 id="min-ties-split-evenly"),
    pytest.param(lambda x: x.max(1), np.array([[1.0, 3.0, 3.0], [5.0, 0.0, 1.0]]),
                 [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], id="max-axis1-ties-per-row"),
    pytest.param(lambda x: x.clip(-1.0, 1.0), np.array([-2.0, -1.0, 0.0, 1.0, 2.0]),
                 [0.0, 1.0, 1.0, 1.0, 0.0], id="clip-passes-at-bounds"),
    # piecewise constant ops: 0 everywhere, at their jumps too
    pytest.param(lambda x: x.sign(), KINKS, [0.0, 0.0, 0.0], id="sign'=0-also-at-0"),
    pytest.param(lambda x: x.floor() + x.ceil() + x.trunc(), np.array([-1.0, 0.0, 2.0]),
                 [0.0, 0.0, 0.0], id="floor'=ceil'=trunc'=0-at-integers"),
    pytest.param(lambda x: x.round(), np.array([0.5, 1.5, -2.5]), [0.0, 0.0, 0.0],
                 id="round'=0-at-halves"),
    pytest.param(lambda x: x // 2.0, np.array([2.0, 3.0]), [0.0, 0.0], id="floor_divide'=0"),
    pytest.param(lambda x: x % 2.0, np.array([2.0, 3.0]), [1.0, 1.0], id="mod'=1-also-at-jumps"),
    # kinks of the activations: the same side as relu'(0) = 0 where PyTorch agrees
    pytest.param(lambda x: x.leaky_relu(0.1), KINKS, [0.1, 0.1, 1.0], id="leaky_relu'(0)=slope"),
    pytest.param(lambda x: x.elu(2.0), np.array([0.0, 1.0]), [2.0, 1.0], id="elu'(0)=alpha"),
    pytest.param(lambda x: x.hardtanh(), np.array([-2.0, -1.0, 0.0, 1.0, 2.0]),
                 [0.0, 0.0, 1.0, 0.0, 0.0], id="hardtanh'=0-at-bounds"),
    pytest.param(lambda x: x.relu6(), np.array([0.0, 3.0, 6.0]), [0.0, 1.0, 0.0],
                 id="relu6'(0)=relu6'(6)=0"),
    pytest.param(lambda x: x.nan_to_num(), np.array([np.nan, np.inf, -np.inf, 1.5]),
                 [0.0, 0.0, 0.0, 1.0], id="nan_to_num'=0-where-replaced"),
    # norms at 0: the subgradient 0
    pytest.param(lambda x: x.norm(), np.zeros(3), [0.0, 0.0, 0.0], id="norm'(0)=0"),
    pytest.param(lambda x: x.norm(1), np.zeros(2), [0.0, 0.0], id="norm1'(0)=0"),
    pytest.param(lambda x: x.norm(np.inf), np.zeros(2), [0.0, 0.0], id="norm-inf'(0)=0"),
    pytest.param(lambda x: x.hypot(0.0), np.zeros(2), [0.0, 0.0], id="hypot'(0,0)=0"),
    pytest.param(lambda x: x.std(), np.full(3, 1.5), [0.0, 0.0, 0.0], id="std'=0-when-equal"),
    # products with zeros: exact, never out / x
    pytest.param(lambda x: x.prod(), np.array([2.0, 0.0, 3.0]), [0.0, 6.0, 0.0],
                 id="prod-one-zero"),
    pytest.param(lambda x: x.prod(), np.array([0.0, 2.0, 0.0]), [0.0, 0.0, 0.0],
                 id="prod-two-zeros"),
    pytest.param(lambda x: x.prod(), np.array([1e-300, 1e-300, 1e300]), [1.0, 1.0, 0.0],
                 id="prod-underflowing-product-still-exact"),
    pytest.param(lambda x: x.cumprod(), np.array([2.0, 0.0, 3.0]), [1.0, 8.0, 0.0],
                 id="cumprod-with-a-zero"),
]


@pytest.mark.parametrize(("op", "x", "expected"), SUBGRADIENTS)
def test_subgradient_conventions(op, x, expected):
    """At kinks and ties, the documented subgradient (relu'(0)=0, |x|'(0)=0, ties split)."""
    np.testing.assert_array_equal(gradient_of_sum(op, x), expected)


@pytest.mark.parametrize(("op", "expected"), [
    pytest.param(lambda x: x**2, [0.0, 2.0], id="d(x^2)=2x"),
    pytest.param(lambda x: x**3, [0.0, 3.0], id="d(x^3)=3x^2"),
    pytest.param(lambda x: x**1, [1.0, 1.0], id="d(x^1)=1"),
    pytest.param(lambda x: x**0, [0.0, 0.0], id="d(x^0)=0-even-at-0"),
])
def test_pow_with_constant_exponent_at_a_zero_base(op, expected):
    """d xⁿ/dx = n xⁿ⁻¹ at x = [0, 1]; x⁰ = 1 is constant, so its derivative is 0 at 0 too."""
    np.testing.assert_array_equal(gradient_of_sum(op, np.array([0.0, 1.0])), expected)


def test_pow_exponent_gradient_at_a_zero_base():
    """0^y = 0 for every y > 0, so d(0^y)/dy = 0 (and d(1^y)/dy = ln 1 = 0)."""
    y = Tensor([2.0, 2.0], requires_grad=True)
    (Tensor([0.0, 1.0]) ** y).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [0.0, 0.0])


def test_relu_maximum_and_where_agree_at_zero():
    """relu, maximum(x, 0) and where(x > 0, x, 0) give one gradient at and around 0."""
    x = np.array([-0.5, 0.0, 0.0, 0.5])
    grads = [gradient_of_sum(op, x) for op in
             (ag.relu, lambda t: ag.maximum(t, 0.0), lambda t: ag.where(t > 0, t, 0.0))]
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[0], grads[2])


# --- numerical stability ------------------------------------------------------------------------
@pytest.mark.filterwarnings("error")
def test_softmax_family_is_stable_for_large_logits():
    """Logits [1000, 0]: finite values and the exact answers, no overflow warnings."""
    z = Tensor([[1000.0, 0.0]], requires_grad=True)
    p = z.softmax()
    np.testing.assert_allclose(p.data, [[1.0, 0.0]], atol=1e-300)
    np.testing.assert_allclose(z.log_softmax().data, [[0.0, -1000.0]])
    np.testing.assert_allclose(z.logsumexp(1).data, [1000.0])
    # label 0 is certain: loss log(1 + e^-1000) = 0; label 1: loss 1000
    np.testing.assert_allclose(ag.softmax_cross_entropy(z, np.array([0])).data, 0.0, atol=1e-300)
    loss = ag.softmax_cross_entropy(z, np.array([1]))
    np.testing.assert_allclose(loss.data, 1000.0)
    loss.backward()
    np.testing.assert_allclose(z.grad.data, [[1.0, -1.0]])  # softmax - onehot
    assert np.all(np.isfinite(z.grad.data))


@pytest.mark.filterwarnings("error")
def test_softmax_gradients_are_finite_for_large_logits():
    """Backward through softmax and log_softmax of [1000, 0] stays finite."""
    for op in (lambda t: t.softmax(), lambda t: t.log_softmax(), lambda t: t.logsumexp()):
        z = Tensor([1000.0, 0.0, -1000.0], requires_grad=True)
        (op(z) * Tensor([1.0, 2.0, 3.0])).sum().backward()
        assert np.all(np.isfinite(z.grad.data))


@pytest.mark.filterwarnings("error")
def test_sigmoid_saturates_without_warnings():
    """sigmoid(±1000) is exactly 1 and 0 with zero gradient, and NumPy warns of nothing."""
    x = Tensor([-1000.0, 1000.0], requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [0.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
