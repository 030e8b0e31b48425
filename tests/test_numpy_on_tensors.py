"""NumPy's own functions on Tensors (__array_ufunc__, __array_function__): they record the graph
and return Tensors; what the engine lacks, and out=, are clear TypeErrors."""

import numpy as np
import pytest
from test_lecture_examples import lecture11_backward

import autograd as ag
from autograd import Tensor

RNG = np.random.default_rng(7)


def leaf(x):
    return Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


# --- the lecture 11 forward pass exactly as the notes write it --------------------------------
def lecture11_forward_as_written(X, Y, W1, B1, W2, B2, W3, B3):
    """Lecture 11's NumPy forward, line by line (only the names of the batch changed)."""
    b_size = X.shape[0]
    Z1 = X @ W1 + B1
    A1 = 1/(1 + np.exp(-Z1))
    Z2 = A1 @ W2 + B2
    A2 = 1/(1 + np.exp(-Z2))
    L = A2 @ W3 + B3
    Pred = np.exp(L)/np.sum(np.exp(L), axis=1, keepdims=True)
    J = np.mean(-np.log(Pred[np.arange(b_size), Y]))
    return J


def test_lecture11_numpy_forward_on_tensors_gives_the_hand_written_gradients():
    """The notes' NumPy forward on Tensor parameters: loss and every dW, dB equal the notes'
    hand-written backward to 1e-12."""
    X = RNG.uniform(0, 1, (7, 6))
    labels = RNG.integers(0, 3, 7)
    shapes = [(6, 5), (5,), (5, 4), (4,), (4, 3), (3,)]
    params = [RNG.normal(0, 1, s) for s in shapes]
    expected_loss, expected_grads = lecture11_backward(X, labels, *params)
    leaves = [leaf(p) for p in params]
    J = lecture11_forward_as_written(X, labels, *leaves)
    assert isinstance(J, Tensor) and J.requires_grad
    J.backward()
    assert abs(J.item() - expected_loss) <= 1e-12 * abs(expected_loss)
    for name, p, expected in zip(["W1", "B1", "W2", "B2", "W3", "B3"], leaves, expected_grads):
        np.testing.assert_allclose(p.grad.data, expected, rtol=1e-12, atol=1e-12, err_msg=name)


def test_lab07_numpy_layers_on_tensors_gradcheck():
    """Lab 07's layers as the notes write them: np.maximum, np.matmul, a reshaped softmax and
    -np.sum(target * np.log(prediction + 1e-5)) / N."""
    def network(x, w, b):
        s = np.matmul(x, w) + b
        h = np.maximum(s, 0)
        p = np.exp(h) / (np.sum(np.exp(h), axis=1)).reshape(h.shape[0], 1)
        target = np.eye(3)[[0, 2]]
        return -np.sum(target * np.log(p + 0.00001)) / 2
    inputs = [RNG.normal(size=(2, 4)), RNG.normal(size=(4, 3)), RNG.normal(size=3)]
    assert ag.gradcheck(network, inputs)


# --- ufuncs and functions: Tensors out, gradients through --------------------------------------
POSITIVE = RNG.uniform(0.5, 2.0, (2, 3))
UNIT = RNG.uniform(-0.8, 0.8, (2, 3))
CALLS = [
    ("exp", lambda x: np.exp(x), UNIT), ("log", lambda x: np.log(x), POSITIVE),
    ("sqrt", np.sqrt, POSITIVE), ("tanh", np.tanh, UNIT), ("sin", np.sin, UNIT),
    ("arccos", np.arccos, UNIT), ("log1p", np.log1p, POSITIVE), ("square", np.square, UNIT),
    ("absolute", np.abs, UNIT + 1), ("negative", np.negative, UNIT),
    ("power", lambda x: np.power(x, 3), UNIT), ("divide", lambda x: np.divide(1.0, x), POSITIVE),
    ("maximum", lambda x: np.maximum(x, 0.1), UNIT), ("minimum", lambda x: np.minimum(0.1, x),
                                                      UNIT),
    ("logaddexp", lambda x: np.logaddexp(x, 2 * x), UNIT), ("hypot", lambda x: np.hypot(x, 1.0),
                                                           UNIT),
    ("ndarray*tensor", lambda x: POSITIVE * x, UNIT), ("ndarray@tensor", lambda x: UNIT.T @ x,
                                                      UNIT),
    ("matmul", lambda x: np.matmul(x, UNIT.T), UNIT),
    ("sum", lambda x: np.sum(x, axis=1), UNIT), ("mean", lambda x: np.mean(x), UNIT),
    ("amax", lambda x: np.max(x, axis=0), UNIT), ("prod", lambda x: np.prod(x, 1), UNIT),
    ("var", lambda x: np.var(x, ddof=1), UNIT), ("std", lambda x: np.std(x, axis=0), UNIT),
    ("where", lambda x: np.where(UNIT > 0, x, -x), UNIT),
    ("clip", lambda x: np.clip(x, -0.5, 0.5), UNIT), ("transpose", np.transpose, UNIT),
    ("reshape", lambda x: np.reshape(x, (3, 2)), UNIT), ("norm", np.linalg.norm, UNIT),
    ("cumsum", lambda x: np.cumsum(x, axis=1), UNIT), ("add.reduce", np.add.reduce, UNIT),
    ("maximum.reduce", lambda x: np.maximum.reduce(x, axis=1), UNIT),
    ("multiply.accumulate", np.multiply.accumulate, UNIT),
    ("broadcast_to", lambda x: np.broadcast_to(x, (4, 2, 3)), UNIT),
]


