"""The training loop, evaluation and learning curves.

Only Python floats are kept between steps (`loss.item()`), never tensors, so each step's graph
is freed when the next one starts and memory stays flat however long training runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import autograd
from autograd import Tensor, no_grad
from autograd.backends import to_host
from autograd.files import atomic_write

from . import functional as F
from .data import DataLoader
from .module import Module
from .optim import Optimizer

try:
    from tqdm import tqdm
except ImportError:  # progress bars are optional
    tqdm = None


@dataclass
class History:
    """What fit() measured: the loss of every iteration, and per-epoch summaries.

    Train accuracy is counted on each batch as it is trained on, as in lecture 11. Validation
    lists stay empty without validation data. Accuracies are NaN unless the targets are classes:
    integer labels (N,) or one-hot rows (N, C), against outputs of (N, C), C ≥ 2.
    """

    loss: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def _correct(outputs: np.ndarray, target: np.ndarray) -> float:
    """How many rows the argmax gets right; NaN unless `target` holds classes (see History)."""
    if outputs.ndim != 2 or outputs.shape[1] < 2:
        return float("nan")
    if target.ndim == 1 and np.issubdtype(target.dtype, np.integer):
        labels = target
    elif _is_one_hot(target, outputs.shape):
        labels = np.argmax(target, axis=1)
    else:  # regression targets or soft probabilities: an argmax match means nothing
        return float("nan")
    return float(np.count_nonzero(np.argmax(outputs, axis=1) == labels))


def _is_one_hot(target: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Rows of 0s and 1s with a single 1 each, one column per output."""
    return (target.shape == shape and bool(np.all((target == 0) | (target == 1)))
            and bool(np.all(target.sum(axis=1) == 1)))


def fit(model: Module, loss_fn: Callable[[Any, Any], Tensor], optimizer: Optimizer,
        train_loader: Iterable[tuple[np.ndarray, np.ndarray]], epochs: int,
        val_data: tuple[np.ndarray, np.ndarray] | None = None, quiet: bool = False,
        val_batch_size: int = 1000,
        on_epoch: Callable[[int, History], None] | None = None,
        compile: bool = False) -> History:  # noqa: A002 - the issue's and PyTorch's word
    """Train `model` for `epochs` passes over `train_loader`; returns the History.

    Each step: forward, loss, zero_grad, backward, optimizer.step. After each epoch, `val_data`
    (X, y) is evaluated in batches of `val_batch_size` and a line is printed (unless `quiet`, which
    also hides the tqdm bars); `on_epoch(epoch, history)` may then adjust, e.g., optimizer.lr.
    `compile=True` runs forward and backward as one `autograd.compile`d program (the same
    numbers, bit for bit; see `fit_step` for the program's source).
    """
    if isinstance(train_loader, (np.ndarray, Tensor)) or not isinstance(train_loader, Iterable):
        raise TypeError(f"fit needs an iterable of (X, y) batches such as nn.DataLoader, got "
                        f"{type(train_loader).__name__}; e.g. nn.DataLoader(X, y, batch_size=64)")
    if isinstance(train_loader, Sized) and len(train_loader) == 0:
        raise ValueError(_no_batches(train_loader, "has no batches"))
    history = History()
    step = compiled_step(model, loss_fn) if compile else None
    bars = tqdm is not None and not quiet
    for epoch in range(1, epochs + 1):
        model.train()
        start, total_loss, correct, seen = time.perf_counter(), 0.0, 0.0, 0
        batches = tqdm(train_loader, desc=f"epoch {epoch}/{epochs}", leave=False,
                       unit="batch", dynamic_ncols=True) if bars else train_loader
        for X, y in batches:
            if step is None:
                outputs = model(X)
                loss = loss_fn(outputs, y)
                optimizer.zero_grad()
                loss.backward()
            else:  # the compiled call accumulates the gradients itself
                optimizer.zero_grad()
                loss, outputs = step(X, y)
            optimizer.step()
            value = loss.item()
            history.loss.append(value)
            total_loss += value * len(X)
            correct += _correct(outputs.numpy(), to_host(y))  # GPU batches: a host copy
            seen += len(X)
            if bars and len(history.loss) % 20 == 0:
                batches.set_postfix_str(f"loss {value:.4f}", refresh=False)
        if not seen:  # a loader without len() shows it only now
            raise ValueError(_no_batches(train_loader, f"yielded no samples in epoch {epoch}"))
        history.train_loss.append(total_loss / max(seen, 1))
        history.train_accuracy.append(correct / max(seen, 1))
        if val_data is not None:
            val_loss, val_accuracy = evaluate(model, *val_data, loss_fn, val_batch_size)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_accuracy)
        history.seconds.append(time.perf_counter() - start)
        if not quiet:
            (tqdm.write if bars else print)(_epoch_line(epoch, epochs, history))
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history


def _no_batches(loader: Any, problem: str) -> str:
    """The error for a training loader without samples; says why for an nn.DataLoader."""
    message = f"fit: the training loader {problem}: nothing to train on"
    if isinstance(loader, DataLoader):
        samples, size = len(loader.X), loader.batch_size
        if samples and loader.drop_last:
            return (f"{message} ({samples} samples, fewer than one batch of {size}, and "
                    f"drop_last=True); use a batch_size of at most {samples}, or "
                    f"drop_last=False")
        return f"{message} (the DataLoader holds {samples} samples)"
    return message


