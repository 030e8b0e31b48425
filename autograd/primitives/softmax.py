"""The softmax family: fused, numerically stable forwards with short VJPs (each tested against
its composition from elementwise ops and reductions)."""

from __future__ import annotations

import numpy as np

from ..backends import as_array, one_hot, reduce_max, reduce_sum
from ..tensor import Primitive, Tensor
from .elementwise import exp


# --- softmax family (fused: stable forwards, short VJPs; tested against their compositions) -----
# reduce_max and reduce_sum are np.maximum.reduce and np.add.reduce on NumPy arrays: np.max and
# np.sum without their Python wrappers, which on a batch of 64 rows of 10 logits cost more than
# the arithmetic (other backends get their own max and sum).
def _softmax(x, axis):
    """exp(x - max) / Σ exp(x - max): the shift cancels and keeps exp from overflowing."""
    if x.shape[axis] == 0:  # nothing to normalise (and no max to shift by)
        return np.empty_like(x)
    e = x - reduce_max(x, axis=axis, keepdims=True)
    np.exp(e, out=e)  # in place (Dask rebinds the graph, as it does for every out=)
    e /= reduce_sum(e, axis=axis, keepdims=True)
    return e


def _log_softmax(x, axis):
    """(x - max) - ln Σ exp(x - max)."""
    if x.shape[axis] == 0:
        return np.empty_like(x)
    shifted = x - reduce_max(x, axis=axis, keepdims=True)
    return shifted - np.log(reduce_sum(np.exp(shifted), axis=axis, keepdims=True))


softmax = Primitive("softmax", _softmax, "d softmax(x) = (diag(p) - p pᵀ) dx",
                    lambda g, out, x, axis: out * (g - (g * out).sum(axis=axis, keepdims=True)),
                    reads="out")
log_softmax = Primitive("log_softmax", _log_softmax, "d log_softmax(x) = (I - 1 pᵀ) dx",
                        lambda g, out, x, axis: g - exp(out) * g.sum(axis=axis, keepdims=True),
                        reads="out")


def _as_probabilities(target, logits_shape, dtype):
    """Integer labels (N,) become one-hot rows; probability rows (N, C) pass through."""
    target = as_array(target)  # in its backend; autograd.compile's traced labels stay traced
    if target.ndim == len(logits_shape):
        return target.astype(dtype, copy=False)
    if isinstance(target, np.ndarray):
        return (target[:, None] == np.arange(logits_shape[-1])).astype(dtype)
    return one_hot(target, logits_shape[-1], dtype)


def _shifted_rows(z):
    """z minus each row's max. The max is read at the argmax: on short rows (10 classes)
    NumPy's argmax is several times faster than its max."""
    if type(z) is not np.ndarray:  # Dask indexes one axis by an array at a time
        return z - z.max(axis=-1, keepdims=True)
    return z - z[np.arange(len(z)), z.argmax(axis=-1)][:, None]


def _cross_entropy(z, target):
    """mean over rows of Σ_c y_c (logsumexp(z) - z_c), never forming log(softmax).

    Saves softmax(z) for the VJP: it is exp(shifted) / Σ exp(shifted), half computed already.
    """
    shifted = _shifted_rows(z)  # the shift cancels out
    e = np.exp(shifted)
    total = reduce_sum(e, axis=-1)
    logsumexp = np.log(total)
    if target.ndim == 1 and type(z) is np.ndarray:
        losses = logsumexp - shifted[np.arange(len(z)), target]
    else:  # probability rows, or labels made one-hot on a backend without 2-d fancy indexing
        target = _as_probabilities(target, z.shape, z.dtype)
        losses = reduce_sum(target * (logsumexp[:, None] - shifted), axis=-1)
    e /= total[:, None]
    return reduce_sum(losses) / len(z), e


def _cross_entropy_vjp(g, out, z, target, saved):
    """g · (softmax(z) Σy - y) / N, which is (p - y) / N for labels or probability rows."""
    if isinstance(z, Tensor):  # create_graph: the same formula, recorded
        y = _as_probabilities(target, z.shape, z.dtype)
        return (softmax(z, axis=-1) * y.sum(axis=-1, keepdims=True) - y) * (g / len(z))
    if type(z) is not np.ndarray:  # the formula as it stands, in z's backend
        y = _as_probabilities(target, z.shape, z.dtype)
        return (saved * reduce_sum(y, axis=-1, keepdims=True) - y) * (g / len(z))
    if target.ndim == 1:  # subtract the labels in place instead of building one-hot rows
        p = saved.copy()  # a copy: with retain_graph the VJP may run again
        p[np.arange(len(z)), target] -= 1
    else:
        p = saved * np.add.reduce(target, axis=-1, keepdims=True) - target
    p *= g / len(z)
    return p


softmax_cross_entropy = Primitive("softmax_cross_entropy", _cross_entropy,
                                  "dJ/dz = (softmax(z) - y) / N", _cross_entropy_vjp, None,
                                  saves=True)


# --- binary cross-entropy from logits: the two-class softmax cross-entropy, fused the same way ---
def _bce_with_logits(z, y):
    """mean(max(z, 0) - z·y + ln(1 + e^-|z|)), never forming log σ(z). Saves σ(z) for the VJP,
    made from the same e^-|z|: 1 / (1 + e^-|z|) for z ≥ 0, e^-|z| / (1 + e^-|z|) below."""
    e = np.exp(-np.abs(z))
    losses = np.maximum(z, 0) - z * y + np.log1p(e)
    sigma = np.where(z >= 0, 1, e) / (1 + e)
    return reduce_sum(losses) / z.size, sigma


def _bce_with_logits_vjp(g, out, z, y, saved):
    """g · (σ(z) - y) / n."""
    if isinstance(z, Tensor):  # create_graph: the same formula, recorded
        return (z.sigmoid() - y) * (g / z.size)
    return (saved - y) * (g / z.size)


bce_with_logits = Primitive("bce_with_logits", _bce_with_logits,
                            "d mean BCE(σ(z), y) = (σ(z) - y) dz / n", _bce_with_logits_vjp, None,
                            saves=True)
