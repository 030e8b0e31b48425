"""Semantics of the engine: accumulation, retain_graph, errors, grad modes, graph freeing,
dtypes, autograd.grad, higher-order derivatives and the Tensor's basic behaviour."""

import gc
import importlib
import weakref

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd import primitives as P


def leaf(data, dtype=np.float64):
    return Tensor(np.asarray(data, dtype=dtype), requires_grad=True)


# --- accumulation -------------------------------------------------------------------------------
def test_fan_out_adds_the_contributions_of_each_use():
    """x used twice: d(x·x + 3x)/dx = 2x + 3."""
    x = leaf([1.5, -2.0])
    (x * x + 3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3)


def test_same_tensor_in_both_operands_of_add():
    """y = x + x: both edges reach x, the gradient is 2."""
    x = leaf(4.0)
    (x + x).backward()
    assert x.grad.item() == 2.0


def test_gradients_accumulate_across_backward_calls():
    """Two backward passes on two graphs add into the leaf's .grad until it is zeroed."""
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3)
    x.zero_grad()
    assert x.grad is None
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 5.0])


def test_grad_owns_its_memory_when_two_leaves_get_the_same_array():
    """x + y passes g to both; changing x.grad must not change y.grad."""
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + y).sum().backward()
    x.grad.data[0] = 100.0
    np.testing.assert_array_equal(y.grad.data, [1.0, 1.0])


# --- retain_graph -------------------------------------------------------------------------------
def test_retain_graph_allows_a_second_backward_that_accumulates():
    """x³ at x = 3: 3x² = 27, then 54 after a second pass (micrograd's stale grads give 45)."""
    x = leaf(3.0)
    y = x**3
    y.backward(retain_graph=True)
    assert x.grad.item() == 3 * 3.0**2
    y.backward()
    assert x.grad.item() == 2 * 3 * 3.0**2


def test_retain_graph_with_interior_nodes():
    """x·x·x: interior nodes keep no stale gradient between passes (27, then 54)."""
    x = leaf(3.0)
    y = x * x * x
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    assert x.grad.item() == 54.0


def test_second_backward_without_retain_graph_raises():
    """The graph is freed by the first pass; the error says what to do."""
    x = leaf(3.0)
    y = (x**3).exp()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


# --- errors -------------------------------------------------------------------------------------
def test_non_scalar_backward_without_gradient_explains_vjp():
    """backward() on a (2, 3) output asks for v of shape (2, 3) in vᵀJ."""
    y = leaf(np.ones((2, 3))) * 2
    with pytest.raises(RuntimeError, match=r"vᵀJ") as info:
        y.backward()
    assert "(2, 3)" in str(info.value)


def test_backward_with_wrong_gradient_shape_names_both_shapes():
    y = leaf(np.ones((2, 3))) * 2
    with pytest.raises(ValueError, match="gradient") as info:
        y.backward(gradient=np.ones(3))
    assert "(3,)" in str(info.value) and "(2, 3)" in str(info.value)


def test_backward_on_tensor_not_requiring_grad_is_an_error():
    y = Tensor([1.0, 2.0]).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_backward_on_a_leaf_gives_one():
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0


def test_backward_of_one_element_non_scalar_seeds_one():
    """A (1, 1) output is a scalar in disguise: backward() seeds 1."""
    x = leaf([[2.0]])
    (x * 3).backward()
    assert x.grad.shape == (1, 1) and x.grad.item() == 3.0


# --- grad modes ---------------------------------------------------------------------------------
def test_no_grad_context_records_nothing():
    x = leaf([1.0, 2.0])
    with ag.no_grad():
        y = (x * 2).exp().sum()
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError):
        y.backward()


def test_no_grad_as_decorator_records_nothing():
    @ag.no_grad()
    def evaluate(x):
        return (x * x).sum()

    x = leaf([1.0, 2.0])
    y = evaluate(x)
    assert not y.requires_grad and y.op is None
    assert ag.is_grad_enabled()
    assert (x * x).sum().requires_grad


