"""Neural-network layers, losses, optimizers, data and training on top of `autograd`.

    import nn
    (x_train, y_train), (x_test, y_test) = nn.load_mnist()
    loader = nn.DataLoader(nn.prepare_images(x_train), y_train, batch_size=64, drop_last=True)
    model = nn.mlp([784, 64, 32, 10], activation="sigmoid", init="normal", rng=0)
    optimizer = nn.SGD(model.parameters(), lr=0.03)
    history = nn.fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=20)
    test_loss, test_accuracy = nn.evaluate(model, nn.prepare_images(x_test), y_test)
"""

# First: fails clearly if a foreign `autograd` or `nn` took our place.
from autograd import _import_names  # noqa: F401

from . import functional, init, optim
from .conv import (
    AvgPool2D,
    AvgPool2d,
    Conv2D,
    Conv2d,
    Dropout,
    MaxPool2D,
    MaxPool2d,
    Unflatten,
    cnn,
)
from .data import DataLoader, load_mnist, one_hot, prepare_images
from .functional import l2_penalty
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import (
    Dense,
    Flatten,
    LeakyReLU,
    Linear,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    mlp,
)
from .optim import SGD, Adam
from .serialize import load, save
from .train import History, evaluate, fit, plot_history, predict

__all__ = [
    "Module", "Parameter", "Sequential", "Linear", "Dense", "Flatten",
    "Sigmoid", "ReLU", "LeakyReLU", "Tanh", "Softmax", "mlp",
    "CrossEntropyLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "l2_penalty",
    "SGD", "Adam", "fit", "evaluate", "predict", "History", "plot_history", "save", "load",
    "DataLoader", "load_mnist", "one_hot", "prepare_images", "functional", "init", "optim",
]
__all__ += ["Conv2D", "Conv2d", "MaxPool2D", "MaxPool2d", "AvgPool2D", "AvgPool2d", "Dropout",
            "Unflatten", "cnn"]
