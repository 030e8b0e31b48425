"""Adam flushes the subnormal floats its moments decay into, without changing any step."""

import numpy as np

import nn
from autograd import Tensor


def _train(flush_every: int, steps: int = 848) -> tuple[np.ndarray, nn.Adam]:
    """One gradient of 1e-3, then zeros: m decays by 0.9 a step into subnormals (~780 steps)."""
    p = Tensor(np.full(100, 0.5, dtype=np.float32), requires_grad=True)
    optimizer = nn.Adam([p], lr=1e-3)
    optimizer.flush_every = flush_every
    for t in range(steps):
        p.grad = Tensor(np.full(100, 1e-3 if t == 0 else 0.0, dtype=np.float32))
        optimizer.step()
    return p.data, optimizer


def _subnormals(a: np.ndarray) -> int:
    return int(np.count_nonzero((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)))


def test_without_the_flush_the_moments_fill_with_subnormals():
    _, optimizer = _train(flush_every=0)
    assert _subnormals(optimizer.m[0]) == 100


def test_the_flush_leaves_no_subnormals_and_changes_no_parameter():
    flushed, optimizer = _train(flush_every=16)
    unflushed, _ = _train(flush_every=0)
    assert _subnormals(optimizer.m[0]) == 0 and _subnormals(optimizer.v[0]) == 0
    assert np.array_equal(flushed, unflushed)
    assert nn.Adam.flush_every == 16
