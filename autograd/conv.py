"""Convolution and pooling as package-level functions (`autograd.conv2d`), with their arguments
checked here, once, so that a wrong shape is one clear error rather than a NumPy traceback.

Images are channels-last, (N, H, W, C), or (H, W, C) for one image; kernels are
(kh, kw, C_in, C_out). This is not PyTorch's NCHW: see the README for the transposes.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import primitives as P
from .tensor import Tensor, apply

Pair = int | tuple[int, int]


def _array_or_tensor(x: Any) -> Any:
    return x if isinstance(x, Tensor) else np.asarray(x)


def _pair(op: str, name: str, value: Any, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints, each at least `minimum`, as a pair."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, numbers.Integral) and v >= minimum for v in pair)):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be a {kind} int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _padding(op: str, padding: Any, image_hw: tuple, kernel: tuple, stride: tuple,
             dilation: tuple) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) from an int, a pair, "valid" or "same".

    "same" gives ⌈size / stride⌉ outputs per axis, the extra row or column of an odd total going
    to the bottom or right (as TensorFlow and, for stride 1, PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got "
                             f"{padding!r}")
        pads = []
        for size, k, s, d in zip(image_hw, kernel, stride, dilation):
            total = max((-(-size // s) - 1) * s + d * (k - 1) + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        return pads[0], pads[1]
    top, left = _pair(op, "padding", padding, minimum=0)
    return (top, top), (left, left)


def _as_batch(op: str, x: Any, names: str = "(N, H, W, C)") -> tuple[Any, bool]:
    """x as a 4-d batch, and whether it was one 3-d image."""
    x = _array_or_tensor(x)
    if x.ndim == 3:
        return x.reshape(1, *x.shape), True
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 4-d {names} or 3-d (H, W, C), got shape "
                         f"{x.shape}")
    return x, False


def _check_fits(op: str, x_shape: tuple, kernel: tuple, padding: tuple, dilation: tuple) -> None:
    """The (dilated) kernel must fit inside the padded image."""
    for axis, size, k, pads, d in zip("HW", x_shape[1:3], kernel, padding, dilation):
        span = d * (k - 1) + 1
        if span > size + sum(pads):
            raise ValueError(f"{op}: the kernel spans {span} along {axis} but the padded input "
                             f"has only {size + sum(pads)} ({size} + padding {pads}); use a "
                             f"smaller kernel or more padding")


def conv2d(x: Any, w: Any, b: Any = None, stride: Pair = 1, padding: Any = 0,
           dilation: Pair = 1) -> Tensor:
    """2-d convolution (cross-correlation, as in PyTorch) of channels-last images.

    x is (N, H, W, C_in) or one image (H, W, C_in); w is (kh, kw, C_in, C_out); b is (C_out,).
    `padding` is an int, a pair (rows, columns), "valid" (0) or "same"; stride and dilation an
    int or a pair. Returns (N, Ho, Wo, C_out), or (Ho, Wo, C_out) for one image.
    """
    x, single = _as_batch("conv2d", x)
    w = _array_or_tensor(w)
    if w.ndim != 4:
        raise ValueError(f"conv2d: kernel must be 4-d (kh, kw, C_in, C_out), got shape {w.shape}")
    if x.shape[-1] != w.shape[2]:
        hint = (" (is the input NCHW? images here are channels-last (N, H, W, C): "
                "x.transpose(0, 2, 3, 1))" if x.shape[1] == w.shape[2] else "")
        raise ValueError(f"conv2d: the input has {x.shape[-1]} channels (shape {x.shape}) but "
                         f"the kernel expects {w.shape[2]} (shape {w.shape}, (kh, kw, C_in, "
                         f"C_out)){hint}")
    stride = _pair("conv2d", "stride", stride)
    dilation = _pair("conv2d", "dilation", dilation)
    kernel = w.shape[:2]
    padding = _padding("conv2d", padding, x.shape[1:3], kernel, stride, dilation)
    _check_fits("conv2d", x.shape, kernel, padding, dilation)
    inputs = (x, w)
    if b is not None:
        b = _array_or_tensor(b)
        if b.shape != w.shape[3:]:
            raise ValueError(f"conv2d: bias of shape {b.shape} does not fit kernel of shape "
                             f"{w.shape} (needs ({w.shape[3]},))")
        inputs = (x, w, b)
    out = apply(P.conv2d, inputs, {"stride": stride, "padding": padding, "dilation": dilation})
    return out.reshape(out.shape[1:]) if single else out


def _pool(op: str, primitive: Any, x: Any, kernel_size: Pair, stride: Pair | None,
          padding: Pair) -> Tensor:
    x, single = _as_batch(op, x)
    kernel = _pair(op, "kernel_size", kernel_size)
    stride = kernel if stride is None else _pair(op, "stride", stride)
    pads = _pair(op, "padding", padding, minimum=0)
    if pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {pads} must be at most half the kernel size {kernel} "
                         f"(else a window can hold only padding)")
    padding_ = ((pads[0], pads[0]), (pads[1], pads[1]))
    _check_fits(op, x.shape, kernel, padding_, (1, 1))
    out = apply(primitive, (x,), {"kernel_size": kernel, "stride": stride, "padding": padding_})
    return out.reshape(out.shape[1:]) if single else out


def max_pool2d(x: Any, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> Tensor:
    """Max of each kh×kw window of channels-last images; stride defaults to the kernel size.

    The gradient goes to the arg max of each window; of tied maxima, to the first in row-major
    order (as PyTorch). Overlapping windows add up their contributions. Padding is -inf.
    """
    return _pool("max_pool2d", P.max_pool2d, x, kernel_size, stride, padding)


def avg_pool2d(x: Any, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> Tensor:
    """Mean of each kh×kw window of channels-last images; stride defaults to the kernel size.

    The gradient is spread evenly over each window. Padded zeros count in the mean (PyTorch's
    count_include_pad=True).
    """
    return _pool("avg_pool2d", P.avg_pool2d, x, kernel_size, stride, padding)


def global_avg_pool2d(x: Any) -> Tensor:
    """Mean over H and W: (N, H, W, C) -> (N, C), or (H, W, C) -> (C,)."""
    x = _array_or_tensor(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"global_avg_pool2d: input must be (N, H, W, C) or (H, W, C), got "
                         f"shape {x.shape}")
    x = x if isinstance(x, Tensor) else Tensor(x)
    return x.mean(axis=(-3, -2))
