"""Joining, shape, linear algebra and indexing ops: forward values against NumPy (the same call on
`autograd` and on `numpy`, so the signatures are NumPy's too), gradients against finite
differences, second order through create_graph, every new primitive's local Jacobian, Hypothesis
strategies for axes, broadcasting and einsum subscripts, and a one-line error for bad input."""

import functools
import re
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_ops import (
    FLOATS,
    check_against_numpy,
    distinct,
    engine_gradients,
    numeric_gradients,
    rand,
)

import autograd as ag
from autograd import Tensor
from autograd import primitives as P
from autograd.ledger import local_jacobian

RNG = np.random.default_rng(20261201)


def matrix(*shape):
    """Well-conditioned square matrices (the identity times 3, plus noise in [-1, 1])."""
    return rand(*shape, low=-1, high=1) + 3 * np.eye(shape[-1])


def same(name, expression, *inputs):
    """A case whose op and NumPy reference are one expression, run on `autograd` and on `numpy`."""
    return pytest.param(partial(expression, ag), partial(expression, np), inputs, id=name)


def case(name, op, reference, *inputs):
    return pytest.param(op, reference, inputs, id=name)


def np_chunk(x, chunks, axis=0):
    """PyTorch's chunk sizes: pieces of ceil(n / chunks), the last shorter."""
    size = -(-x.shape[axis] // chunks)
    return np.split(x, range(size, x.shape[axis], size), axis)


def np_gather(x, dim, index):
    """PyTorch's gather, written out: out[i, j] = x[index[i, j], j] for dim 0 (2-d)."""
    out = np.empty(index.shape)
    for i, j in np.ndindex(index.shape):
        out[i, j] = x[index[i, j], j] if dim == 0 else x[i, index[i, j]]
    return out


def np_masked_fill(x, mask, value):
    return np.where(mask, value, x)


NEGATIVE_DET = np.array([[0.5, 2.0, 0.1], [1.5, 0.2, 0.3], [0.1, 0.4, 2.0]])
ORDER = np.argsort(distinct(3, 4), axis=1)
GATHER_INDEX = np.array([[2, 0], [1, 1]])
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False,
                                                                          False]])

