"""autograd.compile: the compiled step is the eager step, bit for bit, and says what it can't do."""

import json
import os

import numpy as np
import pytest
from test_lecture_examples import lecture11_backward

import autograd
import nn
from autograd import Tensor, no_grad
from autograd.tracing import TracingError


def _mnist_subset(n: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """The first n MNIST training images if $MNIST_DIR is set, else synthetic images."""
    if os.environ.get("MNIST_DIR"):
        (x, y), _ = nn.load_mnist(os.environ["MNIST_DIR"], download=False, progress=False)
        return nn.prepare_images(x[:n]).astype(dtype), y[:n].astype(np.int64)
    rng = np.random.default_rng(0)
    return rng.random((n, 784)).astype(dtype), rng.integers(0, 10, n)


def _train(preset: str, dtype, compiled: bool, steps: int = 50, batch: int = 32):
    """`steps` steps of the preset's network and optimizer; the losses and final parameters."""
    X, y = _mnist_subset(steps * batch, dtype)
    if preset == "lecture":
        model = nn.mlp([784, 64, 32, 10], "sigmoid", "normal", rng=0, dtype=dtype)
        optimizer = nn.SGD(model.parameters(), lr=0.03)
    else:
        model = nn.mlp([784, 512, 256, 10], "relu", "he-normal", rng=0, dtype=dtype)
        optimizer = nn.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(xb, yb):
        outputs = model(xb)
        return loss_fn(outputs, yb), outputs

    run = autograd.compile(step) if compiled else step
    losses, outputs = [], []
    for i in range(steps):
        xb, yb = X[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]
        optimizer.zero_grad()
        loss, out = run(xb, yb)
        if not compiled:
            loss.backward()
        optimizer.step()
        losses.append(loss.item())
        outputs.append(out.data.copy())
    return losses, outputs, [p.data.copy() for p in model.parameters()]


@pytest.mark.parametrize("preset", ["lecture", "modern"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_training_is_bit_identical_to_eager(preset, dtype):
    eager_losses, eager_outputs, eager_params = _train(preset, dtype, compiled=False)
    losses, outputs, params = _train(preset, dtype, compiled=True)
    assert losses == eager_losses
    assert all(np.array_equal(a, b) for a, b in zip(outputs, eager_outputs))
    for a, b in zip(params, eager_params, strict=True):
        assert a.dtype == b.dtype == dtype
        assert np.array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# Expressions: each compiled, called on two sets of inputs, against the engine on each.
# ---------------------------------------------------------------------------------------------
def _scatter_add(a):
    """NumPy code on a traced array: a new array, then an in-place np.add.at into it."""
    out = np.zeros_like(a)
    np.add.at(out, (np.array([0, 0, 2]),), a[:3] > 0)
    return out * a


EXPRESSIONS = {
    # name: (function of (x, y), shape of x, shape of y)
    "broadcast add, mul": (lambda x, y: ((x + y) * y).sum(), (3, 4), (4,)),
    "broadcast to (3, 1)": (lambda x, y: (x * y - x / (y * y + 1)).sum(), (3, 4), (3, 1)),
    "scalars and pow": (lambda x, y: (2.0 * x ** 2 - 3 / (1 + y.abs()) ** 0.5).sum(),
                        (3, 4), (3, 4)),
    "neg, exp, log, sqrt": (lambda x, y: (-(x.exp() + (y * y + 1).log()).sqrt()).sum(),
                            (5,), (5,)),
    "tanh, sigmoid, relu": (lambda x, y: (x.tanh() * y.sigmoid() + (x - y).relu()).sum(),
                            (2, 3), (2, 3)),
    "sum over axes": (lambda x, y: (x.sum(axis=0) * y).sum() + x.sum(axis=(0, 2)).sum(),
                      (2, 3, 4), (3, 4)),
    "mean keepdims": (lambda x, y: (x - x.mean(axis=1, keepdims=True)).exp().mean() * y.mean(),
                      (3, 5), (2,)),
    "max and min with ties": (lambda x, y: (x.clip(-0.5, 0.5).max(axis=1) * y).sum()
                              + x.clip(-0.5, 0.5).min(), (4, 3), (4,)),
    "var, logsumexp": (lambda x, y: x.var(axis=0).sum() + x.logsumexp(axis=1).sum() * y.sum(),
                       (4, 3), (2,)),
    "basic slicing": (lambda x, y: (x[1:, ::2] * y[:2]).sum() + x[0, 1], (3, 4), (2,)),
    "integer arrays, repeats": (lambda x, y: (x[np.array([0, 2, 0])] * y).sum(), (3, 4), (4,)),
    "NumPy on traced arrays (zeros_like, add.at)": (
        lambda x, y: (x * Tensor(_scatter_add(y.data))).sum() + y.sum(), (3, 4), (3, 4)),
    "boolean mask from data": (lambda x, y: x[x > 0].sum() * y.sum(), (3, 4), (2,)),
    "fan-out": (lambda x, y: (x * x + x.exp() * x - y * x).sum(), (3,), (3,)),
    "maximum, minimum, clip, where": (
        lambda x, y: (x.maximum(y) + x.minimum(0.0) + x.clip(-0.5, 0.5)
                      + autograd.where(x > y, x, y * 2)).sum(), (3, 4), (3, 4)),
    "reshape, transpose, swapaxes, broadcast_to": (
        lambda x, y: (x.reshape(4, 3).T.swapaxes(0, 1).reshape(-1) * y.broadcast_to((12,)))
        .sum(), (3, 4), (1,)),
    "matmul, 1-d and batched": (
        lambda x, y: (x @ y).sum() + ((x.reshape(2, 3, 2) @ y[:2].reshape(2, 1)) ** 2).sum()
        + (y @ y), (3, 4), (4,)),
    "linear": (lambda x, y: autograd.linear(x, y.reshape(4, 1), y[:1]).sigmoid().sum(),
               (5, 4), (4,)),
    "softmax, log_softmax": (lambda x, y: (x.softmax(axis=1) * y).sum()
                             + (x.log_softmax(axis=0) ** 2).sum(), (3, 4), (4,)),
    "cross-entropy, labels from data": (lambda x, y: autograd.softmax_cross_entropy(
        x, np.argmax(y.data, axis=1)) * y.sum(), (6, 4), (6, 4)),
    "cross-entropy, probabilities": (lambda x, y: autograd.softmax_cross_entropy(
        x, y.softmax(axis=1).detach()) * y.sum(), (3, 4), (3, 4)),
    "float32 cast": (lambda x, y: (x.astype(np.float32) * 2).sum().double() * y.sum(),
                     (3,), (2,)),
}


@pytest.mark.parametrize("name", EXPRESSIONS)
@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_expression_replays_like_the_engine(name, x_requires_grad):
    f, x_shape, y_shape = EXPRESSIONS[name]
    compiled = autograd.compile(f)
    for seed in (1, 2, 3):  # the first call traces; later calls replay on new values
        rng = np.random.default_rng(seed)
        x_data, y_data = rng.normal(size=x_shape), rng.normal(size=y_shape)
        x1, y1 = Tensor(x_data, requires_grad=x_requires_grad), Tensor(y_data, requires_grad=True)
        x2, y2 = Tensor(x_data, requires_grad=x_requires_grad), Tensor(y_data, requires_grad=True)
        expected = f(x1, y1)
        expected.backward()
        got = compiled(x2, y2)
        assert got.requires_grad is False and got.dtype == expected.dtype
        assert np.array_equal(got.data, expected.data), (name, seed)
        for mine, theirs in ((x2, x1), (y2, y1)):
            if theirs.grad is None:
                assert mine.grad is None, (name, seed)
            else:
                assert np.array_equal(mine.grad.data, theirs.grad.data), (name, seed)
    assert len(compiled.programs) == 1


def test_common_subexpressions_are_shared_and_dead_code_removed():
    def f(x, w):
        unused = np.exp(x * 3)  # noqa: F841 - dead code
        return (x * w).sum() + (x * w).exp().sum()

    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(3, 2)), Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    plain = autograd.compile(f, optimize=False)
    optimized = autograd.compile(f)
    plain(x, w)
    first = w.grad.data.copy()
    w.grad = None
    optimized(x, w)
    assert np.array_equal(w.grad.data, first)
    assert plain.program.source.count("x * w") == 2
    assert optimized.program.source.count("x * w") == 1
    assert "x * 3" in plain.program.source and "x * 3" not in optimized.program.source
    assert len(optimized.program.instructions) < len(plain.program.instructions)


# ---------------------------------------------------------------------------------------------
# Semantics: retracing, captured parameters, in-place updates, accumulation.
# ---------------------------------------------------------------------------------------------
def _small_model():
    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = Tensor(np.zeros(3), requires_grad=True)
    return W, b


def test_new_shapes_and_dtypes_trace_again_and_each_trace_is_kept():
    W, b = _small_model()
    compiled = autograd.compile(lambda X: (X @ W + b).tanh().sum())
    rng = np.random.default_rng(1)
    for X in (rng.normal(size=(8, 4)), rng.normal(size=(5, 4)), rng.normal(size=(8, 4)),
              rng.normal(size=(8, 4)).astype(np.float32)):
        W.grad = b.grad = None
        loss = compiled(X)
        gW, gb = W.grad.data, b.grad.data
        W.grad = b.grad = None
        expected = (X @ W + b).tanh().sum()
        expected.backward()
        assert loss.item() == expected.item()
        assert np.array_equal(gW, W.grad.data) and np.array_equal(gb, b.grad.data)
    assert len(compiled.programs) == 3  # (8, 4), (5, 4), and (8, 4) float32


def test_captured_parameters_are_read_afresh_after_in_place_updates():
    W, b = _small_model()
    W_eager, b_eager = Tensor(W.data, requires_grad=True), Tensor(b.data, requires_grad=True)
    compiled = autograd.compile(lambda X: ((X @ W + b).sigmoid() ** 2).mean())
    rng = np.random.default_rng(2)
    for _ in range(5):
        X = rng.normal(size=(6, 4))
        loss = compiled(X)
        expected = ((X @ W_eager + b_eager).sigmoid() ** 2).mean()
        expected.backward()
        assert loss.item() == expected.item()
        with no_grad():
            for p, q in ((W, W_eager), (b, b_eager)):
                p -= 0.5 * p.grad  # in place, between calls
                q -= 0.5 * q.grad
                p.grad = q.grad = None
        assert np.array_equal(W.data, W_eager.data)


def test_gradients_accumulate_across_calls_as_in_eager():
    W, b = _small_model()
    W_eager, b_eager = Tensor(W.data, requires_grad=True), Tensor(b.data, requires_grad=True)
    compiled = autograd.compile(lambda X: (X @ W + b).relu().sum())
    rng = np.random.default_rng(3)
    for _ in range(3):  # no zero_grad: .grad sums the three steps' gradients
        X = rng.normal(size=(6, 4))
        compiled(X)
        (X @ W_eager + b_eager).relu().sum().backward()
    assert np.array_equal(W.grad.data, W_eager.grad.data)
    assert np.array_equal(b.grad.data, b_eager.grad.data)


def test_a_tensor_argument_that_requires_grad_gets_its_gradient():
    W, _ = _small_model()
    compiled = autograd.compile(lambda x, w: (x * w).sum())
    x = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    compiled(x, W)
    assert np.array_equal(x.grad.data, W.data) and np.array_equal(W.grad.data, x.data)


def test_returns_what_f_returns_without_a_graph():
    W, b = _small_model()
    compiled = autograd.compile(lambda X: ((X @ W + b).sum(), [X @ W, 3]))
    loss, (product, three) = compiled(np.ones((2, 4)))
    assert isinstance(loss, Tensor) and not loss.requires_grad and loss.is_leaf
    assert isinstance(product, Tensor) and np.array_equal(product.data, np.ones((2, 4)) @ W.data)
    assert three == 3


def test_a_step_without_parameters_is_a_forward_program():
    compiled = autograd.compile(lambda x: (x * 2).sum())
    assert compiled(np.arange(3.0)).item() == 6.0
    assert "np.divide" not in compiled.program.source  # no backward was written


def test_library_checks_are_guards_and_a_failing_guard_runs_eagerly():
    rng = np.random.default_rng(4)
    W = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    compiled = autograd.compile(lambda X, y: autograd.softmax_cross_entropy(X @ W, y))
    compiled(rng.normal(size=(5, 4)), np.array([0, 1, 2, 0, 1]))
    assert "GuardFailed" in compiled.program.source
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        compiled(rng.normal(size=(5, 4)), np.array([0, 1, 7, 0, 1]))


# ---------------------------------------------------------------------------------------------
# Honest tracing: Python conversions and random draws.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("convert", [
    lambda t: t.item(), lambda t: float(t), lambda t: bool(t > 0), lambda t: int(t),
])
def test_converting_a_traced_value_to_python_is_a_clear_error(convert):
    W, b = _small_model()

    def f(X):
        loss = (X @ W + b).sum()
        convert(loss)
        return loss

    with pytest.raises(TracingError, match="traced value.*cannot be replayed"):
        autograd.compile(f)(np.ones((2, 4)))


