"""Tests for nn.module: registration, names, modes, state dicts, Linear, Sequential, Flatten."""

import re

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor, gradcheck
from nn import Linear, Module, Parameter, Sequential


class Block(Module):
    """A custom module: parameters and submodules are found in assignment order."""

    def __init__(self):
        self.scale = Parameter(np.ones(3))
        self.inner = Sequential(Linear(3, 4, rng=0), nn.ReLU(), Linear(4, 2, bias=False, rng=1))
        self.not_a_parameter = Tensor(np.zeros(2), requires_grad=True)
        self.offset = Parameter(np.zeros(2))

    def forward(self, x):
        return self.inner(x * self.scale) + self.offset


def test_parameter_is_a_trainable_leaf_copy():
    data = np.ones(3, dtype=np.float32)
    p = Parameter(data)
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float32 and p.data is not data


def test_named_parameters_are_dotted_and_in_assignment_order():
    names = [name for name, _ in Block().named_parameters()]
    assert names == ["scale", "inner.0.weight", "inner.0.bias", "inner.2.weight", "offset"]


def test_mlp_names_follow_pytorch():
    model = nn.mlp([5, 4, 3, 2], activation="tanh", rng=0)
    assert [name for name, _ in model.named_parameters()] == [
        "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert [p.shape for p in model.parameters()] == [(5, 4), (4,), (4, 3), (3,), (3, 2), (2,)]


def test_shared_parameter_is_listed_once():
    layer = Linear(2, 2, rng=0)
    model = Sequential(layer, nn.Sigmoid(), layer)
    assert len(model.parameters()) == 2


@pytest.mark.parametrize("sizes", [[784], []])
def test_mlp_needs_an_input_and_an_output_size(sizes):
    with pytest.raises(ValueError, match="at least the input and output sizes, got " +
                       re.escape(str(sizes))):
        nn.mlp(sizes)


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.mlp([2, 2, 2], activation="swish")


def test_zero_grad_sets_grads_to_none():
    model = Block()
    model(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_set_the_flag_everywhere():
    model = Block()
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        Module()(1)


def test_state_dict_round_trip_gives_identical_outputs():
    source, target = nn.mlp([4, 3, 2], rng=0), nn.mlp([4, 3, 2], rng=1)
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    state = source.state_dict()
    state["0.bias"][:] = 7  # a copy: changing it leaves the model alone
    assert not np.any(source[0].bias.data == 7)
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(target(x).data, source(x).data)


def test_load_state_dict_keeps_the_parameter_arrays():
    model = nn.mlp([4, 3, 2], rng=0)
    arrays = [p.data for p in model.parameters()]
    model.load_state_dict(nn.mlp([4, 3, 2], rng=1).state_dict())
    assert all(p.data is a for p, a in zip(model.parameters(), arrays))  # optimizers keep them


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update({"2.weight": np.zeros((4, 2))}),
     r"'2.weight' has shape \(4, 2\) in the state but \(3, 2\) in the model"),
    (lambda s: s.pop("0.bias"), r"missing \['0.bias'\], unexpected \[\]"),
    (lambda s: s.update({"extra": np.zeros(1)}), r"missing \[\], unexpected \['extra'\]"),
    # the last entry: every other one would have been copied already by a one-by-one load
    (lambda s: s.update({"2.bias": np.array(["a", "b"])}),
     r"'2.bias' cannot be converted to float32: .*<U1"),
    (lambda s: s.update({"2.bias": np.array([1 + 2j, 3j])}),
     r"'2.bias' cannot be converted to float32: .*complex"),
])
def test_load_state_dict_mismatch_names_the_key_and_changes_nothing(change, message):
    model = nn.mlp([4, 3, 2], rng=0)
    before = model.state_dict()
    state = nn.mlp([4, 3, 2], rng=1).state_dict()
    change(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


# Lab 07's linear layer z = W x + b, with W (out, in); here weight is (in, out) = Wᵀ.
LAB_W = np.array([[1.0, 5, 7], [3, 2, 4]])


def test_linear_forward_and_gradients_match_lab_07():
    layer = Linear(3, 2, dtype=np.float64)
    layer.load_state_dict({"weight": LAB_W.T, "bias": np.array([4.0, 8])})
    x = Tensor([[2.0, 10, 5]], requires_grad=True)
    z = layer(x)
    np.testing.assert_array_equal(z.data, [[91, 54]])
    z.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(layer.weight.grad.data.T, [[2, 10, 5], [2, 10, 5]])
    np.testing.assert_array_equal(layer.bias.grad.data, [1, 1])
    np.testing.assert_array_equal(x.grad.data, [[4, 7, 11]])


def test_lab_07_full_network_forward():
    """Lab 07 gets o = [320, 441]; its second row slips: 3·24 + 4·47 + 1·86 + 1 = 347."""
    model = Sequential(Linear(2, 3, dtype=np.float64), nn.ReLU(), Linear(3, 2, dtype=np.float64))
    model.load_state_dict({
        "0.weight": np.array([[1.0, 2], [2, 5], [7, 3]]).T, "0.bias": np.array([4.0, 2, 1]),
        "2.weight": np.array([[4.0, 1, 2], [3, 4, 1]]).T, "2.bias": np.array([5.0, 1])})
    np.testing.assert_array_equal(model(np.array([[10.0, 5]])).data, [[320, 347]])


def test_linear_is_one_fused_node_and_dense_is_linear():
    layer = nn.Dense(3, 2, rng=0)
    assert nn.Dense is Linear
    assert layer(np.ones((4, 3), dtype=np.float32)).op.name == "linear"
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.bias.data, 0)


