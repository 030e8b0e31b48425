"""Optimizers: each is its update rule, applied in place to every parameter that has a gradient.

Updates work on the arrays `p.data` (so nothing is recorded) with `-=` and `out=`, into state
buffers allocated once, so a step allocates no new arrays. `weight_decay` adds wd·p to the
gradient (an L2 penalty of (wd/2)‖p‖², as PyTorch's SGD and Adam do).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd import Tensor, backends


class Optimizer:
    """Holds the parameters and their buffers; `step()` calls `_update` for each gradient."""

    def __init__(self, params: Iterable[Tensor], lr: float, weight_decay: float = 0.0) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {i} is not a Tensor that "
                                f"requires grad")
        if lr < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: lr and weight_decay must be >= 0")
        self.lr, self.weight_decay = lr, weight_decay
        self._states: list[list] = []  # every per-parameter buffer list, to follow the params
        self._scratch = self._buffers()
        self._decayed = self._buffers() if weight_decay else None

    def _buffers(self) -> list[np.ndarray]:
        """Zeros like each parameter (in its backend), registered to follow it if it moves."""
        buffers = [np.zeros_like(p.data) for p in self.params]
        self._states.append(buffers)
        return buffers

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set .grad to None)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update each parameter whose .grad is not None."""
        grads = self._gradients()
        for i, p in enumerate(self.params):  # arrays only: nothing is recorded
            g = grads[i]
            if g is None:
                continue
            if type(self._scratch[i]) is not type(p.data):  # model.to(...) moved p
                self._follow(i, p.data)
            if self.weight_decay:
                decayed = np.multiply(p.data, self.weight_decay, out=self._decayed[i])
                decayed += g
                g = decayed
            self._update(i, p.data, g, self._scratch[i])
            p._bump_version()  # a graph that read p before this step can no longer use it

    def _gradients(self) -> list:
        """Each parameter's gradient array (None where it has none). Gradients that Dask
        computed lazily (from chunked data) are computed here, all in one pass, for parameters
        held in memory."""
        grads = [None if p.grad is None else p.grad.data for p in self.params]
        if any(type(g) is not np.ndarray and backends.is_lazy(g) and not
               backends.is_lazy(p.data) for g, p in zip(grads, self.params)):
            grads = list(backends.compute(*grads))
        return grads

    def _follow(self, i: int, data: object) -> None:
        """Move parameter i's state (momentum, Adam's moments, scratch) to its backend."""
        backend = backends.backend_of(data)
        for buffers in self._states:
            buffers[i] = backends.to(buffers[i], backend)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, s: np.ndarray) -> None:
        """Change p in place from its gradient g; s is a scratch buffer of p's shape."""
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent, optionally with momentum.

    momentum=0:   p -= lr·g
    classic (003): v = γv + lr·g,       p -= v       (nesterov: p -= γv + lr·g)
    ema=True (004): v = m·v + (1 - m)·g, p -= lr·v    (nesterov: p -= lr·(m·v + (1 - m)·g))

    PyTorch's v = γv + g, p -= lr·v is the classic form with v scaled by 1/lr: the same steps
    while lr is constant. The EMA form is the classic one with lr·(1 - m) for lr.
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0, ema: bool = False) -> None:
        super().__init__(params, lr, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        if nesterov and not momentum:
            raise ValueError("SGD: nesterov needs momentum > 0")
        self.momentum, self.nesterov, self.ema = momentum, nesterov, ema
        self.velocity = self._buffers() if momentum else None

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, s: np.ndarray) -> None:
        lr, m = self.lr, self.momentum
        if not m:
            p -= np.multiply(g, lr, out=s)
            return
        v = self.velocity[i]
        step = np.multiply(g, (1 - m) if self.ema else lr, out=s)  # (1 - m)·g or lr·g
        v *= m
        v += step
        scale = lr if self.ema else 1.0  # p -= scale·v, or the Nesterov look-ahead
        if self.nesterov:
            p -= np.multiply(step, scale, out=s)
            p -= np.multiply(v, scale * m, out=s)
        else:
            p -= np.multiply(v, scale, out=s)


class Adam(Optimizer):
    """Adam (Kingma & Ba): m = β₁m + (1 - β₁)g, v = β₂v + (1 - β₂)g², p -= lr·m̂/(√v̂ + ε),
    with the bias corrections m̂ = m/(1 - β₁ᵗ), v̂ = v/(1 - β₂ᵗ); t counts this parameter's steps.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        if not all(0 <= beta < 1 for beta in betas) or eps <= 0:
            raise ValueError(f"Adam: betas must be in [0, 1) and eps > 0, got {betas}, {eps}")
        self.betas, self.eps = betas, eps
        self.m, self.v = self._buffers(), self._buffers()
        self.steps = [0] * len(self.params)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, s: np.ndarray) -> None:
        (beta1, beta2), m, v = self.betas, self.m[i], self.v[i]
        self.steps[i] += 1
        t = self.steps[i]
        m *= beta1
        m += np.multiply(g, 1 - beta1, out=s)
        v *= beta2
        v += np.multiply(np.square(g, out=s), 1 - beta2, out=s)
        denominator = np.sqrt(v, out=s)  # √v̂ + ε = √v / √(1 - β₂ᵗ) + ε
        denominator /= math.sqrt(1 - beta2**t)
        denominator += self.eps
        p -= np.multiply(np.divide(m, denominator, out=s), self.lr / (1 - beta1**t), out=s)