def test_no_grad_decorator_on_a_recursive_function_restores_grad_mode(monkeypatch):
    """Re-entering the same decorated function must not leave recording switched off."""
    tensor_module = importlib.import_module("autograd.tensor")  # autograd.tensor is a function
    monkeypatch.setattr(tensor_module._grad, "enabled", True)  # restored after the test

    @ag.no_grad()
    def depth(n):
        assert not ag.is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(2) == 2
    assert ag.is_grad_enabled()
    assert (leaf(1.0) * 2).requires_grad


def test_enable_grad_inside_no_grad_records_again():
    x = leaf(2.0)
    with ag.no_grad(), ag.enable_grad():
        y = x * x
    assert y.requires_grad
    y.backward()
    assert x.grad.item() == 4.0


def test_detach_stops_the_gradient_and_shares_values():
    """d(detach(x)·x)/dx = x: only the attached factor is differentiated."""
    x = leaf([1.0, -2.0])
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    np.testing.assert_array_equal(d.data, x.data)
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, x.data)


# --- interior gradients -------------------------------------------------------------------------
def test_interior_gradients_are_not_stored_unless_retained():
    x = leaf([1.0, 2.0])
    hidden = x * 3
    kept = (hidden + 1).retain_grad()
    (kept * kept).sum().backward()
    assert hidden.grad is None
    np.testing.assert_allclose(kept.grad.data, 2 * (3 * x.data + 1))
    np.testing.assert_allclose(x.grad.data, 3 * 2 * (3 * x.data + 1))


# --- deep graphs and memory ---------------------------------------------------------------------
def test_a_100000_op_chain_backpropagates_without_recursion_error():
    """y = x · 1.0000001 repeated 100,000 times: dy/dx = 1.0000001^100000."""
    factor, depth = 1.0000001, 100_000
    x = leaf(2.0)
    y = x
    for _ in range(depth):
        y = y * factor
    y.backward()
    np.testing.assert_allclose(x.grad.item(), factor**depth, rtol=1e-9)
    np.testing.assert_allclose(y.item(), 2.0 * factor**depth, rtol=1e-9)


def test_a_100000_op_chain_is_freed_without_backward():
    """Dropping the root of a deep retained graph frees it (no recursion crash, no leak)."""
    x = leaf(1.0)
    y = x
    for step in range(100_000):
        y = y + 0.0
        if step == 50_000:
            middle = weakref.ref(y)
    assert middle() is not None
    del y
    assert middle() is None


def build_graph():
    """A small graph with fan-out; returns the leaf, an interior node and the output."""
    x = leaf([0.5, -1.0, 2.0])
    interior = (x * x).tanh()
    out = (interior + x.exp()).sum() * interior.sum()
    return x, interior, out


@pytest.mark.parametrize("backward", ["free", "retain_graph", "no_backward"])
def test_graphs_have_no_reference_cycles(backward):
    """With the cycle collector off, dropping the output frees every node at once."""
    gc.collect()
    gc.disable()
    try:
        x, interior, out = build_graph()
        if backward == "free":
            out.backward()
        elif backward == "retain_graph":
            out.backward(retain_graph=True)
        refs = [weakref.ref(interior), weakref.ref(out)]
        del interior, out
        assert [r() for r in refs] == [None, None]
        assert backward == "no_backward" or x.grad is not None
    finally:
        gc.enable()


