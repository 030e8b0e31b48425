"""Saving and loading models as .npz: the state dict plus a JSON description of the layers.

A Sequential of the layers below (nested Sequentials too), none of them shared, is rebuilt by
`load(path)`; any other model is saved with its parameters only, and loaded into a given
instance with `load(path, model=model)`. Files are written atomically: a crash never leaves a
half-written model.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from autograd.files import atomic_write

from . import conv, module
from .module import Module, Parameter, Sequential

FORMAT = "jacograd-model/1"
LAYERS = {name: getattr(module, name)
          for name in ("Linear", "Flatten", "Sigmoid", "ReLU", "LeakyReLU", "Tanh", "Softmax")}
LAYERS.update({name: getattr(conv, name)
               for name in ("Conv2D", "MaxPool2D", "AvgPool2D", "Dropout", "Unflatten")})
PREFIX = "params/"  # state-dict entries are stored as params/<dotted name>


def architecture(model: Module) -> dict[str, Any] | None:
    """A JSON-able spec of a Sequential of known layers, or None for any other model.

    A model that shares a parameter has none: build() would make two layers of the shared one,
    whose names ("2.weight") the state dict, holding a shared parameter once, does not have.
    """
    # modules() visits a shared module once per place it is used; parameters() dedupes.
    everywhere = [value for child in model.modules() for value in vars(child).values()
                  if isinstance(value, Parameter)]
    return _spec(model) if len(everywhere) == len(model.parameters()) else None


def _spec(model: Module) -> dict[str, Any] | None:
    if type(model) is Sequential:
        layers = [_spec(layer) for layer in model]
        return None if None in layers else {"type": "Sequential", "layers": layers}
    if LAYERS.get(type(model).__name__) is type(model):
        return {"type": type(model).__name__, **model.config()}
    return None


def build(spec: dict[str, Any]) -> Module:
    """The (freshly initialized) model that `spec` describes."""
    config = dict(spec)
    kind = config.pop("type")
    if kind == "Sequential":
        return Sequential(*(build(layer) for layer in config["layers"]))
    if kind not in LAYERS:
        raise ValueError(f"unknown layer type {kind!r} in the saved architecture")
    return LAYERS[kind](**config)


def save(model: Module, path: str | os.PathLike) -> None:
    """Write the model's parameters and architecture to `path` (.npz), atomically."""
    arrays = {PREFIX + name: value for name, value in model.state_dict().items()}
    arrays["format"] = np.array(FORMAT)
    arrays["architecture"] = np.array(json.dumps(architecture(model)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda file: np.savez(file, **arrays))


def load(path: str | os.PathLike, model: Module | None = None) -> Module:
    """The model saved at `path`: rebuilt from its architecture, or loaded into `model`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no model file at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = str(archive["format"])
            spec = json.loads(str(archive["architecture"]))
            state = {key[len(PREFIX):]: archive[key] for key in archive.files
                     if key.startswith(PREFIX)}
    except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(f"load: {path} is not a readable model file "
                         f"({type(error).__name__}: {error})") from None
    if found != FORMAT:
        raise ValueError(f"load: {path} has format {found!r}, expected {FORMAT!r}")
    if model is None:
        if spec is None:
            raise ValueError(f"load: {path} holds parameters only: its architecture was not "
                             f"saved (the model was not a Sequential of known, unshared "
                             f"layers); pass a model to load them into: load(path, model=model)")
        model = build(spec)
    model.load_state_dict(state)
    return model
