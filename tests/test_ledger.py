"""The backward ledger and local Jacobians: every primitive's VJP is gᵀJ for a J that also matches
finite differences of its forward (a second check of the derivative table)."""

import numpy as np
import pytest
from test_ops_shape_linalg import LEDGER_RECIPES as SHAPE_LINALG_RECIPES

import autograd
from autograd import Tensor
from autograd import primitives as P
from autograd.engine import sum_to
from autograd.ledger import Ledger, broadcast_note, local_jacobian, record, summarize
from autograd.tensor import Primitive, is_freed

rng = np.random.default_rng(0)
normal = lambda *shape: rng.standard_normal(shape)
positive = lambda *shape: rng.uniform(0.5, 2.0, shape)
away_from_0 = lambda *shape: rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)

distinct = lambda *shape: rng.permutation(int(np.prod(shape))).reshape(shape) * 0.5  # no ties
X_SHAPE = (1, 4, 3, 2)  # conv2d's input: padded to 4×5, a 2×2 kernel at stride 2, dilation 1×2
CONV = {"stride": (2, 2), "padding": ((0, 0), (1, 1)), "dilation": (1, 2)}
POOL = {"kernel_size": (3, 2), "stride": (1, 2), "padding": ((1, 1), (0, 0))}
SOURCE = distinct(1, 4, 4, 2)  # max pooling's input and output: where its gradient is routed
MAXIMA = {"source": SOURCE, "maxima": P.max_pool2d(SOURCE, **POOL)}

