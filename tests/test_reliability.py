"""No silent wrong answers: version counters, per-thread grad mode, anomaly mode, and the op
fixes of the reliability issue. Each test failed on the engine before these changes."""

from __future__ import annotations

import inspect
import threading

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor, no_grad
from autograd.anomaly import AnomalyError


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def line_of(marker: str) -> int:
    """The line of this file holding `marker` (so tests can check reported lines)."""
    lines = inspect.getsource(inspect.getmodule(line_of)).splitlines()
    return next(i for i, text in enumerate(lines, 1) if marker in text and "line_of" not in text)


# ----- version counters ------------------------------------------------------------------------
def test_changing_an_input_under_no_grad_before_backward_raises():
    x = leaf([2.0])
    y = x * x
    with no_grad():
        x -= 1
    with pytest.raises(RuntimeError, match=r"mul needs its input 0 .*version 1, expected "
                                           r"version 0.*after backward\(\)"):
        y.backward(np.ones(1))


def test_a_constant_changed_in_place_after_use_raises():
    x, c = leaf([2.0]), Tensor([3.0])
    y = (x * c).sum()
    c += 1  # a constant: changed in place even while grad mode records
    assert c._version == 1
    with pytest.raises(RuntimeError, match="mul needs its input 1"):
        y.backward()


def test_a_change_through_detach_is_seen_by_the_graph():
    x = leaf([0.5, 1.0])
    y = x.exp()  # exp's VJP reads its output
    alias = y.detach()
    alias += 1
    assert y._version == 1 and alias._version == 1  # one counter, shared
    with pytest.raises(RuntimeError, match="exp needs its output"):
        y.sum().backward()


def test_a_change_to_the_base_of_a_view_is_seen_through_the_view():
    x = leaf([1.0, 2.0, 3.0])
    head = x[:2]
    y = (head * head).sum()
    with no_grad():
        x *= 2
    with pytest.raises(RuntimeError, match="mul needs its input"):
        y.backward()


def test_an_optimizer_step_between_two_retained_backwards_raises():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    loss = (model(np.ones((4, 3))) ** 2).sum()
    loss.backward(retain_graph=True)
    nn.SGD(model.parameters(), lr=0.1).step()
    # the second layer's input gradient reads its weight, which the step changed
    with pytest.raises(RuntimeError, match="linear needs its input 1 .*version 1, expected "
                                           "version 0"):
        loss.backward()


def test_a_change_no_running_vjp_reads_is_not_an_error():
    # d(w·c)/dw = c never reads w, so changing w cannot spoil it (PyTorch agrees); the first
    # layer's weight gradient reads only the (constant) batch.
    w, c = leaf([1.0, 2.0, 3.0]), Tensor([0.0, 1.0, 2.0])
    y = (w * c).sum()
    with no_grad():
        w -= 1
    y.backward()
    np.testing.assert_array_equal(w.grad.data, c.data)
    layer = nn.Linear(3, 2, rng=0)
    loss = (layer(np.ones((4, 3))) ** 2).sum()
    loss.backward(retain_graph=True)
    first = layer.weight.grad.data.copy()
    with no_grad():
        layer.bias -= 1  # the weight's gradient reads neither the bias nor the weight
    layer.zero_grad()
    loss.backward()
    np.testing.assert_allclose(layer.weight.grad.data, first)


def test_one_no_grad_instance_shared_by_two_threads_keeps_each_threads_mode():
    shared = no_grad()
    a_in, b_done = threading.Event(), threading.Event()
    seen = {}

    def a():
        with no_grad(), shared:
            a_in.set()
            b_done.wait(5)
        seen["a inside outer no_grad"] = None
        with no_grad():
            with shared:
                pass
            seen["a after"] = ag.is_grad_enabled()

    def b():
        a_in.wait(5)
        with shared:
            pass
        seen["b after"] = ag.is_grad_enabled()
        b_done.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["a after"] is False and seen["b after"] is True


def test_overlapping_detect_anomaly_blocks_in_two_threads_end_with_the_mode_off():
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with ag.detect_anomaly():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():
        a_in.wait(5)
        with ag.detect_anomaly():
            b_in.set()
            a_out.wait(5)
            assert ag.anomaly.is_anomaly_enabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not ag.anomaly.is_anomaly_enabled()


def test_a_kept_loss_holds_no_batch_and_no_saved_probabilities():
    import gc
    import tracemalloc
    model = nn.Sequential(nn.Linear(784, 64, rng=0), nn.Sigmoid(), nn.Linear(64, 10, rng=1))
    criterion = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)

    def memory_held_by(count):
        gc.collect()
        tracemalloc.start()
        losses = []
        for _ in range(count):
            batch = Tensor(rng.standard_normal((256, 784)))  # 1.6 MB a batch
            loss = criterion(model(batch), rng.integers(0, 10, 256))
            loss.backward()
            losses.append(loss)
            del batch, loss
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        model.zero_grad()
        return held

    per_loss = (memory_held_by(12) - memory_held_by(2)) / 10
    assert per_loss < 5_000, f"each kept loss holds {per_loss:.0f} bytes"


