"""Activations and losses as functions of Tensors (or plain arrays, treated as constants).

The activations are the engine's fused nodes, re-exported under the lectures' names:

    sigmoid(z) = 1/(1 + e⁻ᶻ)            σ'(z) = σ(z)(1 - σ(z))
    relu(z) = max(z, 0)                  relu'(z) = 1 for z > 0, else 0 (also at z = 0)
    tanh(z)                              tanh'(z) = 1 - tanh²z (004's extra 1 + tanh z: a slip)
    softmax(z, axis=-1) = exp(z)/Σ exp(z), shifted by the max for stability
    log_softmax(z, axis=-1) = z - logsumexp(z)

Losses take (output, target), with the target of the output's shape, and average over the
batch unless said otherwise. Targets are constants, except in mse_loss, which differentiates a
target that requires grad (as PyTorch does); the others refuse such a target rather than leave
its .grad silently None. Cross-entropy is the fused, stable engine node; the rest is composed
and checked against NumPy in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

import autograd
from autograd import Tensor, backends
from autograd import primitives as P
from autograd.tensor import apply


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _target(loss: str, target: Any, output: Tensor) -> np.ndarray:
    """The target as a constant array in the output's dtype, of the output's shape.

    Broadcasting is refused: a (5,) target against a (5, 1) output would average 25 pairs.
    """
    _refuse_differentiable_target(loss, target)
    target = backends.as_array(target.data if isinstance(target, Tensor) else target)
    _check_shape(loss, target, output)
    return target.astype(output.dtype, copy=False)


def _check_shape(loss: str, target: Any, output: Tensor) -> None:
    if target.shape != output.shape:
        raise ValueError(f"{loss}: target shape {target.shape} does not match output shape "
                         f"{output.shape}")


def _refuse_differentiable_target(loss: str, target: Any) -> None:
    """A ValueError if `target` asks for a gradient this loss would never give it."""
    if isinstance(target, Tensor) and target.requires_grad and autograd.is_grad_enabled():
        raise ValueError(f"{loss}: the target requires grad, but {loss} treats targets as "
                         f"constants and target.grad would stay None; pass target.detach() "
                         f"(mse_loss differentiates its target)")


# --- activations -------------------------------------------------------------------------------
# The engine's nodes under the lectures' names; their derivatives are in the docstring above.
sigmoid = autograd.sigmoid
relu = autograd.relu
tanh = autograd.tanh
softmax = autograd.softmax
log_softmax = autograd.log_softmax


def leaky_relu(x: Any, alpha: float = 0.01) -> Tensor:
    """z for z > 0, else αz; slope α at z ≤ 0, so that alpha=0 is exactly relu, gradient too.

    (Notes 004 put z = 0 on the other side, relu'(0) = 1; at a single point either is a valid
    subgradient, and this one agrees with the engine's relu.)
    """
    x = _tensor(x)
    return autograd.where(x.data > 0, x, x * alpha)


# --- losses ------------------------------------------------------------------------------------
def cross_entropy(logits: Any, target: Any) -> Tensor:
    """Mean cross-entropy of softmax(logits) against integer labels (N,) or one-hot rows (N, C).

    -1/N Σₙ Σₖ yₙₖ log softmax(z)ₙₖ as one fused, stable node whose gradient is (p - y)/N.
    """
    _refuse_differentiable_target("cross_entropy", target)
    return autograd.softmax_cross_entropy(logits, target)


def mse_loss(output: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error: "mean" of (o - y)², "sum", or "half_sum" = ½‖o - y‖² (lab 07).

    A target that requires grad is differentiated too (d/dy = -d/do), as in PyTorch.
    """
    output = _tensor(output)
    if isinstance(target, Tensor) and target.requires_grad:
        _check_shape("mse_loss", target, output)
        diff = output - target.astype(output.dtype)
    else:
        diff = output - _target("mse_loss", target, output)
    squares = diff * diff
    if reduction == "mean":
        return squares.mean()
    if reduction == "sum":
        return squares.sum()
    if reduction == "half_sum":
        return 0.5 * squares.sum()
    raise ValueError(f"mse_loss: reduction must be 'mean', 'sum' or 'half_sum', got {reduction!r}")


def bce_loss(probabilities: Any, target: Any, eps: float = 1e-7) -> Tensor:
    """-mean(y log p + (1 - y) log(1 - p)), with p kept in [eps, 1 - eps] against log(0).

    p is shifted into range by a constant, not clipped, so a certain, wrong p still has a
    gradient towards y (PyTorch clamps the log at -100, where it is 0). A sigmoid saturated to
    exactly 0 or 1 passes none back all the same: train on logits with bce_with_logits.
    """
    p = _tensor(probabilities)
    y = _target("bce_loss", target, p)
    p = p + (np.clip(p.data, eps, 1 - eps) - p.data)  # a constant shift: gradient 1, as for p
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def bce_with_logits(logits: Any, target: Any) -> Tensor:
    """BCE of sigmoid(z), stably: mean(max(z, 0) - z·y + log(1 + exp(-|z|))).

    One fused node (as cross-entropy): the gradient is exactly (σ(z) - y)/n for every z, kinks
    included, and a step costs about half the elementwise passes of the composed formula.
    """
    z = _tensor(logits)
    y = _target("bce_with_logits", target, z)
    return apply(P.bce_with_logits, (z, y))


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
