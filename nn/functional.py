"""Activations and losses as functions of Tensors (or plain arrays, treated as constants).

Losses take (output, target) and average over the batch unless said otherwise; targets are
constants. The fused engine nodes are used where they exist (sigmoid, relu, tanh, softmax,
softmax_cross_entropy); the rest is composed and checked against NumPy in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

import autograd
from autograd import Tensor


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _constant(target: Any, like: Tensor | None = None) -> np.ndarray:
    """The target as an array (losses never differentiate it), in `like`'s float dtype."""
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    return target if like is None else target.astype(like.dtype, copy=False)


# --- activations -------------------------------------------------------------------------------
def sigmoid(x: Any) -> Tensor:
    """σ(z) = 1/(1 + e⁻ᶻ); σ'(z) = σ(z)(1 - σ(z))."""
    return autograd.sigmoid(x)


def relu(x: Any) -> Tensor:
    """max(z, 0); relu'(z) = 1 for z > 0, else 0 (the engine's convention at z = 0)."""
    return autograd.relu(x)


def leaky_relu(x: Any, alpha: float = 0.01) -> Tensor:
    """z for z > 0, else αz; slope α at z ≤ 0, so that alpha=0 is exactly relu, gradient too.

    (Notes 004 put z = 0 on the other side, relu'(0) = 1; at a single point either is a valid
    subgradient, and this one agrees with the engine's relu.)
    """
    x = _tensor(x)
    return autograd.where(x.data > 0, x, x * alpha)


def tanh(x: Any) -> Tensor:
    """tanh z; tanh'(z) = 1 - tanh²z (004's extra factor [1 + tanh z] is a slip)."""
    return autograd.tanh(x)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(z) / Σ exp(z) along `axis`, shifted by the max for stability."""
    return autograd.softmax(x, axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """z - logsumexp(z) along `axis`."""
    return autograd.log_softmax(x, axis)


# --- losses ------------------------------------------------------------------------------------
def cross_entropy(logits: Any, target: Any) -> Tensor:
    """Mean cross-entropy of softmax(logits) against integer labels (N,) or one-hot rows (N, C).

    -1/N Σₙ Σₖ yₙₖ log softmax(z)ₙₖ as one fused, stable node whose gradient is (p - y)/N.
    """
    return autograd.softmax_cross_entropy(logits, target)


def mse_loss(output: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error: "mean" of (o - y)², "sum", or "half_sum" = ½‖o - y‖² (lab 07)."""
    output = _tensor(output)
    diff = output - _constant(target, output)
    squares = diff * diff
    if reduction == "mean":
        return squares.mean()
    if reduction == "sum":
        return squares.sum()
    if reduction == "half_sum":
        return 0.5 * squares.sum()
    raise ValueError(f"mse_loss: reduction must be 'mean', 'sum' or 'half_sum', got {reduction!r}")


def bce_loss(probabilities: Any, target: Any, eps: float = 1e-7) -> Tensor:
    """-mean(y log p + (1 - y) log(1 - p)), with p clipped to [eps, 1 - eps] against log(0)."""
    p = _tensor(probabilities).clip(eps, 1 - eps)
    y = _constant(target, p)
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def bce_with_logits(logits: Any, target: Any) -> Tensor:
    """BCE of sigmoid(z), stably: mean(max(z, 0) - z·y + log(1 + exp(-|z|))).

    Both kinks are written with the same `where(z > 0, ...)`, so at z = 0 they take the same
    one-sided slope and the gradient is exactly σ(0) - y there, as for any other z.
    """
    z = _tensor(logits)
    y = _constant(target, z)
    positive = z.data > 0
    max_z_0 = autograd.where(positive, z, 0.0)
    minus_abs_z = autograd.where(positive, -z, z)
    return (max_z_0 - z * y + (minus_abs_z.exp() + 1).log()).mean()


def l2_penalty(params: Iterable[Tensor], lam: float, half: bool = False) -> Tensor:
    """λ Σ ‖W‖²_F over `params` (gradient 2λW), or with half=True (λ/2) Σ ‖W‖²_F (gradient λW).

    Lab 07 uses both forms (its first page pairs λ‖W‖² with the gradient λW of the half form);
    pass only the weights, e.g.
    `[p for name, p in model.named_parameters() if name.endswith("weight")]`.
    """
    squares = [(p * p).sum() for p in params]
    if not squares:
        raise ValueError("l2_penalty: no parameters given")
    total = sum(squares[1:], squares[0])
    return total * (lam / 2 if half else lam)