def test_two_changes_give_the_exact_expected_version():
    x = leaf([2.0])
    x.name = "x"
    y = x * 3
    z = y * x
    with no_grad():
        x -= 1
        x += 5
    with pytest.raises(RuntimeError, match=r"'x', shape \(1,\), float64\) .*version 2, "
                                           r"expected version 0"):
        z.backward(np.ones(1))


def test_ops_that_read_no_values_still_backward_after_a_change():
    # add's VJP never reads x, so PyTorch (and we) give the right answer: d(x + 1)/dx = 1.
    x = leaf([2.0])
    y = (x + 1).sum()
    with no_grad():
        x -= 1
    y.backward()
    assert x.grad.item() == 1.0


def test_a_fresh_forward_after_the_change_is_fine():
    x = leaf([2.0])
    with no_grad():
        x -= 1
    (x * x).sum().backward()
    assert x.grad.item() == 2.0


def test_load_state_dict_bumps_the_version():
    layer = nn.Linear(2, 2, rng=0)
    before = layer.weight._version
    layer.load_state_dict(layer.state_dict())
    assert layer.weight._version == before + 1


def test_in_place_on_a_leaf_that_requires_grad_while_recording_raises():
    w = nn.Parameter(np.ones(3))
    w.grad = Tensor(np.ones(3))
    with pytest.raises(RuntimeError, match=r"-=: a leaf tensor that requires grad .*no_grad\(\)"):
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad and w._version == 0
    np.testing.assert_array_equal(w.data, np.ones(3))  # unchanged by the refused update


def test_a_parameter_stays_in_its_module_after_a_refused_update():
    layer = nn.Linear(2, 2, rng=0)
    with pytest.raises(RuntimeError):
        layer.weight -= 1
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_in_place_on_a_graph_node_rebinds_and_keeps_the_graph_right():
    x = leaf([3.0])
    y = x * x
    y += x  # y = x² + x: the graph keeps the x² it saw
    y.backward(np.ones(1))
    assert x.grad.item() == 7.0


# ----- grad mode -------------------------------------------------------------------------------
def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    entered, release = threading.Event(), threading.Event()

    def hold_no_grad():
        with no_grad():
            entered.set()
            release.wait(5)

    worker = threading.Thread(target=hold_no_grad)
    worker.start()
    entered.wait(5)
    try:
        assert ag.is_grad_enabled()
        assert (leaf([1.0]) * 2).requires_grad
    finally:
        release.set()
        worker.join()


def test_overlapping_no_grad_blocks_in_two_threads_leave_recording_on():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    modes = {}

    def first():
        with no_grad():
            first_in.set()
            second_in.wait(5)
        first_out.set()
        modes["first after"] = ag.is_grad_enabled()

    def second():
        first_in.wait(5)
        with no_grad():
            second_in.set()
            first_out.wait(5)
        modes["second after"] = ag.is_grad_enabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert modes == {"first after": True, "second after": True}
    assert ag.is_grad_enabled()


def test_no_grad_on_a_generator_covers_its_body_only():
    seen = []

    @no_grad()
    def batches():
        for i in range(2):
            seen.append(ag.is_grad_enabled())
            received = yield leaf([float(i)]) * 2
            seen.append(received)

    generator = batches()
    first = next(generator)
    assert ag.is_grad_enabled() and not first.requires_grad
    second = generator.send("hello")
    assert not second.requires_grad
    with pytest.raises(StopIteration):
        generator.send("bye")
    assert seen == [False, "hello", False, "bye"]
    assert ag.is_grad_enabled()


def test_bare_no_grad_and_enable_grad_decorate():
    @no_grad
    def evaluate(x):
        return x * 2

    @ag.enable_grad
    def record(x):
        return x * 2

    assert not evaluate(leaf([1.0])).requires_grad
    with no_grad():
        assert record(leaf([1.0])).requires_grad
    assert ag.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator():
    @ag.set_grad_enabled(False)
    def evaluate(x):
        return x * 2

    assert ag.is_grad_enabled()  # decorating did not switch the mode
    assert not evaluate(leaf([1.0])).requires_grad
    assert ag.is_grad_enabled()


# ----- anomaly mode and debug_nans ---------------------------------------------------------------
def test_detect_anomaly_names_the_op_the_element_and_the_users_line():
    x = leaf([1.0, 0.0, 2.0])
    with ag.detect_anomaly():
        loss = x.log().sum()  # the log(0) line
        with pytest.raises(AnomalyError) as raised:
            loss.backward()
    message = str(raised.value)
    assert "backward of log" in message and "input 0" in message and "element (1,)" in message
    assert f"test_reliability.py:{line_of('# the log(0) line')}" in message
    assert "loss = x.log().sum()" in message  # the forward traceback shows the source line
    assert not ag.anomaly.is_anomaly_enabled()