CASES = [
    # joining
    same("concatenate-axis0", lambda m, x, y: m.concatenate([x, y]), rand(2, 3), rand(1, 3)),
    same("concatenate-axis1-three", lambda m, x, y, z: m.concatenate((x, y, z), axis=1),
         rand(2, 1), rand(2, 3), rand(2, 2)),
    same("concatenate-axis-minus1", lambda m, x, y: m.concatenate([x, y], -1), rand(2, 2, 1),
         rand(2, 2, 3)),
    same("concatenate-axis-None", lambda m, x, y: m.concatenate([x, y], axis=None), rand(2, 2),
         rand(3)),
    same("concatenate-with-a-constant", lambda m, x: m.concatenate([x, np.ones((1, 3)), x]),
         rand(2, 3)),
    case("cat-dim1", lambda x, y: ag.cat([x, y], dim=1), lambda x, y: np.concatenate([x, y], 1),
         rand(2, 2), rand(2, 1)),
    same("stack-axis0", lambda m, x, y, z: m.stack([x, y, z]), rand(2, 3), rand(2, 3), rand(2, 3)),
    same("stack-axis-minus1", lambda m, x, y: m.stack([x, y], axis=-1), rand(2, 3), rand(2, 3)),
    same("stack-0d", lambda m, x, y: m.stack([x, y]), rand(), rand()),
    same("split-sections", lambda m, x: m.split(x, 3, axis=1)[1], rand(2, 6)),
    same("split-indices", lambda m, x: m.split(x, [1, 3])[1] * 2 + m.split(x, [1, 3])[2].sum(),
         rand(5, 2)),
    same("array_split-unequal", lambda m, x: m.array_split(x, 3)[0], rand(5)),
    case("Tensor.split-by-size", lambda x: ag.concatenate(x.split(2, dim=1)[::2], 1),
         lambda x: np.concatenate([x[:, 0:2], x[:, 4:5]], 1), rand(2, 5)),
    case("Tensor.split-by-sizes", lambda x: x.split([1, 3])[1], lambda x: x[1:], rand(4, 2)),
    case("chunk", lambda x: ag.stack(ag.chunk(x, 3)[:2]), lambda x: np.stack(np_chunk(x, 3)[:2]),
         rand(5, 2)),
    # shape
    same("squeeze-all", lambda m, x: m.squeeze(x), rand(1, 3, 1)),
    same("squeeze-axis-tuple", lambda m, x: m.squeeze(x, axis=(0, -1)), rand(1, 3, 1, 1)),
    same("expand_dims-int", lambda m, x: m.expand_dims(x, 1), rand(2, 3)),
    same("expand_dims-tuple", lambda m, x: m.expand_dims(x, (0, -1)), rand(2, 3)),
    case("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x[..., None], rand(2, 3)),
    same("flip-all", lambda m, x: m.flip(x), rand(2, 3)),
    same("flip-axis", lambda m, x: m.flip(x, axis=1), rand(2, 3)),
    same("flip-axes", lambda m, x: m.flip(x, (0, 2)), rand(2, 3, 2)),
    same("roll-flat", lambda m, x: m.roll(x, 4), rand(2, 3)),
    same("roll-axis", lambda m, x: m.roll(x, -1, axis=0), rand(3, 2)),
    same("roll-axes", lambda m, x: m.roll(x, (1, 2), axis=(0, 1)), rand(2, 3)),
    same("repeat-flat", lambda m, x: m.repeat(x, 2), rand(2, 2)),
    same("repeat-axis", lambda m, x: m.repeat(x, 3, axis=1), rand(2, 2)),
    same("repeat-counts", lambda m, x: m.repeat(x, [2, 0, 1], axis=0), rand(3, 2)),
    same("tile-short-reps", lambda m, x: m.tile(x, 2), rand(2, 3)),
    same("tile-long-reps", lambda m, x: m.tile(x, (2, 1, 3)), rand(2, 2)),
    same("pad-constant", lambda m, x: m.pad(x, ((1, 0), (2, 1))), rand(2, 3)),
    same("pad-constant-value", lambda m, x: m.pad(x, 1, constant_values=-2.0), rand(3)),
    same("pad-edge", lambda m, x: m.pad(x, ((2, 1), (0, 3)), mode="edge"), rand(2, 3)),
    same("pad-reflect", lambda m, x: m.pad(x, ((2, 1), (1, 2)), mode="reflect"), rand(3, 4)),
    same("pad-reflect-pair", lambda m, x: m.pad(x, (2, 2), mode="reflect"), rand(3, 3)),
    same("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), rand(2, 3, 4)),
    same("moveaxis-several", lambda m, x: m.moveaxis(x, (0, 1), (2, 0)), rand(2, 3, 4)),
    case("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), rand(2, 3, 4)),
    case("permute-function", lambda x: ag.permute(x, (1, 0)), lambda x: x.T, rand(2, 3)),
    case("view", lambda x: x.view(3, -1), lambda x: x.reshape(3, -1), rand(2, 3)),
    same("ravel", lambda m, x: m.ravel(x), rand(2, 3)),
    same("atleast_1d-0d", lambda m, x: m.atleast_1d(x), rand()),
    same("atleast_2d-1d", lambda m, x: m.atleast_2d(x), rand(3)),
    same("atleast_2d-two", lambda m, x, y: m.atleast_2d(x, y)[0] * m.atleast_2d(x, y)[1], rand(3),
         rand()),
    # linear algebra
    same("einsum-matmul", lambda m, x, y: m.einsum("ij,jk->ik", x, y), rand(2, 3), rand(3, 4)),
    same("einsum-implicit", lambda m, x, y: m.einsum("ji,jk", x, y), rand(3, 2), rand(3, 4)),
    same("einsum-implicit-case", lambda m, x: m.einsum("aBc", x), rand(2, 3, 2)),
    same("einsum-trace", lambda m, x: m.einsum("ii", x), rand(3, 3)),
    same("einsum-diagonal", lambda m, x: m.einsum("ii->i", x), rand(3, 3)),
    same("einsum-repeated-3", lambda m, x, y: m.einsum("iij,j->i", x, y), rand(2, 2, 3), rand(3)),
    same("einsum-sum-all", lambda m, x: m.einsum("ij->", x), rand(2, 3)),
    same("einsum-outer", lambda m, x, y: m.einsum("i,j->ij", x, y), rand(2), rand(3)),
    same("einsum-batched", lambda m, x, y: m.einsum("bij,bjk->bik", x, y), rand(2, 2, 3),
         rand(2, 3, 2)),
    same("einsum-ellipsis", lambda m, x, y: m.einsum("...ij,...j->...i", x, y), rand(2, 3, 2),
         rand(2, 2)),
    same("einsum-ellipsis-broadcast-1", lambda m, x, y: m.einsum("...i,...i->...", x, y),
         rand(2, 1, 3), rand(4, 3)),
    same("einsum-ellipsis-implicit", lambda m, x: m.einsum("i...->...", x), rand(2, 3)),
    same("einsum-three-operands", lambda m, x, y, z: m.einsum("ij,jk,kl->il", x, y, z),
         rand(2, 3), rand(3, 2), rand(2, 2)),
    same("einsum-scalar-operand", lambda m, x, y: m.einsum(",ij->ij", x, y), rand(), rand(2, 2)),
    same("einsum-label-only-in-one", lambda m, x, y: m.einsum("ij,k->ik", x, y), rand(2, 3),
         rand(2)),
    same("einsum-sublists", lambda m, x, y: m.einsum(x, [0, 1], y, [1, 2], [0, 2]), rand(2, 3),
         rand(3, 2)),
    same("einsum-sublists-implicit", lambda m, x: m.einsum(x, [Ellipsis, 0]), rand(2, 3)),
    same("tensordot-int", lambda m, x, y: m.tensordot(x, y), rand(2, 3, 4), rand(3, 4, 2)),
    same("tensordot-0", lambda m, x, y: m.tensordot(x, y, 0), rand(2), rand(3)),
    same("tensordot-pairs", lambda m, x, y: m.tensordot(x, y, axes=([0, 2], [2, 0])),
         rand(2, 3, 4), rand(4, 2, 2)),
    same("dot-1d-1d", lambda m, x, y: m.dot(x, y), rand(3), rand(3)),
    same("dot-2d-2d", lambda m, x, y: m.dot(x, y), rand(2, 3), rand(3, 2)),
    same("dot-1d-3d", lambda m, x, y: m.dot(x, y), rand(3), rand(2, 3, 2)),
    same("dot-3d-3d", lambda m, x, y: m.dot(x, y), rand(2, 2, 3), rand(2, 3, 2)),
    same("dot-0d", lambda m, x, y: m.dot(x, y), rand(), rand(2, 2)),
    same("inner-1d", lambda m, x, y: m.inner(x, y), rand(3), rand(3)),
    same("inner-2d-3d", lambda m, x, y: m.inner(x, y), rand(2, 3), rand(2, 2, 3)),
    same("outer", lambda m, x, y: m.outer(x, y), rand(3), rand(2, 2)),
    same("trace", lambda m, x: m.trace(x), rand(3, 3)),
    same("trace-offset-axes", lambda m, x: m.trace(x, 1, axis1=1, axis2=2), rand(2, 3, 4)),
    same("diagonal", lambda m, x: m.diagonal(x), rand(3, 4)),
    same("diagonal-negative-offset", lambda m, x: m.diagonal(x, -1), rand(4, 3)),
    same("diagonal-3d-axes", lambda m, x: m.diagonal(x, 1, 2, 0), rand(3, 2, 4)),
    same("tril", lambda m, x: m.tril(x), rand(3, 4)),
    same("tril-k-batched", lambda m, x: m.tril(x, k=-1), rand(2, 3, 3)),
    same("triu", lambda m, x: m.triu(x, 1), rand(4, 3)),
    same("inv", lambda m, x: m.linalg.inv(x), matrix(3, 3)),
    same("inv-batched", lambda m, x: m.linalg.inv(x), matrix(2, 2, 2)),
    same("det", lambda m, x: m.linalg.det(x), matrix(3, 3)),
    same("det-negative", lambda m, x: m.linalg.det(x), NEGATIVE_DET),
    same("det-batched", lambda m, x: m.linalg.det(x), matrix(2, 3, 3)),
    same("slogdet", lambda m, x: m.linalg.slogdet(x)[1], NEGATIVE_DET),
    same("slogdet-batched", lambda m, x: m.linalg.slogdet(x).logabsdet, matrix(2, 2, 2)),
    same("solve-vector", lambda m, a, b: m.linalg.solve(a, b), matrix(3, 3), rand(3)),
    same("solve-matrix", lambda m, a, b: m.linalg.solve(a, b), matrix(3, 3), rand(3, 2)),
    same("solve-batch-broadcast", lambda m, a, b: m.linalg.solve(a, b), matrix(2, 1, 2, 2),
         rand(3, 2, 1)),
    same("solve-batched-vector", lambda m, a, b: m.linalg.solve(a, b), matrix(2, 3, 3), rand(3)),
    # indexing
    same("take-flat", lambda m, x: m.take(x, [5, 0, 5]), rand(2, 3)),
    same("take-axis", lambda m, x: m.take(x, np.array([[1, 1], [0, 2]]), axis=1), rand(2, 3)),
    same("take_along_axis-argsort", lambda m, x: m.take_along_axis(x, ORDER, 1), distinct(3, 4)),
    same("take_along_axis-default-last", lambda m, x: m.take_along_axis(x, ORDER), distinct(3, 4)),
    same("take_along_axis-None", lambda m, x: m.take_along_axis(x, np.array([3, 3, 0]), None),
         rand(2, 2)),
    same("take_along_axis-broadcast", lambda m, x: m.take_along_axis(x, np.array([[1], [0]]), 0),
         rand(2, 3)),
    case("gather-dim0", lambda x: x.gather(0, GATHER_INDEX),
         lambda x: np_gather(x, 0, GATHER_INDEX), rand(3, 3)),
    case("gather-dim1-shorter-index", lambda x: ag.gather(x, 1, GATHER_INDEX),
         lambda x: np_gather(x, 1, GATHER_INDEX), rand(3, 4)),
    case("masked_fill", lambda x: x.masked_fill(MASK, 0.5), lambda x: np_masked_fill(x, MASK, 0.5),
         rand(3, 4)),
    case("masked_fill-broadcast-mask", lambda x: ag.masked_fill(x, MASK[:1], -1.0),
         lambda x: np_masked_fill(x, MASK[:1], -1.0), rand(3, 4)),
    case("masked_fill-tensor-value", lambda x, v: x.masked_fill(MASK, v),
         lambda x, v: np_masked_fill(x, MASK, v), rand(3, 4), rand()),
]


def as_tensor(out):
    assert isinstance(out, Tensor), f"expected a Tensor, got {type(out).__name__}"
    return out


@pytest.mark.parametrize(("op", "reference", "inputs"), CASES)
def test_forward_matches_numpy(op, reference, inputs):
    """The engine's value and shape equal NumPy's for the same call."""
    out = as_tensor(op(*[Tensor(x) for x in inputs]))
    expected = np.asarray(reference(*inputs))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("op", "reference", "inputs"), CASES)
def test_gradcheck(op, reference, inputs):
    """The full Jacobian from the VJPs equals float64 central differences."""
    assert ag.gradcheck(op, inputs)


@pytest.mark.parametrize(("op", "reference", "inputs"), CASES)
def test_gradient_matches_numeric_gradient_of_numpy_reference(op, reference, inputs):
    """backward(v) against central differences of NumPy's Σ v·f (independent of gradcheck)."""
    weights = RNG.standard_normal(np.shape(reference(*inputs)))
    _, analytic = engine_gradients(op, inputs, weights)
    for x, a, n in zip(inputs, analytic, numeric_gradients(reference, inputs, weights)):
        assert a is not None and a.shape == np.shape(x) and a.dtype == np.float64
        np.testing.assert_allclose(a.data, n, rtol=1e-5, atol=1e-6)


def gradient_of(op):
    """x ↦ ∂(Σ op(x)²)/∂x, recorded with create_graph: squaring makes the incoming gradient
    depend on x, so the op's VJPs themselves run on tensors and are differentiated again."""
    def first(*xs):
        with ag.enable_grad():
            xs = [x if x.requires_grad else Tensor._wrap(x.data, requires_grad=True) for x in xs]
            out = op(*xs)
            grads = ag.grad((out * out).sum(), xs, create_graph=True)
            return ag.concatenate([g.reshape(-1) for g in grads])
    return first


@pytest.mark.parametrize(("op", "reference", "inputs"), CASES)
def test_second_order(op, reference, inputs):
    """The gradient computed with create_graph=True has a Jacobian equal to finite differences."""
    assert ag.gradcheck(gradient_of(op), inputs)


# --- every new primitive's local Jacobian --------------------------------------------------------
def normal(*shape):
    return RNG.standard_normal(shape)


# (primitive name, inputs, params): test_ledger.py adds these to its table of recipes.
LEDGER_RECIPES = [
    ("concatenate", (normal(2, 1), normal(2, 3), normal(2, 2)), {"axis": 1}),
    ("stack", (normal(3), normal(3)), {"axis": 1}),
    ("flip", (normal(2, 3),), {"axis": (1,)}),
    ("roll", (normal(2, 3),), {"shift": (1, -1), "axis": (0, 1)}),
    ("pad", (normal(2, 3),), {"widths": ((1, 0), (0, 2)), "mode": "constant", "value": 0.0}),
    ("pad", (normal(3, 2),), {"widths": ((2, 1), (1, 1)), "mode": "edge", "value": 0}),
    ("pad", (normal(3, 3),), {"widths": ((2, 1), (0, 2)), "mode": "reflect", "value": 0}),
    ("diagonal", (normal(3, 4),), {"offset": 1, "axis1": 0, "axis2": 1}),
    ("embed_diagonal", (normal(2, 2),), {"shape": (2, 3, 2), "offset": -1, "axis1": 1,
                                          "axis2": 2}),
    ("einsum", (normal(2, 3), normal(3, 2)), {"subscripts": "ij,jk->ik", "optimize": False}),
    ("einsum", (normal(3, 3), normal(2)), {"subscripts": "ii,k->ik", "optimize": False}),
    ("einsum", (normal(2, 1, 3), normal(2, 3)), {"subscripts": "...i,...i", "optimize": True}),
    ("inv", (matrix(3, 3),), {}),
    ("det", (NEGATIVE_DET,), {}),
    ("slogdet", (matrix(2, 2, 2),), {}),
    ("solve", (matrix(3, 3), normal(3)), {}),
    ("solve", (matrix(2, 2, 2), normal(2, 2, 3)), {}),
]
PRIMITIVES = {v.name: v for v in vars(P).values() if isinstance(v, P.Primitive)}
def test_every_new_primitive_has_a_recipe():
    new = {"concatenate", "stack", "flip", "roll", "pad", "diagonal", "embed_diagonal", "einsum",
           "inv", "det", "slogdet", "solve"}
    assert new <= set(PRIMITIVES)
    assert new == {name for name, _, _ in LEDGER_RECIPES}


def test_textbook_jacobians():
    """concatenate's Jacobian is a stack of identity blocks; inv's is -A⁻ᵀ ⊗ A⁻¹ (row-major)."""
    x, y = normal(2), normal(3)
    np.testing.assert_array_equal(local_jacobian(P.concatenate, x, y, wrt=1, axis=0),
                                  np.eye(5)[:, 2:])
    a = matrix(2, 2)
    a_inv = np.linalg.inv(a)
    np.testing.assert_allclose(local_jacobian(P.inv, a).reshape(4, 4), -np.kron(a_inv, a_inv.T),
                               atol=1e-12)


# --- Hypothesis: axes, broadcasting and einsum subscripts ----------------------------------------
def draw_array(data, shape, label="x", elements=FLOATS):
    return data.draw(hnp.arrays(np.float64, shape, elements=elements), label=label)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
def test_concatenate_and_stack_along_any_axis(data, shape):
    """Any axis, negative too; the inputs differ in length only along the joined axis."""
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    other = list(shape)
    other[axis] = data.draw(st.integers(0, 3), label="other length")
    x, y = draw_array(data, shape), draw_array(data, tuple(other), "y")
    check_against_numpy(lambda x, y: ag.concatenate([x, y], axis),
                        lambda x, y: np.concatenate([x, y], axis), [x, y])
    new_axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="stack axis")
    z = draw_array(data, shape, "z")
    check_against_numpy(lambda x, z: ag.stack([x, z], new_axis),
                        lambda x, z: np.stack([x, z], new_axis), [x, z])


@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
def test_axis_arguments(data, shape):
    """flip, roll, moveaxis, expand_dims, take_along_axis and the split family with drawn axes."""
    x = draw_array(data, shape)
    ndim = len(shape)
    axes = data.draw(hnp.valid_tuple_axes(ndim, min_size=1), label="axes")
    shifts = data.draw(st.lists(st.integers(-4, 4), min_size=len(axes), max_size=len(axes)))
    check_against_numpy(lambda x: ag.flip(x, axes), lambda x: np.flip(x, axes), [x])
    check_against_numpy(lambda x: ag.roll(x, shifts, axes), lambda x: np.roll(x, shifts, axes),
                        [x])
    destination = data.draw(st.permutations(range(ndim)), label="destination")[:len(axes)]
    check_against_numpy(lambda x: ag.moveaxis(x, axes, destination),
                        lambda x: np.moveaxis(x, axes, destination), [x])
    count = data.draw(st.integers(1, 2), label="new axes count")
    new = data.draw(hnp.valid_tuple_axes(ndim + count, min_size=count, max_size=count),
                    label="new axes")  # negative ones too
    check_against_numpy(lambda x: ag.expand_dims(x, new), lambda x: np.expand_dims(x, new), [x])
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    if shape[axis]:
        index = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, shape[axis] - 1)),
                          label="indices")
        check_against_numpy(lambda x: ag.take_along_axis(x, index, axis),
                            lambda x: np.take_along_axis(x, index, axis), [x])
    sections = data.draw(st.integers(1, 3), label="sections")
    check_against_numpy(lambda x: ag.concatenate(ag.array_split(x, sections, axis)[::-1], axis),
                        lambda x: np.concatenate(np.array_split(x, sections, axis)[::-1], axis),
                        [x])


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
def test_pad_tile_and_repeat_with_drawn_arguments(data, shape):
    """pad in every mode with drawn widths (reflect: below the axis length), tile with drawn
    reps, repeat with a drawn count or counts along a drawn axis."""
    x = draw_array(data, shape)
    mode = data.draw(st.sampled_from(["constant", "edge", "reflect"]), label="mode")
    limit = {"constant": lambda n: 3, "edge": lambda n: 3 if n else 0,
             "reflect": lambda n: min(n - 1, 3)}[mode]
    widths = tuple(tuple(data.draw(st.integers(0, max(limit(n), 0)), label=f"width {a}")
                         for _ in range(2)) for a, n in enumerate(shape)) or 0  # 0-d: 0
    check_against_numpy(lambda x: ag.pad(x, widths, mode=mode),
                        lambda x: np.pad(x, widths, mode=mode), [x])
    reps = tuple(data.draw(st.lists(st.integers(0, 2), max_size=4), label="reps"))
    check_against_numpy(lambda x: ag.tile(x, reps), lambda x: np.tile(x, reps), [x])
    if shape:
        axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
        counts = data.draw(st.integers(0, 3) | st.lists(st.integers(0, 3), min_size=shape[axis],
                                                        max_size=shape[axis]), label="repeats")
        check_against_numpy(lambda x: ag.repeat(x, counts, axis),
                            lambda x: np.repeat(x, counts, axis), [x])


