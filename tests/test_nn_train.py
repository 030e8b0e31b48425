"""Tests for nn.train: fit, History, evaluate, predict, flat memory and the learning curves."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd
import nn
from nn import train

RNG = np.random.default_rng(0)
X64 = RNG.standard_normal((64, 20)).astype(np.float32)
Y64 = RNG.integers(0, 4, 64)


def small_setup(lr=0.01, batch_size=16, seed=0):
    model = nn.mlp([20, 64, 4], "relu", rng=seed)
    loader = nn.DataLoader(X64, Y64, batch_size=batch_size, shuffle=True, seed=seed)
    return model, nn.Adam(model.parameters(), lr), loader


def test_small_mlp_overfits_64_samples():
    model, optimizer, loader = small_setup(batch_size=64)
    history = nn.fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=300, quiet=True)
    loss, accuracy = nn.evaluate(model, X64, Y64)
    assert history.loss[-1] < 0.01 and loss < 0.01
    assert accuracy == 1.0 and history.train_accuracy[-1] == 1.0


def test_history_records_floats_per_iteration_and_per_epoch():
    model, optimizer, loader = small_setup()
    history = nn.fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=3,
                     val_data=(X64[:10], Y64[:10]), quiet=True)
    assert len(history.loss) == 3 * len(loader) == 12
    assert all(type(v) is float for v in history.loss + history.val_loss + history.train_loss)
    for per_epoch in (history.train_loss, history.train_accuracy, history.val_loss,
                      history.val_accuracy, history.seconds):
        assert len(per_epoch) == 3
    # the epoch's train loss is the sample-weighted mean of its iterations (all batches of 16)
    assert history.train_loss[0] == pytest.approx(np.mean(history.loss[:4]))


def test_fit_with_one_hot_targets_and_an_epoch_callback():
    model, optimizer, _ = small_setup()
    loader = nn.DataLoader(X64, nn.one_hot(Y64, 4), batch_size=32)
    seen = []
    history = nn.fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=2, quiet=True,
                     on_epoch=lambda epoch, h: seen.append((epoch, len(h.train_loss))))
    assert seen == [(1, 1), (2, 2)]
    assert 0 <= history.train_accuracy[-1] <= 1


def test_regression_has_no_accuracy():
    model = nn.mlp([20, 8, 1], rng=0)
    loader = nn.DataLoader(X64, X64[:, :1], batch_size=32)
    history = nn.fit(model, nn.MSELoss(), nn.SGD(model.parameters(), 0.05), loader, 20,
                     quiet=True)
    assert np.isnan(history.train_accuracy[-1])
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]


def test_fit_on_two_column_regression_has_no_accuracy():
    """Two output columns are not classes: argmax "accuracy" of a regression means nothing."""
    model = nn.mlp([20, 8, 2], rng=0)
    loader = nn.DataLoader(X64, X64[:, :2], batch_size=32)
    history = nn.fit(model, nn.MSELoss(), nn.SGD(model.parameters(), 0.05), loader, 1,
                     val_data=(X64, X64[:, :2]), quiet=True)
    assert np.isnan(history.train_accuracy[-1]) and np.isnan(history.val_accuracy[-1])


SOFT_TARGETS = nn.functional.softmax(RNG.standard_normal((64, 4))).data


@pytest.mark.parametrize("target, loss_fn, is_classification", [
    (Y64, nn.CrossEntropyLoss(), True),  # integer labels (N,)
    (nn.one_hot(Y64, 4), nn.CrossEntropyLoss(), True),  # one-hot rows (N, C)
    (RNG.standard_normal((64, 4)), nn.MSELoss(), False),  # regression, as many columns
    (SOFT_TARGETS, nn.CrossEntropyLoss(), False),  # probabilities, not classes
    (Y64.astype(np.float32)[:, None], nn.MSELoss(), False),  # one column: nothing to argmax
], ids=["labels", "one-hot", "regression", "soft-targets", "one-column"])
def test_evaluate_counts_accuracy_only_against_class_labels(target, loss_fn, is_classification):
    model = nn.mlp([20, 8, target.shape[1] if target.ndim == 2 else 4], rng=0)
    _, accuracy = nn.evaluate(model, X64, target, loss_fn)
    if is_classification:
        labels = target if target.ndim == 1 else target.argmax(axis=1)
        assert accuracy == np.mean(nn.predict(model, X64).argmax(axis=1) == labels)
    else:
        assert np.isnan(accuracy)


@pytest.mark.parametrize("loader", [X64, autograd.Tensor(X64), 64],
                         ids=["array", "tensor", "int"])
def test_fit_without_a_loader_says_what_it_needs(loader):
    model, optimizer, _ = small_setup()
    with pytest.raises(TypeError, match=r"fit needs an iterable of \(X, y\) batches such as "
                                        r"nn.DataLoader, got"):
        nn.fit(model, nn.CrossEntropyLoss(), optimizer, loader, 1, quiet=True)


@pytest.mark.parametrize("loader, message", [
    (nn.DataLoader(X64[:50], Y64[:50], batch_size=64, drop_last=True),
     r"^fit: the training loader has no batches: nothing to train on \(50 samples, fewer than "
     r"one batch of 64, and drop_last=True\); use a batch_size of at most 50, or drop_last=False$"),
    (nn.DataLoader(X64[:0], Y64[:0], batch_size=8),
     r"^fit: the training loader has no batches: nothing to train on \(the DataLoader holds 0 "
     r"samples\)$"),
    (iter([]), r"^fit: the training loader yielded no samples in epoch 1: nothing to train on$"),
], ids=["drop-last", "no-samples", "generator"])
def test_fit_on_a_loader_without_batches_is_a_clear_error(loader, message):
    """It used to report a train loss and accuracy of 0.0."""
    model, optimizer, _ = small_setup()
    with pytest.raises(ValueError, match=message):
        nn.fit(model, nn.CrossEntropyLoss(), optimizer, loader, 2, quiet=True)


def test_evaluate_on_no_samples_is_a_clear_error():
    with pytest.raises(ValueError, match="evaluate: no samples"):
        nn.evaluate(nn.mlp([20, 8, 4], rng=0), X64[:0], Y64[:0])


def test_predict_on_no_samples_is_an_empty_array_of_the_output_shape():
    outputs = nn.predict(nn.mlp([20, 8, 4], rng=0), X64[:0])
    assert outputs.shape == (0, 4) and outputs.dtype == np.float32


def test_evaluate_matches_a_direct_computation_and_restores_the_mode():
    model = nn.mlp([20, 8, 4], rng=0)
    calls = []

    def loss_fn(outputs, y):
        calls.append((autograd.is_grad_enabled(), model.training))
        return nn.functional.cross_entropy(outputs, y)

    loss, accuracy = nn.evaluate(model, X64, Y64, loss_fn, batch_size=50)  # batches of 50, 14
    logits = model(X64).data
    assert loss == pytest.approx(nn.functional.cross_entropy(logits, Y64).item(), rel=1e-5)
    assert accuracy == np.mean(np.argmax(logits, axis=1) == Y64)
    assert calls == [(False, False), (False, False)] and model.training


def test_predict_returns_all_outputs():
    model = nn.mlp([20, 8, 4], rng=0)
    np.testing.assert_allclose(nn.predict(model, X64, batch_size=10), model(X64).data,
                               rtol=1e-6)


def test_each_steps_graph_is_freed_by_the_next_step():
    model, optimizer, loader = small_setup()
    losses = []

    def loss_fn(outputs, y):
        if len(losses) >= 2:
            gc.disable()  # reference counting alone must free it
            assert losses[-2]() is None, "the loss of two steps ago is still alive"
        loss = nn.functional.cross_entropy(outputs, y)
        losses.append(weakref.ref(loss))
        return loss

    try:
        nn.fit(model, loss_fn, optimizer, loader, epochs=3, quiet=True)
    finally:
        gc.enable()
    assert all(ref() is None for ref in losses)


def test_memory_stays_flat_over_many_steps():
    model, optimizer, loader = small_setup()
    loss_fn = nn.CrossEntropyLoss()
    nn.fit(model, loss_fn, optimizer, loader, epochs=5, quiet=True)  # warm up
    tracemalloc.start()
    try:
        nn.fit(model, loss_fn, optimizer, loader, epochs=25, quiet=True)
        after_100 = tracemalloc.get_traced_memory()[0]
        history = nn.fit(model, loss_fn, optimizer, loader, epochs=100, quiet=True)
        after_400 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # 400 steps keep only the floats of their history (~100 bytes a step with the lists)
    assert len(history.loss) == 400 and after_400 - after_100 < 100_000


def test_epoch_lines_with_and_without_tqdm(monkeypatch, capsys):
    for bars in (train.tqdm, None):
        monkeypatch.setattr(train, "tqdm", bars)
        model, optimizer, loader = small_setup()
        nn.fit(model, nn.CrossEntropyLoss(), optimizer, loader, 2, val_data=(X64, Y64))
        out = capsys.readouterr().out.splitlines()
        assert [line.split("  ")[0] for line in out] == ["epoch 1/2", "epoch 2/2"]
        assert "val_acc" in out[0] and out[0].endswith(" s")


def test_quiet_prints_nothing(capsys):
    model, optimizer, loader = small_setup()
    nn.fit(model, nn.CrossEntropyLoss(), optimizer, loader, 1, quiet=True)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("with_validation", [False, True])
def test_plot_history_writes_a_png(tmp_path, with_validation):
    model, optimizer, loader = small_setup()
    val_data = (X64, Y64) if with_validation else None
    history = nn.fit(model, nn.CrossEntropyLoss(), optimizer, loader, 2, val_data, quiet=True)
    figure = nn.plot_history(history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(figure.axes) == 3


def curves(path, epochs: int, first_loss: float, last_loss: float, test_accuracy=0.9846):
    """The figure (saved to `path`) of a made-up History whose loss falls as given."""
    iterations = 50 * epochs
    loss = list(np.geomspace(first_loss, last_loss, iterations))
    history = train.History(
        loss=loss, train_loss=loss[49::50], train_accuracy=list(np.linspace(0.9, 0.99, epochs)),
        val_loss=loss[49::50], val_accuracy=list(np.linspace(0.95, 0.98, epochs)),
        seconds=[1.0] * epochs)
    return nn.plot_history(history, path / "curves.png", test_accuracy)


@pytest.mark.parametrize("first_loss, scale", [(2.3, "log"), (0.5, "linear")])
def test_plot_uses_a_log_scale_where_the_loss_spans_decades(tmp_path, first_loss, scale):
    per_iteration, per_epoch, _ = curves(tmp_path, 10, first_loss, 0.1).axes
    assert per_iteration.get_yscale() == scale and per_epoch.get_yscale() == scale


def test_plot_shows_accuracy_in_percent_and_marks_the_test_accuracy(tmp_path):
    accuracy = curves(tmp_path, 3, 2.3, 0.01, test_accuracy=0.9846).axes[2]
    lines = {line.get_label(): line for line in accuracy.get_lines()}
    np.testing.assert_allclose(lines["train"].get_ydata(), [90, 94.5, 99])
    test = lines["test 98.46%"]
    assert list(test.get_xdata()) == [3] and list(test.get_ydata()) == [pytest.approx(98.46)]
    assert accuracy.get_ylabel() == "accuracy (%)"


@pytest.mark.parametrize("epochs", [1, 2, 7, 30])
def test_plot_has_whole_epoch_ticks(tmp_path, epochs):
    figure = curves(tmp_path, epochs, 2.3, 0.01)  # saving it drew it
    for axes in figure.axes[1:]:
        ticks = [t for t in axes.get_xticks() if 1 <= t <= epochs]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        assert axes.get_xlim() == (0.5, epochs + 0.5)


def test_fit_reproduces_lecture_11_hand_written_backpropagation():
    """Lecture 11's NumPy loop (forward, dL = -(Y - Pred)/N, ..., W -= lr·dW) step for step."""
    rng = np.random.default_rng(1)
    images, labels = rng.random((640, 784)), rng.integers(0, 10, 640)
    model = nn.mlp([784, 64, 32, 10], "sigmoid", "normal", rng=2, dtype=np.float64)
    W1, B1, W2, B2, W3, B3 = [p.data.copy() for p in model.parameters()]
    lr, b_size = 0.03, 64
    for b_idx in range(len(images) // b_size):
        X = images[b_idx * b_size:(b_idx + 1) * b_size]
        Y = np.eye(10)[labels[b_idx * b_size:(b_idx + 1) * b_size]]
        A1 = 1 / (1 + np.exp(-(X @ W1 + B1)))
        A2 = 1 / (1 + np.exp(-(A1 @ W2 + B2)))
        L = A2 @ W3 + B3
        Pred = np.exp(L) / np.sum(np.exp(L), axis=1, keepdims=True)
        dL = -1 / b_size * (Y - Pred)
        dA2, dW3, dB3 = dL @ W3.T, A2.T @ dL, np.sum(dL, axis=0)
        dZ2 = dA2 * A2 * (1 - A2)
        dA1, dW2, dB2 = dZ2 @ W2.T, A1.T @ dZ2, np.sum(dZ2, axis=0)
        dZ1 = dA1 * A1 * (1 - A1)
        dW1, dB1 = X.T @ dZ1, np.sum(dZ1, axis=0)
        W3, B3, W2, B2 = W3 - lr * dW3, B3 - lr * dB3, W2 - lr * dW2, B2 - lr * dB2
        W1, B1 = W1 - lr * dW1, B1 - lr * dB1
    loader = nn.DataLoader(images, labels, batch_size=b_size, drop_last=True)
    nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr), loader, 1, quiet=True)
    for p, expected in zip(model.parameters(), (W1, B1, W2, B2, W3, B3)):
        np.testing.assert_allclose(p.data, expected, rtol=1e-9, atol=1e-12)
