"""Optimizers: each is its update rule, applied in place to every parameter that has a gradient.

Updates work on the arrays `p.data` (so nothing is recorded) with `-=` and `out=`, into state
buffers allocated once, so a step allocates no new arrays. `weight_decay` adds wd·p to the
gradient (an L2 penalty of (wd/2)‖p‖², as PyTorch's SGD and Adam do).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

from autograd import Tensor, backends


class Optimizer:
    """Holds the parameters and their buffers; `step()` calls `_update` for each gradient.

    Hyperparameters are checked where they are set (`lr` also when it is changed later, e.g. by
    a schedule): a bad one is a one-line ValueError naming the optimizer and the value.
    """

    def __init__(self, params: Iterable[Tensor], lr: float, weight_decay: float = 0.0) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        first_index: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {i} is not a Tensor that "
                                f"requires grad")
            if id(p) in first_index:  # it would be stepped twice per step()
                raise ValueError(f"{type(self).__name__}: parameter {i} is parameter "
                                 f"{first_index[id(p)]} again; pass each parameter once")
            first_index[id(p)] = i
        self.lr = lr
        self.weight_decay = self._checked("weight_decay", weight_decay, ">= 0")
        self._states: list[list] = []  # every per-parameter buffer list, to follow the params
        self._scratch = self._buffers()
        self._decayed = self._buffers() if weight_decay else None

    @property
    def lr(self) -> float:
        """The learning rate: a finite number >= 0."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = self._checked("lr", value, ">= 0")

    def _checked(self, name: str, value: float, allowed: str) -> float:
        """`value` as a float if it is finite and `allowed` (">= 0", "> 0" or "in [0, 1)")."""
        ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
              and math.isfinite(value))
        if ok:
            ok = {">= 0": value >= 0, "> 0": value > 0, "in [0, 1)": 0 <= value < 1}[allowed]
        if not ok:
            raise ValueError(f"{type(self).__name__}: {name} must be a finite number {allowed}, "
                             f"got {value!r}")
        return float(value)

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
        for g, p in zip(grads, self.params):
            if type(g) is not np.ndarray and backends.is_lazy(g) and not backends.is_lazy(p.data):
                return list(backends.compute(*grads))
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
        self.momentum = self._checked("momentum", momentum, "in [0, 1)")
        if nesterov and not momentum:
            raise ValueError("SGD: nesterov needs momentum > 0")
        self.nesterov, self.ema = nesterov, ema
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

    Where g is 0 for long (a pixel that is almost always 0), m decays by β₁ a step into
    subnormal floats (about 5% of the first layer's m after 3 epochs of the modern preset), on
    which arithmetic can be ~20x slower. Every `flush_every` steps, entries of m and v below the
    smallest normal float are set to 0: they move no parameter (lr·m/ε is below 1e-29), and
    three passes every 16 steps cost little. flush_every = 0 turns it off.
    """

    flush_every = 16

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (self._checked("betas[0]", betas[0], "in [0, 1)"),
                      self._checked("betas[1]", betas[1], "in [0, 1)"))
        self.eps = self._checked("eps", eps, "> 0")
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
        if self.flush_every and t % self.flush_every == 0:
            tiny = np.finfo(v.dtype).tiny
            m[np.abs(m) < tiny] = 0
            v[v < tiny] = 0
        denominator = np.sqrt(v, out=s)  # √v̂ + ε = √v / √(1 - β₂ᵗ) + ε
        denominator /= math.sqrt(1 - beta2**t)
        denominator += self.eps
        p -= np.multiply(np.divide(m, denominator, out=s), self.lr / (1 - beta1**t), out=s)
