"""Regression tests for bugs found in review: each failed before its fix."""

import numpy as np
import pytest

import autograd
from autograd import Tensor, grad, no_grad


@pytest.mark.parametrize("data, expected", [
    (np.uint8([0, 5, 200]), 0),       # -max(-x) wrapped around in uint8
    (np.int8([-128, 3]), -128),       # and overflowed in int8
    (np.array([True, False]), False),
    (np.float32([2.5, -1.0]), -1.0),
], ids=["uint8", "int8", "bool", "float32"])
def test_min_is_exact_for_every_dtype(data, expected):
    assert Tensor(data).min().item() == expected


def test_min_splits_the_gradient_between_tied_minima():
    x = Tensor([1.0, 0.0, 0.0], requires_grad=True)
    x.min().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5])


@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
def test_a_cast_to_integers_or_bool_is_a_constant(dtype):
    x = Tensor([1.5, 2.5], requires_grad=True)
    y = x.astype(dtype)
    assert not y.requires_grad and y.dtype == dtype


def test_array_copy_does_not_share_memory():
    t = Tensor([1.0, 2.0])
    copied = np.array(t, copy=True)
    copied[0] = 99
    assert t.data[0] == 1.0


def test_leaf_gradients_never_share_memory():
    x, y = Tensor(np.zeros((2, 3)), requires_grad=True), Tensor(np.zeros(6), requires_grad=True)
    (x + y.reshape(2, 3)).backward(np.ones((2, 3)))
    assert not np.shares_memory(x.grad.data, y.grad.data)


def test_a_list_exponent_differentiates():
    x = Tensor([2.0, 3.0], requires_grad=True)
    (x ** [2.0, 3.0]).sum().backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 27.0])


def test_clip_with_tensor_bounds_sends_the_gradient_to_the_bound_outside():
    x = Tensor([-2.0, 0.5, 3.0], requires_grad=True)
    low, high = Tensor(-1.0, requires_grad=True), Tensor(1.0, requires_grad=True)
    out = x.clip(low, high)
    np.testing.assert_array_equal(out.data, [-1.0, 0.5, 1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])
    assert low.grad.item() == 1.0 and high.grad.item() == 1.0


def test_clip_passes_the_gradient_on_the_closed_interval():
    x = Tensor([0.0, 1.0], requires_grad=True)
    x.clip(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_in_place_update_of_a_parameter_under_no_grad_changes_it():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    same = w
    with no_grad():
        w -= 0.5 * w.grad
    assert w is same and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.data, [0.0, 0.0])


def test_in_place_on_a_recorded_tensor_is_an_ordinary_operation():
    x = Tensor(2.0, requires_grad=True)
    y = x * 3
    y += x  # y = y + x, recorded
    y.backward()
    assert x.grad.item() == 4.0


def test_set_grad_enabled_called_as_a_function_takes_effect():
    try:
        autograd.set_grad_enabled(False)
        assert not autograd.is_grad_enabled()
        assert not (Tensor(1.0, requires_grad=True) * 2).requires_grad
    finally:
        autograd.set_grad_enabled(True)
    with autograd.set_grad_enabled(False):
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()


@pytest.mark.parametrize("call, error, words", [
    (lambda: Tensor(np.ones((2, 3))).maximum(np.ones(4)), ValueError,
     ["maximum", "(2, 3)", "(4,)"]),
    (lambda: Tensor(np.ones((2, 3))).clip(np.ones(4), None), ValueError, ["clip", "(4,)"]),
    (lambda: Tensor(np.ones(3)).mT, ValueError, ["swapaxes", "(3,)"]),
    (lambda: Tensor(np.ones(3)) + [1, [2, 3]], ValueError, ["ragged"]),
    (lambda: autograd.jacobian(lambda x: 3.0, np.ones(2)), TypeError, ["must return a Tensor"]),
    (lambda: autograd.gradcheck(lambda x: x.data, [np.ones(2)]), TypeError, ["Tensor"]),
], ids=["maximum", "clip", "mT-on-1d", "ragged-operand", "jacobian-non-tensor",
        "gradcheck-non-tensor"])
def test_bad_input_gets_an_error_that_names_it(call, error, words):
    with pytest.raises(error) as raised:
        call()
    for word in words:
        assert word in str(raised.value)


def test_grad_outputs_may_be_a_plain_number():
    x = Tensor(3.0, requires_grad=True)
    (g,) = grad(x * x, x, grad_outputs=2.0)
    assert g.item() == 12.0


def test_create_graph_gives_each_leaf_its_own_gradient_tensor():
    x, y = Tensor(1.0, requires_grad=True), Tensor(2.0, requires_grad=True)
    (x + y).backward(create_graph=True)
    assert x.grad is not y.grad
    assert x.grad.item() == y.grad.item() == 1.0