@settings(max_examples=25, deadline=None)
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                                 max_side=2))
def test_solve_with_broadcast_batches(data, shapes):
    """solve(a, b) with a (..., n, n) and b (..., n, k) whose batch axes broadcast."""
    n, k = data.draw(st.integers(1, 3), label="n"), data.draw(st.integers(1, 2), label="k")
    batch_a, batch_b = shapes.input_shapes
    a = draw_array(data, (*batch_a, n, n), "a", st.floats(-0.3, 0.3)) + 2 * np.eye(n)
    b = draw_array(data, (*batch_b, n, k), "b")
    check_against_numpy(ag.linalg.solve, np.linalg.solve, [a, b])


@settings(max_examples=25, deadline=None)
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_side=3))
def test_masked_fill_with_a_broadcast_mask(data, shapes):
    mask_shape, x_shape = shapes.input_shapes
    if np.broadcast_shapes(mask_shape, x_shape) != x_shape:
        mask_shape = ()  # masked_fill keeps x's shape: the mask may only broadcast up to it
    mask = data.draw(hnp.arrays(np.bool_, mask_shape), label="mask")
    check_against_numpy(lambda x: ag.masked_fill(x, mask, 2.0),
                        lambda x: np.where(mask, 2.0, x), [draw_array(data, x_shape)])


