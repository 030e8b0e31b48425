"""Tests for nn.functional and nn.losses: activations, losses and the L2 penalty."""

import re

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor, gradcheck
from nn import functional as F

RNG = np.random.default_rng(0)


def derivative(f, z):
    """d f(z) / dz elementwise, by backward through the sum."""
    x = Tensor(np.asarray(z, dtype=np.float64), requires_grad=True)
    f(x).sum().backward()
    return x.grad.data


# --- activations -------------------------------------------------------------------------------
Z = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
SIGMA = 1 / (1 + np.exp(-Z))


@pytest.mark.parametrize("f, value, slope", [
    (F.sigmoid, SIGMA, SIGMA * (1 - SIGMA)),
    (F.tanh, np.tanh(Z), 1 - np.tanh(Z) ** 2),
    (F.relu, np.maximum(Z, 0), (Z > 0) * 1.0),  # relu'(0) = 0, the engine's convention
    (lambda z: F.leaky_relu(z, 0.1), np.where(Z > 0, Z, 0.1 * Z), np.where(Z > 0, 1, 0.1)),
    (lambda z: F.leaky_relu(z, 0.0), np.maximum(Z, 0), (Z > 0) * 1.0),  # alpha=0 is relu
])
def test_activation_values_and_derivatives(f, value, slope):
    np.testing.assert_allclose(f(Z).data, value, rtol=1e-12)
    np.testing.assert_allclose(derivative(f, Z), slope, rtol=1e-12)


def test_tanh_derivative_has_no_extra_factor():
    """Notes 004 end with [1 - tanh²z]·[1 + tanh z]; the derivative is 1 - tanh²z alone."""
    slope = derivative(F.tanh, Z)
    np.testing.assert_allclose(slope, 1 - np.tanh(Z) ** 2, rtol=1e-12)
    assert not np.allclose(slope, (1 - np.tanh(Z) ** 2) * (1 + np.tanh(Z)))


def test_leaky_relu_at_zero_takes_the_slope_alpha():
    assert derivative(lambda z: F.leaky_relu(z, 0.2), [0.0])[0] == 0.2
    assert F.leaky_relu(np.array([0.0]), 0.2).data[0] == 0.0


@pytest.mark.parametrize("module, function", [
    (nn.Sigmoid(), F.sigmoid), (nn.ReLU(), F.relu), (nn.Tanh(), F.tanh),
    (nn.LeakyReLU(0.3), lambda z: F.leaky_relu(z, 0.3)), (nn.Softmax(), F.softmax),
])
def test_activation_modules_apply_their_function(module, function):
    x = RNG.standard_normal((3, 4))
    np.testing.assert_array_equal(module(x).data, function(x).data)


@pytest.mark.parametrize("f", [F.sigmoid, F.tanh, F.relu, lambda z: F.leaky_relu(z, 0.1),
                               F.softmax, F.log_softmax])
def test_activations_pass_gradcheck(f):
    z = RNG.standard_normal((3, 4))
    z[np.abs(z) < 1e-3] = 0.5  # keep finite differences off the kinks
    assert gradcheck(f, [z])


def test_softmax_rows_are_probabilities():
    p = F.softmax(np.array([[10.0, 5], [1000, 0]])).data
    np.testing.assert_allclose(p.sum(axis=1), 1)
    np.testing.assert_allclose(p[0], [1 / (1 + np.exp(-5)), np.exp(-5) / (1 + np.exp(-5))])


# --- cross-entropy -----------------------------------------------------------------------------
def average_ce(target, prediction):
    """ECE421 PA2's reference, with its 1e-5 inside the log."""
    return -np.sum(target * np.log(prediction + 0.00001)) / target.shape[0]


def softmax_np(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


LOGITS = RNG.standard_normal((6, 4)) * 2
LABELS = np.array([0, 3, 1, 1, 2, 0])
ONE_HOT = np.eye(4)[LABELS]


@pytest.mark.parametrize("target", [LABELS, ONE_HOT], ids=["labels", "one-hot"])
def test_cross_entropy_matches_pa2_average_ce_and_grad_ce(target):
    z = Tensor(LOGITS, requires_grad=True)
    loss = nn.CrossEntropyLoss()(z, target)
    p = softmax_np(LOGITS)
    exact = -np.sum(ONE_HOT * np.log(p)) / len(p)
    np.testing.assert_allclose(loss.item(), exact, rtol=1e-12)
    np.testing.assert_allclose(loss.item(), average_ce(ONE_HOT, p), rtol=1e-3)  # its 1e-5
    loss.backward()
    np.testing.assert_allclose(z.grad.data, (p - ONE_HOT) / len(p), rtol=1e-10)  # grad_ce / N


def test_fused_cross_entropy_equals_the_composed_one():
    fused, composed = Tensor(LOGITS, requires_grad=True), Tensor(LOGITS, requires_grad=True)
    a = F.cross_entropy(fused, LABELS)
    b = -(ONE_HOT * composed.log_softmax(axis=1)).sum(axis=1).mean()
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)
    a.backward()
    b.backward()
    np.testing.assert_allclose(fused.grad.data, composed.grad.data, rtol=1e-10)