def test_linear_without_bias_and_with_a_custom_init():
    layer = Linear(3, 2, bias=False, init=lambda shape, rng, dtype: np.full(shape, 2, dtype))
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(layer(np.ones((1, 3))).data, [[6, 6]])


@pytest.mark.parametrize("in_features, out_features, message", [
    (-1, 3, "in_features must be a positive int, got -1"),
    (2.5, 3, "in_features must be a positive int, got 2.5"),
    (2, 0, "out_features must be a positive int, got 0"),
    (2, "3", "out_features must be a positive int, got '3'"),
])
def test_linear_sizes_must_be_positive_ints(in_features, out_features, message):
    with pytest.raises(ValueError, match=f"Linear: {message}"):
        Linear(in_features, out_features)


def test_linear_accepts_numpy_integer_sizes():
    assert Linear(np.int64(3), np.int32(2)).weight.shape == (3, 2)  # e.g. X.shape[1]


def test_linear_same_seed_same_weights():
    a, b = Linear(5, 4, init="he-uniform", rng=3), Linear(5, 4, init="he-uniform", rng=3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "leaky-relu", "tanh"])
def test_mlp_gradients_pass_gradcheck_in_float64(activation):
    model = nn.mlp([3, 4, 2], activation, init="xavier-normal", rng=0, dtype=np.float64)
    labels = np.array([0, 1, 1, 0, 1])
    x = np.random.default_rng(1).standard_normal((5, 3))

    def loss(x, w1, b1, w2, b2):
        model[0].weight, model[0].bias, model[2].weight, model[2].bias = w1, b1, w2, b2
        return nn.functional.cross_entropy(model(x), labels)

    assert gradcheck(loss, [x, *[p.data for p in model.parameters()]])


def test_sequential_container_behaviour():
    layers = [Linear(2, 3, rng=0), nn.Tanh(), Linear(3, 1, rng=1)]
    model = Sequential(*layers)
    assert len(model) == 3 and list(model) == layers and model[1] is layers[1]
    with pytest.raises(TypeError, match="layer 1 is a function"):
        Sequential(Linear(2, 2), autograd.tanh)


@pytest.mark.parametrize("x", [np.ones((2, 3, 4)), Tensor(np.ones((2, 3, 4)))])
def test_flatten_keeps_the_batch_axis(x):
    assert nn.Flatten()(x).shape == (2, 12)


def test_repr_shows_the_layers():
    text = repr(nn.mlp([4, 3, 2], "leaky-relu", rng=0))
    assert "(0): Linear(4, 3, bias=True)" in text and "(1): LeakyReLU(alpha=0.01)" in text


@pytest.mark.parametrize("replace", [
    lambda model, layer: setattr(model, "2", layer),
    lambda model, layer: model.__setitem__(2, layer),
    lambda model, layer: model.__setitem__(-1, layer),
])
def test_a_replaced_layer_is_what_forward_and_parameters_see(replace):
    """Sequential has one record of its layers: a replacement is trained and run."""
    model = Sequential(Linear(2, 3, rng=0), nn.Tanh(), Linear(3, 1, rng=1))
    new = Linear(3, 4, rng=2)
    replace(model, new)
    assert model[2] is new and list(model)[2] is new and len(model) == 3
    assert model.parameters()[2:] == [new.weight, new.bias]
    x = np.ones((5, 2))
    assert model(x).shape == (5, 4)
    np.testing.assert_array_equal(model(x).data, new(model[1](model[0](x))).data)


def test_a_module_assigned_as_a_new_attribute_runs_last():
    model = Sequential(Linear(2, 3, rng=0))
    model.head = Linear(3, 1, rng=1)
    assert len(model) == 2 and model(np.ones((4, 2))).shape == (4, 1)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias",
                                                              "head.weight", "head.bias"]


def test_sequential_item_assignment_checks_the_layer_and_the_index():
    model = Sequential(Linear(2, 3, rng=0))
    with pytest.raises(TypeError, match="layer 0 is a function, not a Module"):
        model[0] = autograd.tanh
    with pytest.raises(IndexError):
        model[1] = nn.Tanh()
