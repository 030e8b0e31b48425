"""jacobian, hessian, vjp, jvp, hvp against hand-derived matrices, and gradcheck, including a
meta-test that it rejects a deliberately wrong VJP."""

import re

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.functional import GradcheckError
from autograd.tensor import Primitive, apply

RNG = np.random.default_rng(7)
A = RNG.standard_normal((2, 3))
SQUARE = RNG.standard_normal((3, 3))  # not symmetric, so A + Aᵀ differs from 2A
B = RNG.standard_normal((3, 4))
X3 = np.array([0.3, -1.2, 0.8])
X23 = RNG.standard_normal((2, 3))


def softmax_jacobian(x):
    p = np.exp(x) / np.exp(x).sum()
    return np.diag(p) - np.outer(p, p)


# --- jacobian -----------------------------------------------------------------------------------
JACOBIANS = [
    pytest.param(lambda x: A @ x, X3, A, id="linear-map-is-its-matrix"),
    pytest.param(lambda x: x + 1.0, X3, np.eye(3), id="shift-is-identity"),
    pytest.param(lambda x: 2.0 * x, X3, 2 * np.eye(3), id="scaling-is-2I"),
    pytest.param(lambda x: x.exp(), X3, np.diag(np.exp(X3)), id="exp-is-diag(exp)"),
    pytest.param(lambda x: x.softmax(), X3, softmax_jacobian(X3), id="softmax-is-diag(p)-ppT"),
    pytest.param(lambda x: x.sum(), X3, np.ones(3), id="sum-is-ones-row"),
    pytest.param(lambda x: x * np.array([1.0, 2.0, 3.0]), np.array(0.5), np.array([1.0, 2.0, 3.0]),
                 id="scalar-in-vector-out"),
    pytest.param(lambda x: x @ B, X23, np.einsum("ik,lj->ijkl", np.eye(2), B),
                 id="matrix-in-matrix-out"),
    pytest.param(lambda x: x.T, X23, np.eye(6).reshape(2, 3, 2, 3).transpose(1, 0, 2, 3),
                 id="transpose-permutes-identity"),
]


@pytest.mark.parametrize(("f", "x", "expected"), JACOBIANS)
def test_jacobian_shape_and_values(f, x, expected):
    """J has shape f(x).shape + x.shape and equals the hand-derived matrix."""
    jac = ag.jacobian(f, x)
    out_shape = f(Tensor(x)).shape
    assert jac.shape == out_shape + np.shape(x)
    np.testing.assert_allclose(jac.data, expected, rtol=1e-12, atol=1e-14)


def test_jacobian_of_several_inputs_is_a_tuple():
    """f(x, y) = x·y elementwise: (diag(y), diag(x))."""
    x, y = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 4.0])
    jx, jy = ag.jacobian(lambda a, b: a * b, x, y)
    np.testing.assert_allclose(jx.data, np.diag(y))
    np.testing.assert_allclose(jy.data, np.diag(x))


def test_jacobian_of_a_matrix_vector_product_in_both_arguments():
    """f(W, x) = W x: ∂f/∂W[i, j, k] = δᵢⱼ x_k and ∂f/∂x = W."""
    w, x = A, X3
    jw, jx = ag.jacobian(lambda w, x: w @ x, w, x)
    assert jw.shape == (2, 2, 3) and jx.shape == (2, 3)
    np.testing.assert_allclose(jw.data, np.einsum("ij,k->ijk", np.eye(2), x))
    np.testing.assert_allclose(jx.data, w)


def test_jacobian_of_an_input_that_is_not_used_is_zero():
    jx, jy = ag.jacobian(lambda x, y: x * 2.0, X3, X3)
    np.testing.assert_allclose(jx.data, 2 * np.eye(3))
    np.testing.assert_array_equal(jy.data, np.zeros((3, 3)))


def test_jacobian_does_not_touch_the_callers_tensor():
    x = Tensor(X3, requires_grad=True)
    ag.jacobian(lambda t: t * t, x)
    assert x.grad is None


