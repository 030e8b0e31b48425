"""The derivative table on other array backends: Dask (lazy, chunked) and a stand-in that
follows CuPy's rules (tests/device_array.py), compared with NumPy.

Every primitive of `autograd.primitives` runs forward and backward on each backend with the
cases of tests/backend_cases.py; a primitive without a case fails, so a new primitive is covered
as soon as it is added.
"""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
import backend_cases  # noqa: E402
from backend_cases import CASES, UNSUPPORTED  # noqa: E402
from dask.callbacks import Callback  # noqa: E402
from device_array import DeviceArray  # noqa: E402

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import Tensor, backends, no_grad  # noqa: E402
from autograd import primitives as P  # noqa: E402
from autograd.tensor import Primitive  # noqa: E402

PRIMITIVES = {name: op for name, op in vars(P).items() if isinstance(op, Primitive)}


class CountComputes(Callback):
    """Counts Dask computations started inside a `with` block."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def _start(self, dsk) -> None:
        self.count += 1


def on_dask(x):
    """NumPy arrays as Dask arrays whose first axis is split into two chunks."""
    if type(x) is not np.ndarray:
        return x
    if x.ndim == 0:
        return da.from_array(x)
    return da.from_array(x, chunks=(max(1, x.shape[0] // 2), *x.shape[1:]))


def on_device(x):
    return DeviceArray(x.copy()) if type(x) is np.ndarray else x


MOVES = {"numpy": lambda x: x, "dask": on_dask, "device": on_device}
IS_ON = {"dask": backends.is_lazy, "device": lambda a: type(a) is DeviceArray}


def forward_backward(op: Primitive, inputs: tuple, params: dict, backend: str):
    """backend_cases.forward_backward on the named backend."""
    return backend_cases.forward_backward(op, inputs, params, MOVES[backend])


@pytest.mark.parametrize("backend", ["dask", "device"])
@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_primitive_runs_forward_and_backward_on_the_backend_as_on_numpy(name, backend):
    if name not in CASES:
        pytest.fail(f"primitive {name!r} has no backend case: add one to CASES in "
                    f"tests/backend_cases.py (its docstring says how)")
    op = PRIMITIVES[name]
    for number, (inputs, params) in enumerate(CASES[name]):
        expected, expected_grads = forward_backward(op, inputs, params, "numpy")
        if (name, number, backend) in UNSUPPORTED:  # one clear error naming the op
            with pytest.raises((ValueError, IndexError, TypeError, NotImplementedError),
                               match=f"^{name}: cannot apply to shapes"):
                forward_backward(op, inputs, params, backend)
            continue
        with CountComputes() as computes:
            out, grads = forward_backward(op, inputs, params, backend)
        what = f"{name} case {number} on {backend}"
        assert computes.count == 0, f"{what}: Dask computed {computes.count} times"
        assert IS_ON[backend](out.data), f"{what}: output left the backend ({type(out.data)})"
        np.testing.assert_allclose(out.numpy(), expected.data, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{what}: forward")
        assert out.dtype == expected.dtype, what
        for i, (g, g_numpy) in enumerate(zip(grads, expected_grads)):
            if g_numpy is None:
                assert g is None, what
                continue
            assert IS_ON[backend](g.data), f"{what}: gradient {i} left the backend"
            assert g.dtype == g_numpy.dtype, what
            np.testing.assert_allclose(g.numpy(), g_numpy.data, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{what}: gradient of input {i}")


def test_the_case_table_names_only_primitives_of_the_table():
    assert set(CASES) <= set(PRIMITIVES), set(CASES) - set(PRIMITIVES)


# ----- tensors keep their backend ----------------------------------------------------------
def test_tensor_of_a_dask_array_stays_lazy_and_copies_nothing_to_memory():
    x = da.ones((1000, 3), chunks=(100, 3))
    with CountComputes() as computes:
        t = Tensor(x, requires_grad=True)
        text = repr(t)
    assert computes.count == 0 and backends.is_lazy(t.data) and t.backend == "dask"
    assert "dask.array" in text
    assert t.compute().backend == "numpy" and t.compute().shape == (1000, 3)


def test_tensor_of_a_device_array_stays_on_the_device_and_converts_only_explicitly():
    x = DeviceArray(np.arange(6.0).reshape(2, 3))
    t = Tensor(x, dtype=np.float32)
    assert type(t.data) is DeviceArray and t.dtype == np.float32
    assert t.data is not x  # a copy, within the backend
    with pytest.raises(TypeError, match=r"t\.numpy\(\)"):
        np.asarray(t)
    host = t.numpy()
    assert type(host) is np.ndarray and host.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert "backend='device_array'" in repr(t) and t.sum().item() == 15.0


def test_to_moves_a_leaf_between_backends_and_refuses_a_graph_node():
    w = Tensor(np.arange(3.0), requires_grad=True, name="w")
    on_device = w.to("device_array")
    assert type(on_device.data) is DeviceArray and on_device.requires_grad
    assert on_device.name == "w" and w.to("numpy") is w
    back = on_device.to("numpy")
    assert type(back.data) is np.ndarray and back.data.tolist() == [0.0, 1.0, 2.0]
    assert backends.is_lazy(w.to("dask").data)
    with pytest.raises(RuntimeError, match="cut it off its graph"):
        (w * 2).to("device_array")
    with pytest.raises(ValueError, match="cannot import no_such_backend"):
        w.to("no_such_backend")


@pytest.mark.parametrize("other", [lambda: np.ones(3), lambda: da.ones(3, chunks=2)])
def test_two_devices_in_one_op_are_one_error_naming_both_and_the_fix(other):
    x = Tensor(DeviceArray(np.ones(3)), requires_grad=True)
    with pytest.raises(TypeError) as error:
        x * Tensor(other())
    message = str(error.value)
    assert message.startswith("mul: arrays of two backends meet")
    assert "device_array array (device_array device memory)" in message
    assert "array (host memory)" in message and "model.to('cupy')" in message


def test_numpy_and_dask_arrays_meet_freely_both_in_host_memory():
    w = Tensor(np.ones(3), requires_grad=True)
    x = da.ones((8, 3), chunks=(4, 3))
    loss = (x @ w).sum()
    loss.backward()
    assert backends.is_lazy(w.grad.data)
    assert w.grad.numpy().tolist() == [8.0, 8.0, 8.0]


# ----- the engine's machinery on other backends -------------------------------------------------
def test_second_order_gradients_on_the_device():
    x = Tensor(DeviceArray(np.array([1.0, 2.0])), requires_grad=True)
    (dy,) = autograd.grad((x ** 3).sum(), x, create_graph=True)
    (d2y,) = autograd.grad(dy.sum(), x)
    assert type(d2y.data) is DeviceArray and d2y.numpy().tolist() == [6.0, 12.0]


def test_version_counters_work_on_the_device():
    x = Tensor(DeviceArray(np.array([2.0, 3.0])), requires_grad=True)
    view = x.detach()[:1]  # a view of x's memory shares its counter
    y = x * x
    with no_grad():
        view += 1
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward(DeviceArray(np.ones(2)))


def test_anomaly_mode_finds_the_infinity_on_the_device():
    x = Tensor(DeviceArray(np.array([1.0, 0.0])), requires_grad=True)
    with np.errstate(divide="ignore"), autograd.detect_anomaly(), \
            pytest.raises(autograd.AnomalyError, match="log"):
        x.log().sum().backward()


# ----- Dask: lazy through backward, one pass to compute ------------------------------------------
def test_backward_on_dask_computes_nothing_and_compute_shares_one_pass():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((400, 5)), (rng.random(400) > 0.5).astype(float)
    w = Tensor(np.zeros(5), requires_grad=True)
    with CountComputes() as computes:
        loss = nn.functional.bce_with_logits(Tensor(da.from_array(X, chunks=(100, 5))) @ w,
                                             da.from_array(y, chunks=100))
        loss.backward()
    assert computes.count == 0
    with CountComputes() as computes:
        loss_value, gradient = autograd.compute(loss, w.grad)
    assert computes.count == 1
    w_numpy = Tensor(np.zeros(5), requires_grad=True)
    reference = nn.functional.bce_with_logits(Tensor(X) @ w_numpy, y)
    reference.backward()
    np.testing.assert_allclose(loss_value.item(), reference.item(), rtol=1e-12)
    np.testing.assert_allclose(gradient.data, w_numpy.grad.data, rtol=1e-10, atol=1e-15)


def test_gradients_on_dask_keep_the_inputs_chunks():
    x = Tensor(da.ones((1000, 4), chunks=(100, 4)), requires_grad=True)
    (x.exp() * 2).mean().backward()
    assert x.grad.data.chunks == x.data.chunks


def mlp_step(X, y, move_model=None):
    """One Adam step of a small MLP; returns the parameters after it, on the host."""
    model = nn.mlp([6, 8, 3], activation="relu", rng=0, dtype=np.float64)
    optimizer = nn.Adam(model.parameters(), lr=0.1)
    if move_model:
        model.to(move_model)  # after the optimizer: its state must follow
    loss = nn.CrossEntropyLoss()(model(Tensor(X)), y)
    loss.backward()
    optimizer.step()
    return [p.numpy() for p in model.parameters()], model


def test_an_nn_mlp_step_on_dask_data_matches_numpy_and_computes_once_at_the_step():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((64, 6)), rng.integers(0, 3, 64)
    expected, _ = mlp_step(X, y)
    with CountComputes() as computes:
        got, model = mlp_step(da.from_array(X, chunks=(16, 6)), da.from_array(y, chunks=16))
    assert computes.count == 1  # the optimizer computes every gradient in one pass
    for p, q in zip(got, expected):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)


def test_an_nn_mlp_step_on_the_device_matches_numpy_and_the_state_follows():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((16, 6)), rng.integers(0, 3, 16)
    expected, _ = mlp_step(X, y)
    got, model = mlp_step(DeviceArray(X), DeviceArray(y), move_model="device_array")
    assert all(type(p.data) is DeviceArray for p in model.parameters())
    for p, q in zip(got, expected):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)


def test_a_singular_matrix_on_dask_is_the_ops_error_when_computed():
    a = Tensor(da.from_array(np.ones((4, 2, 2)), chunks=(2, 2, 2)), requires_grad=True)
    with CountComputes() as computes:
        x = autograd.linalg.solve(a, da.ones((4, 2, 1), chunks=(2, 2, 1)))
    assert computes.count == 0 and backends.is_lazy(x.data) and x.shape == (4, 2, 1)
    with pytest.raises(np.linalg.LinAlgError, match=r"shape \(4, 2, 2\) is singular \(solve"):
        x.compute()


def test_out_of_range_labels_on_dask_raise_when_computed():
    z = Tensor(da.zeros((4, 3), chunks=2), requires_grad=True)
    loss = autograd.softmax_cross_entropy(z, da.from_array(np.array([0, 1, 2, 3]), chunks=2))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        loss.compute()


def test_gradcheck_runs_on_the_device():
    rng = np.random.default_rng(3)
    x, w = DeviceArray(rng.standard_normal((3, 4))), DeviceArray(rng.standard_normal((4, 2)))
    labels = DeviceArray(np.array([0, 1, 1]))
    assert autograd.gradcheck(
        lambda x, w: autograd.softmax_cross_entropy((x @ w).tanh(), labels), [x, w])
    assert autograd.gradcheck(lambda x: (x.sigmoid() * x).sum(axis=0), [x], full_limit=0)
    with pytest.raises(autograd.functional.GradcheckError):
        autograd.gradcheck(lambda x: Tensor._wrap(x.data) * x, [x])  # a wrong derivative


def test_a_state_dict_of_a_model_on_the_device_is_on_the_host_and_loads_back_there():
    model = nn.mlp([4, 3, 2], rng=0).to("device_array")
    state = model.state_dict()
    assert all(type(a) is np.ndarray for a in state.values())
    other = nn.mlp([4, 3, 2], rng=1).to("device_array")
    other.load_state_dict(state)
    for p, q in zip(model.parameters(), other.parameters()):
        assert type(q.data) is DeviceArray
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_memory_of_a_dask_training_step_does_not_grow_with_the_rows():
    """Chunks of 20,000 rows: 4x the rows must not mean 4x the memory (tracemalloc sees the
    NumPy chunks of every Dask thread)."""
    import tracemalloc

    def peak_of_a_step(rows: int) -> int:
        rng = da.random.default_rng(0)
        X = rng.standard_normal((rows, 16), chunks=(20_000, 16))
        y = (rng.random(rows, chunks=20_000) < 0.5).astype(float)
        w = Tensor(np.zeros(16), requires_grad=True)
        tracemalloc.start()
        loss = nn.functional.bce_with_logits(X @ w, y)
        loss.backward()
        autograd.compute(loss, w.grad)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    peak_of_a_step(40_000)  # the first step also allocates Dask's and NumPy's caches
    small, large = peak_of_a_step(80_000), peak_of_a_step(320_000)
    data_of_large = 320_000 * 17 * 8
    assert large < 1.5 * small, (small, large)
    assert large < data_of_large / 3, (large, data_of_large)


def test_nn_fit_and_evaluate_train_on_device_batches():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((32, 6)), rng.integers(0, 3, 32)
    model = nn.mlp([6, 8, 3], rng=0, dtype=np.float64).to("device_array")
    batches = [(DeviceArray(X[i:i + 8]), DeviceArray(y[i:i + 8])) for i in range(0, 32, 8)]
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1),
                     batches, epochs=3, quiet=True)
    assert history.train_loss[-1] < history.train_loss[0]
    loss, accuracy = nn.evaluate(model, DeviceArray(X), DeviceArray(y))
    assert np.isfinite(loss) and 0 <= accuracy <= 1


def test_anomaly_mode_and_debug_nans_work_on_dask_by_computing():
    x = Tensor(da.from_array(np.array([1.0, 0.0, 2.0]), chunks=2), requires_grad=True)
    with np.errstate(all="ignore"):
        with autograd.detect_anomaly(), pytest.raises(autograd.AnomalyError,
                                                      match=r"gave inf .* element \(1,\)"):
            x.log().sum().backward()
        autograd.set_debug_nans(True)
        try:
            with pytest.raises(FloatingPointError, match="log turned finite inputs"):
                (x * 0).log()
        finally:
            autograd.set_debug_nans(False)


def test_in_place_updates_and_version_counters_work_on_dask():
    w = Tensor(da.ones(4, chunks=2), requires_grad=True)
    y = w * w
    with no_grad():
        w -= 0.5  # Dask rebinds w's graph: still lazy
    assert backends.is_lazy(w.data) and w._version == 1
    assert w.numpy().tolist() == [0.5] * 4
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward(da.ones(4, chunks=2))
