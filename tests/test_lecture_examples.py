"""The worked examples of the lecture notes (shared/seeds), reproduced by the engine.

Sources: lecture 1 (gradient descent on a parabola), lab 07 (linear, ReLU, regularisation, sum,
L2 and softmax/cross-entropy layers, one full forward pass) and lecture 11 (the MNIST MLP's
hand-written backward). Where the notes slip, the test asserts the right value and says so.
"""

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


def leaf(data):
    return Tensor(np.asarray(data, dtype=np.float64), requires_grad=True)


# --- lecture 1: derivatives and gradient descent ------------------------------------------------
@pytest.mark.parametrize(("x", "slope"), [(2.0, 4.0), (-2.0, -4.0), (1.0, 2.0)],
                         ids=["y'(2)=4", "y'(-2)=-4", "y'(1)=2"])
def test_lecture1_derivative_of_x_squared(x, slope):
    """y = x², y' = 2x."""
    t = leaf(x)
    (t**2).backward()
    assert t.grad.item() == slope == 2 * x


def gradient_descent(f, x, learning_rate, steps):
    """x := x - α f'(x), with f' from the engine's backward; returns the iterates."""
    iterates = []
    for _ in range(steps):
        t = leaf(x)
        f(t).backward()
        x = x - learning_rate * t.grad.item()
        iterates.append(x)
    return iterates


# The notes write "x := x - f'(x) = x - 4x = -3x" for f(x) = x². But (x²)' = 2x, so with α = 1
# the step is x - 2x = -x and the iterates flip between -1 and 1; the notes' -3, 9, -27 belong to
# f(x) = 2x², whose derivative is 4x. Likewise with α = 0.1 the notes' 0.6x (0.6, 0.36, 0.216)
# is x - 0.1·4x, again f = 2x²; for f = x² it is x - 0.1·2x = 0.8x (0.8, 0.64, 0.512).
GRADIENT_DESCENT = [
    pytest.param(lambda x: x**2, 1.0, [-1.0, 1.0, -1.0, 1.0], id="x^2-alpha1-flips(right)"),
    pytest.param(lambda x: 2 * x**2, 1.0, [-3.0, 9.0, -27.0, 81.0],
                 id="2x^2-alpha1-notes-iterates"),
    pytest.param(lambda x: 2 * x**2, 0.1, [0.6, 0.36, 0.216, 0.1296],
                 id="2x^2-alpha0.1-notes-iterates"),
    pytest.param(lambda x: x**2, 0.1, [0.8, 0.64, 0.512, 0.4096], id="x^2-alpha0.1(right)"),
]


@pytest.mark.parametrize(("f", "learning_rate", "expected"), GRADIENT_DESCENT)
def test_lecture1_gradient_descent_iterates(f, learning_rate, expected):
    np.testing.assert_allclose(gradient_descent(f, 1.0, learning_rate, 4), expected, rtol=1e-12)


# --- lab 07: the layers one by one --------------------------------------------------------------
W_LAB = [[1.0, 5.0, 7.0], [3.0, 2.0, 4.0]]
X_LAB = [2.0, 10.0, 5.0]


@pytest.mark.parametrize("form", ["W@x+b", "linear(x,W.T,b)"])
def test_lab07_linear_layer_backward(form):
    """z = W x + b with dJ/dz = 1: dJ/dW = dJ/dz xᵀ, dJ/db = dJ/dz, dJ/dx = Wᵀ dJ/dz.

    The notes print Wᵀ as [[1,3],[2,5],[7,4]] (a slip: Wᵀ = [[1,3],[5,2],[7,4]]); the printed
    result [4, 7, 11] is nevertheless right, since 2 + 5 = 5 + 2.
    """
    w, x, b = leaf(W_LAB), leaf(X_LAB), leaf([4.0, 9.0])
    z = w @ x + b if form == "W@x+b" else ag.linear(x, w.T, b)
    np.testing.assert_array_equal(z.data, [87.0 + 4.0, 46.0 + 9.0])
    dz = np.array([1.0, 1.0])
    z.backward(gradient=dz)
    np.testing.assert_array_equal(w.grad.data, [[2.0, 10.0, 5.0], [2.0, 10.0, 5.0]])
    np.testing.assert_array_equal(w.grad.data, np.outer(dz, X_LAB))
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [4.0, 7.0, 11.0])
    np.testing.assert_array_equal(x.grad.data, np.array([[1, 3], [5, 2], [7, 4]]) @ dz)