LABELS = "abcdE"


@st.composite
def einsum_problems(draw):
    """A random valid einsum: 1-3 operands over a few labels (repeats allowed within an operand,
    as diagonals), an explicit or implicit output, and sometimes a broadcasting '...'."""
    sizes = {label: draw(st.integers(1, 3)) for label in LABELS}
    count = draw(st.integers(1, 3))
    terms = [draw(st.lists(st.sampled_from(LABELS), max_size=3)) for _ in range(count)]
    ellipsis = draw(st.lists(st.integers(1, 2), max_size=2)) if draw(st.booleans()) else None
    operands, spelled = [], []
    for term in terms:
        shape = [sizes[label] for label in term]
        text = "".join(term)
        if ellipsis is not None and draw(st.booleans()):
            own = ellipsis[len(ellipsis) - draw(st.integers(0, len(ellipsis))):]
            own = [n if draw(st.booleans()) else 1 for n in own]  # size-1 axes broadcast
            shape, text = own + shape, "..." + text
        operands.append(draw(hnp.arrays(np.float64, tuple(shape), elements=FLOATS)))
        spelled.append(text)
    subscripts = ",".join(spelled)
    if draw(st.booleans()):  # explicit output: distinct used labels in any order
        used = sorted(set("".join(map("".join, terms))))
        output = draw(st.permutations(used))[:draw(st.integers(0, len(used)))]
        ellipsis_used = any("..." in s for s in spelled)
        subscripts += "->" + ("..." if ellipsis_used else "") + "".join(output)
    return subscripts, operands


