"""nn's convolutional layers: Conv2D and the pooling layers against autograd's functions,
Dropout's masks and modes, save/load of a CNN, the cnn preset end to end on fake images."""

import json

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor
from nn import mnist

rng = np.random.default_rng(11)


def images(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def test_conv2d_layer_is_conv2d_of_its_weight_and_bias():
    layer = nn.Conv2D(3, 5, (3, 2), stride=2, padding=1, rng=0)
    assert layer.weight.shape == (3, 2, 3, 5) and layer.bias.shape == (5,)
    assert layer.weight.dtype == np.float32
    layer.bias.data[:] = rng.standard_normal(5)
    x = images(2, 7, 6, 3)
    expected = autograd.conv2d(x, layer.weight.data, layer.bias.data, stride=2, padding=1)
    np.testing.assert_allclose(layer(x).data, expected.data, rtol=1e-6)
    assert nn.Conv2D(3, 5, 3, bias=False).bias is None


def test_pytorch_spellings_are_the_same_classes():
    assert nn.Conv2d is nn.Conv2D and nn.MaxPool2d is nn.MaxPool2D
    assert nn.AvgPool2d is nn.AvgPool2D


def test_conv_kernels_count_the_window_in_their_fans():
    """He normal: std √(2 / fan_in) with fan_in = kh·kw·C_in = 5·5·32 = 800."""
    weight = nn.Conv2D(32, 64, 5, init="he-normal", rng=0).weight.data
    assert weight.std() == pytest.approx(np.sqrt(2 / 800), rel=0.02)
    bound = np.abs(nn.Conv2D(32, 64, 5, rng=0).weight.data).max()  # Xavier uniform, the default
    assert bound == pytest.approx(np.sqrt(6 / (800 + 1600)), rel=0.01)


@pytest.mark.parametrize("layer, function", [
    (nn.MaxPool2D(2), lambda x: autograd.max_pool2d(x, 2)),
    (nn.MaxPool2D(3, stride=2, padding=1), lambda x: autograd.max_pool2d(x, 3, 2, 1)),
    (nn.AvgPool2D((2, 3)), lambda x: autograd.avg_pool2d(x, (2, 3))),
], ids=["max", "max-overlapping", "avg"])
def test_pooling_layers_are_the_pooling_functions(layer, function):
    x = images(2, 6, 6, 3)
    np.testing.assert_array_equal(layer(x).data, function(x).data)


BAD_LAYERS = [
    (lambda: nn.Conv2D(0, 4, 3), r"Conv2D: in_channels must be a positive int, got 0"),
    (lambda: nn.Conv2D(1, 4, 0), r"Conv2D: kernel_size must be a positive int"),
    (lambda: nn.Conv2D(1, 4, 3, stride=0), r"Conv2D: stride must be a positive int"),
    (lambda: nn.MaxPool2D(2, stride=-1), r"MaxPool2D: stride must be a positive int"),
    (lambda: nn.AvgPool2D((2, 2, 2)), r"AvgPool2D: kernel_size must be a positive int or a pair"),
    (lambda: nn.Dropout(1.0), r"Dropout: p must be a probability in \[0, 1\), got 1.0"),
    (lambda: nn.Unflatten(1, (28, 28, 1))(np.zeros((2, 780))),
     r"Unflatten: axis 1 of an input of shape \(2, 780\) has 780 elements, not \(28, 28, 1\)"),
]


@pytest.mark.parametrize("make, message", BAD_LAYERS, ids=[m for _, m in BAD_LAYERS])
def test_bad_layer_arguments_are_caught_when_the_layer_is_made(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_dropout_zeroes_a_fraction_p_and_scales_the_rest_in_training_only():
    dropout = nn.Dropout(0.25, rng=0)
    x = Tensor(np.ones((200, 100), dtype=np.float32), requires_grad=True)
    out = dropout(x)
    kept = out.data != 0
    assert out.dtype == np.float32
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(out.data[kept], 1 / 0.75)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, out.data)  # the gradient goes where the input went
    dropout.eval()
    assert dropout(x) is x


def test_dropout_masks_follow_the_seed_and_change_every_call():
    first, second = nn.Dropout(0.5, rng=3), nn.Dropout(0.5, rng=3)
    x = np.ones((10, 10))
    a, b = first(x).data, first(x).data
    np.testing.assert_array_equal(a, second(x).data)
    assert not np.array_equal(a, b)


def test_unflatten_turns_rows_into_channels_last_images():
    x = np.arange(2 * 12.0).reshape(2, 12)
    out = nn.Unflatten(1, (2, 3, 2))(Tensor(x))
    np.testing.assert_array_equal(out.data, x.reshape(2, 2, 3, 2))


def test_a_cnn_is_saved_and_rebuilt_with_its_layers(tmp_path):
    model = nn.Sequential(nn.Unflatten(1, (8, 8, 2)),
                          nn.Conv2D(2, 4, 3, stride=(1, 2), padding="same", dilation=1, rng=0),
                          nn.ReLU(), nn.MaxPool2D(2, padding=1), nn.AvgPool2D(2, stride=1),
                          nn.Dropout(0.3), nn.Flatten(), nn.Linear(32, 3, rng=1))
    nn.save(model, tmp_path / "cnn.npz")
    loaded = nn.load(tmp_path / "cnn.npz")
    assert repr(loaded) == repr(model)
    x = images(5, 128)
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(loaded(x).data, model(x).data)


def test_the_cnn_preset_network():
    model = nn.cnn(rng=0)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Unflatten", "Conv2D", "ReLU", "MaxPool2D", "Conv2D", "ReLU", "MaxPool2D",
                     "Flatten", "Linear", "ReLU", "Dropout", "Linear"]
    assert [p.shape for p in model.parameters()] == [(5, 5, 1, 32), (32,), (5, 5, 32, 64), (64,),
                                                      (1024, 128), (128,), (128, 10), (10,)]
    assert model(images(3, 784)).shape == (3, 10)
    np.testing.assert_array_equal(nn.cnn(rng=0)[1].weight.data, model[1].weight.data)


def test_the_cnn_preset_trains_end_to_end_on_fake_images(tmp_path, monkeypatch):
    fake = tuple((rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                  rng.integers(0, 10, n, dtype=np.uint8)) for n in (300, 50))
    monkeypatch.setattr(mnist, "load_mnist", lambda *args, **kwargs: fake)
    out = tmp_path / "run"
    assert mnist.main(["--preset", "cnn", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    summary = json.loads((out / "history.json").read_text())
    assert summary["config"]["network"] == "cnn" and summary["config"]["validation"] == 30
    assert len(summary["history"]["train_loss"]) == 1
    model = nn.load(out / "model.npz")
    assert isinstance(model[1], nn.Conv2D)
