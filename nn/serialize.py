"""Saving and loading models as .npz: the state dict plus a JSON description of the layers.

A Sequential of the layers below (nested Sequentials too), none of them shared, is rebuilt by
`load(path)`; any other model is saved with its parameters only, and loaded into a given
instance with `load(path, model=model)`. Files are written atomically: a crash never leaves a
half-written model.

`load` trusts nothing in the file: it reads each array's header (shape, dtype) and checks it
against the bytes actually stored, checks the architecture (known layer types, their settings,
the parameter shapes each layer needs) against those headers, and only then allocates the
model and reads the data. Nothing is ever unpickled. Every problem is one ModelFileError
naming the file.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.lib import format as npy

from autograd.files import atomic_write

from . import conv, module
from .module import Module, Parameter, Sequential

FORMAT = "jacograd-model/1"
PREFIX = "params/"  # state-dict entries are stored as params/<dotted name>
MAX_TEXT_CHARS = 1 << 20  # the format and architecture entries are short strings
DEFLATE_MAX_RATIO = 1032  # deflate cannot expand data more than this: a bound for a claimed size

Shapes = dict[str, tuple[tuple[int, ...], str]]  # parameter name -> (shape, dtype name)


class LayerType(NamedTuple):
    """A layer `load` can rebuild, and the parameters its settings imply (checked first)."""

    cls: type[Module]
    parameters: Callable[..., Shapes]


def _no_parameters(**config: Any) -> Shapes:
    return {}


def _linear_parameters(in_features: Any, out_features: Any, bias: Any = True,
                       dtype: Any = "float32") -> Shapes:
    n_in = module._positive_int("Linear", "in_features", in_features)
    n_out = module._positive_int("Linear", "out_features", out_features)
    if not isinstance(bias, bool):
        raise ValueError(f"Linear: bias must be true or false, got {bias!r}")
    if not isinstance(dtype, str) or np.dtype(dtype).kind != "f":
        raise ValueError(f"Linear: dtype must name a floating dtype, got {dtype!r}")
    dtype = np.dtype(dtype).name
    return {"weight": ((n_in, n_out), dtype), **({"bias": ((n_out,), dtype)} if bias else {})}


def _conv_parameters(in_channels: Any, out_channels: Any, kernel_size: Any, bias: Any = True,
                     dtype: Any = "float32", **geometry: Any) -> Shapes:
    """A Conv2D's weight (kh, kw, C_in, C_out) and bias; stride, padding and dilation are
    checked by the layer itself when it is built."""
    n_in = module._positive_int("Conv2D", "in_channels", in_channels)
    n_out = module._positive_int("Conv2D", "out_channels", out_channels)
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    kh, kw = (module._positive_int("Conv2D", "kernel_size", k) for k in (kh, kw))
    if not isinstance(bias, bool):
        raise ValueError(f"Conv2D: bias must be true or false, got {bias!r}")
    if not isinstance(dtype, str) or np.dtype(dtype).kind != "f":
        raise ValueError(f"Conv2D: dtype must name a floating dtype, got {dtype!r}")
    dtype = np.dtype(dtype).name
    return {"weight": ((kh, kw, n_in, n_out), dtype), **({"bias": ((n_out,), dtype)} if bias
                                                          else {})}


# Every layer type `load` may build, with the parameters it makes: a layer added here needs
# both (tests/test_nn_serialize.py checks them against the built layers).
LAYERS = {
    "Linear": LayerType(module.Linear, _linear_parameters),
    "Conv2D": LayerType(conv.Conv2D, _conv_parameters),
    **{name: LayerType(getattr(module, name), _no_parameters)
       for name in ("Flatten", "Sigmoid", "ReLU", "LeakyReLU", "Tanh", "Softmax")},
    **{name: LayerType(getattr(conv, name), _no_parameters)
       for name in ("MaxPool2D", "AvgPool2D", "Dropout", "Unflatten")},
}


# Settings that are short lists of ints (a kernel size, a stride, an image shape).
LIST_SETTINGS = {"kernel_size", "stride", "padding", "dilation", "unflattened_size"}


def _plain_setting(key: str, value: Any) -> bool:
    """A layer setting load accepts: a number, string, boolean or None, or for the geometric
    settings a short list of ints."""
    if key in LIST_SETTINGS and isinstance(value, list):
        return len(value) <= 8 and all(type(item) is int for item in value)
    return isinstance(value, (bool, int, float, str, type(None)))


class ModelFileError(ValueError):
    """A model file that is missing a part, damaged, or not what nn.save writes."""


# ---------------------------------------------------------------------------------------------
# Saving


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
    kind = type(model).__name__
    if kind in LAYERS and LAYERS[kind].cls is type(model):
        return {"type": kind, **model.config()}
    return None


def _json_value(value: Any) -> Any:
    """NumPy scalars in a layer's settings (LeakyReLU(np.float32(.2))) as Python numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"a layer setting of type {type(value).__name__} cannot be saved")