# --- dtypes -------------------------------------------------------------------------------------
F32 = np.float32
FLOAT32_CASES = [
    pytest.param(lambda x: x * 2.5, id="mul-python-float"),
    pytest.param(lambda x: 1.5 + x / 3.0 - 0.25, id="add-div-sub-python-floats"),
    pytest.param(lambda x: x**2, id="pow-int"),
    pytest.param(lambda x: 2.0**x, id="rpow"),
    pytest.param(lambda x: x.exp().log(), id="exp-log"),
    pytest.param(lambda x: (x * x + 1).sqrt(), id="sqrt"),
    pytest.param(lambda x: x.tanh() + x.sigmoid(), id="tanh-sigmoid"),
    pytest.param(lambda x: x.relu() + abs(x), id="relu-abs"),
    pytest.param(lambda x: ag.maximum(x, 0.0) + ag.minimum(x, 0.5), id="maximum-minimum"),
    pytest.param(lambda x: ag.where(x > 0, x, 0.0).clip(-1.0, 1.0), id="where-clip"),
    pytest.param(lambda x: x.mean(0) + x.var(1).sum(), id="mean-var"),
    pytest.param(lambda x: x.max(1) + x.min(0).sum(), id="max-min"),
    pytest.param(lambda x: x.softmax() + x.log_softmax(0), id="softmax-log_softmax"),
    pytest.param(lambda x: x.logsumexp(1), id="logsumexp"),
    pytest.param(lambda x: x[[0, 0, 1], 1:], id="getitem"),
    pytest.param(lambda x: x.T.reshape(-1).broadcast_to((2, 6)), id="shape-ops"),
    pytest.param(lambda x: x @ np.ones((3, 2), F32), id="matmul-float32"),
    pytest.param(lambda x: ag.linear(x, Tensor(np.ones((3, 2), F32)), Tensor(np.ones(2, F32))),
                 id="linear-float32"),
    pytest.param(lambda x: ag.softmax_cross_entropy(x, np.array([0, 2])), id="cross_entropy"),
]


@pytest.mark.parametrize("op", FLOAT32_CASES)
def test_float32_in_float32_out_and_float32_gradients(op):
    """float32 stays float32 through the forward and the backward (Python floats are weak)."""
    x = leaf([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=F32)
    out = op(x)
    assert out.dtype == F32
    out.sum().backward()
    assert x.grad.dtype == F32
    assert x.grad.shape == x.shape


def test_float32_matmul_gradients_for_both_operands():
    a, b = leaf(np.ones((2, 3)), F32), leaf(np.ones((3, 4)), F32)
    (a @ b).sum().backward()
    assert (a @ b).dtype == F32 and a.grad.dtype == F32 and b.grad.dtype == F32
    np.testing.assert_array_equal(a.grad.data, np.full((2, 3), 4.0, F32))


def test_float32_tensor_with_float64_tensor_gets_float64_result_and_own_dtype_grads():
    """Mixing promotes the output as NumPy does; each gradient comes back in its leaf's dtype."""
    a, b = leaf([1.0, 2.0], F32), leaf([3.0, 4.0], np.float64)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == F32 and b.grad.dtype == np.float64


@pytest.mark.parametrize("data", [
    pytest.param([1, 2, 3], id="int-list"),
    pytest.param(np.arange(3), id="int-array"),
    pytest.param([True, False], id="bool"),
    pytest.param(np.arange(3, dtype=np.uint8), id="uint8"),
])
def test_integer_and_bool_tensors_cannot_require_grad(data):
    with pytest.raises(TypeError, match="floating"):
        Tensor(data, requires_grad=True)
    with pytest.raises(TypeError):
        Tensor(data).requires_grad_()


def test_ragged_lists_give_a_clear_error():
    with pytest.raises(ValueError, match="ragged"):
        Tensor([[1.0, 2.0], [3.0]])


@pytest.mark.parametrize("data", ["abc", ["a", "b"], [object()]], ids=["str", "str-list", "obj"])
def test_non_numeric_data_gives_a_clear_error(data):
    with pytest.raises(TypeError, match="numeric"):
        Tensor(data)


# --- shape errors name the op and both shapes ----------------------------------------------------
SHAPE_ERRORS = [
    pytest.param(lambda: leaf(np.ones((2, 3))) @ leaf(np.ones((4, 5))), "matmul", "(2, 3)",
                 "(4, 5)", id="matmul-2d"),
    pytest.param(lambda: leaf(np.ones(3)) @ leaf(np.ones(4)), "matmul", "(3,)", "(4,)",
                 id="matmul-1d"),
    pytest.param(lambda: leaf(np.ones((2, 3))) + leaf(np.ones((4, 5))), "add", "(2, 3)",
                 "(4, 5)", id="add-broadcast"),
    pytest.param(lambda: leaf(np.ones(3)) * leaf(np.ones(4)), "mul", "(3,)", "(4,)",
                 id="mul-broadcast"),
    pytest.param(lambda: leaf(np.ones(3)) - np.ones((2, 2)), "sub", "(3,)", "(2, 2)",
                 id="sub-with-array"),
    pytest.param(lambda: leaf(np.ones(6)).reshape(4, 2), "reshape", "(6,)", "(4, 2)",
                 id="reshape"),
]


@pytest.mark.parametrize(("make", "op_name", "shape_a", "shape_b"), SHAPE_ERRORS)
def test_shape_mismatch_errors_name_the_op_and_both_shapes(make, op_name, shape_a, shape_b):
    with pytest.raises(ValueError) as info:
        make()
    message = str(info.value)
    assert op_name in message and shape_a in message and shape_b in message


def test_matmul_batch_mismatch_does_not_blame_equal_inner_dimensions():
    """(2,3,4) @ (5,4,6): the inner dimensions (4 and 4) agree; the batch dims 2 and 5 do not."""
    with pytest.raises(ValueError) as info:
        leaf(np.ones((2, 3, 4))) @ leaf(np.ones((5, 4, 6)))
    message = str(info.value)
    assert "(2, 3, 4)" in message and "(5, 4, 6)" in message
    assert "4 != 4" not in message


# --- which VJPs run -----------------------------------------------------------------------------
def must_not_run(*args, **kwargs):
    raise AssertionError("this VJP must not be called: its input needs no gradient")


@pytest.mark.parametrize("constant", [
    pytest.param(lambda: Tensor([2.0, 3.0]), id="tensor-without-grad"),
    pytest.param(lambda: np.array([2.0, 3.0]), id="ndarray"),
    pytest.param(lambda: 2.0, id="python-float"),
])
def test_vjps_run_only_for_inputs_that_need_a_gradient(monkeypatch, constant):
    """x * c: the VJP for c is never called (monkeypatched to raise; restored afterwards)."""
    vjp_x, vjp_y = P.mul.vjps
    monkeypatch.setattr(P.mul, "vjps", (vjp_x, must_not_run))
    x = leaf([1.0, -1.0])
    (x * constant()).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.broadcast_to(constant(), (2,)))
    monkeypatch.setattr(P.mul, "vjps", (must_not_run, vjp_y))
    y = leaf([1.0, -1.0])
    (constant() * y).sum().backward()
    np.testing.assert_array_equal(y.grad.data, np.broadcast_to(constant(), (2,)))