# (primitive name, inputs, params): small random inputs, away from kinks and ties.
RECIPES = [
    ("add", (normal(3, 4), normal(4)), {}),
    ("sub", (normal(3, 1), normal(2, 1, 4)), {}),
    ("mul", (normal(3, 4), normal(3, 1)), {}),
    ("div", (normal(2, 3), away_from_0(3)), {}),
    ("neg", (normal(2, 3),), {}),
    ("pow", (positive(2, 3), rng.uniform(0.5, 2.0, 3)), {}),
    ("exp", (normal(2, 3),), {}),
    ("log", (positive(2, 3),), {}),
    ("sqrt", (positive(2, 3),), {}),
    ("tanh", (normal(2, 3),), {}),
    ("abs", (away_from_0(2, 3),), {}),
    ("sigmoid", (normal(2, 3),), {}),
    ("relu", (away_from_0(2, 3),), {}),
    ("where", (normal(2, 3) > 0, normal(2, 3), normal(3)), {}),
    ("cast", (normal(2, 3),), {"dtype": np.dtype(np.float64)}),
    ("matmul", (normal(2, 3), normal(3, 4)), {}),
    ("matmul", (normal(3), normal(3, 2)), {}),
    ("matmul", (normal(2, 2, 3), normal(3, 2)), {}),  # batched: y's gradient is summed
    ("linear", (normal(2, 3), normal(3, 4), normal(4)), {}),
    ("sum", (normal(2, 3),), {"axis": 1, "keepdims": False}),
    ("sum", (normal(2, 3),), {"axis": None, "keepdims": False}),
    ("max", (normal(2, 3),), {"axis": 0, "keepdims": True}),
    ("min", (normal(2, 3),), {"axis": 1, "keepdims": False}),
    ("reshape", (normal(2, 3),), {"shape": (3, 2)}),
    ("transpose", (normal(2, 3, 4),), {"axes": (1, 2, 0)}),
    ("broadcast_to", (normal(3, 1),), {"shape": (2, 3, 4)}),
    ("getitem", (normal(4, 3),), {"index": (np.array([0, 2, 0]),)}),  # repeated rows add up
    ("getitem", (normal(4, 3),), {"index": (slice(1, 3), 0)}),
    ("scatter", (normal(3, 3),), {"index": (np.array([0, 2, 0]),), "shape": (4, 3)}),
    ("softmax", (normal(2, 3),), {"axis": -1}),
    ("log_softmax", (normal(2, 3),), {"axis": 0}),
    ("softmax_cross_entropy", (normal(3, 4), np.array([0, 3, 1])), {}),
    ("clone", (normal(2, 3),), {}),
    ("sin", (normal(2, 3),), {}),
    ("cos", (normal(2, 3),), {}),
    ("tan", (rng.uniform(-1.2, 1.2, (2, 3)),), {}),
    ("arcsin", (rng.uniform(-0.8, 0.8, (2, 3)),), {}),
    ("arccos", (rng.uniform(-0.8, 0.8, (2, 3)),), {}),
    ("arctan", (normal(2, 3),), {}),
    ("sinh", (normal(2, 3),), {}),
    ("cosh", (normal(2, 3),), {}),
    ("arcsinh", (normal(2, 3),), {}),
    ("arccosh", (rng.uniform(1.2, 3.0, (2, 3)),), {}),
    ("arctanh", (rng.uniform(-0.8, 0.8, (2, 3)),), {}),
    ("log1p", (positive(2, 3),), {}),
    ("expm1", (normal(2, 3),), {}),
    ("log2", (positive(2, 3),), {}),
    ("log10", (positive(2, 3),), {}),
    ("exp2", (normal(2, 3),), {}),
    ("erf", (normal(2, 3),), {}),
    ("erfc", (normal(2, 3),), {}),
    ("sign", (away_from_0(2, 3),), {}),
    ("floor", (normal(2, 3) + 0.5,), {}),  # away from the jumps (almost surely)
    ("ceil", (normal(2, 3),), {}),
    ("trunc", (normal(2, 3),), {}),
    ("round", (normal(2, 3),), {"decimals": 0}),
    ("floor_divide", (normal(2, 3) * 3, away_from_0(3)), {}),
    ("mod", (normal(2, 3) * 3, away_from_0(3)), {}),
    ("fmod", (normal(2, 3) * 3, away_from_0(1, 3)), {}),
    ("logaddexp", (normal(2, 3), normal(3)), {}),
    ("logaddexp2", (normal(2, 1), normal(3)), {}),
    ("arctan2", (normal(2, 3), normal(2, 3)), {}),
    ("hypot", (normal(2, 3), normal(1, 3)), {}),
    ("softplus", (normal(2, 3),), {}),
    ("elu", (away_from_0(2, 3),), {"alpha": 1.5}),
    ("prod", (normal(2, 3),), {"axis": 1, "keepdims": False}),
    ("prod", (np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 3.0]]),), {"axis": 1, "keepdims": True}),
    ("prod", (normal(2, 3, 2),), {"axis": (0, 2), "keepdims": False}),
    ("prod", (normal(2, 3),), {"axis": None, "keepdims": False}),
    ("norm", (normal(2, 3),), {"axis": 1, "keepdims": False}),
    ("norm", (normal(2, 3),), {"axis": None, "keepdims": True}),
    ("cumsum", (normal(2, 3),), {"axis": 1}),
    ("cumsum", (normal(3, 2),), {"axis": 0}),
    ("bce_with_logits", (normal(3, 4), (normal(3, 4) > 0).astype(float)), {}),
    # convolution and pooling: the same (small) geometry for the primitive and its adjoints
    ("conv2d", (normal(1, 4, 3, 2), normal(2, 2, 2, 2), normal(2)), CONV),
    ("conv2d_input_grad", (normal(1, 2, 2, 2), normal(2, 2, 2, 2)), {**CONV, "x_shape": X_SHAPE}),
    ("conv2d_kernel_grad", (normal(*X_SHAPE), normal(1, 2, 2, 2)), {**CONV, "kernel_size": (2, 2)}),
    ("max_pool2d", (distinct(1, 4, 4, 2),), POOL),
    ("max_pool2d_route", (normal(1, 4, 2, 2),), {**POOL, **MAXIMA}),
    ("max_pool2d_gather", (normal(1, 4, 4, 2),), {**POOL, **MAXIMA}),
    ("avg_pool2d", (normal(1, 4, 3, 2),), POOL),
    ("avg_pool2d_spread", (normal(1, 4, 1, 2),), {**POOL, "x_shape": (1, 4, 3, 2)}),
]
RECIPES += SHAPE_LINALG_RECIPES  # joining, linear algebra
PRIMITIVES = {v.name: v for v in vars(P).values() if isinstance(v, Primitive)}


def _differentiable_inputs(op, inputs):
    """The inputs with a VJP (every input of a variadic op such as concatenate)."""
    if not isinstance(op.vjps, tuple):
        return range(len(inputs))
    return [wrt for wrt, vjp in enumerate(op.vjps) if vjp is not None]


CASES = [(name, inputs, params, wrt) for name, inputs, params in RECIPES
         for wrt in _differentiable_inputs(PRIMITIVES[name], inputs)]