# --- hessian ------------------------------------------------------------------------------------
HESSIANS = [
    pytest.param(lambda x: x @ (SQUARE @ x), SQUARE + SQUARE.T, id="xAx-is-A+AT"),
    pytest.param(lambda x: 0.5 * (x @ (SQUARE @ x)) + x @ X3 + 4.0, (SQUARE + SQUARE.T) / 2,
                 id="half-xAx-plus-linear"),
    pytest.param(lambda x: (x * x).sum(), 2 * np.eye(3), id="squared-norm-is-2I"),
    pytest.param(lambda x: (SQUARE @ x) @ (SQUARE.T @ x), SQUARE.T @ SQUARE.T + SQUARE @ SQUARE,
                 id="(Ax)(Bx)-is-ATB+BTA"),
    pytest.param(lambda x: (x * X3).sum(), np.zeros((3, 3)), id="linear-is-zero"),
]


@pytest.mark.parametrize(("f", "expected"), HESSIANS)
def test_hessian_of_quadratics(f, expected):
    """Quadratic forms have a constant Hessian: x·Ax gives A + Aᵀ (A is not symmetric)."""
    np.testing.assert_allclose(ag.hessian(f, RNG.standard_normal(3)).data, expected, rtol=1e-12,
                               atol=1e-12)


def test_hessian_of_a_matrix_input_has_shape_x_shape_twice():
    """f(X) = Σ w·X²: H[i,j,k,l] = 2 w[i,j] δ(ik) δ(jl)."""
    w = RNG.standard_normal((2, 3))
    hess = ag.hessian(lambda x: (w * x * x).sum(), X23)
    assert hess.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(hess.data, np.diag(2 * w.reshape(-1)).reshape(2, 3, 2, 3))


def numeric_hessian(f, x, eps=1e-5):
    """Central differences of the engine's first-order gradient (checked in test_ops)."""
    def gradient(point):
        leaf = Tensor(point, requires_grad=True)
        f(leaf).backward()
        return leaf.grad.data.reshape(-1)

    columns = []
    for j in range(x.size):
        step = np.zeros(x.size)
        step[j] = eps
        step = step.reshape(x.shape)
        columns.append((gradient(x + step) - gradient(x - step)) / (2 * eps))
    return np.stack(columns, axis=1).reshape(x.shape + x.shape)


POSITIVE = np.array([0.7, 1.3, 0.9, 1.6])
MIXED = np.array([0.4, -1.1, 0.8, -0.3])
W43 = RNG.standard_normal((4, 3))
LABELS = np.array([1, 0])

SECOND_ORDER = [
    pytest.param(lambda x: x.exp().sum(), MIXED, id="exp"),
    pytest.param(lambda x: x.log().sum(), POSITIVE, id="log"),
    pytest.param(lambda x: x.sqrt().sum(), POSITIVE, id="sqrt"),
    pytest.param(lambda x: x.tanh().sum(), MIXED, id="tanh"),
    pytest.param(lambda x: x.sigmoid().sum(), MIXED, id="sigmoid"),
    pytest.param(lambda x: (x**3).sum(), MIXED, id="pow-constant"),
    pytest.param(lambda x: (x**x).sum(), POSITIVE, id="pow-tensor-exponent"),
    pytest.param(lambda x: (2.0**x).sum(), MIXED, id="rpow"),
    pytest.param(lambda x: (x[:2] / x[2:]).sum(), POSITIVE, id="div"),
    pytest.param(lambda x: (x.softmax() * MIXED).sum(), MIXED, id="softmax"),
    pytest.param(lambda x: (x.log_softmax() * MIXED).sum(), MIXED, id="log_softmax"),
    pytest.param(lambda x: x.logsumexp(), MIXED, id="logsumexp"),
    pytest.param(lambda x: ag.softmax_cross_entropy(x.reshape(2, 2), LABELS), MIXED,
                 id="cross_entropy"),
    pytest.param(lambda x: x.var(), MIXED, id="var"),
    pytest.param(lambda x: x.max() ** 2 + x.min() ** 2, MIXED, id="max-min"),
    pytest.param(lambda x: (abs(x) * x).sum() + (x.relu() * x).sum(), MIXED, id="abs-relu"),
    pytest.param(lambda x: (ag.where(x > 0, x, -x) * x).sum(), MIXED, id="where"),
    pytest.param(lambda x: (ag.maximum(x, 0.1) * x).sum() + x.clip(-0.5, 0.5).sum() ** 2, MIXED,
                 id="maximum-clip"),
    pytest.param(lambda x: ((x @ W43).tanh() ** 2).sum(), MIXED, id="matmul-1d@2d"),
    pytest.param(lambda x: (x.reshape(2, 2) @ x.reshape(2, 2).T).exp().sum(), MIXED * 0.5,
                 id="matmul-2d@2d-transpose"),
    pytest.param(lambda x: (ag.linear(x.reshape(1, 4), W43, x[:3]) ** 2).sum(), MIXED,
                 id="linear"),
    pytest.param(lambda x: (x[[0, 0, 3]] ** 3).sum() + (x[1:3] * x[::-1][:2]).sum(), MIXED,
                 id="getitem"),
    pytest.param(lambda x: (x.reshape(2, 2).broadcast_to((3, 2, 2)) ** 3).mean(), MIXED,
                 id="broadcast_to-mean"),
]