def save(model: Module, path: str | os.PathLike) -> None:
    """Write the model's parameters and architecture to `path` (.npz), atomically."""
    arrays = {PREFIX + name: value for name, value in model.state_dict().items()}
    arrays["format"] = np.array(FORMAT)
    arrays["architecture"] = np.array(json.dumps(architecture(model), default=_json_value))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda file: np.savez(file, **arrays))


# ---------------------------------------------------------------------------------------------
# Loading


def build(spec: Any) -> Module:
    """The (freshly initialized) model that `spec` describes; check it first with _parameters."""
    config = dict(spec)
    kind = config.pop("type")
    if kind == "Sequential":
        return Sequential(*(build(layer) for layer in config["layers"]))
    return LAYERS[kind].cls(**config)


def _parameters(spec: Any, where: str = "the model") -> Shapes:
    """The parameters (dotted name -> shape, dtype) that `spec` would make, without making them.

    A ValueError says what is wrong with the spec and where in it.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ValueError(f"{where} is not a layer description with a 'type': {_short(spec)}")
    config = dict(spec)
    kind = config.pop("type")
    if kind == "Sequential":
        if set(config) != {"layers"} or not isinstance(config["layers"], list):
            raise ValueError(f"{where}: a Sequential needs just a list of 'layers'")
        shapes: Shapes = {}
        for i, layer in enumerate(config["layers"]):
            inner = _parameters(layer, f"{where}, layer {i}")
            shapes.update({f"{i}.{name}": value for name, value in inner.items()})
        return shapes
    if kind not in LAYERS:
        raise ValueError(f"{where}: unknown layer type {kind!r}; known: Sequential, "
                         f"{', '.join(LAYERS)}")
    bad = [key for key, value in config.items() if not _plain_setting(key, value)]
    if bad:
        raise ValueError(f"{where}: {kind}'s setting {bad[0]!r} is {_short(config[bad[0]])}, "
                         f"not a number, string or boolean")
    try:
        inspect.signature(LAYERS[kind].cls).bind(**config)
    except TypeError as error:
        raise ValueError(f"{where}: {kind}: {error}") from None
    try:
        return LAYERS[kind].parameters(**config)
    except (TypeError, ValueError) as error:  # the messages name the layer
        raise ValueError(f"{where}: {error}") from None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def load(path: str | os.PathLike, model: Module | None = None) -> Module:
    """The model saved at `path`: rebuilt from its architecture, or loaded into `model`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no model file at {path}")
    try:
        return _load(path, model)
    except ModelFileError:
        raise
    # Whatever the checks let through still becomes one error naming the file.
    except (ValueError, TypeError, KeyError, OSError, EOFError, RecursionError,
            zipfile.BadZipFile, zlib.error) as error:
        raise ModelFileError(f"load: {path} is not a readable model file "
                             f"({type(error).__name__}: {error})") from None


