"""Modules: a model is its parameters and a `forward`.

A Module finds its parameters and submodules by looking at its own attributes, in the order they
were first assigned (instance dicts keep insertion order), so a layer is a plain class:

    class Scale(Module):
        def __init__(self, n):
            self.weight = Parameter(np.ones(n, dtype=np.float32))

        def forward(self, x):
            return x * self.weight
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

import autograd
from autograd import Tensor

from . import functional as F
from . import init as initializers


class Parameter(Tensor):
    """A trainable tensor: a leaf with requires_grad=True that Modules register automatically."""

    __slots__ = ()

    def __init__(self, data: Any, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=True, dtype=dtype)


class Module:
    """Base class: assign Parameters and Modules as attributes, define `forward`."""

    training = True  # set by train()/eval() on the instance; layers like dropout would read it

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.forward(*inputs, **kwargs)

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module (used by nn.save)."""
        return {}

    # ----- the tree of modules and parameters ----------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules, in assignment order."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def modules(self) -> Iterator[Module]:
        """This module and all its descendants, depth first."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs such as ("0.weight", W); a shared one appears once."""
        seen: set[int] = set()
        for name, p in self._all_parameters(""):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _all_parameters(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value._all_parameters(f"{prefix}{name}.")

    def parameters(self) -> list[Parameter]:
        """All parameters, in the order of named_parameters()."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set .grad to None)."""
        for p in self.parameters():
            p.grad = None

    def to(self, backend: str) -> Module:
        """Move every parameter (and gradient) to `backend` ("numpy", "cupy"), in place; an
        optimizer's state follows at its next step. Returns self."""
        for p in self.parameters():
            if p.backend != backend:
                p.data = autograd.backends.to(p.data, backend)
                p.grad = None if p.grad is None else p.grad.to(backend)
                p._bump_version()  # a graph recorded before the move read the old array
        return self

    def train(self, mode: bool = True) -> Module:
        """Set the `training` flag here and in every submodule; returns self."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """train(False): evaluation mode."""
        return self.train(False)

    # ----- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameter arrays as NumPy arrays (on the host), by dotted name."""
        return {name: p.numpy().copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy `state` into the parameters in place: all of it, or nothing if any entry is wrong.

        Every name, shape and dtype is checked, and every array converted, before the first copy.
        """
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if missing or unexpected:
            raise ValueError(f"load_state_dict: names do not match {type(self).__name__}: "
                             f"missing {missing}, unexpected {unexpected}")
        arrays = {name: _converted(name, state[name], p) for name, p in params.items()}
        for name, p in params.items():
            if type(p.data) is np.ndarray:
                np.copyto(p.data, arrays[name])
            else:  # a parameter on another backend: copy the values there
                p.data[...] = autograd.backends.to(arrays[name], p.backend)
            p._bump_version()

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")


def _converted(name: str, value: Any, p: Parameter) -> np.ndarray:
    """`value` as an array of p's shape and dtype; a float64 state loads into float32 weights."""
    try:
        array = autograd.backends.to_host(value.data if isinstance(value, Tensor) else value)
        array = array.astype(p.dtype, casting="same_kind", copy=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"load_state_dict: {name!r} cannot be converted to {p.dtype}: "
                         f"{error}") from None
    if array.shape != p.shape:
        raise ValueError(f"load_state_dict: {name!r} has shape {array.shape} in the state but "
                         f"{p.shape} in the model")
    return array


def _positive_int(owner: str, name: str, value: Any) -> int:
    """`value` if it is a positive integer (Python or NumPy), else a ValueError naming it."""
    if not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


class Sequential(Module):
    """Layers applied in order, registered as the attributes "0", "1", ...

    The attributes are the one record of the layers: forward, iteration, indexing and
    parameters() all read them, so a layer replaced by `model[1] = layer` or by
    `setattr(model, "1", layer)` is the one that runs, and a Module assigned as a new attribute
    runs last (as in PyTorch).
    """

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            setattr(self, str(i), _checked_layer(i, layer))

    def forward(self, x: Any) -> Any:
        for layer in self:
            x = layer(x)
        return x

    def __iter__(self) -> Iterator[Module]:
        return (value for value in vars(self).values() if isinstance(value, Module))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __getitem__(self, index: int) -> Module:
        return list(self)[index]

    def __setitem__(self, index: int, layer: Module) -> None:
        name = list(self.named_children())[index][0]  # an IndexError past the end
        setattr(self, name, _checked_layer(index, layer))


def _checked_layer(index: int, layer: Any) -> Module:
    if not isinstance(layer, Module):
        raise TypeError(f"Sequential: layer {index} is a {type(layer).__name__}, not a Module")
    return layer


class Linear(Module):
    """A dense layer X @ W + b, W of shape (in_features, out_features) as in lecture 11.

    `init` names a weight initializer of nn.init ("xavier-uniform", Keras' Dense default;
    "normal" is lecture 11's N(0, 1)) or is a function (shape, rng=, dtype=); biases start at 0.
    `rng` is a np.random.Generator (share one between layers) or an int seed.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: Any = "xavier-uniform", rng: initializers.Rng = None,
                 dtype: Any = np.float32) -> None:
        self.in_features = _positive_int("Linear", "in_features", in_features)
        self.out_features = _positive_int("Linear", "out_features", out_features)
        shape = (self.in_features, self.out_features)
        self.weight = Parameter(initializers.initialize(init, shape, rng, dtype))
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype)) if bias else None

    def forward(self, x: Any) -> Tensor:
        return autograd.linear(x, self.weight, self.bias)  # one fused node

    def config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "dtype": self.weight.dtype.name}

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


Dense = Linear  # the lecture's (and Keras') name


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1·d2·...): images to rows for a dense layer."""

    def forward(self, x: Any) -> Any:
        return x.reshape(x.shape[0], -1)


class Sigmoid(Module):
    """σ(z) = 1/(1 + e⁻ᶻ), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class ReLU(Module):
    """max(z, 0), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """z for z > 0, else αz (slope α at 0, so alpha=0 is ReLU)."""

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = alpha

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.alpha)

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Tanh(Module):
    """tanh z, elementwise."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Softmax(Module):
    """Probabilities along `axis`. For training, feed logits to CrossEntropyLoss instead."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.axis)

    def config(self) -> dict[str, Any]:
        return {"axis": self.axis}


ACTIVATIONS = {"sigmoid": Sigmoid, "relu": ReLU, "leaky-relu": LeakyReLU, "tanh": Tanh}


def mlp(sizes: list[int], activation: str = "relu", init: Any = "he-normal",
        rng: initializers.Rng = None, dtype: Any = np.float32) -> Sequential:
    """Dense layers sizes[0] -> sizes[1] -> ... with `activation` between them.

    The last layer has no activation: it outputs logits for CrossEntropyLoss. One generator,
    made from `rng`, draws every layer's weights in order (as lecture 11's W1, W2, W3).
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: needs at least the input and output sizes, got {sizes}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from "
                         f"{', '.join(ACTIVATIONS)}")
    rng = np.random.default_rng(rng)
    layers: list[Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        if layers:
            layers.append(ACTIVATIONS[activation]())
        layers.append(Linear(n_in, n_out, init=init, rng=rng, dtype=dtype))
    return Sequential(*layers)