@pytest.mark.parametrize(("f", "x"), SECOND_ORDER)
def test_hessian_through_each_op_matches_differences_of_the_gradient(f, x):
    """Second order: VJPs recorded with create_graph differentiate correctly, op by op."""
    expected = numeric_hessian(f, x)
    np.testing.assert_allclose(ag.hessian(f, x).data, expected, rtol=1e-5, atol=1e-6)
    v = np.array([1.0, -0.5, 0.25, 2.0])
    _, hv = ag.hvp(f, x, v)
    np.testing.assert_allclose(hv.data, expected @ v, rtol=1e-5, atol=1e-6)


# --- vjp, jvp, hvp ------------------------------------------------------------------------------
def tanh_map(x):
    return (A @ x).tanh()


def tanh_map_jacobian(x):
    return np.diag(1 - np.tanh(A @ x) ** 2) @ A


def exp_energy(x):
    return (A @ x).exp().sum() + 0.5 * (x * x).sum()


def exp_energy_hessian(x):
    return A.T @ np.diag(np.exp(A @ x)) @ A + np.eye(3)


def test_vjp_is_v_transpose_j():
    v = np.array([0.5, -2.0])
    out, g = ag.vjp(tanh_map, X3, v)
    np.testing.assert_allclose(out.data, np.tanh(A @ X3))
    assert not out.requires_grad
    np.testing.assert_allclose(g.data, v @ tanh_map_jacobian(X3), rtol=1e-12)


def test_jvp_is_j_v():
    v = np.array([1.0, 0.0, -1.5])
    out, jv = ag.jvp(tanh_map, X3, v)
    np.testing.assert_allclose(out.data, np.tanh(A @ X3))
    np.testing.assert_allclose(jv.data, tanh_map_jacobian(X3) @ v, rtol=1e-12)


def test_jvp_of_a_linear_map():
    """J v = A v, with A's Jacobian independent of x."""
    v = np.array([2.0, -1.0, 0.5])
    _, jv = ag.jvp(lambda x: A @ x, X3, v)
    np.testing.assert_allclose(jv.data, A @ v, rtol=1e-12)


def test_hvp_is_h_v():
    v = np.array([0.3, 1.0, -0.7])
    out, hv = ag.hvp(exp_energy, X3, v)
    np.testing.assert_allclose(out.data, np.exp(A @ X3).sum() + 0.5 * X3 @ X3)
    np.testing.assert_allclose(hv.data, exp_energy_hessian(X3) @ v, rtol=1e-12)


def test_hvp_of_a_linear_function_is_zero():
    _, hv = ag.hvp(lambda x: (x * X3).sum(), X3, np.ones(3))
    np.testing.assert_array_equal(hv.data, np.zeros(3))


def test_hessian_matches_hvp_columns():
    hess = ag.hessian(exp_energy, X3).data
    np.testing.assert_allclose(hess, exp_energy_hessian(X3), rtol=1e-12)
    for j in range(3):
        _, column = ag.hvp(exp_energy, X3, np.eye(3)[j])
        np.testing.assert_allclose(column.data, hess[:, j], rtol=1e-12)


def test_vjp_and_jvp_agree_with_the_full_jacobian():
    """uᵀ(J v) = (uᵀJ) v for random u, v."""
    u, v = RNG.standard_normal(2), RNG.standard_normal(3)
    _, ujac = ag.vjp(tanh_map, X3, u)
    _, jacv = ag.jvp(tanh_map, X3, v)
    np.testing.assert_allclose(u @ jacv.data, ujac.data @ v, rtol=1e-12)


# --- gradcheck ----------------------------------------------------------------------------------
CORRECT = [
    pytest.param(lambda x: (x * x).sum(), [X3], id="square-sum"),
    pytest.param(lambda x, y: x @ y, [X23, B], id="matmul"),
    pytest.param(lambda x: x.softmax(), [X23], id="softmax"),
    pytest.param(lambda x, w, b: ag.linear(x, w, b).tanh(), [X23, B, np.ones(4)], id="layer"),
    pytest.param(lambda x: ag.softmax_cross_entropy(x, np.array([1, 2])), [X23], id="xent"),
]


