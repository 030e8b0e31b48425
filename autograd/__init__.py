"""jacograd's `autograd`: reverse-mode automatic differentiation on NumPy arrays.

    >>> from autograd import Tensor
    >>> x = Tensor(3.0, requires_grad=True)
    >>> y = x ** 3
    >>> y.backward()
    >>> x.grad
    Tensor(27.)
"""

# _import_names first: it fails clearly if a foreign `autograd` or `nn` took our place.
from . import _import_names, anomaly, backends, functions, ledger, primitives, viz  # noqa: F401
from .anomaly import AnomalyError, detect_anomaly, set_debug_nans, set_detect_anomaly
from .backends import compute
from .compiler import compile
from .conv import avg_pool2d, conv2d, global_avg_pool2d, max_pool2d
from .engine import grad
from .functional import gradcheck, hessian, hvp, jacobian, jvp, vjp
from .functions import *  # noqa: F401,F403 - Tensor methods as functions, NumPy's names
from .ledger import local_jacobian
from .ops import (
    abs,
    arange,
    clip,
    exp,
    eye,
    full,
    full_like,
    linear,
    linspace,
    log,
    matmul,
    maximum,
    minimum,
    normal,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    relu,
    reshape,
    sigmoid,
    softmax_cross_entropy,
    sqrt,
    tanh,
    tensor,
    transpose,
    uniform,
    where,
    zeros,
    zeros_like,
)
from .tensor import Primitive, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .viz import draw, render, to_dot

__all__ = [
    "Tensor", "tensor", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "jacobian", "hessian", "vjp", "jvp", "hvp", "gradcheck", "primitives",
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "maximum", "minimum", "where", "clip",
    "softmax_cross_entropy",
    "reshape", "transpose", "matmul", "linear", "zeros", "ones", "zeros_like", "ones_like",
    "randn", "ledger", "viz", "draw", "to_dot", "render", "local_jacobian", "compile",
    "anomaly", "detect_anomaly", "set_detect_anomaly", "set_debug_nans", "AnomalyError",
    "Primitive", "full", "full_like", "arange", "linspace", "eye", "rand", "randint", "uniform",
    "normal", *functions.__all__,
]

# Joining, shape, linear algebra and indexing (NumPy's names, PyTorch's aliases).
from . import linalg  # noqa: E402, I001
from .ops import (  # noqa: E402, I001
    array_split,
    atleast_1d,
    atleast_2d,
    cat,
    chunk,
    concatenate,
    det,
    diagonal,
    dot,
    einsum,
    expand_dims,
    flip,
    gather,
    inner,
    inv,
    masked_fill,
    moveaxis,
    one_hot,
    outer,
    pad,
    permute,
    ravel,
    repeat,
    roll,
    slogdet,
    solve,
    split,
    squeeze,
    stack,
    take,
    take_along_axis,
    tensordot,
    tile,
    trace,
    tril,
    triu,
    unsqueeze,
)

__all__ += [
    "concatenate", "cat", "stack", "split", "array_split", "chunk", "squeeze", "expand_dims",
    "unsqueeze", "flip", "roll", "repeat", "tile", "pad", "moveaxis", "permute", "ravel",
    "atleast_1d", "atleast_2d", "einsum", "tensordot", "dot", "inner", "outer", "trace",
    "diagonal", "tril", "triu", "inv", "det", "slogdet", "solve", "take", "take_along_axis",
    "gather", "masked_fill", "one_hot", "linalg", "backends", "compute",
]
__all__ += ["conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool2d"]
