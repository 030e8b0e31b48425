"""jacograd's `autograd`: reverse-mode automatic differentiation on NumPy arrays.

    >>> from autograd import Tensor
    >>> x = Tensor(3.0, requires_grad=True)
    >>> y = x ** 3
    >>> y.backward()
    >>> x.grad
    Tensor(27.)
"""

from . import ledger, primitives, viz
from .conv import avg_pool2d, conv2d, global_avg_pool2d, max_pool2d
from .engine import grad
from .functional import gradcheck, hessian, hvp, jacobian, jvp, vjp
from .ledger import local_jacobian
from .ops import (
    abs,
    clip,
    exp,
    linear,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    ones,
    ones_like,
    randn,
    relu,
    reshape,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    sqrt,
    sum,
    tanh,
    tensor,
    transpose,
    where,
    zeros,
    zeros_like,
)
from .tensor import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .viz import draw, render, to_dot

__all__ = [
    "Tensor", "tensor", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "jacobian", "hessian", "vjp", "jvp", "hvp", "gradcheck", "primitives",
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "maximum", "minimum", "where", "clip",
    "sum", "mean", "max", "min", "logsumexp", "softmax", "log_softmax", "softmax_cross_entropy",
    "reshape", "transpose", "matmul", "linear", "zeros", "ones", "zeros_like", "ones_like",
    "randn", "ledger", "viz", "draw", "to_dot", "render", "local_jacobian",
]
__all__ += ["conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool2d"]