@settings(max_examples=60, deadline=None)
@given(problem=einsum_problems())
def test_einsum_random_subscripts(problem):
    """Value equals np.einsum; each operand's gradient equals differences of np.einsum."""
    subscripts, operands = problem
    check_against_numpy(lambda *xs: ag.einsum(subscripts, *xs),
                        lambda *xs: np.einsum(subscripts, *xs), operands)


@settings(max_examples=20, deadline=None)
@given(problem=einsum_problems())
def test_einsum_random_subscripts_second_order(problem):
    """The einsum VJPs, themselves einsums, differentiate again (create_graph)."""
    subscripts, operands = problem
    assert ag.gradcheck(gradient_of(lambda *xs: ag.einsum(subscripts, *xs)), operands)


# --- conventions ---------------------------------------------------------------------------------
def test_det_gradient_is_the_cofactor_matrix_even_at_singular_matrices():
    """det'(A) = cof(A): [[d, -c], [-b, a]] for 2×2, also at rank 1; 0 at rank ≤ n - 2."""
    for a, expected in [([[1.0, 2.0], [2.0, 4.0]], [[4.0, -2.0], [-2.0, 1.0]]),
                        ([[3.0, 1.0], [5.0, 2.0]], [[2.0, -5.0], [-1.0, 3.0]]),
                        (np.ones((3, 3)), np.zeros((3, 3)))]:
        x = Tensor(a, requires_grad=True)
        ag.linalg.det(x).backward()
        np.testing.assert_allclose(x.grad.data, expected, atol=1e-12)


