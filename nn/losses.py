"""Loss modules: `loss_fn(output, target)` -> a scalar Tensor; the math is in nn.functional."""

from __future__ import annotations

from typing import Any

from autograd import Tensor

from . import functional as F
from .module import Module


class CrossEntropyLoss(Module):
    """Softmax + mean cross-entropy from logits; targets are labels (N,) or one-hot (N, C)."""

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.cross_entropy(logits, target)


class MSELoss(Module):
    """Squared error with reduction "mean" (default), "sum" or "half_sum" (½‖o - y‖², lab 07)."""

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = reduction

    def forward(self, output: Any, target: Any) -> Tensor:
        return F.mse_loss(output, target, self.reduction)


class BCELoss(Module):
    """Binary cross-entropy of probabilities (e.g. after a sigmoid), kept away from log(0).

    A certain, wrong p costs -log(eps) ≈ 16.1; from logits, BCEWithLogitsLoss is the stable one.
    """

    def __init__(self, eps: float = 1e-7) -> None:
        self.eps = eps

    def forward(self, probabilities: Any, target: Any) -> Tensor:
        return F.bce_loss(probabilities, target, self.eps)


class BCEWithLogitsLoss(Module):
    """Binary cross-entropy of sigmoid(logits), computed stably from the logits."""

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.bce_with_logits(logits, target)