def test_branching_on_a_traced_value_is_a_clear_error():
    W, b = _small_model()

    def f(X):
        loss = (X @ W + b).sum()
        if loss > 0:
            return loss
        return -loss

    with pytest.raises(TracingError, match=r"bool\(\) of a traced value.*test_compile.py"):
        autograd.compile(f)(np.ones((2, 4)))


CAPTURED_GENERATOR = np.random.default_rng(0)


@pytest.mark.parametrize("draw", [
    lambda shape: autograd.randn(*shape),
    lambda shape: np.random.default_rng().random(shape),
    lambda shape: np.random.rand(*shape),
    lambda shape: CAPTURED_GENERATOR.random(shape),
])
def test_random_draws_refuse_the_compile(draw):
    W, b = _small_model()

    def f(X):
        mask = draw((2, 3)) > 0.5  # dropout, drawn inside
        return ((X @ W + b) * mask).sum()

    with pytest.raises(TracingError, match="random numbers.*pass them as arguments"):
        autograd.compile(f)(np.ones((2, 4)))


def test_random_values_passed_as_arguments_are_inputs_of_the_program():
    W, b = _small_model()
    compiled = autograd.compile(lambda X, mask: ((X @ W + b) * mask / 0.5).sum())
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2, 4))
    for _ in range(3):
        mask = rng.random((2, 3)) > 0.5
        got = compiled(X, mask).item()
        assert got == ((X @ W + b) * mask / 0.5).sum().item()
    assert len(compiled.programs) == 1