def test_lab_07_softmax_cross_entropy_gradient_is_p_minus_y():
    v = Tensor([[10.0, 5.0]], requires_grad=True)
    F.cross_entropy(v, np.array([[1.0, 0.0]])).backward()
    p = 1 / (1 + np.exp(-5))
    np.testing.assert_allclose(v.grad.data, [[p - 1, 1 - p]])  # ≈ [-0.0067, 0.0067]


def test_cross_entropy_is_stable_for_huge_logits():
    loss = F.cross_entropy(np.array([[1000.0, -1000.0]], dtype=np.float32), np.array([1]))
    assert loss.item() == pytest.approx(2000.0) and loss.dtype == np.float32


# --- MSE, BCE ------------------------------------------------------------------------------------
def test_lab_07_half_squared_error():
    o = Tensor([10.0, 5.0], requires_grad=True)
    loss = nn.MSELoss(reduction="half_sum")(o, [11.0, 5.0])
    assert loss.item() == 0.5
    loss.backward()
    np.testing.assert_array_equal(o.grad.data, [-1, 0])


@pytest.mark.parametrize("reduction, expected", [("mean", 4.0), ("sum", 16.0), ("half_sum", 8.0)])
def test_mse_reductions(reduction, expected):
    assert F.mse_loss(np.array([1.0, 2, 3, 4]), np.array([3.0, 0, 5, 2]), reduction).item() \
        == expected


def test_mse_unknown_reduction_is_an_error():
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MSELoss("max")(np.zeros(2), np.zeros(2))


@pytest.mark.parametrize("loss", [F.mse_loss, F.bce_loss, F.bce_with_logits])
@pytest.mark.parametrize("output_shape, target_shape", [((5, 1), (5,)), ((5,), (5, 1)),
                                                        ((5, 3), (3,)), ((2,), ())])
def test_losses_reject_a_target_of_another_shape_instead_of_broadcasting(
        loss, output_shape, target_shape):
    """(5, 1) against (5,) would broadcast to (5, 5) and average 25 wrong pairs."""
    message = (rf"{loss.__name__}: target shape {re.escape(str(target_shape))} does not match "
               rf"output shape {re.escape(str(output_shape))}")
    with pytest.raises(ValueError, match=message):
        loss(np.full(output_shape, 0.5), np.ones(target_shape))


def bce_np(p, y):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


P = RNG.uniform(0.05, 0.95, (5, 3))
Y = (RNG.uniform(size=(5, 3)) > 0.5).astype(float)