def test_lab07_gradient_descent_step():
    """α = 0.1: W* = W - α dJ/dW = [[0.8, 4, 6.5], [2.8, 1, 3.5]], b* = [3.9, 8.9]."""
    w, x, b = leaf(W_LAB), leaf(X_LAB), leaf([4.0, 9.0])
    (w @ x + b).backward(gradient=np.ones(2))
    with ag.no_grad():
        w_new = w - 0.1 * w.grad
        b_new = b - 0.1 * b.grad
    np.testing.assert_allclose(w_new.data, [[0.8, 4.0, 6.5], [2.8, 1.0, 3.5]], rtol=1e-15)
    np.testing.assert_allclose(b_new.data, [3.9, 8.9], rtol=1e-15)


def test_lab07_linear_layer_forward():
    """u = W x + b with b = [4, 8]: [87, 46] + [4, 8] = [91, 54]."""
    u = Tensor(W_LAB) @ Tensor(X_LAB) + Tensor([4.0, 8.0])
    np.testing.assert_array_equal(u.data, [91.0, 54.0])


def test_lab07_relu_layer():
    """v = [-4, 10, 5]: h = [0, 10, 5]; with dJ/dh = 1, dJ/dv = relu'(v) = [0, 1, 1]."""
    v = leaf([-4.0, 10.0, 5.0])
    h = v.relu()
    np.testing.assert_array_equal(h.data, [0.0, 10.0, 5.0])
    h.backward(gradient=np.ones(3))
    np.testing.assert_array_equal(v.grad.data, [0.0, 1.0, 1.0])


# The notes define S = λ‖W‖²_F in the backprop section but give dJ/dW = λW, which is the
# gradient of (λ/2)‖W‖²_F (the form of the forward section, S = 5.2); for S = λ‖W‖²_F the
# gradient is 2λW. Both are checked.
REGULARISERS = [
    pytest.param(lambda w, lam: lam / 2 * (w * w).sum(), 5.2,
                 [[0.1, 0.5, 0.7], [0.3, 0.2, 0.4]], id="half-lambda-norm:grad=lambda*W"),
    pytest.param(lambda w, lam: lam * (w * w).sum(), 10.4,
                 [[0.2, 1.0, 1.4], [0.6, 0.4, 0.8]], id="lambda-norm:grad=2*lambda*W"),
]


@pytest.mark.parametrize(("regulariser", "value", "gradient"), REGULARISERS)
def test_lab07_regularisation_layer(regulariser, value, gradient):
    """λ = 0.1, ‖W‖²_F = 1 + 25 + 49 + 9 + 4 + 16 = 104."""
    w = leaf(W_LAB)
    s = regulariser(w, 0.1)
    assert s.item() == pytest.approx(value, rel=1e-14)
    s.backward()
    np.testing.assert_allclose(w.grad.data, gradient, rtol=1e-14)


def test_lab07_sum_layer():
    """s = s1 + s2 = 50 + 5 = 55; ds/ds1 = ds/ds2 = 1."""
    s1, s2 = leaf(50.0), leaf(5.0)
    s = s1 + s2
    assert s.item() == 55.0
    s.backward()
    assert s1.grad.item() == 1.0 and s2.grad.item() == 1.0


def test_lab07_l2_loss_layer():
    """L = ½‖o - y‖² with o = [10, 5], y = [11, 5]: L = 0.5, dL/do = o - y = [-1, 0]."""
    o, y = leaf([10.0, 5.0]), np.array([11.0, 5.0])
    loss = 0.5 * ((o - y) ** 2).sum()
    assert loss.item() == 0.5
    loss.backward()
    np.testing.assert_array_equal(o.grad.data, [-1.0, 0.0])


