"""Convolutional layers (channels-last, as lecture 1): Conv2D, pooling, Dropout and Unflatten.

Images are (N, H, W, C) and kernels (kh, kw, C_in, C_out), not PyTorch's NCHW: see the README
for the one-line transposes that move weights between the two.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd
from autograd import Tensor

from . import init as initializers
from .module import ACTIVATIONS, Flatten, Linear, Module, Parameter, Sequential, _positive_int


class Conv2D(Module):
    """A 2-d convolution layer: conv2d(x, weight) + bias, weight of shape (kh, kw, C_in, C_out).

    `kernel_size`, `stride` and `dilation` are an int or a pair; `padding` an int, a pair,
    "valid" or "same". `init` names an initializer of nn.init (fans count the kh·kw window) or
    is a function (shape, rng=, dtype=); biases start at 0. `rng` is a Generator or a seed.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, bias: bool = True,
                 init: Any = "xavier-uniform", rng: initializers.Rng = None,
                 dtype: Any = np.float32) -> None:
        self.in_channels = _positive_int("Conv2D", "in_channels", in_channels)
        self.out_channels = _positive_int("Conv2D", "out_channels", out_channels)
        kernel = autograd.conv._pair("Conv2D", "kernel_size", kernel_size)
        self.kernel_size, self.stride, self.dilation = kernel, _tuple(stride), _tuple(dilation)
        self.padding = _tuple(padding)
        autograd.conv._pair("Conv2D", "stride", stride)  # checked now, not at the first batch
        autograd.conv._pair("Conv2D", "dilation", dilation)
        shape = (*kernel, self.in_channels, self.out_channels)
        self.weight = Parameter(initializers.initialize(init, shape, rng, dtype))
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype)) if bias else None

    def forward(self, x: Any) -> Tensor:
        return autograd.conv2d(x, self.weight, self.bias, self.stride, self.padding,
                               self.dilation)

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": _plain(self.stride),
                "padding": _plain(self.padding), "dilation": _plain(self.dilation),
                "bias": self.bias is not None, "dtype": self.weight.dtype.name}

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding!r}")


class _Pool2D(Module):
    """Shared by the pooling layers: a window, a stride (default: the window) and padding."""

    pool = staticmethod(autograd.max_pool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        name = type(self).__name__
        autograd.conv._pair(name, "kernel_size", kernel_size)
        if stride is not None:
            autograd.conv._pair(name, "stride", stride)
        autograd.conv._pair(name, "padding", padding, minimum=0)
        self.kernel_size, self.stride = _tuple(kernel_size), _tuple(stride)
        self.padding = _tuple(padding)

    def forward(self, x: Any) -> Tensor:
        return self.pool(x, self.kernel_size, self.stride, self.padding)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": _plain(self.kernel_size), "stride": _plain(self.stride),
                "padding": _plain(self.padding)}

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2D(_Pool2D):
    """Max over each window; the gradient goes to the first arg max (see autograd.max_pool2d)."""

    pool = staticmethod(autograd.max_pool2d)


class AvgPool2D(_Pool2D):
    """Mean over each window; the gradient is spread evenly."""

    pool = staticmethod(autograd.avg_pool2d)


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1 - p)
    (inverted dropout, as PyTorch); in eval mode, the identity. `rng` seeds the masks."""

    def __init__(self, p: float = 0.5, rng: initializers.Rng = None) -> None:
        if not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = np.random.default_rng(rng)

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0:
            return x
        shape, dtype = np.shape(x), np.asarray(x.data if isinstance(x, Tensor) else x).dtype
        keep = (self.rng.random(shape, dtype=np.float32) >= self.p).astype(dtype)
        keep *= 1 / (1 - self.p)  # in place: keeps float32 float32
        return x * keep

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Unflatten(Module):
    """(N, d) -> (N, *unflattened_size) along `dim` (PyTorch's nn.Unflatten): rows of pixels
    back to images, e.g. Unflatten(1, (28, 28, 1)) for MNIST in channels-last layout."""

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        self.dim, self.unflattened_size = int(dim), tuple(int(n) for n in unflattened_size)

    def forward(self, x: Any) -> Any:
        shape = np.shape(x)
        dim = self.dim % len(shape)
        if int(np.prod(self.unflattened_size)) != shape[dim]:
            raise ValueError(f"Unflatten: axis {self.dim} of an input of shape {shape} has "
                             f"{shape[dim]} elements, not {self.unflattened_size} = "
                             f"{int(np.prod(self.unflattened_size))}")
        return x.reshape(*shape[:dim], *self.unflattened_size, *shape[dim + 1:])

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim, "unflattened_size": list(self.unflattened_size)}

    def extra_repr(self) -> str:
        return f"{self.dim}, {self.unflattened_size}"


def _tuple(value: Any) -> Any:
    """Lists as tuples (a loaded JSON architecture gives lists), anything else as it is."""
    return tuple(value) if isinstance(value, list) else value


def _plain(value: Any) -> Any:
    """Tuples as lists, for the JSON architecture that nn.save writes."""
    return list(value) if isinstance(value, tuple) else value


Conv2d, MaxPool2d, AvgPool2d = Conv2D, MaxPool2D, AvgPool2D  # PyTorch's spelling


def cnn(hidden: Any = (128,), activation: str = "relu", init: Any = "he-normal",
        rng: initializers.Rng = None, channels: Any = (32, 64), kernel_size: int = 5,
        dropout: float = 0.5, image_shape: Any = (28, 28, 1), classes: int = 10,
        dtype: Any = np.float32) -> Sequential:
    """The cnn preset's network for rows of 784 pixels: images (28, 28, 1), then per entry of
    `channels` a valid conv of `kernel_size` with `activation` and a 2×2 max pool, then dense
    layers of `hidden` units with dropout before the last, which outputs logits.

    The default is 28² → conv 5×5 32 → 24² → pool → 12² → conv 5×5 64 → 8² → pool → 4²·64 =
    1024 → 128 → dropout 0.5 → 10; one generator, made from `rng`, draws every layer in order.
    """
    rng = np.random.default_rng(rng)
    (height, width, depth), layers = image_shape, [Unflatten(1, image_shape)]
    for out_channels in channels:
        layers += [Conv2D(depth, out_channels, kernel_size, init=init, rng=rng, dtype=dtype),
                   ACTIVATIONS[activation](), MaxPool2D(2)]
        height, width = (height - kernel_size + 1) // 2, (width - kernel_size + 1) // 2
        depth = out_channels
    layers.append(Flatten())
    features = height * width * depth
    for units in hidden:
        layers += [Linear(features, units, init=init, rng=rng, dtype=dtype),
                   ACTIVATIONS[activation]()]
        features = units
    if dropout:
        layers.append(Dropout(dropout, rng=rng))
    layers.append(Linear(features, classes, rng=rng, dtype=dtype))
    return Sequential(*layers)
