"""Convolution and pooling primitives on channels-last images (N, H, W, C).

A kernel is (kh, kw, C_in, C_out), inputs first as in `linear`'s (in, out) weight. Like
PyTorch's conv2d, the forward is a cross-correlation (no kernel flip):

    out[n, i, j, o] = Σ_{a,b,c} x_pad[n, i·s + a·d, j·s + b·d, c] · w[a, b, c, o]  (+ bias[o])

with s the stride, d the dilation and x_pad the input padded with zeros. `padding` arrives
resolved, as ((top, bottom), (left, right)); autograd.conv2d turns ints, pairs, "valid" and
"same" into it, and checks shapes before the forward runs.

conv2d is bilinear in (x, w), so its three VJP-related maps close on each other:
- conv2d_input_grad(g, w) = g · ∂out/∂x, the transposed convolution (a full correlation of g
  with the flipped kernel);
- conv2d_kernel_grad(x, g) = g · ∂out/∂w, the correlation of the input with g.
Each of the three is bilinear and each one's VJPs are the other two, so `create_graph` gives
every higher order. Pooling works the same way: max_pool2d routes g to each window's arg max
through a route/gather pair that are each other's adjoints; avg_pool2d and its spreading
adjoint likewise.

Speed: windows are strided views (sliding_window_view, no copy); products go to BLAS as one
matrix product (im2col) when the copy is small, and as one product per kernel offset (a copy of
input size at a time) when it is not; no Python loop runs over the batch or over pixels. The
forward saves its im2col matrix for the kernel gradient, which would otherwise copy it again.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..backends import is_lazy
from ..tensor import Primitive, Tensor
from .elementwise import _raw  # the arg max positions are constants of the derivative

# Above this many bytes the forward and the kernel gradient do not build the (N·Ho·Wo, kh·kw·C)
# im2col matrix but work one kernel offset at a time. The matrix of the cnn preset's second conv
# on a batch of 128 is 26 MB; a 3×3 conv of 64 channels over a batch of 32 images of 224×224
# would be 3.6 GB.
IM2COL_LIMIT_BYTES = 64 * 2**20


# --- windows ------------------------------------------------------------------------------------
def _pad(x, padding, value=0):
    """x padded on H and W by ((top, bottom), (left, right)); x itself when there is nothing."""
    if not any(padding[0]) and not any(padding[1]):
        return x
    return np.pad(x, ((0, 0), *padding, (0, 0)), constant_values=value)


def _out_size(size, kernel, stride, padding, dilation):
    """Output length along one axis: ⌊(size + pads - d·(k - 1) - 1) / s⌋ + 1."""
    return (size + padding[0] + padding[1] - dilation * (kernel - 1) - 1) // stride + 1


def _windows(x_pad, kernel, stride, dilation, out_hw):
    """The view (N, Ho, Wo, C, kh, kw) of every window, strided and dilated: no copy."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    spans = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = sliding_window_view(x_pad, spans, axis=(1, 2))
    return view[:, :(ho - 1) * sh + 1:sh, :(wo - 1) * sw + 1:sw, :, ::dh, ::dw]


def _offset(x_pad, a, b, stride, dilation, out_hw):
    """x_pad at kernel offset (a, b) of every window: the (N, Ho, Wo, C) view that meets w[a, b]."""
    return x_pad[_offset_index(a, b, stride, dilation, out_hw)]


def _offset_index(a, b, stride, dilation, out_hw):
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_hw
    return (slice(None), slice(a * dh, a * dh + (ho - 1) * sh + 1, sh),
            slice(b * dw, b * dw + (wo - 1) * sw + 1, sw))


def _add_at_offset(x_pad, a, b, stride, dilation, out_hw, values):
    """x_pad with `values` added at kernel offset (a, b): in place through the view on NumPy
    and CuPy; a Dask slice is a new array, not a view, so there the sum is assigned back."""
    if is_lazy(x_pad):
        index = _offset_index(a, b, stride, dilation, out_hw)
        x_pad[index] = x_pad[index] + values
    else:
        _offset(x_pad, a, b, stride, dilation, out_hw)[...] += values
    return x_pad


