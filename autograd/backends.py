"""Array backends: the same derivative table on NumPy, CuPy (a GPU) and Dask (out of core).

The table calls NumPy (`np.exp`, `np.where`, `np.zeros_like(x, shape=...)`); NumPy's dispatch
protocols (`__array_ufunc__`, `__array_function__`) hand each call on to the module the array
belongs to. This module holds the few things dispatch cannot do:

- which backend an array belongs to, and on which device its values live;
- moving arrays between backends (`to`), computing lazy Dask results (`compute`);
- the reductions and the scatter-add that differ between backends (NumPy keeps its fast path);
- the one error for arrays of two devices meeting in one op.

A backend is named by the top-level package of its array type: "numpy", "cupy", "dask". NumPy
and Dask arrays live in host memory and combine freely (Dask treats a NumPy array as one
chunk, which is how a small model's weights meet a large chunked data set); CuPy arrays live on
a GPU and meet only CuPy arrays (or Dask arrays of CuPy chunks).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

HOST = "cpu"  # the device of NumPy arrays and of Dask arrays made of NumPy chunks


def backend_of(x: Any) -> str:
    """The package an array belongs to ("numpy", "cupy", "dask"); Python numbers are "numpy"."""
    if isinstance(x, np.ndarray) or not is_array(x):  # subclasses too
        return "numpy"
    return type(x).__module__.partition(".")[0]


def device_of(x: Any) -> str:
    """Where an array's values live: "cpu" for NumPy (and numbers), else the GPU backend's name.
    A Dask array's device is that of its chunks."""
    backend = backend_of(x)
    if backend == "numpy":
        return HOST
    if backend == "dask":
        return device_of(x._meta)
    return backend


# Types that follow NumPy's dispatch protocol without being arrays: NumPy scalars, and Tensor
# (tensor.py adds it), which wraps an array.
NOT_ARRAYS: tuple[type, ...] = (np.generic,)


def is_array(x: Any) -> bool:
    """True for arrays that follow NumPy's dispatch protocol (ndarray, CuPy, Dask, ...), not for
    Python numbers, lists, NumPy scalars or Tensors."""
    return hasattr(type(x), "__array_function__") and not isinstance(x, NOT_ARRAYS)


def is_lazy(x: Any) -> bool:
    """True for arrays whose values exist only once computed (Dask)."""
    return backend_of(x) == "dask"


def as_array(x: Any) -> Any:
    """An array of any backend as it is; anything else (lists, numbers) as a NumPy array."""
    return x if is_array(x) else np.asarray(x)


def copy(x: Any, dtype: Any = None) -> Any:
    """A copy within x's backend (never through the host), cast to `dtype` if given."""
    return x.copy() if dtype is None else x.astype(dtype, copy=True)


# ---------------------------------------------------------------------------------------------
# Moving between backends.
# ---------------------------------------------------------------------------------------------
def to_host(x: Any) -> np.ndarray:
    """A NumPy array of x's values: computes a Dask array, copies a GPU array to the host."""
    if isinstance(x, np.ndarray) or not is_array(x):
        return np.asarray(x)
    if is_lazy(x):
        return to_host(x.compute())
    return x.get()  # CuPy's (and any device array's) explicit copy to the host


def to(x: Any, backend: str) -> Any:
    """x on `backend`: "numpy", "dask" (one chunk, or x's chunks) or a GPU package ("cupy")."""
    if backend_of(x) == backend:
        return x
    if backend == "numpy":
        return to_host(x)
    if backend == "dask":
        import dask.array as da
        return da.from_array(x, chunks=x.shape) if x.ndim else da.from_array(x)
    try:
        module = importlib.import_module(backend)
    except ImportError as error:
        raise ValueError(f"to({backend!r}): cannot import {backend} ({error}); the backends are "
                         f"'numpy', 'dask' (pip install \"dask[array]\") and 'cupy' (with a "
                         f"GPU, pip install cupy-cuda12x)") from None
    return module.asarray(to_host(x))  # CuPy's asarray copies host arrays to the device