# ---------------------------------------------------------------------------------------------
# Bad input.
# ---------------------------------------------------------------------------------------------
def test_another_number_of_arguments_is_a_clear_error():
    W, b = _small_model()
    compiled = autograd.compile(lambda X, y=None: (X @ W + b).sum())
    compiled(np.ones((2, 4)))
    with pytest.raises(TypeError, match=r"traced with 1 arguments \(array\), now called with 2"):
        compiled(np.ones((2, 4)), np.ones(2))


def test_another_kind_of_argument_is_a_clear_error():
    W, b = _small_model()
    compiled = autograd.compile(lambda X: (X @ W + b).sum())
    compiled(np.ones((2, 4)))
    with pytest.raises(TypeError, match="argument 0 of .* was an array when traced, now a "
                                        "Tensor"):
        compiled(Tensor(np.ones((2, 4))))
    with pytest.raises(TypeError, match="argument 0 is a list"):
        compiled([[1.0] * 4])
    with pytest.raises(TypeError, match="positional arguments only"):
        compiled(X=np.ones((2, 4)))


def test_an_output_structure_that_changes_with_the_shape_is_a_clear_error():
    W, b = _small_model()

    def f(X):
        loss = (X @ W + b).sum()
        return (loss, X @ W) if len(X) == 2 else loss

    compiled = autograd.compile(f)
    compiled(np.ones((2, 4)))
    with pytest.raises(TypeError, match=r"returned \(Tensor, Tensor\) when traced first, but "
                                        r"Tensor for arguments \(3, 4\)"):
        compiled(np.ones((3, 4)))


