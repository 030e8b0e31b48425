"""Tests for nn.optim: the first two steps of each rule against hand-computed values."""

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn import SGD, Adam, Parameter

P0 = [1.0, -2.0]
G1, G2 = np.array([0.5, 1.0]), np.array([-1.0, 2.0])  # the gradients of steps 1 and 2


def two_steps(make_optimizer):
    p = Parameter(np.array(P0))
    optimizer = make_optimizer([p])
    positions = []
    for g in (G1, G2):
        p.grad = Tensor(g)
        optimizer.step()
        positions.append(p.data.copy())
    return positions


# lr = 0.1, γ = m = 0.9; v₁ = 0.1·g₁ = [0.05, 0.1] and v₂ = 0.9·v₁ + 0.1·g₂ = [-0.055, 0.29]
# in both momentum forms (lr·g = (1 - m)·g here).
@pytest.mark.parametrize("make, step1, step2", [
    # p₁ = p₀ - 0.1·g₁; p₂ = p₁ - 0.1·g₂
    (lambda ps: SGD(ps, lr=0.1), [0.95, -2.1], [1.05, -2.3]),
    # classic (003): p₁ = p₀ - v₁; p₂ = p₁ - v₂
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9), [0.95, -2.1], [1.005, -2.39]),
    # EMA (004): p₁ = p₀ - 0.1·v₁; p₂ = p₁ - 0.1·v₂
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9, ema=True), [0.995, -2.01], [1.0005, -2.039]),
    # Nesterov: p -= 0.9·v + 0.1·g: p₁ = p₀ - [0.095, 0.19]; p₂ = p₁ - [-0.1495, 0.461]
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True), [0.905, -2.19], [1.0545, -2.651]),
    # Nesterov EMA: p -= 0.1·(0.9·v + 0.1·g)
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, ema=True),
     [0.9905, -2.019], [1.00545, -2.0651]),
    # weight decay 0.5: g₁ + 0.5·p₀ = [1, 0]; g₂ + 0.5·p₁ = [-0.55, 1]
    (lambda ps: SGD(ps, lr=0.1, weight_decay=0.5), [0.9, -2.0], [0.955, -2.1]),
    # Adam: step 1 moves each coordinate by lr·sign(g); step 2: m̂ = [-0.055, 0.29]/0.19,
    # v̂ = [0.00124975, 0.004999]/0.001999, p₂ = p₁ - 0.1·m̂/√v̂
    (lambda ps: Adam(ps, lr=0.1), [0.9, -2.1], [0.9366104, -2.1965182]),
    # Adam with weight decay 0.5: the first step still moves by lr·sign(g + 0.5·p₀) = [0.1, 0]
    (lambda ps: Adam(ps, lr=0.1, weight_decay=0.5), [0.9, -2.0], None),
], ids=["sgd", "momentum", "ema", "nesterov", "nesterov-ema", "weight-decay", "adam", "adam-wd"])
def test_first_two_steps(make, step1, step2):
    p1, p2 = two_steps(make)
    np.testing.assert_allclose(p1, step1, rtol=1e-7)
    if step2 is not None:
        np.testing.assert_allclose(p2, step2, rtol=1e-7)


def test_lab_07_gradient_descent_step():
    layer = nn.Linear(3, 2, dtype=np.float64)
    layer.load_state_dict({"weight": np.array([[1.0, 5, 7], [3, 2, 4]]).T,
                           "bias": np.array([4.0, 9])})
    layer(np.array([[2.0, 10, 5]])).backward(np.ones((1, 2)))
    SGD(layer.parameters(), lr=0.1).step()
    np.testing.assert_allclose(layer.weight.data.T, [[0.8, 4.0, 6.5], [2.8, 1.0, 3.5]])
    np.testing.assert_allclose(layer.bias.data, [3.9, 8.9])


def test_classic_momentum_equals_pytorch_form_for_constant_lr():
    """PyTorch: v = γv + g, p -= lr·v. Ours: v = γv + lr·g, p -= v. Same steps."""
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((6, 3))
    p = Parameter(np.zeros(3))
    optimizer = SGD([p], lr=0.05, momentum=0.8)
    reference, velocity = np.zeros(3), np.zeros(3)
    for g in grads:
        p.grad = Tensor(g)
        optimizer.step()
        velocity = 0.8 * velocity + g
        reference -= 0.05 * velocity
    np.testing.assert_allclose(p.data, reference, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, 0.1, momentum=0.9, weight_decay=0.1),
                                  lambda ps: Adam(ps, 0.1, weight_decay=0.1)])