def finite_difference_jacobian(op, inputs, params, wrt, eps=1e-6):
    """∂out/∂inputs[wrt] by central differences of the forward, one input element at a time."""
    x = inputs[wrt]
    f = lambda value: np.asarray(op(*inputs[:wrt], value, *inputs[wrt + 1:], **params))
    jacobian = np.zeros(f(x).shape + x.shape)
    for k in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[k] = eps
        jacobian[(Ellipsis, *k)] = (f(x + step) - f(x - step)) / (2 * eps)
    return jacobian


def test_every_primitive_has_a_recipe():
    assert set(PRIMITIVES) - {name for name, _, _ in RECIPES} == set()


@pytest.mark.parametrize("name, inputs, params, wrt", CASES,
                         ids=[f"{c[0]}-{i}-wrt{c[3]}" for i, c in enumerate(CASES)])
def test_local_jacobian_agrees_with_the_vjp_and_with_finite_differences(name, inputs, params, wrt):
    op = PRIMITIVES[name]
    out, vjp_params = op.run(inputs, params)  # vjp_params has `saved` if the op saves
    out = np.asarray(out)
    x = inputs[wrt]
    jacobian = local_jacobian(op, *inputs, wrt=wrt, **params)
    assert jacobian.shape == out.shape + x.shape
    v = rng.standard_normal(out.shape)
    vjp = sum_to(np.asarray(op.vjps[wrt](v, out, *inputs, **(vjp_params or {}))), x.shape)
    flat = jacobian.reshape(out.size, x.size)
    np.testing.assert_allclose(v.reshape(-1) @ flat, vjp.reshape(-1), rtol=1e-12, atol=1e-12)
    numeric = finite_difference_jacobian(op, inputs, params, wrt)
    np.testing.assert_allclose(jacobian, numeric, rtol=1e-5, atol=1e-7)


def test_finite_differences_catch_a_wrong_vjp():
    wrong = Primitive("tanh", np.tanh, "wrong on purpose", lambda g, out, x: g * out)
    x = normal(2, 3)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(local_jacobian(wrong, x),
                                   finite_difference_jacobian(wrong, (x,), {}, 0), atol=1e-7)


X, W = normal(2, 3), normal(3, 4)
STRUCTURES = [  # (what, J reshaped to (out.size, in.size), the structure it must have)
    ("tanh is diagonal", local_jacobian(P.tanh, X).reshape(6, 6),
     np.diag((1 - np.tanh(X) ** 2).reshape(-1))),
    ("sum is a row of ones", local_jacobian(P.sum, X, axis=None, keepdims=False).reshape(1, 6),
     np.ones((1, 6))),
    ("matmul in x is I ⊗ Wᵀ", local_jacobian(P.matmul, X, W).reshape(8, 6),
     np.kron(np.eye(2), W.T)),
    ("matmul in W is X ⊗ I", local_jacobian(P.matmul, X, W, wrt=1).reshape(8, 12),
     np.kron(X, np.eye(4))),
    ("reshape is the identity", local_jacobian(P.reshape, X, shape=(3, 2)).reshape(6, 6),
     np.eye(6)),
    ("transpose is a permutation", local_jacobian(P.transpose, X, axes=None).reshape(6, 6),
     np.eye(6)[np.arange(6).reshape(2, 3).T.reshape(-1)]),
    ("getitem selects rows", local_jacobian(P.getitem, X, index=np.array([1, 1])).reshape(6, 6),
     np.eye(6)[[3, 4, 5, 3, 4, 5]]),
]


@pytest.mark.parametrize("what, jacobian, expected", STRUCTURES, ids=[s[0] for s in STRUCTURES])
def test_jacobians_have_the_textbook_structure(what, jacobian, expected):
    np.testing.assert_allclose(jacobian, expected, atol=1e-15)


def test_local_jacobian_of_a_graph_node_and_of_a_constant_input():
    x, w = Tensor(X), Tensor(W, requires_grad=True)
    y = x @ w
    np.testing.assert_allclose(local_jacobian(y, wrt=1).reshape(8, 12), np.kron(X, np.eye(4)))
    with pytest.raises(ValueError, match="input 0 of where is not differentiable"):
        local_jacobian(P.where, X > 0, X, X, wrt=0)


def dense_layer():
    """X @ W + b with b broadcasting over the batch of 4, then a loss using h twice."""
    X = Tensor(normal(4, 2))
    W = Tensor(normal(2, 3), requires_grad=True)
    b = Tensor(normal(3), requires_grad=True)
    h = (X @ W + b).tanh()
    loss = (h * h).sum()
    return locals()