def compute(*items: Any) -> tuple:
    """The values of several tensors (or arrays), computing the lazy ones in one pass, so that
    work they share (a forward pass behind a loss and its gradients) is done once.

    A Dask tensor comes back as a NumPy tensor without graph, a Dask array as a NumPy array;
    anything else (None included) as it is.
    """
    from .tensor import Tensor
    arrays = [x.data if isinstance(x, Tensor) else x for x in items]
    lazy = [i for i, a in enumerate(arrays) if is_lazy(a)]
    if not lazy:
        return tuple(items)
    import dask
    values = dask.compute(*(arrays[i] for i in lazy))
    result = list(items)
    for i, value in zip(lazy, values):
        result[i] = Tensor._wrap(np.asarray(value)) if isinstance(items[i], Tensor) else value
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# The mixed-backend error.
# ---------------------------------------------------------------------------------------------
def mixed_devices(arrays: Sequence[Any]) -> str | None:
    """A description of the first two devices that meet in `arrays`, or None if they agree."""
    first = None
    for i, a in enumerate(arrays):
        if not is_array(a):
            continue
        if first is None:
            first = i
        elif device_of(a) != device_of(arrays[first]):
            return f"input {first} is {_described(arrays[first])}, input {i} {_described(a)}"
    return None


def _described(a: Any) -> str:
    device = device_of(a)
    where = "host memory" if device == HOST else f"{device} device memory"
    return f"a {backend_of(a)} array ({where})"


def check_one_device(op: str, arrays: Sequence[Any]) -> None:
    """Raise one clear error if arrays of two devices meet in `op`."""
    mixed = mixed_devices(arrays)
    if mixed is not None:
        raise TypeError(mixed_device_message(op, mixed))


def mixed_device_message(op: str, mixed: str) -> str:
    return (f"{op}: arrays of two backends meet: {mixed}. Nothing is copied between devices "
            f"behind your back: move one side first, e.g. model.to('cupy') and t.to('cupy') "
            f"for the GPU, or t.to('numpy') to come back")


# ---------------------------------------------------------------------------------------------
# What differs between backends: reductions, scatter-add, memory sharing.
# ---------------------------------------------------------------------------------------------
# np.add.reduce and np.maximum.reduce are np.sum and np.max without their Python wrappers: on
# NumPy's small arrays (a batch of 64 rows of 10 logits) the wrappers cost more than the
# arithmetic. CuPy reduces only add and multiply as ufunc methods, Dask none: they get the
# methods every array has.
def reduce_sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """x.sum(axis, keepdims), by np.add.reduce on NumPy arrays."""
    if type(x) is np.ndarray:
        return np.add.reduce(x, axis=axis, keepdims=keepdims)
    return x.sum(axis=axis, keepdims=keepdims)


def reduce_max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """x.max(axis, keepdims), by np.maximum.reduce on NumPy arrays."""
    if type(x) is np.ndarray:
        return np.maximum.reduce(x, axis=axis, keepdims=keepdims)
    return x.max(axis=axis, keepdims=keepdims)


def maybe_any(mask: Any) -> bool:
    """mask.any() on NumPy; True (without computing or syncing) on other backends, for checks
    that only skip work when nothing is set."""
    return bool(mask.any()) if type(mask) is np.ndarray or not is_array(mask) else True


def scatter_add(out: Any, index: Any, values: Any) -> Any:
    """out[index] += values with repeated indices adding up, in out's own module; returns the
    result. np.add.at dispatches to NumPy and CuPy and works in place. Dask has no `at`: the
    values are summed into out's flat positions by bincount (the positions are worked out on
    the host, from the index, which is a host array)."""
    if not is_lazy(out):
        np.add.at(out, index, values)
        return out
    import dask.array as da
    flat_values = values.reshape(-1)
    positions = np.arange(out.size).reshape(out.shape)[index].reshape(-1)
    sums = da.bincount(da.from_array(positions, chunks=flat_values.chunks), weights=flat_values,
                       minlength=out.size)
    return out + sums.reshape(out.shape).astype(out.dtype)


def is_view(out: Any) -> bool:
    """True if `out` may share memory with another array (NumPy's and CuPy's `base`)."""
    if type(out) is np.ndarray:
        return out.base is not None
    return getattr(out, "base", None) is not None  # Dask arrays are never views


def may_share_memory(a: Any, b: Any) -> bool:
    """np.may_share_memory for two arrays of one backend; False across backends (and on Dask,
    where NumPy's fallback would compute both arrays)."""
    if type(a) is np.ndarray and type(b) is np.ndarray:
        return np.may_share_memory(a, b)
    if type(a) is not type(b) or is_lazy(a):
        return False
    return bool(np.may_share_memory(a, b))


def one_hot(labels: Any, classes: int, dtype: Any) -> Any:
    """Rows of zeros with a 1 at each label, in the labels' backend (`like=` dispatches)."""
    return (labels[:, None] == np.arange(classes, like=labels)).astype(dtype)