@pytest.mark.parametrize(("name", "call", "x"), CALLS, ids=[c[0] for c in CALLS])
def test_numpy_calls_on_tensors_record_the_graph(name, call, x):
    out = call(leaf(x))
    assert isinstance(out, Tensor) and out.requires_grad, name
    np.testing.assert_allclose(out.data, call(x), rtol=1e-12)
    assert ag.gradcheck(call, [x])


def test_ndarray_times_tensor_promotes_as_numpy():
    """float64 array or scalar times a float32 tensor: float64, as NumPy; a Python float keeps
    float32."""
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    assert (np.ones(2) * x).dtype == np.float64
    assert (np.float64(2.0) * x).dtype == np.float64
    assert (2.0 * x).dtype == np.float32
    assert (np.ones(2, dtype=np.float32) - x).dtype == np.float32


def test_comparisons_and_tests_give_boolean_tensors():
    x = leaf([-1.0, 0.0, np.nan])
    for result in (np.greater(x, 0), np.equal(x, 0), np.isnan(x), np.ones(3) > x):
        assert isinstance(result, Tensor) and result.dtype == bool and not result.requires_grad
    np.testing.assert_array_equal(np.isfinite(x).data, [True, True, False])


def test_explicit_conversion_still_gives_the_array():
    x = leaf([1.0, 2.0])
    assert type(np.asarray(x)) is np.ndarray and np.asarray(x) is x.data
    copy = np.array(x)
    assert type(copy) is np.ndarray and copy is not x.data
    assert np.shape(x) == (2,) and np.ndim(x) == 1 and np.allclose(x, [1.0, 2.0])


# --- refusals: one clear TypeError each --------------------------------------------------------
REFUSED = [
    (lambda x: np.exp(x, out=np.empty(3)), "np.exp: out= cannot be used with Tensors"),
    (lambda x: np.sum(x, out=np.empty(())), "np.sum: out= cannot be used with Tensors"),
    (lambda x: np.add(np.ones(3), x, out=np.empty(3)), "np.add: out="),
    (lambda x: np.sort(x), "np.sort is not differentiable here: autograd has no sort"),
    (lambda x: np.cbrt(x), "np.cbrt is not differentiable here"),
    (lambda x: np.sum(x, dtype=np.float32), r"np.sum on Tensors: .*dtype.*autograd.sum takes "
     r"\(x, axis=None, keepdims=False\)"),
    (lambda x: np.exp(x, where=np.ones(3, dtype=bool)), "np.exp: the argument.* where"),
    (lambda x: np.add.outer(x, x), "np.add.outer is not supported on Tensors"),
    (lambda x: np.add.reduce(x, dtype=np.float32), "np.add.reduce: the argument.* dtype"),
]


@pytest.mark.parametrize(("call", "message"), REFUSED, ids=[r[1][:30] for r in REFUSED])
def test_numpy_calls_the_engine_cannot_honour_are_refused(call, message):
    with pytest.raises(TypeError, match=message) as info:
        call(leaf([1.0, 2.0, 3.0]))
    assert "\n" not in str(info.value)


def test_in_place_numpy_update_of_an_array_by_a_tensor_is_refused():
    a = np.zeros(3)
    with pytest.raises(TypeError, match="out= cannot be used with Tensors"):
        a += leaf([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(a, 0.0)


def test_a_new_engine_function_with_a_numpy_name_is_picked_up(monkeypatch):
    """Dispatch is by name: an op added to the autograd namespace under NumPy's name (as
    `concatenate` or `einsum` will be) answers np.<name> with no other change."""
    def sort(x, axis=-1):
        return x * 1.0  # stands in for a differentiable sort
    sort.__module__ = "autograd.ops"
    monkeypatch.setattr(ag, "sort", sort, raising=False)
    out = np.sort(leaf([3.0, 1.0]))
    assert isinstance(out, Tensor) and out.requires_grad


def test_tools_of_the_package_are_not_mistaken_for_numpy_functions():
    from autograd import numpy_dispatch
    assert numpy_dispatch.engine_function("gradient") is None
    assert numpy_dispatch.engine_function("grad") is None  # autograd.grad is a tool
    assert numpy_dispatch.engine_function("sum") is ag.sum


# --- the public Primitive ----------------------------------------------------------------------
def test_a_user_primitive_records_checks_and_differentiates_twice():
    """The README's ten lines: softplus as a Primitive, gradchecked, to second order."""
    from autograd import Primitive
    from autograd import primitives as P
    softplus = Primitive("softplus", lambda x: np.logaddexp(0, x), "d softplus(x) = σ(x) dx",
                         lambda g, out, x: g * P.sigmoid(x))
    x = leaf([-2.0, 0.0, 3.0])
    y = softplus(x)
    assert y.op is softplus and "softplus" in ag.to_dot(y)
    assert ag.gradcheck(softplus, [x])
    (first,) = ag.grad(y.sum(), x, create_graph=True)
    (second,) = ag.grad(first.sum(), x)
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(first.data, s, rtol=1e-15)
    np.testing.assert_allclose(second.data, s * (1 - s), rtol=1e-15)


def test_a_primitive_called_with_the_wrong_number_of_inputs_says_so():
    from autograd import Primitive
    double = Primitive("double", lambda x: 2 * x, "d(2x) = 2 dx", lambda g, out, x: 2 * g)
    with pytest.raises(TypeError, match="double: called with 2 inputs, but it has 1 VJPs"):
        double(leaf([1.0]), leaf([2.0]))
