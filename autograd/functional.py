"""Functional tools built on `grad`: Jacobians, Hessians, vjp/jvp/hvp and gradient checking.

Each takes a function of Tensors and the points to evaluate it at (arrays or Tensors); the
points are copied into fresh leaves, so the caller's tensors are never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import backends
from .engine import grad
from .tensor import Tensor, no_grad


def _leaf(x: Any) -> Tensor:
    data = x.data if isinstance(x, Tensor) else backends.as_array(x)
    if data.dtype.kind != "f":
        data = data.astype(np.float64)
    return Tensor(data, requires_grad=True)


def _zeros_if_none(gradients: Sequence[Tensor | None], like: Sequence[Tensor]) -> list[Tensor]:
    """An input the output does not depend on has a zero derivative."""
    return [Tensor._wrap(np.zeros_like(x.data)) if g is None else g
            for g, x in zip(gradients, like)]


def jacobian(f: Callable[..., Tensor], *inputs: Any) -> Tensor | tuple[Tensor, ...]:
    """The full Jacobian ∂f/∂x, of shape f(x).shape + x.shape (a tuple for several inputs)."""
    leaves = [_leaf(x) for x in inputs]
    out = _call(f, leaves)
    if not out.requires_grad:  # f does not depend on its inputs (e.g. the gradient of a linear f)
        return _stack_jacobians([[np.zeros_like(x.data, shape=out.shape + x.shape)]
                                 for x in leaves], out, leaves)
    rows: list[list[np.ndarray]] = [[] for _ in leaves]
    for k in range(out.size):
        v = np.zeros_like(out.data, shape=out.size)  # in out's backend
        v[k] = 1
        gradients = grad(out, leaves, grad_outputs=v.reshape(out.shape), retain_graph=True,
                         allow_unused=True)
        for row, g in zip(rows, _zeros_if_none(gradients, leaves)):
            row.append(g.data)
    return _stack_jacobians(rows, out, leaves)


def _stack_jacobians(rows, out, leaves):
    jacobians = tuple(Tensor._wrap(np.stack(row).reshape(out.shape + x.shape))
                      for row, x in zip(rows, leaves))
    return jacobians[0] if len(jacobians) == 1 else jacobians


def _call(f: Callable[..., Tensor], args: Sequence[Tensor]) -> Tensor:
    """f(*args), which must be a Tensor: say so plainly if it is not."""
    out = f(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"the function must return a Tensor, got {type(out).__name__} "
                        f"(compute it with autograd operations on its arguments)")
    return out


def hessian(f: Callable[[Tensor], Tensor], x: Any) -> Tensor:
    """The matrix of second derivatives of scalar f at x, of shape x.shape + x.shape."""
    def gradient(x: Tensor) -> Tensor:
        return _gradient(f(x), x, None, create_graph=True)
    return jacobian(gradient, x)


def _gradient(out: Tensor, x: Tensor, v: Any, create_graph: bool = False) -> Tensor:
    """vᵀ ∂out/∂x, zeros where out does not depend on x (as jacobian and PyTorch give)."""
    if not out.requires_grad:
        return Tensor._wrap(np.zeros_like(x.data))
    (g,) = grad(out, x, grad_outputs=v, create_graph=create_graph, allow_unused=True)
    return _zeros_if_none([g], [x])[0]


def _point(x: Any, create_graph: bool) -> Tensor:
    """Where to evaluate: with create_graph a tensor that requires grad is used itself, so the
    result stays differentiable with respect to it; otherwise a fresh leaf (x is untouched)."""
    if create_graph and isinstance(x, Tensor) and x.requires_grad:
        return x
    return _leaf(x)


def _vector(v: Any) -> Any:
    return v if isinstance(v, Tensor) else backends.as_array(v)


def vjp(f: Callable[[Tensor], Tensor], x: Any, v: Any,
        create_graph: bool = False) -> tuple[Tensor, Tensor]:
    """(f(x), vᵀ J): one reverse pass. With `create_graph`, vᵀJ is differentiable."""
    x = _point(x, create_graph)
    out = _call(f, [x])
    return out.detach(), _gradient(out, x, _vector(v), create_graph)


def jvp(f: Callable[[Tensor], Tensor], x: Any, v: Any,
        create_graph: bool = False) -> tuple[Tensor, Tensor]:
    """(f(x), J v) by the double-VJP trick: uᵀJ is linear in u, and its gradient in u is J v.

    With `create_graph`, J v is itself differentiable (in x, and in v if v requires grad), so
    forward-over-reverse gives second derivatives."""
    x = _point(x, create_graph)
    out = _call(f, [x])
    u = Tensor(np.zeros_like(out.data), requires_grad=True)
    zeros = Tensor._wrap(np.zeros_like(out.data))
    if not out.requires_grad:
        return out.detach(), zeros
    (g,) = grad(out, x, grad_outputs=u, create_graph=True, allow_unused=True)
    if g is None or not g.requires_grad:
        return out.detach(), zeros
    return out.detach(), _gradient(g, u, _vector(v), create_graph)


def hvp(f: Callable[[Tensor], Tensor], x: Any, v: Any,
        create_graph: bool = False) -> tuple[Tensor, Tensor]:
    """(f(x), H v) for scalar f: the gradient of ∇f(x)·v."""
    x = _point(x, create_graph)
    out = _call(f, [x])
    g = _gradient(out, x, None, create_graph=True)
    if not g.requires_grad:
        return out.detach(), Tensor._wrap(np.zeros_like(x.data))
    return out.detach(), _gradient(g, x, _vector(v), create_graph)


# ---------------------------------------------------------------------------------------------
# Gradient checking.
# ---------------------------------------------------------------------------------------------
class GradcheckError(AssertionError):
    """An analytic gradient disagreed with central finite differences."""


def gradcheck(f: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, full_limit: int = 4096,
              seed: int = 0) -> bool:
    """Check f's VJPs against float64 central differences; raise GradcheckError if they differ.

    Small problems (inputs × outputs ≤ `full_limit`) compare the full Jacobian element by
    element; larger ones compare random projections uᵀJv, which any wrong VJP fails with
    probability one. The error names the input, the element, the analytic and numeric values.
    """
    points = [_float64(x.data if isinstance(x, Tensor) else x) for x in inputs]
    with no_grad():
        out_size = _call(f, [Tensor._wrap(p) for p in points]).size
    if out_size * sum(p.size for p in points) <= full_limit:
        _check_full(f, points, eps, atol, rtol)
    else:
        _check_projection(f, points, eps, atol, rtol, np.random.default_rng(seed))
    return True


def _float64(x: Any) -> Any:
    """A float64 copy of x, in its backend (a GPU array's gradient is checked on the GPU)."""
    if backends.is_array(x) and type(x) is not np.ndarray:
        return backends.copy(x, np.float64)
    return np.array(x, dtype=np.float64)


def _evaluate(f: Callable[..., Tensor], points: list[np.ndarray]) -> np.ndarray:
    """f at the points, as float64 values on the host."""
    with no_grad():
        return backends.to_host(f(*[Tensor._wrap(p) for p in points]).data).astype(np.float64)


def _directional(f, points, i, direction, eps) -> np.ndarray:
    """(f(x + εv) - f(x - εv)) / 2ε, moving input i only."""
    direction = backends.to(direction, backends.backend_of(points[i]))
    plus = [p + eps * direction if j == i else p for j, p in enumerate(points)]
    minus = [p - eps * direction if j == i else p for j, p in enumerate(points)]
    return (_evaluate(f, plus) - _evaluate(f, minus)) / (2 * eps)


def _check_full(f, points, eps, atol, rtol) -> None:
    analytic = jacobian(f, *points)
    analytic = analytic if isinstance(analytic, tuple) else (analytic,)
    for i, (p, jac) in enumerate(zip(points, analytic)):
        jac = backends.to_host(jac.data).reshape(-1, p.size)
        for j in range(p.size):
            direction = np.zeros(p.size)
            direction[j] = 1
            numeric = _directional(f, points, i, direction.reshape(p.shape), eps).reshape(-1)
            bad = np.abs(jac[:, j] - numeric) > atol + rtol * np.abs(numeric)
            if bad.any():
                k = int(np.argmax(bad))
                element = np.unravel_index(j, p.shape) if p.ndim else ()
                raise GradcheckError(
                    f"gradcheck: input {i}, element {tuple(map(int, element))}, output element "
                    f"{k}: analytic {jac[k, j]:.10g} vs numeric {numeric[k]:.10g}")


def _check_projection(f, points, eps, atol, rtol, rng) -> None:
    leaves = [Tensor(p, requires_grad=True) for p in points]
    out = _call(f, leaves)
    u = rng.standard_normal(out.shape)
    gradients = _zeros_if_none(grad(out, leaves, grad_outputs=backends.to(u, out.backend),
                                    allow_unused=True), leaves)
    for i, (p, g) in enumerate(zip(points, gradients)):
        direction = rng.standard_normal(p.shape)
        analytic = float(np.sum(g.numpy() * direction))
        numeric = float(np.sum(u * _directional(f, points, i, direction, eps)))
        if abs(analytic - numeric) > atol + rtol * abs(numeric):
            raise GradcheckError(
                f"gradcheck: input {i} (shape {p.shape}), random projection uᵀJv: "
                f"analytic {analytic:.10g} vs numeric {numeric:.10g}")