def test_a_compiled_function_called_inside_a_trace_is_a_clear_error():
    W, b = _small_model()
    inner = autograd.compile(lambda X: (X @ W).sum())
    with pytest.raises(TracingError, match="compile only the outer one"):
        autograd.compile(lambda X: inner(X) + b.sum())(np.ones((2, 4)))


def test_a_non_scalar_loss_is_a_clear_error():
    W, b = _small_model()
    with pytest.raises(TracingError, match=r"first output .* has shape \(2, 3\).*scalar"):
        autograd.compile(lambda X: X @ W + b)(np.ones((2, 4)))


def test_a_view_the_tracer_cannot_see_is_refused():
    W, b = _small_model()

    def f(X):
        Z = X @ W + b
        first_row = np.lib.stride_tricks.as_strided(Z.data, shape=(3,),
                                                    strides=Z.data.strides[1:])  # unseen
        return (Z * Tensor(first_row).detach()).sum()

    with pytest.raises(TracingError, match="shares memory with a value the step computes"):
        autograd.compile(f)(np.ones((2, 4)))


def test_an_in_place_update_inside_the_compiled_function_is_refused():
    W, b = _small_model()

    def f(X):
        with no_grad():
            W.__isub__(0.1)
        return (X @ W + b).sum()

    with pytest.raises(TracingError, match="in-place update"):
        autograd.compile(f)(np.ones((2, 4)))