def test_without_anomaly_mode_the_infinity_passes_silently_and_nothing_is_recorded():
    x = leaf([1.0, 0.0])
    loss = x.log().sum()
    assert ag.anomaly.creation_frames(loss) is None
    loss.backward()
    assert np.isinf(x.grad.data[1])


def test_debug_nans_raises_at_the_forward_op_that_made_the_nan():
    ag.set_debug_nans(True)
    try:
        x = Tensor([4.0, -1.0])
        with pytest.raises(FloatingPointError) as raised:
            x.sqrt()  # the sqrt line
        message = str(raised.value)
        assert "sqrt" in message and "element (1,)" in message
        assert f"test_reliability.py:{line_of('# the sqrt line')}" in message
        Tensor([np.nan]).sqrt()  # a NaN that came in is not the op's doing
    finally:
        ag.set_debug_nans(False)
    assert Tensor([-1.0]).sqrt().data[0] != 0  # off again: NaN, no error


def test_a_version_error_under_anomaly_mode_names_where_the_op_was_created():
    x = leaf([2.0])
    with ag.detect_anomaly():
        y = x * x  # the mul line
        with no_grad():
            x -= 1
        with pytest.raises(RuntimeError, match=f"test_reliability.py:{line_of('# the mul line')}"):
            y.backward(np.ones(1))


# ----- wrong or crashing results -----------------------------------------------------------------
@pytest.mark.parametrize("op", ["maximum", "minimum"])
@pytest.mark.parametrize("nan_first", [True, False])
def test_maximum_and_minimum_propagate_nan(op, nan_first):
    x, y = leaf([np.nan, 2.0]), leaf([1.0, 1.0])
    a, b = (x, y) if nan_first else (y, x)
    out = getattr(ag, op)(a, b)
    expected = getattr(np, op)(a.data, b.data)
    np.testing.assert_array_equal(out.data, expected)
    out.sum().backward()
    assert x.grad.data[0] == 1 and y.grad.data[0] == 0  # the gradient follows the NaN


def test_clip_with_min_above_max_gives_max_as_numpy():
    x = leaf([0.5, 1.5, 3.0])
    low, high = leaf(2.0), leaf(1.0)
    out = x.clip(low, high)
    np.testing.assert_array_equal(out.data, np.clip(x.data, 2, 1))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0, 0])
    assert high.grad.item() == 3 and low.grad.item() == 0


def test_clip_still_passes_the_gradient_on_the_closed_interval():
    x = leaf([0.0, 1.0, 2.0, 3.0])
    x.clip(1, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 1, 1, 0])


@pytest.mark.parametrize("tool, v, shape", [("vjp", 1.0, (2,)), ("jvp", np.ones(2), ()),
                                            ("hvp", np.ones(2), (2,))])
def test_functional_tools_of_a_function_that_ignores_its_input_give_zeros(tool, v, shape):
    value, result = getattr(ag, tool)(lambda t: Tensor(5.0) * 2, np.array([1.0, 2.0]), v)
    assert value.item() == 10.0
    assert result.shape == shape and not result.data.any()


def test_hessian_of_a_linear_function_is_zero():
    h = ag.hessian(lambda t: (t * 3).sum(), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(h.data, np.zeros((2, 2)))


def test_jvp_with_create_graph_is_differentiable_forward_over_reverse():
    # f(x) = Σ x³: ∇f = 3x², so (∇f)'·v = 6 x v and d/dx (6 x v · w) = 6 v w.
    x = leaf([1.0, 2.0])
    v, w = np.array([0.5, -1.0]), np.array([2.0, 3.0])

    def gradient(t):
        return ag.grad((t ** 3).sum(), t, create_graph=True)[0]

    _, hv = ag.jvp(gradient, x, v, create_graph=True)
    np.testing.assert_allclose(hv.data, 6 * x.data * v, rtol=1e-12)
    (second,) = ag.grad((hv * w).sum(), x)
    np.testing.assert_allclose(second.data, 6 * v * w, rtol=1e-12)


def test_fused_linear_promotes_as_its_composition():
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    w = leaf(np.full((3, 2), 0.5, dtype=np.float32), dtype=np.float32)
    b = leaf(np.array([0.25, 1e-9]))  # float64
    fused, composed = ag.linear(x, w, b), x @ w + b
    assert fused.dtype == composed.dtype == np.float64
    np.testing.assert_array_equal(fused.data, composed.data)
    fused.sum().backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_a_tensor_built_from_tensors_that_require_grad_is_refused():
    a, b = leaf(1.0), leaf(2.0)
    with pytest.raises(TypeError, match=r"autograd.stack"):
        Tensor([a, b])
    with pytest.raises(TypeError, match=r"autograd.stack"):
        Tensor([[a], [Tensor(3.0)]])
    np.testing.assert_array_equal(Tensor([a.detach(), b.detach()]).data, [1.0, 2.0])
