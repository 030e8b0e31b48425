"""The everyday op surface around the derivative table: axis arguments (NumPy's, PyTorch's
dim=/keepdim=, 0-d tensors, empty axes), creation functions, PyTorch spellings, erf's
precision, and one-line errors for bad arguments."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import Tensor


def leaf(x):
    return Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


def gradient(op, x):
    """d Σ op(x) / dx."""
    x = leaf(x)
    op(x).sum().backward()
    return x.grad.data


# --- issue 7: reductions of 0-d tensors and over odd axes (each raised on the old main) -------
@pytest.mark.parametrize("name", ["sum", "max", "min", "mean", "logsumexp", "prod", "norm"])
@pytest.mark.parametrize("axis", [0, -1])
def test_a_0d_tensor_reduces_over_axis_0_or_minus_1_with_gradient_1(name, axis):
    """NumPy accepts axis 0 and -1 for a 0-d array (np.sum(np.array(3.), axis=0) == 3.)."""
    x = leaf(3.0)
    out = getattr(x, name)(axis=axis)
    out.backward()
    assert out.shape == () and out.item() == pytest.approx(3.0)
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("name", ["var", "std"])
def test_variance_of_a_0d_tensor_is_0_with_gradient_0(name):
    x = leaf(3.0)
    out = getattr(x, name)(axis=0)
    out.backward()
    assert out.item() == 0.0 and x.grad.item() == 0.0


@pytest.mark.parametrize(("name", "value"), [("softmax", 1.0), ("log_softmax", 0.0)])
def test_softmax_of_a_0d_tensor(name, value):
    """One element: softmax is 1 and log_softmax 0, with zero gradient (as PyTorch)."""
    x = leaf(2.5)
    out = getattr(x, name)()
    out.backward()
    assert out.shape == () and out.item() == value and x.grad.item() == 0.0


@pytest.mark.parametrize("name", ["mean", "var", "std", "logsumexp", "sum", "max", "prod"])
def test_numpy_integer_axes_are_accepted(name):
    x = np.arange(12.0).reshape(3, 4) / 7
    ours = getattr(leaf(x), name)(axis=np.int64(1)).data
    expected = getattr(leaf(x), name)(axis=1).data
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_over_an_empty_axis_is_empty(name):
    x = leaf(np.zeros((2, 0)))
    out = getattr(x, name)(axis=1)
    assert out.shape == (2, 0)
    out.sum().backward()
    assert x.grad.shape == (2, 0)


def test_logsumexp_over_an_empty_axis_is_minus_inf():
    """The log of an empty sum, as NumPy's log(sum(exp(x))) and PyTorch's logsumexp."""
    x = leaf(np.zeros((3, 0)))
    out = x.logsumexp(axis=1)
    np.testing.assert_array_equal(out.data, [-np.inf] * 3)
    out.backward(np.ones(3))
    assert x.grad.shape == (3, 0)


# --- PyTorch's spellings ---------------------------------------------------------------------
REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "any", "all",
              "argmax", "argmin", "norm"]


@pytest.mark.parametrize("name", REDUCTIONS)
def test_dim_and_keepdim_are_axis_and_keepdims(name):
    x = Tensor(np.arange(1.0, 13.0).reshape(3, 4) % 5)
    torch_style = getattr(x, name)(dim=1, keepdim=True)
    numpy_style = getattr(x, name)(axis=1, keepdims=True)
    assert torch_style.shape == numpy_style.shape == (3, 1)
    np.testing.assert_array_equal(torch_style.data, numpy_style.data)
    np.testing.assert_array_equal(getattr(ag, name)(x, dim=0).data, getattr(x, name)(axis=0).data)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "cumsum", "cumprod"])
def test_dim_for_single_axis_ops(name):
    x = Tensor(np.arange(6.0).reshape(2, 3) / 4)
    np.testing.assert_array_equal(getattr(x, name)(dim=0).data, getattr(x, name)(axis=0).data)


def test_axis_and_dim_together_is_an_error():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match="sum: got both axis= and dim="):
        x.sum(1, dim=1)
    with pytest.raises(TypeError, match="mean: got both keepdims= and keepdim="):
        x.mean(keepdims=True, keepdim=True)


def test_argmax_with_a_positional_dim_returns_integers_outside_the_graph():
    x = leaf([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    index = x.argmax(1)
    assert index.dtype.kind == "i" and not index.requires_grad
    np.testing.assert_array_equal(index.data, [1, 0])  # the first of tied maxima, as NumPy
    assert x.argmin().item() == 4


def test_numel_tolist_and_size():
    x = Tensor(np.zeros((2, 3)))
    assert x.numel() == x.size == 6 and isinstance(x.size, int)
    assert Tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]


def test_clone_copies_the_data_and_passes_the_gradient():
    x = leaf([1.0, 2.0])
    y = x.clone()
    assert y.data is not x.data and not np.shares_memory(y.data, x.data)
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_format_of_one_element_tensors():
    assert format(Tensor(3.14159), ".2f") == "3.14"
    assert f"{Tensor([2.5]):.1e}" == "2.5e+00"
    assert format(Tensor([1.0, 2.0])) == str(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"format: only one-element tensors .* shape \(2,\)"):
        format(Tensor([1.0, 2.0]), ".2f")


# --- values tests and booleans: outside the graph --------------------------------------------
def test_isnan_isinf_isfinite_and_any_all_are_boolean_constants():
    x = leaf([np.nan, np.inf, -np.inf, 1.0])
    for name, expected in [("isnan", [1, 0, 0, 0]), ("isinf", [0, 1, 1, 0]),
                           ("isfinite", [0, 0, 0, 1])]:
        out = getattr(x, name)()
        assert out.dtype == bool and not out.requires_grad
        np.testing.assert_array_equal(out.data, np.array(expected, dtype=bool))
        np.testing.assert_array_equal(getattr(ag, name)(x).data, out.data)
    assert x.isnan().any().item() is True and x.isfinite().all().item() is False


# --- erf from the C library: float64-exact enough for gelu, no SciPy --------------------------
# Correctly rounded values from mpmath at 40 digits.
ERF = [(-3.0, -0.9999779095030014, 1.9999779095030015), (-0.5, -0.5204998778130465,
       1.5204998778130465), (1e-10, 1.1283791670955126e-10, 0.999999999887162),
       (0.3, 0.3286267594591274, 0.6713732405408726), (1.0, 0.8427007929497149,
       0.15729920705028513), (2.5, 0.999593047982555, 0.0004069520174449589),
       (5.0, 0.9999999999984626, 1.537459794428035e-12)]


@pytest.mark.parametrize(("x", "erf", "erfc"), ERF)
def test_erf_and_erfc_to_float64_precision(x, erf, erfc):
    np.testing.assert_allclose(ag.erf(Tensor(x)).item(), erf, rtol=2.3e-16, atol=0)
    np.testing.assert_allclose(ag.erfc(Tensor(x)).item(), erfc, rtol=4.5e-16, atol=0)


def test_exact_gelu_is_stable_far_left_and_keeps_float32():
    """gelu(-10) = -10·Φ(-10) = -7.62e-23 (x(1 + erf(x/√2))/2 would give 0)."""
    assert ag.gelu(Tensor(-10.0)).item() == pytest.approx(-7.619853024160526e-23, rel=1e-14)
    x = Tensor(np.array([-1.0, 0.5], dtype=np.float32), requires_grad=True)
    y = x.gelu()
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


# --- creation --------------------------------------------------------------------------------
def test_creation_functions_follow_numpy():
    np.testing.assert_array_equal(ag.arange(5).data, np.arange(5))
    np.testing.assert_array_equal(ag.arange(1.0, 2.0, 0.25).data, np.arange(1.0, 2.0, 0.25))
    np.testing.assert_array_equal(ag.linspace(0, 1, 5).data, np.linspace(0, 1, 5))
    np.testing.assert_array_equal(ag.eye(2, 3, k=1).data, np.eye(2, 3, k=1))
    assert ag.full((2, 2), 7).dtype == np.int64 and ag.full((2,), 7.0).dtype == np.float64
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    for like, value in [(ag.zeros_like, 0), (ag.ones_like, 1), (lambda t: ag.full_like(t, 3), 3)]:
        out = like(x)
        assert out.shape == (2, 3) and out.dtype == np.float32 and np.all(out.data == value)
    assert ag.zeros_like(x, dtype=np.float64).dtype == np.float64
    w = ag.linspace(0, 1, 3, requires_grad=True, dtype=np.float32)
    assert w.requires_grad and w.dtype == np.float32 and w.is_leaf


@pytest.mark.parametrize("make", [
    pytest.param(lambda seed: ag.rand(2, 3, seed=seed), id="rand"),
    pytest.param(lambda seed: ag.randn((2, 3), seed=seed), id="randn"),
    pytest.param(lambda seed: ag.randint(0, 10, size=(2, 3), seed=seed), id="randint"),
    pytest.param(lambda seed: ag.uniform(-1, 1, size=(2, 3), seed=seed), id="uniform"),
    pytest.param(lambda seed: ag.normal(2.0, 0.5, size=(2, 3), seed=seed), id="normal"),
])
def test_random_creation_is_seeded_by_an_int_or_a_generator(make):
    a, b = make(3), make(3)
    assert a.shape == (2, 3)
    np.testing.assert_array_equal(a.data, b.data)
    rng = np.random.default_rng(3)
    first, second = make(rng), make(rng)  # a Generator is used as it is, and advances
    np.testing.assert_array_equal(first.data, a.data)
    assert not np.array_equal(first.data, second.data)


def test_random_values_have_the_requested_distribution():
    u = ag.rand(10_000, seed=0).data
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = ag.normal(2.0, 0.5, size=10_000, seed=0).data
    assert abs(n.mean() - 2.0) < 0.02 and abs(n.std() - 0.5) < 0.02
    k = ag.randint(3, size=1000, seed=0)
    assert k.dtype == np.int64 and set(np.unique(k.data)) == {0, 1, 2}
    assert ag.rand(3, seed=0, dtype=np.float32, requires_grad=True).dtype == np.float32


# --- bad arguments: one line naming the op and what was wrong ---------------------------------
BAD = [
    (lambda: Tensor(np.ones((3, 4))).sum(2), np.exceptions.AxisError,
     r"sum: axis 2 is out of range for a tensor of shape \(3, 4\)"),
    (lambda: Tensor(np.ones((3, 4))).mean(1.5), TypeError, "mean: axis must be an int"),
    (lambda: Tensor(np.ones((3, 4))).max((0, -2)), ValueError, "max: axis .* names an axis twice"),
    (lambda: Tensor(np.ones(3)).softmax((0,)), TypeError, "softmax: axis must be one int"),
    (lambda: Tensor(1.0).sum(1), np.exceptions.AxisError, r"sum: axis 1 is out of range .*\(\)"),
    (lambda: Tensor(np.ones(3)).var(ddof=1, correction=1), TypeError, "var: pass ddof="),
    (lambda: Tensor(np.ones(3)).std(ddof="1"), TypeError, "std: ddof must be a number"),
    (lambda: Tensor(np.ones((2, 2))).norm(2), ValueError, "norm: ord=2 is not supported for a "
     "matrix"),
    (lambda: Tensor(np.ones(3)).norm(3), ValueError, "norm: ord=3 is not supported for a vector"),
    (lambda: Tensor(np.ones(3)).gelu("fast"), ValueError, "gelu: approximate must be"),
    (lambda: Tensor(np.ones(3)).elu(Tensor(1.0)), TypeError, "elu: alpha must be a number"),
    (lambda: Tensor(np.ones(3)).celu(0.0), ValueError, "celu: alpha must not be 0"),
    (lambda: Tensor(np.ones(3)).hardtanh(1, -1), ValueError, "hardtanh: min_val 1 is greater"),
    (lambda: Tensor(np.ones(3)).leaky_relu(None), TypeError, "leaky_relu: negative_slope must"),
    (lambda: Tensor(np.ones(3)).round(1.5), TypeError, "round: decimals must be an int"),
    (lambda: ag.logaddexp(Tensor(np.ones(3)), np.ones(4)), ValueError,
     r"logaddexp: cannot apply to shapes \(3,\) and \(4,\)"),
    (lambda: Tensor(np.ones(3)) % np.ones(2), ValueError, r"mod: cannot apply to shapes"),
    (lambda: ag.arange(0, 5, 0), ValueError, "arange: step must not be 0"),
    (lambda: ag.linspace(0, 1, -2), ValueError, "linspace: num must be a non-negative int"),
    (lambda: ag.eye(-1), ValueError, "eye: n must be a non-negative int"),
    (lambda: ag.randint(5, 5), ValueError, r"randint: high \(5\) must be greater than low"),
    (lambda: ag.randn(2, seed="x"), TypeError, "randn: seed must be an int, a np.random.Gen"),
    (lambda: ag.normal(0, -1.0), ValueError, "normal: scale .* must be >= 0"),
    (lambda: ag.arange(3, requires_grad=True), TypeError, "only floating-point tensors"),
]


@pytest.mark.parametrize(("call", "kind", "message"), BAD, ids=[b[2][:40] for b in BAD])
def test_bad_arguments_get_one_line_naming_the_op(call, kind, message):
    with pytest.raises(kind, match=message) as info:
        call()
    assert "\n" not in str(info.value)


# --- Hypothesis: axis arguments of every form, against NumPy ----------------------------------
def axis_arguments(ndim):
    """None, an int (negative too, or np.int64), or a tuple of distinct axes."""
    if ndim == 0:
        return st.sampled_from([None, 0, -1])
    return st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                     st.integers(0, ndim - 1).map(np.int64), hnp.valid_tuple_axes(ndim))


def np_logsumexp(x, axis, keepdims):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


AXIS_OPS = {
    "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
    "var": np.var, "std": np.std, "logsumexp": np_logsumexp,
}


@pytest.mark.parametrize("name", sorted(AXIS_OPS))
@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
def test_reductions_take_every_form_of_axis(name, data, shape):
    """Any axis NumPy takes (0-d tensors: 0 and -1 too): NumPy's values, and gradients equal
    to central differences."""
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0.5, 2.0), unique=True))
    axis = data.draw(axis_arguments(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    op = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)
    numpy_axis = None if len(shape) == 0 else axis  # NumPy's mean/var refuse axis 0 of 0-d
    expected = AXIS_OPS[name](x, axis=numpy_axis, keepdims=keepdims)
    out = op(Tensor(x))
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    if name != "std" or np.size(x) > 1:  # std of one element sits at its kink (0)
        assert ag.gradcheck(op, [x])


def test_math_erf_is_the_reference_here():
    """The erf primitive agrees with math.erf element by element (it is built on it)."""
    x = np.linspace(-4, 4, 9)
    np.testing.assert_array_equal(ag.erf(x).data, [math.erf(v) for v in x])