# ---------------------------------------------------------------------------------------------
# Lecture 11: the generated backward is the notes' backward.
# ---------------------------------------------------------------------------------------------
def _lecture_weights(rng):
    shapes = [(784, 64), (64,), (64, 32), (32,), (32, 10), (10,)]
    return [rng.normal(size=s) if len(s) == 2 else np.zeros(s) for s in shapes]


def _notes_backward(X, labels, W1, B1, W2, B2, W3, B3):
    """Lecture 11's hand-written NumPy backward (tests/test_lecture_examples.py), by name."""
    _, grads = lecture11_backward(X, labels, W1, B1, W2, B2, W3, B3)
    return dict(zip(["dW1", "dB1", "dW2", "dB2", "dW3", "dB3"], grads))


def test_the_lecture_mlp_backward_computes_the_notes_quantities():
    rng = np.random.default_rng(11)
    W1, B1, W2, B2, W3, B3 = (Tensor(w, requires_grad=True) for w in _lecture_weights(rng))

    @autograd.compile(names=dict(W1=W1, B1=B1, W2=W2, B2=B2, W3=W3, B3=B3))
    def lecture_step(X, Y):
        Z1 = X @ W1 + B1
        A1 = Z1.sigmoid()
        Z2 = A1 @ W2 + B2
        A2 = Z2.sigmoid()
        L = A2 @ W3 + B3
        return autograd.softmax_cross_entropy(L, Y)

    X, labels = _mnist_subset(64, np.float64)
    lecture_step(X, labels)
    expected = _notes_backward(X, labels, *(w.data for w in (W1, B1, W2, B2, W3, B3)))
    for name, w in dict(W1=W1, B1=B1, W2=W2, B2=B2, W3=W3, B3=B3).items():
        np.testing.assert_allclose(w.grad.data, expected["d" + name], rtol=0, atol=1e-12)
    source = lecture_step.program.source
    for line in ("dW3 = A2.T @ dL", "dB3 = dL.sum(axis=0)", "dA2 = dL @ W3.T",
                 "dW2 = A1.T @ dZ2", "dB2 = dZ2.sum(axis=0)", "dA1 = dZ2 @ W2.T",
                 "dW1 = X.T @ dZ1", "dB1 = dZ1.sum(axis=0)", "A1 = sigmoid(Z1)"):
        assert f"    {line}\n" in source, line
    assert source.startswith("def step(X, Y, W1, B1, W2, B2, W3, B3):")


