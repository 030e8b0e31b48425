"""The operations as package-level functions (`autograd.exp(t)`), accepting arrays too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import primitives as P
from .tensor import Tensor, _binary, _data, apply, is_grad_enabled, shape_argument
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


def full(shape: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `shape` filled with `fill_value` (NumPy's dtype from the value by default)."""
    return Tensor(np.full(shape, _data(fill_value), dtype=dtype), requires_grad=requires_grad)


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of x's shape and dtype (or `dtype`)."""
    return Tensor(np.zeros_like(_data(x), dtype=dtype), requires_grad=requires_grad)


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of x's shape and dtype (or `dtype`)."""
    return Tensor(np.ones_like(_data(x), dtype=dtype), requires_grad=requires_grad)


def full_like(x: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """`fill_value` in x's shape and dtype (or `dtype`)."""
    return Tensor(np.full_like(_data(x), _data(fill_value), dtype=dtype),
                  requires_grad=requires_grad)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop), as np.arange (integers unless a bound is a float)."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    return Tensor(np.arange(start, stop, step, dtype=dtype), requires_grad=requires_grad)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`num` evenly spaced values from start to stop (included unless endpoint=False)."""
    if not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"linspace: num must be a non-negative int, got {num!r}")
    return Tensor(np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype),
                  requires_grad=requires_grad)


def eye(n: int, m: int | None = None, k: int = 0, dtype: Any = np.float64,
        requires_grad: bool = False) -> Tensor:
    """The n×m identity (ones on the k-th diagonal)."""
    for name, value in (("n", n), ("m", n if m is None else m)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"eye: {name} must be a non-negative int, got {value!r}")
    return Tensor(np.eye(n, m, k, dtype=dtype), requires_grad=requires_grad)


def _generator(seed: Any, op: str) -> np.random.Generator:
    """np.random.default_rng(seed): an int, a Generator (used as it is), or None (fresh)."""
    if seed is not None and not isinstance(seed, (int, np.integer, np.random.Generator)):
        raise TypeError(f"{op}: seed must be an int, a np.random.Generator or None, got "
                        f"{type(seed).__name__}")
    return np.random.default_rng(seed)


def _random(samples: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    return Tensor(samples if dtype is None else samples.astype(dtype),
                  requires_grad=requires_grad)


def rand(*shape: Any, seed: Any = None, dtype: Any = np.float64,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) (torch.rand); shape as separate ints or one tuple."""
    samples = _generator(seed, "rand").random(shape_argument(shape))
    return _random(samples, dtype, requires_grad)


def randn(*shape: Any, seed: Any = None, dtype: Any = np.float64,
          requires_grad: bool = False) -> Tensor:
    """Standard-normal samples from `np.random.default_rng(seed)`."""
    samples = _generator(seed, "randn").standard_normal(shape_argument(shape))
    return _random(samples, dtype, requires_grad)


def randint(low: int, high: int | None = None, size: Any = None, seed: Any = None,
            dtype: Any = np.int64) -> Tensor:
    """Integers in [low, high) (or [0, low) with one bound), as Generator.integers."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    return Tensor(_generator(seed, "randint").integers(low, high, size=size, dtype=dtype))


def uniform(low: Any = 0.0, high: Any = 1.0, size: Any = None, seed: Any = None,
            dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [low, high), as Generator.uniform."""
    samples = np.asarray(_generator(seed, "uniform").uniform(low, high, size))
    return _random(samples, dtype, requires_grad)


def normal(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, seed: Any = None,
           dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """Normal samples with mean `loc` and standard deviation `scale`, as Generator.normal."""
    if np.any(np.asarray(scale) < 0):
        raise ValueError(f"normal: scale (a standard deviation) must be >= 0, got {scale}")
    samples = np.asarray(_generator(seed, "normal").normal(loc, scale, size))
    return _random(samples, dtype, requires_grad)


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


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    return _as_tensor(x).reshape(shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    return _as_tensor(x).transpose(axes) if axes is not None else _as_tensor(x).transpose()


def matmul(x: Any, y: Any) -> Tensor:
    """x @ y, as np.matmul (1-d operands and batch dimensions included)."""
    return _binary(P.matmul, x, y)


def _array_or_tensor(x: Any) -> Any:
    return x if isinstance(x, Tensor) else np.asarray(x)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight + bias with weight of shape (in, out), as in the lectures; one fused node."""
    x, w_shape = _array_or_tensor(x), np.shape(_data(weight))  # no NumPy dispatch
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


def softmax_cross_entropy(logits: Tensor, target: Any) -> Tensor:
    """Mean cross-entropy of softmax(logits) against integer labels (N,) or probabilities (N, C).

    Fused and stable: the forward is logsumexp(z) - z[label], the backward (softmax - y) / N.
    The target is a constant: one that requires grad is refused rather than silently ignored.
    """
    logits = _as_tensor(logits)
    if isinstance(target, Tensor) and target.requires_grad and is_grad_enabled():
        raise ValueError("softmax_cross_entropy: the target requires grad, but targets are "
                         "constants here and target.grad would stay None; pass "
                         "target.detach(), or differentiate -(y * log_softmax(z)).sum(1).mean()")
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if logits.ndim != 2:
        raise ValueError(f"softmax_cross_entropy: logits must be 2-d (batch, classes), "
                         f"got shape {logits.shape}")
    n, classes = logits.shape
    if target.ndim == 1:
        if target.dtype.kind not in "iu" or len(target) != n:
            raise ValueError(f"softmax_cross_entropy: labels must be {n} integers, got shape "
                             f"{target.shape} of dtype {target.dtype}")
        if n and not 0 <= np.minimum.reduce(target) <= np.maximum.reduce(target) < classes:
            raise ValueError(f"softmax_cross_entropy: labels must lie in [0, {classes}), got "
                             f"values from {target.min()} to {target.max()}")
    elif target.shape != logits.shape:
        raise ValueError(f"softmax_cross_entropy: target of shape {target.shape} must be labels "
                         f"({n},) or probabilities {logits.shape}")
    else:
        target = target.astype(logits.dtype, copy=False)
    return apply(P.softmax_cross_entropy, (logits, target))

