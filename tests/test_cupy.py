"""The engine on a real GPU with CuPy: skipped unless `cupy` imports and sees a GPU.

tests/test_backends.py covers the same ground on every machine with a stand-in that follows
CuPy's rules; this module checks the real thing where there is one.
"""

from __future__ import annotations

import numpy as np
import pytest

cupy = pytest.importorskip("cupy", reason="needs a GPU: CuPy is not installed")
try:
    _gpus = cupy.cuda.runtime.getDeviceCount()
except Exception:  # a CuPy without a driver or a device  # noqa: BLE001
    _gpus = 0
if not _gpus:
    pytest.skip("needs a GPU: CuPy is installed but sees none", allow_module_level=True)

from backend_cases import CASES, UNSUPPORTED, forward_backward  # noqa: E402

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from autograd import primitives as P  # noqa: E402
from autograd.tensor import Primitive  # noqa: E402

PRIMITIVES = {name: op for name, op in vars(P).items() if isinstance(op, Primitive)}


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_primitive_on_cupy_matches_numpy(name):
    assert name in CASES, f"add a case for {name!r} to tests/backend_cases.py"
    op = PRIMITIVES[name]
    to_gpu = lambda x: cupy.asarray(x) if type(x) is np.ndarray else x  # noqa: E731
    for number, (inputs, params) in enumerate(CASES[name]):
        if (name, number, "cupy") in UNSUPPORTED:
            continue
        expected, expected_grads = forward_backward(op, inputs, params, lambda x: x)
        out, grads = forward_backward(op, inputs, params, to_gpu)
        assert isinstance(out.data, cupy.ndarray)
        np.testing.assert_allclose(out.numpy(), expected.data, rtol=1e-10, atol=1e-12)
        for g, g_numpy in zip(grads, expected_grads):
            if g_numpy is not None:
                assert isinstance(g.data, cupy.ndarray)
                np.testing.assert_allclose(g.numpy(), g_numpy.data, rtol=1e-10, atol=1e-12)


def test_gradcheck_on_cupy():
    rng = np.random.default_rng(0)
    x, w = cupy.asarray(rng.standard_normal((3, 4))), cupy.asarray(rng.standard_normal((4, 2)))
    labels = cupy.asarray(np.array([0, 1, 1]))
    assert autograd.gradcheck(
        lambda x, w: autograd.softmax_cross_entropy((x @ w).tanh(), labels), [x, w])


def test_an_mlp_trains_on_cupy_as_on_numpy():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((64, 20)), rng.integers(0, 3, 64)
    results = []
    for backend, move in (("numpy", lambda a: a), ("cupy", cupy.asarray)):
        model = nn.mlp([20, 16, 3], rng=0, dtype=np.float64)
        optimizer = nn.Adam(model.parameters(), lr=0.01)
        model.to(backend)
        for _ in range(3):
            optimizer.zero_grad()
            nn.CrossEntropyLoss()(model(Tensor(move(X))), move(y)).backward()
            optimizer.step()
        results.append([p.numpy() for p in model.parameters()])
    for p, q in zip(*results):
        np.testing.assert_allclose(q, p, rtol=1e-9, atol=1e-12)


def test_numpy_meeting_cupy_is_one_clear_error():
    with pytest.raises(TypeError, match="arrays of two backends meet"):
        Tensor(cupy.ones(3), requires_grad=True) * np.ones(3)
