"""The operations as package-level functions (`autograd.exp(t)`), accepting arrays too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import backends
from . import primitives as P
from .tensor import Tensor, apply, shape_argument
from .tensor import where as _where


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new tensor (a copy of `data`), as `torch.tensor`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def zeros(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros; shape as separate ints or one tuple."""
    return Tensor(np.zeros(shape_argument(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones; shape as separate ints or one tuple."""
    return Tensor(np.ones(shape_argument(shape), dtype=dtype), requires_grad=requires_grad)


def zeros_like(x: Any, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros_like(_array_of(x)), requires_grad=requires_grad)


def ones_like(x: Any, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones_like(_array_of(x)), requires_grad=requires_grad)


def randn(*shape: Any, seed: int | np.random.Generator | None = None, dtype: Any = np.float64,
          requires_grad: bool = False) -> Tensor:
    """Standard-normal samples from `np.random.default_rng(seed)`."""
    rng = np.random.default_rng(seed)
    samples = rng.standard_normal(shape_argument(shape)).astype(dtype)
    return Tensor(samples, requires_grad=requires_grad)


def exp(x: Any) -> Tensor: return _as_tensor(x).exp()
def log(x: Any) -> Tensor: return _as_tensor(x).log()
def sqrt(x: Any) -> Tensor: return _as_tensor(x).sqrt()
def tanh(x: Any) -> Tensor: return _as_tensor(x).tanh()
def sigmoid(x: Any) -> Tensor: return _as_tensor(x).sigmoid()
def relu(x: Any) -> Tensor: return _as_tensor(x).relu()
def abs(x: Any) -> Tensor: return _as_tensor(x).abs()  # noqa: A001


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise max; ties send the gradient to y, so maximum(x, 0) == relu(x)."""
    return _as_tensor(x).maximum(y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise min; ties send the gradient to y."""
    return _as_tensor(x).minimum(y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where `condition` holds, else y (the condition gets no gradient)."""
    return _where(condition, x, y)


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return _as_tensor(x).clip(min, max)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _as_tensor(x).sum(axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _as_tensor(x).mean(axis, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _as_tensor(x).max(axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _as_tensor(x).min(axis, keepdims)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _as_tensor(x).logsumexp(axis, keepdims)


def softmax(x: Any, axis: int = -1) -> Tensor:
    return _as_tensor(x).softmax(axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    return _as_tensor(x).log_softmax(axis)


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    return _as_tensor(x).reshape(shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    return _as_tensor(x).transpose(axes) if axes is not None else _as_tensor(x).transpose()


def matmul(x: Any, y: Any) -> Tensor:
    return apply(P.matmul, (_array_or_tensor(x), _array_or_tensor(y)))


def _array_of(x: Any) -> Any:
    """The array of a Tensor, an array of any backend as it is, else a NumPy array."""
    return x.data if isinstance(x, Tensor) else backends.as_array(x)


def _array_or_tensor(x: Any) -> Any:
    return x if isinstance(x, Tensor) else backends.as_array(x)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight + bias with weight of shape (in, out), as in the lectures; one fused node."""
    x, w_shape = _array_or_tensor(x), np.shape(weight)
    if len(w_shape) != 2 or x.shape[-1:] != w_shape[:1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape "
                         f"{w_shape} (needs input.shape[-1] == weight.shape[0])")
    if bias is None:
        return apply(P.matmul, (x, weight))
    bias = _array_or_tensor(bias)
    if bias.shape != w_shape[1:]:
        raise ValueError(f"linear: bias of shape {bias.shape} does not fit weight of shape "
                         f"{w_shape} (needs ({w_shape[1]},))")
    return apply(P.linear, (x, weight, bias))


def _labels_in_range(labels: Any, classes: int) -> Any:
    """labels, if they all lie in [0, classes); else one clear error."""
    if type(labels) is np.ndarray:  # the ufuncs' reduce: no Python wrapper
        low, high = np.minimum.reduce(labels), np.maximum.reduce(labels)
    else:
        low, high = labels.min(), labels.max()
    if len(labels) and not 0 <= int(low) <= int(high) < classes:
        raise ValueError(f"softmax_cross_entropy: labels must lie in [0, {classes}), got "
                         f"values from {labels.min()} to {labels.max()}")
    return labels


def softmax_cross_entropy(logits: Tensor, target: Any) -> Tensor:
    """Mean cross-entropy of softmax(logits) against integer labels (N,) or probabilities (N, C).

    Fused and stable: the forward is logsumexp(z) - z[label], the backward (softmax - y) / N.
    """
    logits = _as_tensor(logits)
    target = backends.as_array(target.data if isinstance(target, Tensor) else target)
    if logits.ndim != 2:
        raise ValueError(f"softmax_cross_entropy: logits must be 2-d (batch, classes), "
                         f"got shape {logits.shape}")
    n, classes = logits.shape
    if target.ndim == 1:
        if target.dtype.kind not in "iu" or len(target) != n:
            raise ValueError(f"softmax_cross_entropy: labels must be {n} integers, got shape "
                             f"{target.shape} of dtype {target.dtype}")
        if backends.is_lazy(target):  # checked as the chunks are computed, not now
            target = target.map_blocks(_labels_in_range, classes, dtype=target.dtype)
        else:
            _labels_in_range(target, classes)
    elif target.shape != logits.shape:
        raise ValueError(f"softmax_cross_entropy: target of shape {target.shape} must be labels "
                         f"({n},) or probabilities {logits.shape}")
    else:
        target = target.astype(logits.dtype, copy=False)
    return apply(P.softmax_cross_entropy, (logits, target))