def test_second_order_through_det_at_a_singular_matrix_is_a_clear_error():
    x = Tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    with pytest.raises(ValueError, match=r"^det's second derivative needs an invertible"):
        ag.grad(ag.linalg.det(x), x, create_graph=True)


def test_slogdet_gradient_at_a_singular_matrix_is_a_clear_error():
    x = Tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    sign, logabsdet = ag.linalg.slogdet(x)
    assert sign.item() == 0 and logabsdet.item() == -np.inf
    with pytest.raises(ValueError, match=r"^slogdet's gradient needs an invertible matrix, but "
                                         r"the matrix of shape \(2, 2\) is singular$"):
        logabsdet.backward()


def test_unused_split_pieces_get_zero_gradient():
    """Only the pieces used reach backward; the rest of x gets exactly 0."""
    x = Tensor(np.arange(6.0), requires_grad=True)
    first, second, third = ag.split(x, 3)
    (second * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0, 2, 2, 0, 0])


def test_chunk_and_split_follow_pytorch_and_numpy():
    """chunk(5 rows, 3) gives sizes 2, 2, 1 and chunk(6, 4) only 3 pieces (PyTorch);
    autograd.split(x, 2) is NumPy's 2 sections, Tensor.split(2) is PyTorch's pieces of 2."""
    sizes = lambda pieces: [len(p) for p in pieces]
    assert sizes(Tensor(np.arange(5.0)).chunk(3)) == [2, 2, 1]
    assert sizes(ag.chunk(Tensor(np.arange(6.0)), 4)) == [2, 2, 2]
    assert sizes(ag.split(Tensor(np.arange(6.0)), 2)) == [3, 3]
    assert sizes(Tensor(np.arange(6.0)).split(2)) == [2, 2, 2]


def test_concatenate_backward_is_slicing():
    """Each input's gradient is a slice of the output gradient: no scatter, no zeros."""
    x, y = Tensor(rand(2, 3), requires_grad=True), Tensor(rand(2, 2), requires_grad=True)
    out = ag.concatenate([x, y], axis=1)
    g = RNG.standard_normal((2, 5))
    gx = out.op.vjps[0](g, out.data, x.data, y.data, axis=1)
    assert np.shares_memory(gx, g)


def test_one_hot_is_a_float_constant():
    labels = Tensor(np.array([[2, 0], [1, 2]]))
    out = ag.one_hot(labels)
    assert out.dtype == np.float64 and not out.requires_grad and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.data, np.eye(3)[labels.data])
    assert ag.one_hot(np.array([1]), num_classes=4, dtype=np.float32).dtype == np.float32


def test_setitem_on_a_constant_writes_in_place():
    t = Tensor(np.zeros((2, 3)))
    t[0, 1:] = Tensor([1.0, 2.0])
    t[1] = 5
    np.testing.assert_array_equal(t.data, [[0, 1, 2], [5, 5, 5]])


def test_setitem_under_no_grad_on_a_leaf_that_requires_grad():
    w = Tensor(np.ones(3), requires_grad=True)
    with ag.no_grad():
        w[1] = 0.0
    np.testing.assert_array_equal(w.data, [1, 0, 1])


@pytest.mark.parametrize("target", ["leaf", "node", "value"])
def test_setitem_into_the_graph_is_an_error_pointing_to_where(target):
    w = Tensor(np.ones(3), requires_grad=True)
    t = {"leaf": w, "node": w * 2, "value": Tensor(np.zeros(3))}[target]
    value = w[0] if target == "value" else 1.0
    with pytest.raises(RuntimeError, match=r"^setitem: .*masked_fill.*where"):
        t[0] = value