def test_fan_out_running_sums_end_at_the_final_gradient():
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    loss = (x * x + x.exp()).sum()  # x feeds mul twice and exp once
    ledger = record(loss, names={"x": x})
    to_x = [c for s in ledger.steps for c in s.contributions if c.input is x]
    assert [c.count for c in to_x] == [1, 2, 3]
    np.testing.assert_allclose(to_x[-1].running, x.grad.data)
    np.testing.assert_allclose(to_x[-1].running, 2 * x.data + np.exp(x.data))
    np.testing.assert_allclose(ledger.gradients[id(x)], x.grad.data)
    assert "3/3: " in ledger.table() and "1/3: " in ledger.table()


def test_the_ledger_records_where_broadcasting_was_summed():
    v = dense_layer()
    ledger = record(v["loss"], names=v)
    (to_b,) = [c for s in ledger.steps for c in s.contributions if c.input is v["b"]]
    assert to_b.raw_shape == (4, 3) and to_b.gradient.shape == (3,)
    assert broadcast_note(to_b.raw_shape, (3,)) == "sum over axis 0: (4, 3) → (3,)"
    assert "sum over axis 0: (4, 3) → (3,)" in str(ledger)


def test_steps_come_in_backward_order_each_node_after_all_its_consumers():
    v = dense_layer()
    ledger = record(v["loss"], names=v)
    assert ledger.steps[0].node is v["loss"]
    position = {id(s.node): s.index for s in ledger.steps}
    for s in ledger.steps:
        for c in s.contributions:
            assert position[id(c.input)] > s.index
    assert {s.op.name for s in ledger.steps if s.op} == {"sum", "mul", "tanh", "add", "matmul"}
    assert sum(s.op is None for s in ledger.steps) == 2  # W and b: X needs no gradient


@pytest.mark.parametrize("retain_graph", [True, False])
def test_check_confirms_every_contribution_is_g_transpose_j(retain_graph):
    v = dense_layer()
    ledger = record(v["loss"], names=v, retain_graph=retain_graph)
    assert is_freed(v["loss"]) is not retain_graph
    assert ledger.check() == 7  # sum, mul twice, tanh, add twice, matmul once


def test_check_rejects_a_wrong_contribution():
    v = dense_layer()
    ledger = record(v["loss"], names=v)
    (add,) = [s for s in ledger.steps if s.op is P.add]
    add.contributions[1].gradient = add.contributions[1].gradient * 1.01  # b's, 1% off
    with pytest.raises(AssertionError, match=rf"step {add.index} \(add\), input 1"):
        ledger.check()


def test_the_ledger_renders_as_text_and_html():
    v = dense_layer()
    ledger = record(v["loss"], names=v)
    text = str(ledger)
    assert text.splitlines()[0].split()[:4] == ["step", "node", "op", "gradient"]
    assert len(text.splitlines()) == 2 + 9  # header, rule, one row per contribution or leaf
    html = ledger._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == 1 + 9
    assert "<td>b</td>" in html and "→ (3,)" in html and repr(ledger) == "<Ledger of 7 steps>"
    assert isinstance(Ledger().table(), str)


@pytest.mark.parametrize("value, expected", [
    (np.array(1.5), "1.5"),
    (np.array([1.0, 2.0]), "[1., 2.]"),
    (np.arange(12.0), "mean 5.5, min 0, max 11"),
    (np.ones(10, dtype=bool), "mean 1, min 1, max 1"),
])
def test_summaries_show_small_values_in_full_and_large_ones_as_statistics(value, expected):
    assert summarize(value) == expected


def test_a_classifier_loss_checks_through_the_primitive_that_saves_its_softmax():
    """softmax_cross_entropy passes its softmax to the VJP (`saved`); the ledger must cope."""
    x = Tensor(rng.standard_normal((4, 3)))
    w = Tensor(rng.standard_normal((3, 5)), requires_grad=True)
    b = Tensor(np.zeros(5), requires_grad=True)
    loss = autograd.softmax_cross_entropy(autograd.linear(x, w, b), np.array([0, 4, 2, 2]))
    ledger = record(loss)
    assert ledger.check() == 3  # the logits, then w and b
    jacobian = ledger.local_jacobian(0)
    assert jacobian.shape == (4, 5)