def test_fast_path_runs_vjps_on_plain_arrays(monkeypatch):
    """Without create_graph the VJPs see ndarrays; with it, Tensors (so the pass is recorded)."""
    seen = []
    original = P.exp.vjps[0]

    def recording(g, out, x):
        seen.append((type(g), type(out), type(x)))
        return original(g, out, x)

    monkeypatch.setattr(P.exp, "vjps", (recording,))
    x = leaf([0.5, 1.0])
    x.exp().sum().backward()
    assert seen == [(np.ndarray, np.ndarray, np.ndarray)]
    seen.clear()
    ag.grad(x.exp().sum(), x, create_graph=True)
    assert seen == [(Tensor, Tensor, Tensor)]


# --- autograd.grad ------------------------------------------------------------------------------
def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = leaf([1.0, 2.0]), leaf(3.0)
    gx, gy = ag.grad((x * y).sum(), [x, y])
    np.testing.assert_allclose(gx.data, [3.0, 3.0])
    np.testing.assert_allclose(gy.data, 3.0)
    assert x.grad is None and y.grad is None


def test_grad_single_input_returns_a_one_tuple():
    x = leaf(2.0)
    result = ag.grad(x * x, x)
    assert isinstance(result, tuple) and len(result) == 1
    assert result[0].item() == 4.0