# --- bad input: one line that names the op -------------------------------------------------------
A23, A24 = Tensor(rand(2, 3)), Tensor(rand(2, 4))
BAD = [
    (lambda: ag.concatenate([A23, Tensor(rand(3, 4))], 1), ValueError,
     r"concatenate: shapes \(2, 3\) and \(3, 4\) differ on axis 0"),
    (lambda: ag.concatenate([A23, Tensor(rand(3))]), ValueError,
     r"concatenate: shapes \(2, 3\) and \(3,\) have different numbers of axes"),
    (lambda: ag.concatenate([A23, A24], axis=2), ValueError, r"concatenate: axis 2 is out"),
    (lambda: ag.concatenate(A23), TypeError, r"concatenate: expects a non-empty list"),
    (lambda: ag.concatenate([]), TypeError, r"concatenate: expects a non-empty list"),
    (lambda: ag.concatenate([Tensor(1.0), Tensor(2.0)]), ValueError,
     r"concatenate: zero-dimensional tensors cannot be concatenated"),
    (lambda: ag.stack([A23, A23], axis=3), ValueError,
     r"stack: axis 3 is out of range for 3 axes \(valid axes: -3 to 2\)"),
    (lambda: A23.unsqueeze(3), ValueError, r"unsqueeze: axis 3 is out of range"),
    (lambda: A23.view(4, 2), ValueError, r"reshape: cannot apply to shapes \(2, 3\)"),
    (lambda: ag.take_along_axis(A23, np.array([[3]]), 1), IndexError,
     r"take_along_axis: index 3 is out of range for axis 1 of length 3"),
    (lambda: A23.gather(0, np.array([[0.0]])), TypeError, r"gather: indices must be integers"),
    (lambda: ag.trace(Tensor(rand(3))), ValueError, r"diagonal: axis 1 is out of range"),
    (lambda: ag.stack([A23, A24]), ValueError, r"stack: shapes \(2, 3\) and \(2, 4\) differ"),
    (lambda: ag.split(A23, 2, axis=1), ValueError, r"split: axis 1 of shape \(2, 3\) does not"),
    (lambda: A23.split([1, 2]), ValueError, r"split: sizes \[1, 2\] must .* add up to 2"),
    (lambda: A23.chunk(0), ValueError, r"chunk: chunks must be positive"),
    (lambda: A23.squeeze(1), ValueError, r"squeeze: axis 1 of shape \(2, 3\) has length 3"),
    (lambda: A23.expand_dims(4), ValueError, r"expand_dims: axis 4 is out of range"),
    (lambda: A23.flip((0, 0)), ValueError, r"flip: axis \(0, 0\) repeats an axis"),
    (lambda: A23.roll((1, 2), 0), ValueError, r"roll: 2 shifts for 1 axes"),
    (lambda: A23.repeat([1, 2], axis=1), ValueError, r"repeat: repeats must be"),
    (lambda: A23.repeat(-1), ValueError, r"repeat: repeats must be"),
    (lambda: A23.tile((-1,)), ValueError, r"tile: reps must be non-negative"),
    (lambda: ag.pad(A23, 1, mode="wrap"), ValueError, r"pad: mode must be one of"),
    (lambda: ag.pad(A23, ((1, 1), (1, 1), (1, 1))), ValueError, r"pad: pad_width .* does not fit"),
    (lambda: ag.pad(A23, -1), ValueError, r"pad: pad_width must hold non-negative"),
    (lambda: ag.pad(A23, 2, mode="reflect"), ValueError,
     r"pad: reflect padding of 2 on axis 0 of shape \(2, 3\) needs at least 3"),
    (lambda: A23.moveaxis(0, (0, 1)), ValueError, r"moveaxis: source \(0,\) and destination"),
    (lambda: A23.permute(0, 0), ValueError, r"permute: dims \(0, 0\) are not a permutation"),
    (lambda: ag.einsum("ij,jk", A23), ValueError, r"einsum: 2 terms in 'ij,jk' for 1 operands"),
    (lambda: ag.einsum("ijk", A23), ValueError,
     r"einsum: term 'ijk' has 3 labels for an operand with 2 axes"),
    (lambda: ag.einsum("ij,jk", A23, A24), ValueError, r"einsum: cannot apply to shapes"),
    (lambda: ag.einsum("i1", A23), ValueError, r"einsum: 'i1' may only hold letters"),
    (lambda: ag.tensordot(A23, A24, axes=([1], [1])), ValueError,
     r"tensordot: axes \(1,\) of shape \(2, 3\) and axes \(1,\) of shape \(2, 4\) differ"),
    (lambda: ag.dot(A23, A24), ValueError, r"dot: shapes \(2, 3\) and \(2, 4\) are not aligned"),
    (lambda: ag.inner(A23, A24), ValueError, r"inner: shapes \(2, 3\) and \(2, 4\) differ"),
    (lambda: ag.diagonal(Tensor(rand(3)), 0), ValueError, r"diagonal: axis 1 is out of range"),
    (lambda: ag.tril(Tensor(rand(3))), ValueError, r"tril: needs at least 2 axes"),
    (lambda: ag.linalg.inv(A23), ValueError, r"inv: needs square matrices \(\.\.\., n, n\), got"),
    (lambda: ag.linalg.inv(Tensor(np.ones((2, 2)))), ValueError,
     r"inv: .*the matrix of shape \(2, 2\) is singular"),
    (lambda: ag.linalg.det(Tensor(rand(3))), ValueError, r"det: needs square matrices"),
    (lambda: ag.linalg.solve(Tensor(matrix(2, 2)), Tensor(rand(3))), ValueError,
     r"solve: b of shape \(3,\) does not fit a of shape \(2, 2\)"),
    (lambda: ag.linalg.solve(Tensor(np.zeros((2, 2))), Tensor(rand(2))), ValueError,
     r"solve: .*singular"),
    (lambda: A23.take([3], axis=1), IndexError, r"take: index 3 is out of range for axis 1"),
    (lambda: A23.take([0.5]), TypeError, r"take: indices must be integers"),
    (lambda: ag.take_along_axis(A23, np.array([0, 1]), 1), ValueError,
     r"take_along_axis: indices of shape \(2,\) need the rank"),
    (lambda: A23.gather(1, np.array([[0], [1], [2]])), ValueError,
     r"gather: index of shape \(3, 1\) must have the rank"),
    (lambda: A23.gather(0, np.array([[2]])), IndexError, r"gather: index 2 is out of range"),
    (lambda: A23.masked_fill(np.ones((3, 3), bool), 0.0), ValueError,
     r"masked_fill: mask must be boolean and broadcast to \(2, 3\)"),
    (lambda: A23.masked_fill(np.ones((2, 3)), 0.0), ValueError, r"masked_fill: mask must be"),
    (lambda: ag.one_hot(np.array([0.0])), TypeError, r"one_hot: labels must be integers"),
    (lambda: ag.one_hot(np.array([3]), 3), ValueError, r"one_hot: label 3 does not fit"),
    (lambda: ag.one_hot(np.array([-1])), ValueError, r"one_hot: labels must be non-negative"),
    (lambda: A23.__setitem__((5,), 1.0), IndexError, r"setitem: cannot assign a value"),
]