def test_bce_matches_numpy_and_its_gradient():
    p = Tensor(P, requires_grad=True)
    loss = nn.BCELoss()(p, Y)
    np.testing.assert_allclose(loss.item(), bce_np(P, Y), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(p.grad.data, (P - Y) / (P * (1 - P)) / P.size, rtol=1e-10)


def test_bce_clips_probabilities_away_from_log_zero():
    loss = F.bce_loss(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(-np.log(1e-7), rel=1e-6)


@pytest.mark.parametrize("p, y", [(1.0, 0.0), (0.0, 1.0)])
def test_bce_of_a_certain_wrong_answer_still_has_a_gradient_towards_the_target(p, y):
    """Clipping p before the log would make the gradient 0 exactly where the loss is largest."""
    probability = Tensor([p], requires_grad=True)
    loss = F.bce_loss(probability, [y])
    loss.backward()
    gradient = probability.grad.data[0]
    assert loss.item() == pytest.approx(-np.log(1e-7), rel=1e-6)
    assert np.isfinite(gradient) and gradient * (p - y) > 0  # descent moves p towards y


@pytest.mark.parametrize("z", [RNG.standard_normal((5, 3)) * 3, np.zeros((5, 3))],
                         ids=["random", "zero"])
def test_bce_with_logits_equals_bce_of_sigmoid_with_gradient_sigmoid_minus_y(z):
    logits = Tensor(z, requires_grad=True)
    loss = nn.BCEWithLogitsLoss()(logits, Y)
    sigma = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(loss.item(), bce_np(sigma, Y), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(logits.grad.data, (sigma - Y) / Y.size, rtol=1e-12)


def test_fused_bce_with_logits_equals_its_composition_to_second_order():
    """The fused node against max(z, 0) - z·y + log(1 + e^-|z|) composed from engine ops."""
    z0 = RNG.standard_normal((5, 3)) * 3

    def composed(z):
        positive = z.data > 0
        return (autograd.where(positive, z, 0.0) - z * Y
                + (autograd.where(positive, -z, z).exp() + 1).log()).mean()

    results = []
    for loss in (lambda z: F.bce_with_logits(z, Y), composed):
        z = Tensor(z0, requires_grad=True)
        (g,) = autograd.grad(loss(z), z, create_graph=True)
        (h,) = autograd.grad((g * g).sum(), z)
        results.append((loss(z).item(), g.data, h.data))
    (value, g, h), (value_c, g_c, h_c) = results
    assert value == pytest.approx(value_c, rel=1e-14)
    np.testing.assert_allclose(g, g_c, rtol=1e-12)
    np.testing.assert_allclose(h, h_c, rtol=1e-10)


def test_bce_with_logits_is_stable_for_huge_logits():
    z = Tensor(np.array([-1000.0, 1000.0], dtype=np.float32), requires_grad=True)
    loss = F.bce_with_logits(z, np.array([1.0, 0.0]))
    assert loss.item() == pytest.approx(1000.0) and loss.dtype == np.float32
    loss.backward()
    np.testing.assert_allclose(z.grad.data, [-0.5, 0.5])


@pytest.mark.parametrize("loss", [
    lambda o: F.mse_loss(o, Y), lambda o: F.mse_loss(o, Y, "half_sum"),
    lambda o: F.bce_loss(F.sigmoid(o), Y), lambda o: F.bce_with_logits(o, Y),
    lambda o: F.cross_entropy(o, np.array([0, 2, 1, 1, 2])),
])
def test_losses_pass_gradcheck(loss):
    assert gradcheck(loss, [RNG.standard_normal((5, 3))])


def test_losses_keep_float32():
    o = np.ones((2, 3), dtype=np.float32)
    for loss in (F.mse_loss(o, np.zeros((2, 3))), F.bce_with_logits(o, np.zeros((2, 3))),
                 F.bce_loss(o / 2, np.zeros((2, 3)))):
        assert loss.dtype == np.float32


# --- L2 penalty ----------------------------------------------------------------------------------
LAB_W = np.array([[1.0, 5, 7], [3, 2, 4]])


@pytest.mark.parametrize("half, value, gradient", [
    (True, 5.2, 0.1 * LAB_W),  # lab 07: (λ/2)‖W‖² = 0.05 · 104, gradient λW
    (False, 10.4, 0.2 * LAB_W),  # λ‖W‖², gradient 2λW
])
def test_l2_penalty_lab_07(half, value, gradient):
    w = Tensor(LAB_W, requires_grad=True)
    penalty = nn.l2_penalty([w], 0.1, half=half)
    assert penalty.item() == pytest.approx(value)
    penalty.backward()
    np.testing.assert_allclose(w.grad.data, gradient)


def test_l2_penalty_sums_over_parameters():
    a, b = Tensor(np.ones(3)), Tensor(np.full(2, 2.0))
    assert F.l2_penalty([a, b], 1.0).item() == 11.0
    with pytest.raises(ValueError, match="no parameters"):
        F.l2_penalty([], 1.0)


# --- targets that require grad -----------------------------------------------------------------
TARGET_RNG = np.random.default_rng(1)  # its own: RNG's draws belong to the tests above
Z_4x3 = TARGET_RNG.standard_normal((4, 3))
P_4x3 = 1 / (1 + np.exp(-Z_4x3))
Y_4x3 = (TARGET_RNG.random((4, 3)) > 0.5).astype(np.float64)


@pytest.mark.parametrize("loss, output, target, name", [
    (nn.CrossEntropyLoss(), Z_4x3, np.eye(3)[[0, 2, 1, 0]], "cross_entropy"),
    (nn.BCELoss(), P_4x3, Y_4x3, "bce_loss"),
    (nn.BCEWithLogitsLoss(), Z_4x3, Y_4x3, "bce_with_logits"),
    (autograd.softmax_cross_entropy, Z_4x3, np.eye(3)[[0, 2, 1, 0]], "softmax_cross_entropy"),
])
def test_a_target_that_requires_grad_is_refused_where_targets_are_constants(
        loss, output, target, name):
    z = Tensor(output, requires_grad=True)
    y = Tensor(target, requires_grad=True)
    with pytest.raises(ValueError, match=rf"^{name}: the target requires grad.*target\.detach"):
        loss(z, y)
    assert loss(z, y.detach()).item() == pytest.approx(loss(z, target).item())
    with autograd.no_grad():  # nothing is recorded, so nothing is lost: allowed
        assert loss(z, y).item() == pytest.approx(loss(z, target).item())


@pytest.mark.parametrize("reduction", ["mean", "sum", "half_sum"])
def test_mse_loss_differentiates_a_target_that_requires_grad(reduction):
    o = Tensor(Z_4x3, requires_grad=True)
    y = Tensor(P_4x3, requires_grad=True)
    nn.MSELoss(reduction)(o, y).backward()
    np.testing.assert_allclose(y.grad.data, -o.grad.data, rtol=1e-12)
    scale = {"mean": 2 / Z_4x3.size, "sum": 2.0, "half_sum": 1.0}[reduction]
    np.testing.assert_allclose(y.grad.data, scale * (P_4x3 - Z_4x3), rtol=1e-12)
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction),
                     [Tensor(Z_4x3, requires_grad=True), Tensor(P_4x3,
                                                                 requires_grad=True)])


def test_mse_loss_checks_the_shape_of_a_differentiable_target():
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(4,\) does not match"):
        F.mse_loss(Tensor(np.ones((4, 1)), requires_grad=True),
                   Tensor(np.ones(4), requires_grad=True))