def test_grad_of_unused_input_raises_unless_allowed():
    x, unused = leaf(2.0), leaf(5.0)
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad(x * x, [x, unused])
    gx, gu = ag.grad(x * x, [x, unused], allow_unused=True)
    assert gx.item() == 4.0 and gu is None


def test_grad_with_respect_to_an_interior_node():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = ag.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.data, 2 * h.data)


def test_grad_outputs_is_v_in_vjp():
    """grad_outputs=v for a non-scalar output gives vᵀJ; J of x² is diag(2x)."""
    x = leaf([1.0, 2.0, 3.0])
    v = np.array([1.0, -1.0, 0.5])
    (g,) = ag.grad(x * x, x, grad_outputs=v)
    np.testing.assert_allclose(g.data, v * 2 * x.data)
    with pytest.raises(RuntimeError, match="vᵀJ"):
        ag.grad(x * x, x)


def test_grad_with_several_outputs_and_grad_outputs():
    """Σᵢ vᵢᵀ Jᵢ over several outputs."""
    x = leaf([1.0, 2.0])
    v1, v2 = np.array([1.0, 0.0]), np.array([0.0, 2.0])
    (g,) = ag.grad([x * 2, x * x], x, grad_outputs=[v1, v2])
    np.testing.assert_allclose(g.data, v1 * 2 + v2 * 2 * x.data)


def test_grad_outputs_of_the_wrong_length_is_an_error():
    """Two outputs but one grad_output: silently dropping an output would be a wrong answer."""
    x = leaf([1.0, 2.0])
    with pytest.raises((ValueError, RuntimeError)):
        ag.grad([x * 2, x * x], x, grad_outputs=[np.ones(2)])


def test_grad_frees_the_graph_unless_retained():
    x = leaf(2.0)
    y = x.exp() * x
    ag.grad(y, x, retain_graph=True)
    ag.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        ag.grad(y, x)


def test_grad_requires_inputs_that_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.grad(leaf(1.0) * 2, Tensor(1.0))


# --- higher order -------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [-1.5, 0.0, 2.0])
def test_second_and_third_derivatives_of_x_cubed(value):
    """d/dx x³ = 3x², d² = 6x, d³ = 6, each differentiable in turn with create_graph."""
    x = leaf(value)
    (first,) = ag.grad(x**3, x, create_graph=True)
    (second,) = ag.grad(first, x, create_graph=True)
    (third,) = ag.grad(second, x)
    assert first.item() == pytest.approx(3 * value**2)
    assert second.item() == pytest.approx(6 * value)
    assert third.item() == pytest.approx(6.0)


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = leaf(1.5)
    (x**3).backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    x.zero_grad()
    first.backward()
    assert x.grad.item() == pytest.approx(6 * 1.5)


def test_hessian_of_a_small_function():
    """f(x) = Σx³ + x₀x₁ + eˣ²: H = diag(6x) + [[0,1,0],[1,0,0],[0,0,0]] + e^{x₂} at [2,2]."""
    def f(x):
        return (x**3).sum() + x[0] * x[1] + x[2].exp()

    x = np.array([0.5, -1.0, 0.3])
    expected = np.diag(6 * x) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]]) \
        + np.diag([0, 0, np.exp(x[2])])
    np.testing.assert_allclose(ag.hessian(f, x).data, expected, rtol=1e-12)


# --- Tensor basics ------------------------------------------------------------------------------
@pytest.mark.parametrize(("tensor", "expected"), [
    pytest.param(Tensor(27.0), "Tensor(27.)", id="scalar"),
    pytest.param(Tensor([1.0, 2.0]), "Tensor([1., 2.])", id="vector"),
    pytest.param(Tensor([1.0, 2.0], requires_grad=True), "Tensor([1., 2.], requires_grad=True)",
                 id="requires-grad"),
    pytest.param(Tensor([1.0], dtype=np.float32), "Tensor([1.], dtype=float32)", id="float32"),
    pytest.param(Tensor([1, 2]), "Tensor([1, 2])", id="int64"),
])
def test_repr_is_readable(tensor, expected):
    assert repr(tensor) == expected