@pytest.mark.parametrize(("call", "kind", "message"), BAD, ids=[b[2][:40] for b in BAD])
def test_bad_input_gets_one_line_naming_the_op(call, kind, message):
    with pytest.raises(kind, match="^" + message) as error:
        call()
    assert "\n" not in str(error.value)


def test_numpy_dispatch_names_exist():
    """Each NumPy function this module covers has a namesake in autograd (or autograd.linalg),
    so NumPy's __array_function__ can dispatch np.concatenate(...) to autograd.concatenate."""
    for name in ["concatenate", "stack", "split", "array_split", "squeeze", "expand_dims",
                 "flip", "roll", "repeat", "tile", "pad", "moveaxis", "ravel", "atleast_1d",
                 "atleast_2d", "einsum", "tensordot", "dot", "inner", "outer", "trace",
                 "diagonal", "tril", "triu", "take", "take_along_axis"]:
        assert callable(getattr(ag, name)) and hasattr(np, name), name
    for name in ["inv", "det", "slogdet", "solve"]:
        assert getattr(ag.linalg, name) is getattr(ag, name) and hasattr(np.linalg, name)


def test_readme_rows_name_real_operations():
    """Every operation named in the README's joining, shape, linear algebra and indexing rows
    exists: in autograd (dotted names such as linalg.inv too) or as a Tensor method."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    rows = [line for line in readme.splitlines()
            if line.startswith(("| joining |", "| more shape |", "| linear algebra |",
                                "| indexing |"))]
    assert len(rows) == 4
    codes = [code.split() for row in rows for code in re.findall(r"`([^`]+)`", row)]
    names = [name for code in codes  # lists of names, not code such as `t[i] = v`
             if all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) for name in code)
             for name in code]
    assert len(names) > 40
    for name in names:
        owner, _, rest = name.partition(".")
        if owner in ("autograd", "Tensor"):  # autograd.split, Tensor.repeat
            assert hasattr(ag if owner == "autograd" else Tensor, rest), name
            continue
        found = functools.reduce(lambda obj, part: getattr(obj, part, None), name.split("."), ag)
        assert callable(found) or hasattr(Tensor, name), name


def test_slogdet_gives_a_constant_sign_and_a_differentiable_log():
    x = Tensor(NEGATIVE_DET, requires_grad=True)
    sign, logabsdet = ag.linalg.slogdet(x)
    assert isinstance(sign.data, np.ndarray) and sign.item() == -1.0 and not sign.requires_grad
    logabsdet.backward()
    np.testing.assert_allclose(x.grad.data, np.linalg.inv(NEGATIVE_DET).T, rtol=1e-12)


FLOAT32_OPS = {
    "concatenate": lambda x: ag.concatenate([x, x], 1), "stack": lambda x: ag.stack([x, x]),
    "pad-reflect": lambda x: ag.pad(x, 1, mode="reflect"),
    "pad-constant": lambda x: ag.pad(x, 1, constant_values=0.5),
    "einsum-diagonal": lambda x: ag.einsum("ii->i", x),
    "einsum-three": lambda x: ag.einsum("ij,jk,kl", x, x, x),
    "inv": ag.inv, "det": ag.det, "slogdet": lambda x: ag.slogdet(x)[1],
    "solve": lambda x: ag.solve(x, np.ones(3, np.float32)), "tril": ag.tril,
    "diagonal": ag.diagonal, "take": lambda x: x.take([1, 1]), "roll": lambda x: x.roll(1),
    "flip": ag.flip, "tensordot": lambda x: ag.tensordot(x, x), "outer": lambda x: ag.outer(x, x),
    "masked_fill": lambda x: x.masked_fill(x.data > 3, 1.0), "repeat": lambda x: x.repeat(2, 0),
    "tile": lambda x: x.tile(2),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_stays_float32(name):
    """float32 in, float32 out, float32 gradient (the engine's dtype rule)."""
    x = Tensor(matrix(3, 3).astype(np.float32), requires_grad=True)
    out = FLOAT32_OPS[name](x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