@pytest.mark.parametrize("full_limit", [4096, 0], ids=["full-jacobian", "random-projection"])
@pytest.mark.parametrize(("f", "inputs"), CORRECT)
def test_gradcheck_accepts_correct_ops(f, inputs, full_limit):
    assert ag.gradcheck(f, inputs, full_limit=full_limit) is True


def square_forward(x):
    return x * x


WRONG_SQUARE = Primitive("wrong_square", square_forward, "d(x²) = 2x dx, deliberately 3x",
                         lambda g, out, x: g * 3 * x)
RIGHT_SQUARE = Primitive("square", square_forward, "d(x²) = 2x dx",
                         lambda g, out, x: g * 2 * x)
# Right everywhere except at element 2, where the derivative is 50% too large.
WRONG_AT_2 = Primitive("wrong_at_2", square_forward, "d(x²) = 2x dx, except element 2",
                       lambda g, out, x: g * 2 * x * np.array([1.0, 1.0, 1.5, 1.0]))
# x·y with a correct VJP for x and a wrong one (sign flipped) for y.
WRONG_SECOND = Primitive("wrong_mul", np.multiply, "d(xy) = y dx + x dy, deliberately -x dy",
                         lambda g, out, x, y: g * y,
                         lambda g, out, x, y: -g * x)
POINT = np.array([0.5, 1.5, -2.0, 1.0])


def numbers_after(label, message):
    return float(re.search(label + r" (-?[0-9.eE+-]+)", message).group(1))


def test_gradcheck_control_a_right_primitive_passes():
    assert ag.gradcheck(lambda x: apply(RIGHT_SQUARE, (x,)), [POINT])


def test_gradcheck_rejects_a_wrong_vjp_and_names_input_element_and_values():
    """The meta-test: analytic 3x vs numeric 2x at the first element, x₀ = 0.5."""
    with pytest.raises(GradcheckError) as info:
        ag.gradcheck(lambda x: apply(WRONG_SQUARE, (x,)), [POINT])
    message = str(info.value)
    assert "input 0" in message and "element (0,)" in message
    assert numbers_after("analytic", message) == pytest.approx(3 * POINT[0])
    assert numbers_after("numeric", message) == pytest.approx(2 * POINT[0], rel=1e-6)


def test_gradcheck_names_the_one_wrong_element():
    with pytest.raises(GradcheckError) as info:
        ag.gradcheck(lambda x: apply(WRONG_AT_2, (x,)), [POINT])
    message = str(info.value)
    assert "input 0" in message and "element (2,)" in message
    assert numbers_after("analytic", message) == pytest.approx(3 * POINT[2])
    assert numbers_after("numeric", message) == pytest.approx(2 * POINT[2], rel=1e-6)


def test_gradcheck_names_the_wrong_input():
    x, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, -1.0], [2.0, 1.5]])
    with pytest.raises(GradcheckError) as info:
        ag.gradcheck(lambda a, b: apply(WRONG_SECOND, (a, b)), [x, y])
    message = str(info.value)
    assert "input 1" in message and "element (0, 0)" in message
    assert numbers_after("analytic", message) == pytest.approx(-x[0, 0])
    assert numbers_after("numeric", message) == pytest.approx(x[0, 0], rel=1e-6)


@pytest.mark.parametrize(("primitive", "inputs", "bad_input"), [
    pytest.param(WRONG_SQUARE, [POINT], "input 0", id="wrong-square"),
    pytest.param(WRONG_AT_2, [POINT], "input 0", id="wrong-at-one-element"),
    pytest.param(WRONG_SECOND, [POINT, POINT[::-1].copy()], "input 1", id="wrong-second-input"),
])
def test_gradcheck_random_projection_mode_also_rejects(primitive, inputs, bad_input):
    """full_limit=0 forces the uᵀJv projections; a wrong VJP still fails, input named."""
    with pytest.raises(GradcheckError, match="random projection") as info:
        ag.gradcheck(lambda *xs: apply(primitive, xs), inputs, full_limit=0)
    message = str(info.value)
    assert bad_input in message and "analytic" in message and "numeric" in message
    assert numbers_after("analytic", message) != pytest.approx(numbers_after("numeric", message))