def _load(path: Path, model: Module | None) -> Module:
    def fail(problem: str) -> ModelFileError:
        return ModelFileError(f"load: {path}: {problem}")

    with open(path, "rb") as file:
        start = file.read(6)
    if start == npy.MAGIC_PREFIX:
        raise fail("is a .npy file (one array), not a model .npz written by nn.save")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"load: {path} is not a readable model file: not a zip archive "
                             f"(.npz) as nn.save writes")
    with zipfile.ZipFile(path) as archive:
        file_bytes = path.stat().st_size
        headers = {_entry_name(info, fail): _array_header(archive, info, file_bytes, fail)
                   for info in archive.infolist()}
        for entry in ("format", "architecture"):
            if entry not in headers:
                raise ModelFileError(f"load: {path} is not a readable model file: it has no "
                                     f"{entry!r} entry (not written by nn.save)")
        found = _text(archive, "format", headers, fail)
        if found != FORMAT:
            raise fail(f"has format {found!r}, expected {FORMAT!r}")
        spec = _architecture(_text(archive, "architecture", headers, fail), fail)
        stored = {name[len(PREFIX):]: shape_and_dtype
                  for name, shape_and_dtype in headers.items() if name.startswith(PREFIX)}
        if model is None:
            if spec is None:
                raise fail("holds parameters only: its architecture was not saved (the model "
                           "was not a Sequential of known, unshared layers); pass a model to "
                           "load them into: load(path, model=model)")
            try:
                needed = _parameters(spec)
            except ValueError as error:
                raise fail(f"the saved architecture is wrong: {error}") from None
            _check_against_file(needed, stored, fail)
        state = {name: _read_array(archive, PREFIX + name) for name in stored}
    if model is None:
        model = build(spec)  # every size was checked against the arrays in the file
    try:
        model.load_state_dict(state)
    except ValueError as error:
        raise fail(str(error)) from None
    return model


def _entry_name(info: zipfile.ZipInfo, fail: Callable[[str], Exception]) -> str:
    if not info.filename.endswith(".npy"):
        raise fail(f"holds {info.filename!r}, which is not a .npy array entry")
    return info.filename[:-len(".npy")]


def _array_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_bytes: int,
                  fail: Callable[[str], Exception]) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from an entry's .npy header, once its claimed size is known to be real."""
    name = info.filename
    # The sizes the zip directory claims must be possible for a file of this size.
    stored = info.compress_type == zipfile.ZIP_STORED and info.file_size == info.compress_size
    deflated = (info.compress_type == zipfile.ZIP_DEFLATED
                and info.file_size <= DEFLATE_MAX_RATIO * info.compress_size)
    if not (stored or deflated) or info.compress_size > file_bytes:
        raise fail(f"entry {name!r} claims {info.file_size} bytes from {info.compress_size} "
                   f"stored, which this {file_bytes}-byte file cannot hold")
    with archive.open(info) as entry:
        try:
            version = npy.read_magic(entry)
            read_header = npy.read_array_header_1_0 if version == (1, 0) else \
                npy.read_array_header_2_0
            shape, _, dtype = read_header(entry)
        except (ValueError, TypeError, SyntaxError) as error:
            raise fail(f"entry {name!r} has no valid .npy header ({error})") from None
        header_bytes = entry.tell()
    if dtype.hasobject:
        raise fail(f"entry {name!r} holds Python objects ({dtype}); they are never unpickled")
    claimed = math.prod(shape) * dtype.itemsize
    if header_bytes + claimed != info.file_size:
        raise fail(f"entry {name!r} claims shape {shape} of {dtype} ({_bytes(claimed)}) but "
                   f"holds {_bytes(info.file_size - header_bytes)}")
    return shape, dtype


def _bytes(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _read_array(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    with archive.open(name + ".npy") as entry:
        return npy.read_array(entry, allow_pickle=False)


def _text(archive: zipfile.ZipFile, name: str, headers: dict, fail: Callable) -> str:
    shape, dtype = headers[name]
    if shape != () or dtype.kind != "U" or dtype.itemsize > 4 * MAX_TEXT_CHARS:
        raise fail(f"entry {name!r} is not a short string (shape {shape}, dtype {dtype})")
    return str(_read_array(archive, name))


def _architecture(text: str, fail: Callable[[str], Exception]) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise fail(f"the saved architecture is not valid JSON ({error})") from None


def _check_against_file(needed: Shapes, stored: dict[str, tuple[tuple[int, ...], np.dtype]],
                        fail: Callable[[str], Exception]) -> None:
    """The parameters the architecture needs are exactly the float arrays the file holds."""
    missing = [name for name in needed if name not in stored]
    unexpected = [name for name in stored if name not in needed]
    if missing or unexpected:
        raise fail(f"the architecture's parameters do not match the arrays in the file: "
                   f"missing {missing[:5]}, unexpected {unexpected[:5]}")
    for name, (shape, dtype) in needed.items():
        found_shape, found_dtype = stored[name]
        if found_shape != shape or found_dtype != np.dtype(dtype):
            raise fail(f"the architecture needs {name!r} of shape {shape} and dtype {dtype}, "
                       f"the file holds shape {found_shape} and dtype {found_dtype}")