def compiled_step(model: Module, loss_fn: Callable[[Any, Any], Tensor]) -> Any:
    """`(loss, outputs) = step(X, y)` with the backward pass done, compiled by autograd.compile;
    `step.program.source` shows the code it runs (after the first call)."""

    def train_step(X: Any, y: Any) -> tuple[Tensor, Tensor]:
        outputs = model(X)
        return loss_fn(outputs, y), outputs

    return autograd.compile(train_step, names=dict(model.named_parameters()))


def _epoch_line(epoch: int, epochs: int, history: History) -> str:
    width = len(str(epochs))
    line = (f"epoch {epoch:{width}d}/{epochs}  loss {history.train_loss[-1]:.4f}  "
            f"acc {100 * history.train_accuracy[-1]:.2f}%")
    if history.val_loss:
        line += (f"  val_loss {history.val_loss[-1]:.4f}  "
                 f"val_acc {100 * history.val_accuracy[-1]:.2f}%")
    return line + f"  {history.seconds[-1]:.1f} s"


@contextmanager
def _inference(model: Module) -> Iterator[None]:
    """Eval mode and no graph for the duration; the model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        model.train(was_training)


def predict(model: Module, X: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """The model's outputs for X as one array, computed in batches under no_grad in eval mode.

    An empty X gives an empty array of the output's shape: it goes through the model once.
    """
    starts = range(0, max(len(X), 1), batch_size)
    with _inference(model):
        parts = [model(X[i:i + batch_size]).numpy() for i in starts]
    return np.concatenate(parts)


def evaluate(model: Module, X: np.ndarray, y: np.ndarray,
             loss_fn: Callable[[Any, Any], Tensor] | None = None,
             batch_size: int = 1000) -> tuple[float, float]:
    """(mean loss, accuracy) of the model on (X, y); the loss defaults to cross-entropy.

    The loss is averaged over samples (batch means weighted by batch size). The accuracy is NaN
    unless y holds classes (see History).
    """
    if len(X) == 0:
        raise ValueError("evaluate: no samples: X is empty")
    loss_fn = loss_fn or F.cross_entropy
    y = to_host(y)
    total_loss = 0.0
    with _inference(model):  # the loss too: a loss module may look at the mode
        outputs = predict(model, X, batch_size)
        for i in range(0, len(X), batch_size):
            batch = slice(i, i + batch_size)
            total_loss += loss_fn(Tensor(outputs[batch]), y[batch]).item() * len(y[batch])
    return total_loss / len(X), _correct(outputs, y) / len(X)


def plot_history(history: History, path: str | Path | None = None,
                 test_accuracy: float | None = None) -> Any:
    """Learning curves: loss per iteration (lecture 11), loss and accuracy per epoch (003).

    A loss spanning more than a decade is drawn on a log scale; accuracies are in percent, as
    fit() prints them, with `test_accuracy` marked after the last epoch. With a `path` the
    figure is saved without pyplot (headless, Agg); else it is a pyplot figure, shown inline
    in notebooks. Returns the matplotlib Figure.
    """
    if path is None:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(10, 10))
    else:
        from matplotlib.figure import Figure
        fig = Figure(figsize=(10, 10))
    per_iteration, losses, accuracies = fig.subplots(3, 1)
    per_iteration.plot(np.arange(1, len(history.loss) + 1), history.loss, linewidth=0.5)
    per_iteration.set(title="Train loss per iteration", xlabel="iteration", ylabel="loss")
    _log_scale_over_decades(per_iteration, history.loss)

    epochs = np.arange(1, len(history.train_loss) + 1)
    losses.plot(epochs, history.train_loss, "o-", label="train")
    if history.val_loss:
        losses.plot(epochs, history.val_loss, "o-", label="validation")
    losses.set(title="Loss per epoch", xlabel="epoch", ylabel="loss")
    _log_scale_over_decades(losses, history.train_loss + history.val_loss)

    accuracies.plot(epochs, 100 * np.asarray(history.train_accuracy), "o-", label="train")
    if history.val_accuracy:
        accuracies.plot(epochs, 100 * np.asarray(history.val_accuracy), "o-",
                        label="validation")
    if test_accuracy is not None and len(epochs):
        accuracies.plot([epochs[-1]], [100 * test_accuracy], "*", markersize=14,
                        label=f"test {100 * test_accuracy:.2f}%")
    accuracies.set(title="Accuracy per epoch", xlabel="epoch", ylabel="accuracy (%)")
    for axes in (losses, accuracies):
        _epoch_ticks(axes, len(epochs))
        axes.legend()
    fig.tight_layout()
    if path is not None:
        atomic_write(path, lambda file: fig.savefig(file, format="png", dpi=100))
    return fig


def _log_scale_over_decades(axes: Any, values: list[float]) -> None:
    """A log y axis when the positive, finite `values` span more than a factor of 10."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size and values.min() > 0 and values.max() > 10 * values.min():
        axes.set_yscale("log")


def _epoch_ticks(axes: Any, epochs: int) -> None:
    """Whole epochs only on the x axis (one epoch is a single tick "1", not 0.95 ... 1.05)."""
    from matplotlib.ticker import MaxNLocator

    axes.set_xlim(0.5, max(epochs, 1) + 0.5)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
