"""conv2d, max_pool2d and avg_pool2d: values and gradients against direct-loop references written
here, finite differences (float64), second order, PyTorch when installed, the tie convention of
max pooling, the Toeplitz structure of a conv's Jacobian, and one-line errors for bad input."""

import numpy as np
import pytest

import autograd
import autograd.primitives.conv as conv_table
from autograd import Tensor, gradcheck
from autograd.ledger import local_jacobian, record

rng = np.random.default_rng(8)


# --- direct-loop references (independent of the engine: one output pixel at a time) ------------
def pad_pair(padding, x_hw, kernel, stride, dilation):
    """((top, bottom), (left, right)) by the rules of autograd.conv2d, written out again."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        pads = []
        for n, k, s, d in zip(x_hw, kernel, stride, dilation):
            outputs = -(-n // s)
            total = max((outputs - 1) * s + d * (k - 1) + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    p = (padding, padding) if isinstance(padding, int) else padding
    return (p[0], p[0]), (p[1], p[1])


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def reference_conv2d(x, w, b, stride, padding, dilation):
    """out[n, i, j, o] = Σ x_pad[n, i·s + a·d, j·s + b·d, c] w[a, b, c, o] + b[o], by loops."""
    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    kh, kw, c_in, c_out = w.shape
    pads = pad_pair(padding, x.shape[1:3], (kh, kw), (sh, sw), (dh, dw))
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    ho = (xp.shape[1] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[2] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((x.shape[0], ho, wo, c_out))
    for n in range(x.shape[0]):
        for i in range(ho):
            for j in range(wo):
                for o in range(c_out):
                    total = 0.0 if b is None else b[o]
                    for a in range(kh):
                        for bb in range(kw):
                            for c in range(c_in):
                                pixel = xp[n, i * sh + a * dh, j * sw + bb * dw, c]
                                total += pixel * w[a, bb, c, o]
                    out[n, i, j, o] = total
    return out


def reference_pool(x, kernel, stride, padding, reduce, fill):
    """Each window reduced by `reduce` (np.max or np.mean), padding filled with `fill`."""
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel), pair(stride or kernel), pair(padding)
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=fill)
    ho, wo = (xp.shape[1] - kh) // sh + 1, (xp.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], ho, wo, x.shape[3]))
    for n in range(x.shape[0]):
        for i in range(ho):
            for j in range(wo):
                for c in range(x.shape[3]):
                    out[n, i, j, c] = reduce(xp[n, i * sh:i * sh + kh, j * sw:j * sw + kw, c])
    return out


def numeric_gradient(f, x, g, eps=1e-6):
    """Σ g · ∂f/∂x by central differences, element by element (the slow, obvious way)."""
    grad = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[k] = eps
        grad[k] = np.sum(g * (f(x + step) - f(x - step))) / (2 * eps)
    return grad


# --- the table of cases ------------------------------------------------------------------------
# (id, x shape (N, H, W, C_in), kernel shape (kh, kw, C_in, C_out), stride, padding, dilation,
#  bias)
CONV_CASES = [
    ("basic", (2, 5, 5, 3), (3, 3, 3, 4), 1, 0, 1, True),
    ("stride-2", (2, 7, 7, 2), (3, 3, 2, 3), 2, 0, 1, True),
    ("stride-pair", (1, 7, 6, 2), (2, 3, 2, 2), (2, 1), 0, 1, False),
    ("padding-int", (2, 4, 5, 1), (3, 3, 1, 2), 1, 1, 1, True),
    ("padding-pair", (1, 5, 4, 2), (3, 2, 2, 3), 1, (2, 1), 1, True),
    ("valid", (1, 6, 5, 3), (2, 2, 3, 1), 1, "valid", 1, True),
    ("same", (2, 5, 6, 2), (3, 3, 2, 2), 1, "same", 1, True),
    ("same-even-kernel", (1, 5, 5, 1), (2, 4, 1, 2), 1, "same", 1, False),
    ("same-stride-2", (1, 7, 6, 2), (3, 3, 2, 2), 2, "same", 1, True),
    ("dilation-2", (1, 7, 7, 2), (3, 3, 2, 2), 1, 0, 2, True),
    ("dilation-pair-stride-padding", (2, 8, 7, 1), (2, 3, 1, 3), (2, 1), 1, (3, 1), True),
    ("non-square", (1, 3, 8, 2), (1, 5, 2, 3), 1, 0, 1, True),
    ("channels-1-to-1", (3, 4, 4, 1), (2, 2, 1, 1), 1, 0, 1, True),
    ("channels-1-to-5", (1, 5, 5, 1), (3, 3, 1, 5), 1, 1, 1, True),
    ("channels-4-to-1", (2, 4, 4, 4), (3, 3, 4, 1), 1, 0, 1, False),
    ("batch-1", (1, 6, 6, 3), (3, 3, 3, 3), 2, 1, 1, True),
    ("kernel-as-large-as-input", (2, 4, 3, 2), (4, 3, 2, 3), 1, 0, 1, True),
    ("kernel-1x1", (2, 3, 3, 3), (1, 1, 3, 2), 1, 0, 1, True),
    ("stride-larger-than-kernel", (1, 7, 7, 1), (2, 2, 1, 2), 3, 0, 1, True),
]
CONV_IDS = [case[0] for case in CONV_CASES]


def make_conv_case(x_shape, w_shape, bias):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    return x, w, (rng.standard_normal(w_shape[3]) if bias else None)


@pytest.mark.parametrize("name, x_shape, w_shape, stride, padding, dilation, bias", CONV_CASES,
                         ids=CONV_IDS)
def test_conv2d_values_match_the_direct_loop(name, x_shape, w_shape, stride, padding, dilation,
                                             bias):
    x, w, b = make_conv_case(x_shape, w_shape, bias)
    out = autograd.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    expected = reference_conv2d(x, w, b, stride, padding, dilation)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, x_shape, w_shape, stride, padding, dilation, bias", CONV_CASES,
                         ids=CONV_IDS)
def test_conv2d_gradients_pass_gradcheck(name, x_shape, w_shape, stride, padding, dilation,
                                         bias):
    x, w, b = make_conv_case(x_shape, w_shape, bias)
    inputs = [Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)]
    if bias:
        inputs.append(Tensor(b, requires_grad=True))
    f = lambda x, w, *b: autograd.conv2d(x, w, *b, stride=stride, padding=padding,
                                         dilation=dilation)
    assert gradcheck(f, inputs)


@pytest.mark.parametrize("case", [CONV_CASES[1], CONV_CASES[4], CONV_CASES[10]],
                         ids=lambda case: case[0])
def test_conv2d_gradients_match_the_direct_loop(case):
    """The VJPs against finite differences of the loop reference (not of the engine)."""
    _, x_shape, w_shape, stride, padding, dilation, _ = case
    x, w, b = make_conv_case(x_shape, w_shape, True)
    X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))
    out = autograd.conv2d(X, W, B, stride=stride, padding=padding, dilation=dilation)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    ref = lambda **changed: reference_conv2d(changed.get("x", x), changed.get("w", w),
                                             changed.get("b", b), stride, padding, dilation)
    np.testing.assert_allclose(X.grad.data, numeric_gradient(lambda v: ref(x=v), x, g),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(W.grad.data, numeric_gradient(lambda v: ref(w=v), w, g),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(B.grad.data, g.sum(axis=(0, 1, 2)), rtol=1e-12)


def conv_and_gradients(x, w, b, stride, padding, dilation):
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    out = autograd.conv2d(X, W, b, stride=stride, padding=padding, dilation=dilation)
    out.backward(np.cos(np.arange(out.size)).reshape(out.shape))
    return out.data, X.grad.data, W.grad.data


@pytest.mark.parametrize("case", CONV_CASES[:11], ids=CONV_IDS[:11])
def test_the_im2col_and_per_offset_paths_agree(case, monkeypatch):
    """Above IM2COL_LIMIT_BYTES the forward and the kernel gradient work offset by offset."""
    _, x_shape, w_shape, stride, padding, dilation, bias = case
    x, w, b = make_conv_case(x_shape, w_shape, bias)
    with_im2col = conv_and_gradients(x, w, b, stride, padding, dilation)
    monkeypatch.setattr(conv_table, "IM2COL_LIMIT_BYTES", 0)
    per_offset = conv_and_gradients(x, w, b, stride, padding, dilation)
    for ours, theirs in zip(per_offset, with_im2col):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_the_input_gradient_is_a_full_convolution_with_the_flipped_kernel():
    """Stride 1, no padding: dx = conv(pad(g, k - 1), w flipped in space, C_in ↔ C_out)."""
    x, w, _ = make_conv_case((2, 6, 5, 3), (3, 2, 3, 4), False)
    X = Tensor(x, requires_grad=True)
    out = autograd.conv2d(X, w)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    flipped = w[::-1, ::-1].transpose(0, 1, 3, 2)
    expected = autograd.conv2d(g, flipped, padding=(2, 1))
    np.testing.assert_allclose(X.grad.data, expected.data, rtol=1e-12, atol=1e-12)


def differentiable(*tensors):
    """gradcheck evaluates f on constants under no_grad; autograd.grad then needs leaves."""
    return [t if t.requires_grad else Tensor(t.data, requires_grad=True) for t in tensors]


SECOND_ORDER_CASES = [CONV_CASES[0], CONV_CASES[4], CONV_CASES[8], CONV_CASES[10]]


@pytest.mark.parametrize("case", SECOND_ORDER_CASES, ids=lambda case: case[0])
def test_conv2d_second_order(case):
    """gradgrad: the gradient of conv, itself computed with create_graph, passes gradcheck in x
    and w (this runs conv2d_input_grad's and conv2d_kernel_grad's own VJPs)."""
    _, x_shape, w_shape, stride, padding, dilation, _ = case
    x, w, _ = make_conv_case(x_shape, w_shape, False)
    weights = rng.standard_normal(x_shape), rng.standard_normal(w_shape)

    def first_order(x, w):
        x, w = differentiable(x, w)
        with autograd.enable_grad():
            out = autograd.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
            dx, dw = autograd.grad((out * out).sum(), (x, w), create_graph=True)
        return (dx * weights[0]).sum() + (dw * weights[1]).sum()

    assert gradcheck(first_order, [Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)])


# --- pooling ------------------------------------------------------------------------------------
# (id, x shape, kernel_size, stride, padding)
POOL_CASES = [
    ("2x2", (2, 4, 6, 3), 2, None, 0),
    ("3x3-stride-2-overlapping", (1, 7, 7, 2), 3, 2, 0),
    ("3x2-stride-1-padding", (2, 5, 4, 1), (3, 2), 1, (1, 1)),
    ("2x3-stride-pair", (1, 6, 9, 2), (2, 3), (2, 3), 0),
    ("window-as-large-as-input", (2, 3, 4, 2), (3, 4), None, 0),
    ("odd-size-leftover", (1, 5, 5, 1), 2, None, 0),
]
POOL_IDS = [case[0] for case in POOL_CASES]


def no_ties(shape):
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + 0.01


@pytest.mark.parametrize("pool, reduce, fill", [(autograd.max_pool2d, np.max, -np.inf),
                                                (autograd.avg_pool2d, np.mean, 0.0)],
                         ids=["max", "avg"])
@pytest.mark.parametrize("name, shape, kernel, stride, padding", POOL_CASES, ids=POOL_IDS)
def test_pooling_values_and_gradients(pool, reduce, fill, name, shape, kernel, stride, padding):
    x = no_ties(shape)
    out = pool(x, kernel, stride, padding)
    np.testing.assert_allclose(out.data, reference_pool(x, kernel, stride, padding, reduce, fill),
                               rtol=1e-12)
    X = Tensor(x, requires_grad=True)
    assert gradcheck(lambda x: pool(x, kernel, stride, padding), [X])
    out = pool(X, kernel, stride, padding)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    f = lambda v: reference_pool(v, kernel, stride, padding, reduce, fill)
    np.testing.assert_allclose(X.grad.data, numeric_gradient(f, x, g), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("pool", [autograd.max_pool2d, autograd.avg_pool2d], ids=["max", "avg"])
@pytest.mark.parametrize("case", [POOL_CASES[1], POOL_CASES[2]], ids=lambda case: case[0])
def test_pooling_second_order(pool, case):
    """The gradient of pooling computed with create_graph, differentiated again (in g)."""
    _, shape, kernel, stride, padding = case
    x = no_ties(shape)
    weights = rng.standard_normal(shape)

    def first_order(x):
        (x,) = differentiable(x)
        with autograd.enable_grad():
            out = pool(x, kernel, stride, padding)
            (dx,) = autograd.grad((out * out).sum(), x, create_graph=True)
        return (dx * weights).sum()

    assert gradcheck(first_order, [Tensor(x, requires_grad=True)])


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_in_row_major_order():
    x = np.zeros((1, 2, 2, 1))  # one window, four tied maxima
    X = Tensor(x, requires_grad=True)
    autograd.max_pool2d(X, 2).sum().backward()
    np.testing.assert_array_equal(X.grad.data[0, :, :, 0], [[1, 0], [0, 0]])
    x = np.array([[0, 5], [5, 1.0]])[None, :, :, None]  # tie between (0, 1) and (1, 0)
    X = Tensor(x, requires_grad=True)
    autograd.max_pool2d(X, 2).sum().backward()
    np.testing.assert_array_equal(X.grad.data[0, :, :, 0], [[0, 1], [0, 0]])


def test_max_pool_overlapping_windows_accumulate_at_a_shared_maximum():
    x = np.array([[1, 2, 9, 3, 4]], dtype=float)[None, :, :, None]  # windows of 1×3, stride 1
    X = Tensor(x, requires_grad=True)
    out = autograd.max_pool2d(X, (1, 3), stride=1)
    np.testing.assert_array_equal(out.data[0, 0, :, 0], [9, 9, 9])
    out.backward(np.array([1.0, 10.0, 100.0]).reshape(out.shape))
    np.testing.assert_array_equal(X.grad.data[0, 0, :, 0], [0, 0, 111, 0, 0])


def test_avg_pool_spreads_the_gradient_evenly():
    X = Tensor(rng.standard_normal((1, 4, 4, 1)), requires_grad=True)
    out = autograd.avg_pool2d(X, 2)
    out.backward(np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(out.shape))
    expected = np.kron([[1.0, 2.0], [3.0, 4.0]], np.ones((2, 2))) / 4
    np.testing.assert_allclose(X.grad.data[0, :, :, 0], expected)


def test_global_avg_pool_is_the_mean_over_height_and_width():
    x = rng.standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(autograd.global_avg_pool2d(x).data, x.mean(axis=(1, 2)))
    assert gradcheck(autograd.global_avg_pool2d, [Tensor(x, requires_grad=True)])


# --- shapes, dtypes, one image ------------------------------------------------------------------
def test_one_image_of_three_dimensions_is_a_batch_of_one():
    x, w, b = make_conv_case((1, 5, 5, 2), (3, 3, 2, 4), True)
    single = autograd.conv2d(x[0], w, b, padding="same")
    assert single.shape == (5, 5, 4)
    np.testing.assert_allclose(single.data, autograd.conv2d(x, w, b, padding="same").data[0])
    assert autograd.max_pool2d(x[0], 2).shape == (2, 2, 2)
    assert autograd.avg_pool2d(x[0], 2).shape == (2, 2, 2)


def test_same_padding_keeps_the_size_and_stride_divides_it_rounding_up():
    x = rng.standard_normal((1, 7, 8, 1))
    for k in (1, 2, 3, 4, 5):
        assert autograd.conv2d(x, np.ones((k, k, 1, 1)), padding="same").shape == (1, 7, 8, 1)
    assert autograd.conv2d(x, np.ones((3, 3, 1, 1)), padding="same", stride=2).shape == \
        (1, 4, 4, 1)


def test_float32_stays_float32_through_forward_and_backward():
    x = Tensor(rng.standard_normal((2, 6, 6, 3)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 3, 3, 4)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(4, dtype=np.float32), requires_grad=True)
    out = autograd.max_pool2d(autograd.conv2d(x, w, b, padding=1), 2)
    out = autograd.avg_pool2d(out, 3)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


# --- the Jacobian and the pictures --------------------------------------------------------------
def test_the_local_jacobian_of_a_conv_is_doubly_toeplitz():
    """One channel, a 2×2 kernel on a 3×4 image: J (6 × 12) is a 2×3 grid of 3×4 blocks; block
    (i, r) depends only on r - i (Toeplitz in blocks) and is itself a Toeplitz matrix."""
    w = rng.standard_normal((2, 2, 1, 1))
    x = rng.standard_normal((1, 3, 4, 1))
    jacobian = local_jacobian(autograd.primitives.conv2d, x, w, stride=(1, 1),
                              padding=((0, 0), (0, 0)), dilation=(1, 1)).reshape(2, 3, 3, 4)
    blocks = {}
    for i in range(2):  # output row
        for r in range(3):  # input row
            block = jacobian[i, :, r, :]
            for j in range(3):
                for c in range(4):
                    expected = w[r - i, c - j, 0, 0] if 0 <= r - i < 2 and 0 <= c - j < 2 else 0
                    assert block[j, c] == expected
            assert np.array_equal(blocks.setdefault(r - i, block), block)  # Toeplitz in blocks
    assert len(blocks) == 4 and not blocks[-1].any() and not blocks[2].any()


def test_ledger_and_graph_show_conv_and_pool_nodes():
    x = rng.standard_normal((1, 4, 4, 1))
    w = Tensor(rng.standard_normal((2, 2, 1, 2)), requires_grad=True)
    loss = autograd.max_pool2d(autograd.conv2d(x, w), 3).sum()
    ledger = record(loss, names={"w": w, "loss": loss})
    ops = [step.op.name for step in ledger.steps if step.op is not None]
    assert ops == ["sum", "max_pool2d", "conv2d"]
    assert ledger.check() == 3
    assert "conv2d" in str(ledger)
    dot = autograd.to_dot(loss)
    assert "conv2d" in dot and "max_pool2d" in dot


# --- bad input ----------------------------------------------------------------------------------
BAD_CONV = [
    ("channel mismatch", (2, 5, 5, 3), (3, 3, 4, 2), {},
     r"conv2d: the input has 3 channels \(shape \(2, 5, 5, 3\)\) but the kernel expects 4"),
    ("NCHW input", (2, 3, 8, 8), (3, 3, 3, 2), {}, r"is the input NCHW"),
    ("kernel larger than input", (1, 4, 4, 1), (5, 3, 1, 1), {},
     r"the kernel spans 5 along H but the padded input has only 4"),
    ("kernel larger than padded input", (1, 4, 4, 1), (3, 3, 1, 1), {"dilation": 3, "padding": 1},
     r"spans 7 along H but the padded input has only 6"),
    ("zero stride", (1, 4, 4, 1), (3, 3, 1, 1), {"stride": 0},
     r"conv2d: stride must be a positive int or a pair of them, got 0"),
    ("negative stride", (1, 4, 4, 1), (3, 3, 1, 1), {"stride": (1, -2)}, r"stride must be"),
    ("negative padding", (1, 4, 4, 1), (3, 3, 1, 1), {"padding": -1},
     r"padding must be a non-negative int"),
    ("unknown padding", (1, 4, 4, 1), (3, 3, 1, 1), {"padding": "full"},
     r"padding must be an int, a pair, 'valid' or 'same', got 'full'"),
    ("2-d input", (4, 4), (3, 3, 1, 1), {}, r"conv2d: input must be 4-d \(N, H, W, C\)"),
    ("5-d input", (1, 1, 4, 4, 1), (3, 3, 1, 1), {}, r"got shape \(1, 1, 4, 4, 1\)"),
    ("3-d kernel", (1, 4, 4, 1), (3, 3, 1), {}, r"kernel must be 4-d \(kh, kw, C_in, C_out\)"),
    ("bias shape", (1, 4, 4, 1), (3, 3, 1, 2), {"b": np.zeros(3)},
     r"bias of shape \(3,\) does not fit kernel of shape \(3, 3, 1, 2\)"),
]


@pytest.mark.parametrize("what, x_shape, w_shape, kwargs, message", BAD_CONV,
                         ids=[case[0] for case in BAD_CONV])
def test_bad_conv_input_gets_one_clear_line(what, x_shape, w_shape, kwargs, message):
    with pytest.raises(ValueError, match=message) as error:
        autograd.conv2d(np.zeros(x_shape), Tensor(np.zeros(w_shape), requires_grad=True),
                        **kwargs)
    assert "\n" not in str(error.value)


BAD_POOL = [
    ("zero kernel", (1, 4, 4, 1), {"kernel_size": 0}, r"kernel_size must be a positive int"),
    ("zero stride", (1, 4, 4, 1), {"kernel_size": 2, "stride": 0}, r"stride must be a positive"),
    ("window larger than input", (1, 4, 4, 1), {"kernel_size": 5},
     r"the kernel spans 5 along H but the padded input has only 4"),
    ("padding over half the window", (1, 4, 4, 1), {"kernel_size": 2, "padding": 2},
     r"padding \(2, 2\) must be at most half the kernel size \(2, 2\)"),
    ("2-d input", (4, 4), {"kernel_size": 2}, r"input must be 4-d"),
]


@pytest.mark.parametrize("pool", [autograd.max_pool2d, autograd.avg_pool2d], ids=["max", "avg"])
@pytest.mark.parametrize("what, x_shape, kwargs, message", BAD_POOL,
                         ids=[case[0] for case in BAD_POOL])
def test_bad_pool_input_gets_one_clear_line(pool, what, x_shape, kwargs, message):
    with pytest.raises(ValueError, match=message) as error:
        pool(np.zeros(x_shape), **kwargs)
    assert "\n" not in str(error.value)
    assert str(error.value).startswith(pool.__name__)


# --- PyTorch, when installed (never required) ----------------------------------------------------
NO_TORCH = "optional reference: PyTorch is not installed (pip install torch==2.13.0)"


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note about its own copy
@pytest.mark.parametrize("case", [c for c in CONV_CASES if c[4] != "same" or c[3] == 1],
                         ids=lambda case: case[0])
def test_conv2d_matches_pytorch(case):
    torch = pytest.importorskip("torch", reason=NO_TORCH)
    _, x_shape, w_shape, stride, padding, dilation, bias = case
    x, w, b = make_conv_case(x_shape, w_shape, bias)
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    out = autograd.conv2d(X, W, b, stride=stride, padding=padding, dilation=dilation)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    # NHWC -> NCHW for images, (kh, kw, C_in, C_out) -> (C_out, C_in, kh, kw) for kernels
    tx = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
    tw = torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)), requires_grad=True)
    tb = None if b is None else torch.tensor(b)
    t_out = torch.nn.functional.conv2d(tx, tw, tb, stride=pair(stride), padding=padding
                                       if isinstance(padding, str) else pair(padding),
                                       dilation=pair(dilation))
    t_out.backward(torch.tensor(np.ascontiguousarray(g.transpose(0, 3, 1, 2))))
    np.testing.assert_allclose(out.data, t_out.detach().numpy().transpose(0, 2, 3, 1),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(X.grad.data, tx.grad.numpy().transpose(0, 2, 3, 1),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(W.grad.data, tw.grad.numpy().transpose(2, 3, 1, 0),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name, shape, kernel, stride, padding", POOL_CASES, ids=POOL_IDS)
def test_pooling_matches_pytorch_ties_included(name, shape, kernel, stride, padding):
    torch = pytest.importorskip("torch", reason=NO_TORCH)
    x = np.round(rng.standard_normal(shape), 0)  # integers: many ties
    for ours, theirs in ((autograd.max_pool2d, torch.nn.functional.max_pool2d),
                         (autograd.avg_pool2d, torch.nn.functional.avg_pool2d)):
        X = Tensor(x, requires_grad=True)
        out = ours(X, kernel, stride, padding)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        tx = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
        t_out = theirs(tx, pair(kernel), pair(stride or kernel), pair(padding))
        t_out.backward(torch.tensor(np.ascontiguousarray(g.transpose(0, 3, 1, 2))))
        np.testing.assert_allclose(out.data, t_out.detach().numpy().transpose(0, 2, 3, 1))
        np.testing.assert_allclose(X.grad.data, tx.grad.numpy().transpose(0, 2, 3, 1),
                                   rtol=1e-12, atol=1e-12)