def _in_place(ufunc, a, b):
    """ufunc(a, b) written into a, except on Dask, which has no `out=` (a new array there)."""
    return ufunc(a, b) if is_lazy(a) else ufunc(a, b, out=a)


def _crop(x_pad, padding):
    """Undo _pad: the interior of x_pad."""
    (top, bottom), (left, right) = padding
    return x_pad[:, top:x_pad.shape[1] - bottom, left:x_pad.shape[2] - right]


def _padded_zeros(like, x_shape, padding):
    """Zeros of the padded input's shape, in like's dtype (an accumulator for a transposed op)."""
    n, h, w, c = x_shape
    (top, bottom), (left, right) = padding
    return np.zeros_like(like, shape=(n, h + top + bottom, w + left + right, c))


# --- convolution --------------------------------------------------------------------------------
def _im2col(x_pad, kernel, stride, dilation, out_hw):
    """The windows as one (N·Ho·Wo, kh·kw·C) matrix, C innermost so that the copy reads runs of
    C; None when that copy would pass IM2COL_LIMIT_BYTES (then work offset by offset)."""
    (kh, kw), c = kernel, x_pad.shape[-1]
    rows = len(x_pad) * out_hw[0] * out_hw[1]
    if rows * kh * kw * c * x_pad.dtype.itemsize > IM2COL_LIMIT_BYTES:
        return None
    windows = _windows(x_pad, kernel, stride, dilation, out_hw).transpose(0, 1, 2, 4, 5, 3)
    return windows.reshape(rows, kh * kw * c)


def _conv2d(x, w, b=None, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1)):
    kh, kw, c_in, c_out = w.shape
    x_pad = _pad(x, padding)
    out_hw = tuple(_out_size(x.shape[1 + i], w.shape[i], stride[i], padding[i], dilation[i])
                   for i in (0, 1))
    columns = _im2col(x_pad, (kh, kw), stride, dilation, out_hw)
    if columns is not None:  # one BLAS product
        out = columns @ w.reshape(kh * kw * c_in, c_out)
    else:  # one product per kernel offset, each reading an input-sized copy
        rows = len(x) * out_hw[0] * out_hw[1]
        out = np.zeros_like(x, shape=(rows, c_out), dtype=np.result_type(x, w))
        for a in range(kh):
            for b_ in range(kw):
                piece = _offset(x_pad, a, b_, stride, dilation, out_hw).reshape(rows, c_in)
                out += piece @ w[a, b_]
    out = out.reshape(len(x), *out_hw, c_out)
    if b is not None:
        out += b
    return out, columns  # the kernel gradient reuses the columns rather than copying again


def _conv2d_input_grad(g, w, x_shape, stride, padding, dilation):
    """g · ∂conv/∂x: every output gradient spread back over its window, weighted by the kernel
    (a transposed convolution). One product per kernel offset, accumulated in the padded input."""
    kh, kw, c_in, c_out = w.shape
    n, ho, wo, _ = g.shape
    dx_pad = _padded_zeros(g, x_shape, padding)
    rows = g.reshape(n * ho * wo, c_out)
    for a in range(kh):
        for b in range(kw):
            dx_pad = _add_at_offset(dx_pad, a, b, stride, dilation, (ho, wo),
                                    (rows @ w[a, b].T).reshape(n, ho, wo, c_in))
    return _crop(dx_pad, padding)