def test_repr_names_the_op_of_a_graph_node():
    assert "op=mul" in repr(leaf([1.0]) * 2)


def test_item_numpy_shape_ndim_dtype_size():
    t = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.dtype == np.float64 and t.size == 6
    assert isinstance(t.numpy(), np.ndarray) and t.numpy() is t.data
    assert Tensor([[7.5]]).item() == 7.5 and isinstance(Tensor(7.5).item(), float)
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    assert float(Tensor(2.5)) == 2.5 and int(Tensor(3.0)) == 3


def test_tensor_copies_its_data():
    data = np.array([1.0, 2.0])
    t = Tensor(data)
    data[0] = 100.0
    assert t.data[0] == 1.0


def test_numpy_asarray_of_a_tensor():
    t = Tensor([[1.0, 2.0]])
    np.testing.assert_array_equal(np.asarray(t), [[1.0, 2.0]])
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


REFLECTED = [
    pytest.param(lambda t: 2.0 + t, lambda a: 2.0 + a, [1.0, 1.0], id="number+t"),
    pytest.param(lambda t: 2.0 - t, lambda a: 2.0 - a, [-1.0, -1.0], id="number-t"),
    pytest.param(lambda t: 2.0 * t, lambda a: 2.0 * a, [2.0, 2.0], id="number*t"),
    pytest.param(lambda t: 2.0 / t, lambda a: 2.0 / a, [-2.0, -0.5], id="number/t"),
    pytest.param(lambda t: 2.0**t, lambda a: 2.0**a, [2 * np.log(2), 4 * np.log(2)],
                 id="number**t"),
    pytest.param(lambda t: np.full(2, 3.0) * t, lambda a: 3.0 * a, [3.0, 3.0], id="ndarray*t"),
    pytest.param(lambda t: np.ones(2) + t, lambda a: 1.0 + a, [1.0, 1.0], id="ndarray+t"),
    pytest.param(lambda t: np.ones(2) - t, lambda a: 1.0 - a, [-1.0, -1.0], id="ndarray-t"),
    pytest.param(lambda t: np.ones(2) / t, lambda a: 1.0 / a, [-1.0, -0.25], id="ndarray/t"),
    pytest.param(lambda t: np.array([1.0, 2.0]) @ t, lambda a: np.array([1.0, 2.0]) @ a,
                 [1.0, 2.0], id="ndarray@t"),
]


@pytest.mark.parametrize(("op", "reference", "expected_grad"), REFLECTED)
def test_reflected_ops_return_tensors_with_gradients(op, reference, expected_grad):
    """Python numbers and ndarrays on the left defer to the Tensor: a Tensor with a graph."""
    t = leaf([1.0, 2.0])
    out = op(t)
    assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, reference(t.data))
    out.sum().backward()
    np.testing.assert_allclose(t.grad.data, expected_grad)


@pytest.mark.parametrize(("op", "expected"), [
    pytest.param(lambda t: t < 2.0, [True, False, False], id="lt"),
    pytest.param(lambda t: t <= 2.0, [True, True, False], id="le"),
    pytest.param(lambda t: t > 2.0, [False, False, True], id="gt"),
    pytest.param(lambda t: t >= 2.0, [False, True, True], id="ge"),
    pytest.param(lambda t: t == Tensor([1.0, 0.0, 3.0]), [True, False, True], id="eq-tensor"),
    pytest.param(lambda t: t != 2.0, [True, False, True], id="ne"),
])
def test_comparisons_give_bool_tensors_without_grad(op, expected):
    result = op(leaf([1.0, 2.0, 3.0]))
    assert isinstance(result, Tensor)
    assert result.dtype == np.bool_ and not result.requires_grad
    np.testing.assert_array_equal(result.data, expected)


def test_len_and_iteration_yield_differentiable_rows():
    t = leaf([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, Tensor) and r.shape == (2,) for r in rows)
    np.testing.assert_array_equal(rows[2].data, [5.0, 6.0])
    (rows[0] * 1 + rows[2] * 2).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])
    with pytest.raises(TypeError):
        len(Tensor(1.0))
