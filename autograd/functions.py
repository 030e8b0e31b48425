"""Tensor methods as package-level functions (`autograd.sin(x)` is `x.sin()`), and NumPy's
names for the operators and comparisons (`autograd.multiply`, `autograd.greater`), which is
what NumPy's functions on Tensors dispatch to (see autograd.numpy_dispatch).

Generated from lists rather than written out one by one; they live apart from ops.py so that
the names they take from Python's builtins (`sum`, `max`, `any`, `all`, `round`) do not shadow
the builtins in code that needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import primitives as P
from .tensor import Primitive, Tensor, _binary, _data


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


# --- Tensor methods as functions of their first argument: autograd.sin(x) is x.sin() ----------
def _function_of(name: str) -> Callable[..., Tensor]:
    """`Tensor.<name>` as a function taking arrays too; its signature shows the method's."""
    method = getattr(Tensor, name)

    def function(x: Any, *args: Any, **kwargs: Any) -> Tensor:
        return getattr(_as_tensor(x), name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__, function.__wrapped__ = method.__doc__, method  # type: ignore[attr-defined]
    return function


_METHODS = """sum mean max min prod var std norm argmax argmin any all cumsum cumprod logsumexp
softmax log_softmax sin cos tan arcsin arccos arctan sinh cosh arcsinh arccosh arctanh log1p
expm1 log2 log10 exp2 erf erfc square reciprocal rsqrt sign floor ceil round trunc softplus
silu gelu elu selu celu leaky_relu hardtanh relu6 logsigmoid isnan isinf isfinite nan_to_num
clone broadcast_to swapaxes""".split()


# --- two-argument functions under NumPy's names (broadcasting; arrays and numbers welcome) ------
def _binary_function(name: str, op: Primitive) -> Callable[[Any, Any], Tensor]:
    def function(x: Any, y: Any) -> Tensor:
        return _binary(op, x, y)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"{name}(x, y) elementwise, broadcasting: {op.math}"
    return function


_BINARY = {"add": P.add, "subtract": P.sub, "multiply": P.mul, "divide": P.div,
           "power": P.pow, "logaddexp": P.logaddexp, "logaddexp2": P.logaddexp2,
           "arctan2": P.arctan2, "hypot": P.hypot, "mod": P.mod, "remainder": P.mod,
           "fmod": P.fmod, "floor_divide": P.floor_divide}


# --- comparisons under NumPy's names: boolean tensors, never part of the graph ---------------
def _comparison_function(name: str, compare: Callable) -> Callable[[Any, Any], Tensor]:
    def function(x: Any, y: Any) -> Tensor:
        return Tensor._wrap(np.asarray(compare(_data(x), _data(y))))
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"np.{name} of the values: a boolean tensor, outside the graph"
    return function


_COMPARISONS = {"greater": np.greater, "greater_equal": np.greater_equal, "less": np.less,
                "less_equal": np.less_equal, "equal": np.equal, "not_equal": np.not_equal}


def negative(x: Any) -> Tensor:
    """-x."""
    return -_as_tensor(x)


for _name in _METHODS:
    globals()[_name] = _function_of(_name)
for _name, _op in _BINARY.items():
    globals()[_name] = _binary_function(_name, _op)
for _name, _compare in _COMPARISONS.items():
    globals()[_name] = _comparison_function(_name, _compare)


__all__ = [*_METHODS, *_BINARY, *_COMPARISONS, "negative"]