# ---------------------------------------------------------------------------------------------
# nn.fit(compile=True) and python -m nn.mnist --compile.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation, loss, optimizer", [
    ("relu", "cross-entropy", "adam"), ("sigmoid", "cross-entropy", "sgd"),
    ("tanh", "mse", "momentum"), ("leaky-relu", "bce-with-logits", "adam"),
])
def test_fit_compiled_gives_the_eager_history(activation, loss, optimizer):
    X, y = _mnist_subset(500, np.float32)
    targets = y if loss == "cross-entropy" else np.eye(10, dtype=np.float32)[y]
    loss_fn = {"cross-entropy": nn.CrossEntropyLoss(), "mse": nn.MSELoss(),
               "bce-with-logits": nn.BCEWithLogitsLoss()}[loss]
    histories, weights = [], []
    for compiled in (False, True):
        model = nn.mlp([784, 32, 10], activation, rng=0)
        make = {"adam": lambda p: nn.Adam(p), "sgd": lambda p: nn.SGD(p, lr=0.1),
                "momentum": lambda p: nn.SGD(p, lr=0.05, momentum=0.9, nesterov=True)}
        loader = nn.DataLoader(X, targets, batch_size=64, shuffle=True, seed=0)  # last: 52
        histories.append(nn.fit(model, loss_fn, make[optimizer](model.parameters()), loader,
                                epochs=2, quiet=True, compile=compiled))
        weights.append([p.data for p in model.parameters()])
    eager, compiled = histories
    assert compiled.loss == eager.loss
    assert compiled.train_accuracy == eager.train_accuracy or np.isnan(eager.train_accuracy[0])
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


def test_mnist_main_compile_flag(tmp_path, monkeypatch):
    if not os.environ.get("MNIST_DIR"):
        pytest.skip("needs $MNIST_DIR (the real MNIST files)")
    from nn.mnist import check, configure, main, parse_args

    assert parse_args(["--no-compile"]).compile is False
    for preset, compiled in (("modern", True), ("lecture", True), ("cnn", False)):
        args = parse_args(["--preset", preset])  # the default: compiled unless dropout draws
        assert check(args, configure(args)) is None and args.compile is compiled, preset
    args = parse_args(["--preset", "cnn", "--compile"])
    assert "dropout draws random masks" in check(args, configure(args))
    for flag in ("--compile", "--no-compile"):
        out = tmp_path / flag
        code = main(["--preset", "lecture", flag, "--epochs", "1", "--limit", "640", "--quiet",
                     "--out", str(out)])
        assert code == 0 and (out / "model.npz").exists()
    histories = [json.loads((tmp_path / flag / "history.json").read_text())["history"]
                 for flag in ("--compile", "--no-compile")]
    assert histories[0]["loss"] == histories[1]["loss"]


def test_a_gradient_equal_to_an_input_is_a_copy_of_it():
    x = np.arange(6.0).reshape(3, 2)
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    compiled = autograd.compile(lambda x: (x * w).sum())  # d/dw = x * 1, which is x
    compiled(x)
    assert np.array_equal(w.grad.data, x) and not np.shares_memory(w.grad.data, x)
    w.grad.data[0, 0] = 100.0
    assert x[0, 0] == 0.0