def test_updates_are_in_place_and_skip_missing_gradients(make):
    used, unused = Parameter(np.ones(3, dtype=np.float32)), Parameter(np.ones(2, np.float32))
    arrays = used.data, unused.data
    optimizer = make([used, unused])
    used.grad = Tensor(np.ones(3, dtype=np.float32))
    optimizer.step()
    assert used.data is arrays[0] and unused.data is arrays[1]  # same arrays, changed in place
    assert used.data.dtype == np.float32 and np.all(used.data < 1)
    np.testing.assert_array_equal(unused.data, 1)
    optimizer.zero_grad()
    assert used.grad is None


def test_adam_counts_steps_per_parameter():
    a, b = Parameter(np.zeros(1)), Parameter(np.zeros(1))
    optimizer = Adam([a, b], lr=0.1)
    a.grad = Tensor(np.ones(1))
    optimizer.step()
    b.grad = Tensor(np.ones(1))
    optimizer.step()
    assert optimizer.steps == [2, 1]
    np.testing.assert_allclose(b.data, [-0.1])  # b's first step is bias-corrected as step 1


@pytest.mark.parametrize("make, error, message", [
    (lambda: SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda: SGD([np.ones(2)], lr=0.1), TypeError, "parameter 0 is not a Tensor"),
    (lambda: SGD([Parameter(np.ones(2))], lr=0.1, nesterov=True), ValueError, "nesterov"),
])
def test_bad_arguments_are_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def one_parameter():
    return [Parameter(np.ones(2))]


NAN, INF = float("nan"), float("inf")
BAD_HYPERPARAMETERS = [  # (optimizer, keyword arguments, the message)
    (SGD, dict(lr=-1), "SGD: lr must be a finite number >= 0, got -1"),
    (SGD, dict(lr=NAN), "SGD: lr must be a finite number >= 0, got nan"),
    (SGD, dict(lr=INF), "SGD: lr must be a finite number >= 0, got inf"),
    (SGD, dict(lr="0.1"), "SGD: lr must be a finite number >= 0, got '0.1'"),
    (SGD, dict(lr=0.1, momentum=-0.5), "SGD: momentum must be a finite number in [0, 1), got -0.5"),
    (SGD, dict(lr=0.1, momentum=1.0), "SGD: momentum must be a finite number in [0, 1), got 1.0"),
    (SGD, dict(lr=0.1, momentum=NAN), "SGD: momentum must be a finite number in [0, 1), got nan"),
    (SGD, dict(lr=0.1, weight_decay=-1e-4),
     "SGD: weight_decay must be a finite number >= 0, got -0.0001"),
    (SGD, dict(lr=0.1, weight_decay=NAN),
     "SGD: weight_decay must be a finite number >= 0, got nan"),
    (Adam, dict(lr=-1e-3), "Adam: lr must be a finite number >= 0, got -0.001"),
    (Adam, dict(lr=NAN), "Adam: lr must be a finite number >= 0, got nan"),
    (Adam, dict(eps=NAN), "Adam: eps must be a finite number > 0, got nan"),
    (Adam, dict(eps=0.0), "Adam: eps must be a finite number > 0, got 0.0"),
    (Adam, dict(eps=-1e-8), "Adam: eps must be a finite number > 0, got -1e-08"),
    (Adam, dict(betas=(0.9, 1.0)), "Adam: betas[1] must be a finite number in [0, 1), got 1.0"),
    (Adam, dict(betas=(-0.1, 0.999)),
     "Adam: betas[0] must be a finite number in [0, 1), got -0.1"),
    (Adam, dict(betas=(NAN, 0.999)), "Adam: betas[0] must be a finite number in [0, 1), got nan"),
    (Adam, dict(betas=0.9), "Adam: betas must be a pair (beta1, beta2), got 0.9"),
    (Adam, dict(weight_decay=-1.0), "Adam: weight_decay must be a finite number >= 0, got -1.0"),
]


@pytest.mark.parametrize("optimizer, kwargs, message", BAD_HYPERPARAMETERS)
def test_bad_hyperparameters_are_one_line_errors_naming_optimizer_and_value(
        optimizer, kwargs, message):
    with pytest.raises(ValueError) as error:
        optimizer(one_parameter(), **kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)])
def test_a_learning_rate_changed_later_is_checked_too(make):
    optimizer = make(one_parameter())
    optimizer.lr = 0.05  # a schedule may change it
    assert optimizer.lr == 0.05
    with pytest.raises(ValueError, match=r": lr must be a finite number >= 0, got -0.05$"):
        optimizer.lr = -0.05
    assert optimizer.lr == 0.05


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps),
                                  lambda ps: SGD(ps, lr=0.1, momentum=0.9)])
def test_the_same_parameter_twice_is_refused(make):
    """Given twice, a parameter would be stepped twice per step()."""
    w, b = one_parameter() + one_parameter()
    with pytest.raises(ValueError, match=r": parameter 2 is parameter 0 again; pass each "):
        make([w, b, w])
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="parameter 2 is parameter 0 again"):
        make(model.parameters() + model.parameters())