def _conv2d_kernel_grad(x, g, kernel_size, stride, padding, dilation, columns=None):
    """g · ∂conv/∂w: the windows of the input met by each output, correlated with g over the
    batch and all positions: im2colᵀ @ g (`columns`: the forward's im2col of x, if it made one),
    or one such product per kernel offset."""
    kh, kw = kernel_size
    n, ho, wo, c_out = g.shape
    c_in = x.shape[-1]
    x_pad = _pad(x, padding)
    rows = g.reshape(n * ho * wo, c_out)
    if columns is None:
        columns = _im2col(x_pad, kernel_size, stride, dilation, (ho, wo))
    if columns is not None:
        return (columns.T @ rows).reshape(kh, kw, c_in, c_out)
    dw = np.empty_like(x, shape=(kh, kw, c_in, c_out), dtype=np.result_type(x, g))
    for a in range(kh):
        for b in range(kw):
            piece = _offset(x_pad, a, b, stride, dilation, (ho, wo)).reshape(-1, c_in)
            if is_lazy(dw):
                dw[a, b] = piece.T @ rows
            else:
                np.matmul(piece.T, rows, out=dw[a, b])
    return dw


def _conv2d_vjp_w(g, out, x, w, *b, stride, padding, dilation, saved):
    """conv2d_kernel_grad(x, g), reusing the forward's im2col of x (a constant) on arrays."""
    columns = None if isinstance(g, Tensor) else saved
    return conv2d_kernel_grad(x, g, kernel_size=w.shape[:2], stride=stride, padding=padding,
                              dilation=dilation, columns=columns)


conv2d = Primitive(
    "conv2d", _conv2d, "d conv(x, w) + b = conv(dx, w) + conv(x, dw) + db",
    lambda g, out, x, w, *b, stride, padding, dilation, saved: conv2d_input_grad(
        g, w, x_shape=x.shape, stride=stride, padding=padding, dilation=dilation),
    _conv2d_vjp_w,
    lambda g, out, x, w, *b, **p: g,  # the engine sums g over N, H and W
    saves=True)
conv2d_input_grad = Primitive(
    "conv2d_input_grad", _conv2d_input_grad,
    "d convᵀ(g, w) = convᵀ(dg, w) + convᵀ(g, dw); adjoints: conv2d and the kernel grad",
    lambda h, out, g, w, x_shape, **p: conv2d(h, w, **p),
    lambda h, out, g, w, x_shape, **p: conv2d_kernel_grad(h, g, kernel_size=w.shape[:2], **p))
conv2d_kernel_grad = Primitive(
    "conv2d_kernel_grad", _conv2d_kernel_grad,
    "d corr(x, g) = corr(dx, g) + corr(x, dg); its adjoints are the input grad and conv2d",
    lambda h, out, x, g, kernel_size, columns=None, **p: conv2d_input_grad(
        g, h, x_shape=x.shape, **p),
    lambda h, out, x, g, kernel_size, columns=None, **p: conv2d(x, h, **p))


# --- max pooling --------------------------------------------------------------------------------
# The forward keeps no index: the maxima are found again in the backward by comparing each kernel
# offset's view of the input with the output (cheap elementwise passes, where building an arg max
# index with masked writes cost ten times the forward).
def _max_pool2d(x, kernel_size, stride, padding):
    """The max of each window: one elementwise maximum per kernel offset."""
    x_pad = _pad(x, padding, value=-np.inf)
    out_hw = tuple(_out_size(x.shape[1 + i], kernel_size[i], stride[i], padding[i], 1)
                   for i in (0, 1))
    out = _offset(x_pad, 0, 0, stride, (1, 1), out_hw).copy()
    for k in range(1, kernel_size[0] * kernel_size[1]):
        out = _in_place(np.maximum, out,
                        _offset(x_pad, *divmod(k, kernel_size[1]), stride, (1, 1), out_hw))
    return out


def _first_maxima(source, maxima, kernel_size, stride, padding):
    """For each kernel offset (a, b), in row-major order: the mask of windows whose maximum is
    first reached at that offset. Of tied maxima the first takes the gradient, as in PyTorch."""
    source_pad = _pad(source, padding, value=-np.inf)
    taken = np.zeros_like(maxima, dtype=bool)
    for a in range(kernel_size[0]):
        for b in range(kernel_size[1]):
            first = np.equal(_offset(source_pad, a, b, stride, (1, 1), maxima.shape[1:3]), maxima)
            first = _in_place(np.greater, first, taken)  # first and not taken
            taken |= first
            yield a, b, first


