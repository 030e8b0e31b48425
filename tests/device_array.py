"""A stand-in for CuPy, for CPU-only tests: an array type that follows CuPy's rules.

- implicit conversion to NumPy raises (`np.asarray(x)`); `x.get()` is the explicit copy;
- host arrays (np.ndarray) are refused in kernels, i.e. ufuncs and NumPy functions (Python
  numbers and NumPy scalars are accepted, as CuPy does); host index arrays are accepted;
- a ufunc's `reduce` exists only for add and multiply;
- a ufunc's `at` works only on a device array.

The values live in a private NumPy array, so results can be compared with NumPy's. Like
`cupy`, this module has `asarray`, so `t.to("device_array")` moves a tensor onto it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


class DeviceArray(NDArrayOperatorsMixin):
    """An array 'on the device': NumPy values behind CuPy's interface and refusals."""

    __array_priority__ = 100

    def __init__(self, values: np.ndarray) -> None:
        self._values = values if type(values) is np.ndarray else np.asarray(values)

    # ----- CuPy's conversion rules ------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def get(self) -> np.ndarray:
        return self._values.copy()

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any):
        if method == "reduce" and ufunc not in (np.add, np.multiply):
            raise TypeError(f"Unsupported ufunc method {ufunc.__name__}.reduce")
        if method == "at":
            if type(inputs[0]) is not DeviceArray:
                raise TypeError(f"{ufunc.__name__}.at: the target must be a device array")
            target, index, *values = inputs
            ufunc.at(target._values, _index(index), *(_kernel_operand(v) for v in values))
            return None
        if method not in ("__call__", "reduce"):
            return NotImplemented
        if "out" in kwargs:
            kwargs["out"] = tuple(_device_out(o) for o in kwargs["out"])
        result = getattr(ufunc, method)(*(_kernel_operand(x) for x in inputs), **kwargs)
        return _wrap(result)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict):
        return _wrap(func(*_kernel_operand(args), **_kernel_operand(kwargs)))

    # ----- the ndarray interface the engine uses -----------------------------------------
    shape = property(lambda self: self._values.shape)
    ndim = property(lambda self: self._values.ndim)
    dtype = property(lambda self: self._values.dtype)
    size = property(lambda self: self._values.size)
    base = property(lambda self: None if self._values.base is None else self._values.base)
    T = property(lambda self: DeviceArray(self._values.T))

    def __getitem__(self, index: Any) -> DeviceArray:
        return DeviceArray(self._values[_index(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        self._values[_index(index)] = _kernel_operand(value)

    def __len__(self) -> int:
        return len(self._values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def __float__(self) -> float:
        return float(self._values)

    def __int__(self) -> int:
        return int(self._values)

    def __repr__(self) -> str:
        return f"device_array({self._values!r})"

    def item(self) -> Any:
        return self._values.item()

    def copy(self) -> DeviceArray:
        return DeviceArray(self._values.copy())

    def astype(self, dtype: Any, copy: bool = True) -> DeviceArray:
        return DeviceArray(self._values.astype(dtype, copy=copy))

    def reshape(self, *shape: Any) -> DeviceArray:
        return DeviceArray(self._values.reshape(*shape))

    def transpose(self, *axes: Any) -> DeviceArray:
        return DeviceArray(self._values.transpose(*axes))

    def swapaxes(self, a: int, b: int) -> DeviceArray:
        return DeviceArray(self._values.swapaxes(a, b))

    def ravel(self) -> DeviceArray:
        return DeviceArray(self._values.ravel())


def _reduction(name: str):
    def method(self: DeviceArray, *args: Any, **kwargs: Any) -> DeviceArray:
        return DeviceArray(np.asarray(getattr(self._values, name)(*args, **kwargs)))
    method.__name__ = name
    return method


for _name in ("sum", "max", "min", "mean", "any", "all", "argmax", "argmin", "prod"):
    setattr(DeviceArray, _name, _reduction(_name))


def asarray(x: Any, dtype: Any = None) -> DeviceArray:
    """Copy host data to the 'device' (cupy.asarray)."""
    if type(x) is DeviceArray:
        return x if dtype is None else x.astype(dtype)
    return DeviceArray(np.array(x, dtype=dtype, copy=True))


def _kernel_operand(x: Any) -> Any:
    """Unwrap device arrays, refuse host arrays (recursively through lists, tuples, dicts)."""
    if type(x) is DeviceArray:
        return x._values
    if type(x) is np.ndarray:
        raise TypeError(f"Unsupported type {type(x)}")
    if isinstance(x, (list, tuple)):
        return type(x)(_kernel_operand(v) for v in x)
    if isinstance(x, dict):
        return {k: _kernel_operand(v) for k, v in x.items()}
    return x


def _device_out(x: Any) -> np.ndarray:
    if type(x) is not DeviceArray:
        raise TypeError(f"out must be a device array, got {type(x)}")
    return x._values


def _index(index: Any) -> Any:
    """Index parts: device arrays unwrapped, host integer or boolean arrays accepted."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    return index._values if type(index) is DeviceArray else index


def _wrap(result: Any) -> Any:
    """NumPy results as device arrays (0-d for scalars, as CuPy returns)."""
    if type(result) is np.ndarray or isinstance(result, np.generic):
        return DeviceArray(np.asarray(result))
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    if isinstance(result, list):
        return [_wrap(r) for r in result]
    return result
