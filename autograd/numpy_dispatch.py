"""NumPy's own functions on Tensors: `np.exp(t)`, `np.sum(t, axis=1)`, `np.matmul(X, W)`,
`np.where(c, t, u)` ... record the graph and return Tensors, so the lecture notes' NumPy code
differentiates as written.

NumPy hands every call that involves a Tensor to `Tensor.__array_ufunc__` (ufuncs: np.exp,
np.add, np.maximum ...) or `Tensor.__array_function__` (np.sum, np.where, np.linalg.norm ...).
Both land here, and look the function up by its NumPy name in the `autograd` namespace
(through ALIASES where the names differ), among the functions defined in the OPERATIONS
modules. So every op the package exports under NumPy's name and signature is reachable from
NumPy, with no second table to keep up to date. A function the
engine lacks is a TypeError: turning the Tensor into a constant would lose its gradient silently.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import numpy as np

from .tensor import Tensor

# NumPy's name -> the engine's, where they differ.
ALIASES = {"absolute": "abs", "fabs": "abs", "true_divide": "divide", "amax": "max",
           "amin": "min", "around": "round", "round_": "round", "rint": "round",
           "concat": "concatenate", "permute_dims": "transpose", "pow": "power"}
# ufunc.reduce and ufunc.accumulate as the reductions they are (NumPy's default axis is 0).
REDUCE = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min",
          "logical_or": "any", "logical_and": "all"}
ACCUMULATE = {"add": "cumsum", "multiply": "cumprod"}
# Questions about a tensor's values or layout, with no gradient to lose: asked of its data.
ON_DATA = {"shape", "ndim", "size", "result_type", "allclose", "isclose", "array_equal",
           "array_equiv", "count_nonzero", "nonzero", "flatnonzero", "argwhere", "argsort",
           "searchsorted", "may_share_memory", "shares_memory", "iscomplexobj", "isrealobj",
           "array2string", "array_repr", "array_str", "save", "savez", "savez_compressed",
           "savetxt"}
# The modules that define the package's operations (the rest are tools: grad, gradcheck, draw).
OPERATIONS = {"autograd.ops", "autograd.functions"}

UFUNCS: dict[np.ufunc, Any] = {}  # ufunc -> engine function, filled on first use (hot path)


def engine_function(name: str) -> Any:
    """The autograd operation called `name` (or its alias), or None."""
    package = importlib.import_module(__package__)
    function = getattr(package, ALIASES.get(name, name), None)
    if getattr(function, "__module__", None) in OPERATIONS and not isinstance(function, type):
        return function
    return None


def _missing(name: str) -> TypeError:
    return TypeError(
        f"np.{name} is not differentiable here: autograd has no {name}, and NumPy would turn "
        f"the Tensor into a constant and lose its gradient. Use autograd operations (see the "
        f"README's op table), or np.asarray(t) / t.numpy() for a constant copy.")


def _refuse_out(name: str, kwargs: dict) -> None:
    out = kwargs.get("out")
    if out is not None and not (isinstance(out, tuple) and all(o is None for o in out)):
        raise TypeError(f"np.{name}: out= cannot be used with Tensors (the data of a tensor "
                        f"in a graph must not change under it); assign the result instead, "
                        f"y = np.{name}(...)")


def ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """Tensor.__array_ufunc__: a ufunc call, reduce or accumulate, on the engine's op."""
    name = ufunc.__name__
    _refuse_out(name, kwargs)
    if method == "__call__":
        if kwargs:
            raise TypeError(f"np.{name}: the argument(s) {', '.join(kwargs)} are not supported "
                            f"on Tensors; call np.{name} with the operands alone")
        function = engine_function(name)
        if function is None:
            raise _missing(name)
        UFUNCS[ufunc] = function
        return function(*inputs)
    table = REDUCE if method == "reduce" else ACCUMULATE if method == "accumulate" else {}
    if name not in table:
        raise TypeError(f"np.{name}.{method} is not supported on Tensors; use an autograd "
                        f"operation (e.g. sum, prod, max, cumsum)")
    (x,) = inputs
    unknown = set(kwargs) - {"axis", "keepdims", "out"}
    if unknown:
        raise TypeError(f"np.{name}.{method}: the argument(s) {', '.join(sorted(unknown))} "
                        f"are not supported on Tensors")
    options = {"axis": kwargs.get("axis", 0)}
    if method == "reduce":
        options["keepdims"] = kwargs.get("keepdims", False)
    return engine_function(table[name])(x, **options)


def function(func: Any, types: tuple, args: tuple, kwargs: dict) -> Any:
    """Tensor.__array_function__: np.sum, np.where, np.linalg.norm ... on the engine's op."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented  # another array type takes part: let it (or NumPy) answer
    name = func.__name__
    if name in ON_DATA:
        return func(*_data(args), **_data(kwargs))
    _refuse_out(name, kwargs)
    engine = engine_function(name)
    if engine is None:
        raise _missing(name)
    try:
        inspect.signature(engine).bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"np.{name} on Tensors: {error}; autograd.{engine.__name__} takes "
                        f"{_parameters(engine)}") from None
    return engine(*args, **kwargs)


def _parameters(function: Any) -> str:
    """'(x, axis=None, keepdims=False)': the signature, with `self` shown as `x`."""
    parameters = [p.replace(annotation=inspect.Parameter.empty)
                  for p in inspect.signature(function).parameters.values()]
    return str(inspect.Signature(parameters)).replace("(self", "(x", 1)


def _data(value: Any) -> Any:
    """Tensors inside (lists, tuples and dicts of) arguments replaced by their arrays."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_data(v) for v in value)
    if isinstance(value, dict):
        return {k: _data(v) for k, v in value.items()}
    return value