def _route(g, source, maxima, kernel_size, stride, padding):
    """g sent to the arg max of each window of `source` (zeros elsewhere); overlapping windows
    add up. `source` and `maxima` (the forward's input and output) are constants here."""
    dx_pad = _padded_zeros(g, source.shape, padding)
    disjoint = stride[0] >= kernel_size[0] and stride[1] >= kernel_size[1]
    for a, b, first in _first_maxima(source, maxima, kernel_size, stride, padding):
        if disjoint and not is_lazy(dx_pad):  # each element is in one window at most: write
            np.multiply(g, first, out=_offset(dx_pad, a, b, stride, (1, 1), g.shape[1:3]))
        else:
            dx_pad = _add_at_offset(dx_pad, a, b, stride, (1, 1), g.shape[1:3], g * first)
    return _crop(dx_pad, padding)


def _gather(h, source, maxima, kernel_size, stride, padding):
    """h read at the arg max of each window of `source`: the adjoint of _route."""
    out = np.zeros_like(h, shape=maxima.shape)
    h_pad = _pad(h, padding)
    for a, b, first in _first_maxima(source, maxima, kernel_size, stride, padding):
        out += _offset(h_pad, a, b, stride, (1, 1), maxima.shape[1:3]) * first
    return out


max_pool2d = Primitive(
    "max_pool2d", _max_pool2d, "d max(window) = d x at the window's first arg max",
    lambda g, out, x, **p: max_pool2d_route(g, source=_raw(x), maxima=_raw(out), **p))
max_pool2d_route = Primitive(
    "max_pool2d_route", _route, "d route(g) = route(dg): linear in g, the arg max is constant",
    lambda h, out, g, **p: max_pool2d_gather(h, **p))
max_pool2d_gather = Primitive(
    "max_pool2d_gather", _gather, "d gather(h) = gather(dh): the adjoint of route",
    lambda k, out, h, **p: max_pool2d_route(k, **p))


# --- average pooling ----------------------------------------------------------------------------
def _avg_pool2d(x, kernel_size, stride, padding):
    """The mean of each window; padded zeros count (PyTorch's count_include_pad=True)."""
    x_pad = _pad(x, padding)
    out_hw = tuple(_out_size(x.shape[1 + i], kernel_size[i], stride[i], padding[i], 1)
                   for i in (0, 1))
    out = _offset(x_pad, 0, 0, stride, (1, 1), out_hw).copy()
    for k in range(1, kernel_size[0] * kernel_size[1]):
        out += _offset(x_pad, *divmod(k, kernel_size[1]), stride, (1, 1), out_hw)
    out /= kernel_size[0] * kernel_size[1]
    return out


def _spread(g, x_shape, kernel_size, stride, padding):
    """g / (kh·kw) added to every element of its window (the adjoint of _avg_pool2d)."""
    kh, kw = kernel_size
    dx_pad = _padded_zeros(g, x_shape, padding)
    share = g / (kh * kw)
    for a in range(kh):
        for b in range(kw):
            dx_pad = _add_at_offset(dx_pad, a, b, stride, (1, 1), g.shape[1:3], share)
    return _crop(dx_pad, padding)


avg_pool2d = Primitive(
    "avg_pool2d", _avg_pool2d, "d mean(window) = mean(d window): g spread evenly",
    lambda g, out, x, **p: avg_pool2d_spread(g, x_shape=x.shape, **p))
avg_pool2d_spread = Primitive(
    "avg_pool2d_spread", _spread, "d spread(g) = spread(dg); its adjoint is avg_pool2d",
    lambda h, out, g, x_shape, **p: avg_pool2d(h, **p))