V_LAB = [10.0, 5.0]
P_LAB = np.array([1 / (1 + np.exp(-5.0)), np.exp(-5.0) / (1 + np.exp(-5.0))])  # by hand


def test_lab07_softmax_values():
    """softmax([10, 5]) = [1/(1 + e⁻⁵), e⁻⁵/(1 + e⁻⁵)] = [0.99331, 0.00669].

    The notes print 0.993 in one place and 0.985 in another: 0.985 is wrong.
    """
    o = Tensor(V_LAB).softmax()
    np.testing.assert_allclose(o.data, P_LAB, rtol=1e-14)
    np.testing.assert_allclose(o.data, [0.99331, 0.00669], atol=5e-6)
    assert abs(o.data[0] - 0.985) > 0.008
    assert o.data.sum() == pytest.approx(1.0)


def test_lab07_softmax_cross_entropy_gradient():
    """For one sample the gradient of the cross-entropy at the logits is p - y.

    p - y = [-0.00669, 0.00669]; the notes print [-0.007, 0.007], the same rounded. (The notes
    call it dJ/do, but it is the gradient at v, the softmax's input.)
    """
    v = leaf([V_LAB])
    ag.softmax_cross_entropy(v, np.array([0])).backward()
    np.testing.assert_allclose(v.grad.data[0], P_LAB - [1.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(v.grad.data[0], [-0.007, 0.007], atol=5e-4)


def test_lab07_cross_entropy_value():
    """One sample: L = -ln 0.993307 = ln(1 + e⁻⁵) = 0.0067153, not the printed 0.00236.

    L = -(1/N) Σ y log o averages over N samples; the notes put N = 2, the number of classes,
    which gives -½ ln(0.993307) = 0.0033577 (and even the rounded o = 0.993 gives 0.00351, not
    0.00236). Their gradient o - y has no ½: only N = 1 agrees with it (README explains).
    """
    v = Tensor(V_LAB)
    y = np.array([1.0, 0.0])
    notes_formula = -(1 / 2) * (y * v.softmax().log()).sum()
    assert notes_formula.item() == pytest.approx(-0.5 * np.log(P_LAB[0]), rel=1e-12)
    assert notes_formula.item() == pytest.approx(0.0033577, abs=5e-8)
    assert notes_formula.item() != pytest.approx(0.00236, abs=1e-4)
    assert -0.5 * np.log(0.993) == pytest.approx(0.00351, abs=5e-6)
    engine = ag.softmax_cross_entropy(Tensor([V_LAB]), np.array([0]))
    assert engine.item() == pytest.approx(np.log1p(np.exp(-5.0)), rel=1e-12)
    assert engine.item() == pytest.approx(2 * notes_formula.item(), rel=1e-12)


def test_lab07_full_network_forward():
    """z = W x + b = [24, 47, 86], h = relu(z) = z, o = M h + c = [320, 347].

    The notes print o = [320, 441]: the second row is 3·24 + 4·47 + 1·86 + 1 = 347 (not 440 + 1).
    """
    x = leaf([10.0, 5.0])
    w, b = leaf([[1.0, 2.0], [2.0, 5.0], [7.0, 3.0]]), leaf([4.0, 2.0, 1.0])
    m, c = leaf([[4.0, 1.0, 2.0], [3.0, 4.0, 1.0]]), leaf([5.0, 1.0])
    z = w @ x + b
    h = z.relu()
    o = m @ h + c
    np.testing.assert_array_equal(z.data, [24.0, 47.0, 86.0])
    np.testing.assert_array_equal(h.data, z.data)
    np.testing.assert_array_equal(o.data, [4 * 24 + 47 + 2 * 86 + 5, 3 * 24 + 4 * 47 + 86 + 1])
    np.testing.assert_array_equal(o.data, [320.0, 347.0])
    # and back: with every unit active, d(o₁ + o₂)/dx = Wᵀ Mᵀ 1 = Wᵀ [7, 5, 3] = [38, 48]
    o.backward(gradient=np.ones(2))
    np.testing.assert_array_equal(x.grad.data, [38.0, 48.0])
    np.testing.assert_array_equal(w.grad.data, np.outer([7.0, 5.0, 3.0], [10.0, 5.0]))
    np.testing.assert_array_equal(m.grad.data, np.outer([1.0, 1.0], [24.0, 47.0, 86.0]))


# --- lecture 11: the MNIST MLP's backward, written by hand --------------------------------------
def lecture11_backward(X, labels, W1, B1, W2, B2, W3, B3):
    """The lecture's NumPy forward and hand-written backward, line by line (the softmax shifted
    by the row max, which cancels, so that large logits do not overflow)."""
    n = X.shape[0]
    Z1 = X @ W1 + B1
    A1 = 1 / (1 + np.exp(-Z1))
    Z2 = A1 @ W2 + B2
    A2 = 1 / (1 + np.exp(-Z2))
    L = A2 @ W3 + B3
    E = np.exp(L - L.max(axis=1, keepdims=True))
    Pred = E / np.sum(E, axis=1, keepdims=True)
    J = np.mean(-np.log(Pred[np.arange(n), labels]))
    Y = np.zeros_like(Pred)
    Y[np.arange(n), labels] = 1
    dL = -1 / n * (Y - Pred)
    dA2 = dL @ W3.T
    dW3 = A2.T @ dL
    dB3 = np.sum(dL, axis=0)
    dZ2 = dA2 * A2 * (1 - A2)
    dA1 = dZ2 @ W2.T
    dW2 = A1.T @ dZ2
    dB2 = np.sum(dZ2, axis=0)
    dZ1 = dA1 * A1 * (1 - A1)
    dW1 = X.T @ dZ1
    dB1 = np.sum(dZ1, axis=0)
    return J, [dW1, dB1, dW2, dB2, dW3, dB3]


def fused_mlp(X, labels, W1, B1, W2, B2, W3, B3):
    A1 = ag.linear(X, W1, B1).sigmoid()
    A2 = ag.linear(A1, W2, B2).sigmoid()
    return ag.softmax_cross_entropy(ag.linear(A2, W3, B3), labels)


def composed_mlp(X, labels, W1, B1, W2, B2, W3, B3):
    """The lecture's forward as written: 1/(1+exp(-Z)), exp(L)/sum(exp(L)), mean(-log(Pred[Y]))."""
    A1 = 1 / (1 + (-(X @ W1 + B1)).exp())
    A2 = 1 / (1 + (-(A1 @ W2 + B2)).exp())
    L = A2 @ W3 + B3
    Pred = L.exp() / L.exp().sum(axis=1, keepdims=True)
    return (-Pred[np.arange(X.shape[0]), labels].log()).mean()


@pytest.mark.parametrize("model", [fused_mlp, composed_mlp], ids=["fused", "composed"])
def test_lecture11_mlp_gradients_equal_the_hand_written_backward(model):
    """A 3-layer sigmoid MLP (6 → 5 → 4 → 3) on a batch of 7: the engine's dW, dB equal the
    lecture's dL = -(Y - Pred)/N, dW3 = A2ᵀ dL, dB3 = Σ dL, dZ2 = dA2·A2·(1 - A2), ..."""
    rng = np.random.default_rng(11)
    X = rng.uniform(0, 1, (7, 6))
    labels = rng.integers(0, 3, 7)
    shapes = [(6, 5), (5,), (5, 4), (4,), (4, 3), (3,)]
    params = [rng.normal(0, 1, s) for s in shapes]
    expected_loss, expected_grads = lecture11_backward(X, labels, *params)
    leaves = [leaf(p) for p in params]
    loss = model(X, labels, *leaves)
    loss.backward()
    assert loss.item() == pytest.approx(expected_loss, rel=1e-12)
    for name, p, expected in zip(["W1", "B1", "W2", "B2", "W3", "B3"], leaves, expected_grads):
        assert p.grad.shape == expected.shape, name
        np.testing.assert_allclose(p.grad.data, expected, rtol=1e-10, atol=1e-12, err_msg=name)
