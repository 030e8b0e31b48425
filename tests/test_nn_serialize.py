"""Tests for nn.save / nn.load: round trips, atomic writes and clear errors."""

import io
import json
import os
import re
import stat
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import serialize

X = np.random.default_rng(0).standard_normal((7, 6)).astype(np.float32)


def models():
    return {
        "mlp": nn.mlp([6, 5, 4, 3], "leaky-relu", rng=0),
        "every-layer": nn.Sequential(
            nn.Flatten(), nn.Linear(6, 5, rng=1), nn.LeakyReLU(0.2), nn.Linear(5, 4, bias=False),
            nn.Sigmoid(), nn.Sequential(nn.Linear(4, 4, dtype=np.float64), nn.Tanh()),
            nn.ReLU(), nn.Linear(4, 3), nn.Softmax(axis=1)),
    }


@pytest.mark.parametrize("name", models())
def test_round_trip_rebuilds_the_model_with_identical_predictions(tmp_path, name):
    model = models()[name]
    nn.save(model, tmp_path / "model.npz")
    loaded = nn.load(tmp_path / "model.npz")
    assert loaded is not model and repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded(X).data, model(X).data)
    assert [p.dtype for p in loaded.parameters()] == [p.dtype for p in model.parameters()]


class Custom(nn.Module):
    def __init__(self):
        self.layer = nn.Linear(6, 2, rng=0)

    def forward(self, x):
        return self.layer(x) * 2


def test_other_models_load_into_an_instance(tmp_path):
    model = Custom()
    nn.save(model, tmp_path / "custom.npz")
    with pytest.raises(ValueError, match=r"architecture was not saved.*load\(path, model="):
        nn.load(tmp_path / "custom.npz")
    fresh = Custom()
    fresh.layer.weight.data[:] = 0
    assert nn.load(tmp_path / "custom.npz", fresh) is fresh
    np.testing.assert_array_equal(fresh(X).data, model(X).data)


def test_a_model_with_a_shared_layer_is_saved_as_parameters_only(tmp_path):
    """Rebuilt from its architecture, the shared layer would become two, with names ("2.weight")
    the file does not hold, since a shared parameter is saved once."""
    layer = nn.Linear(6, 6, rng=0)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    nn.save(model, tmp_path / "shared.npz")
    with pytest.raises(ValueError, match=r"architecture was not saved.*load\(path, model="):
        nn.load(tmp_path / "shared.npz")
    fresh_layer = nn.Linear(6, 6, rng=1)
    fresh = nn.load(tmp_path / "shared.npz", nn.Sequential(fresh_layer, nn.ReLU(), fresh_layer))
    np.testing.assert_array_equal(fresh(X).data, model(X).data)


def test_architecture_of_a_model_with_a_shared_layer_is_none():
    layer = nn.Linear(2, 2)
    assert serialize.architecture(nn.Sequential(layer, nn.Tanh(), layer)) is None
    tanh = nn.Tanh()  # a shared layer without parameters is harmless: rebuilt as two, same thing
    assert serialize.architecture(nn.Sequential(layer, tanh, nn.Linear(2, 2), tanh)) is not None


def test_loading_into_the_wrong_model_names_the_key_and_shapes(tmp_path):
    nn.save(nn.mlp([6, 5, 3], rng=0), tmp_path / "model.npz")
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(6, 5\) in the state but "
                                         r"\(6, 4\) in the model"):
        nn.load(tmp_path / "model.npz", nn.mlp([6, 4, 3], rng=0))


def test_save_creates_the_folder_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "new" / "folder" / "model.npz"
    nn.save(nn.mlp([6, 3], rng=0), path)
    assert os.listdir(path.parent) == ["model.npz"]


def test_saved_file_has_the_usual_mode_not_mkstemps_0600(tmp_path):
    old_mask = os.umask(0o027)
    try:
        nn.save(nn.mlp([6, 3], rng=0), tmp_path / "model.npz")
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((tmp_path / "model.npz").stat().st_mode) == 0o640


def leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name != "model.npz")


@pytest.mark.parametrize("broken", ["savez", "replace"])
def test_failed_save_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch, broken):
    path = tmp_path / "model.npz"
    old = nn.mlp([6, 3], rng=0)
    nn.save(old, path)
    before = path.read_bytes()

    def savez_then_fail(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")  # a partial write, then the crash
        raise OSError("disk full")

    def fail(*args):
        raise OSError("disk full")

    if broken == "savez":
        monkeypatch.setattr(serialize.np, "savez", savez_then_fail)
    else:
        monkeypatch.setattr(serialize.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        nn.save(nn.mlp([6, 3], rng=1), path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    np.testing.assert_array_equal(nn.load(path)(X).data, old(X).data)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file at .*absent.npz"):
        nn.load(tmp_path / "absent.npz")


@pytest.mark.parametrize("damage", [
    lambda data: b"not a zip file at all",
    lambda data: data[: len(data) // 2],  # truncated
    lambda data: b"",
])
def test_corrupt_file_is_a_clear_error(tmp_path, damage):
    path = tmp_path / "model.npz"
    nn.save(nn.mlp([6, 3], rng=0), path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match="is not a readable model file"):
        nn.load(path)


def test_an_npz_that_is_not_a_model_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(ValueError, match="is not a readable model file"):
        nn.load(tmp_path / "other.npz")


def test_numpy_scalars_in_a_layers_settings_are_saved_as_numbers(tmp_path):
    model = nn.Sequential(nn.Linear(np.int64(6), 4, rng=0), nn.LeakyReLU(np.float32(0.2)),
                          nn.Softmax(axis=np.int64(1)))
    nn.save(model, tmp_path / "model.npz")
    loaded = nn.load(tmp_path / "model.npz")
    assert loaded[1].alpha == pytest.approx(0.2) and loaded[2].axis == 1
    np.testing.assert_array_equal(loaded(X).data, model(X).data)


# --- files that must not be trusted --------------------------------------------------------------
def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npy_header(shape: tuple, descr: str = "<f4", data: bytes = b"") -> bytes:
    """A .npy header claiming `shape`, followed by `data` (not necessarily that much)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


def write_npz(path: Path, entries: dict[str, bytes]) -> Path:
    """An .npz written entry by entry, as nn.save would but with any content."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name + ".npy", content)
    return path


def model_entries(architecture, **params: np.ndarray) -> dict[str, bytes]:
    text = architecture if isinstance(architecture, str) else json.dumps(architecture)
    return {"format": npy_bytes(np.array(serialize.FORMAT)),
            "architecture": npy_bytes(np.array(text)),
            **{"params/" + name.replace("_", "."): npy_bytes(value)
               for name, value in params.items()}}


def linear(n_in, n_out, **settings):
    return {"type": "Linear", "in_features": n_in, "out_features": n_out, "bias": True,
            "dtype": "float32", **settings}


W, B = np.ones((6, 3), np.float32), np.zeros(3, np.float32)
GOOD = {"type": "Sequential", "layers": [linear(6, 3)]}

UNTRUSTED_FILES = [  # (name, entries or raw bytes, what the one-line error must say)
    ("npy-file", npy_bytes(np.ones(3)), r"is a \.npy file \(one array\), not a model \.npz"),
    ("not-zip", b"PK but not a zip at all", "not a zip archive"),
    ("72.8-TiB-header",
     {**model_entries(GOOD, **{"0_bias": B}),
      "params/0.weight": npy_header((10**7, 10**6), "<f8", bytes(64))},
     r"entry 'params/0\.weight\.npy' claims shape \(10000000, 1000000\) of float64 "
     r"\(72\.8 TiB\) but holds 64 bytes"),
    ("pickled-objects",
     {**model_entries(GOOD, **{"0_bias": B}),
      "params/0.weight": npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True)},
     r"holds Python objects \(object\); they are never unpickled"),
    ("no-architecture", {"format": npy_bytes(np.array(serialize.FORMAT))},
     "it has no 'architecture' entry"),
    ("architecture-not-json", model_entries("{not json", **{"0_weight": W, "0_bias": B}),
     r"the saved architecture is not valid JSON"),
    ("architecture-not-a-string",
     {**model_entries(GOOD, **{"0_weight": W, "0_bias": B}), "architecture": npy_bytes(W)},
     r"entry 'architecture' is not a short string"),
    ("architecture-a-list", model_entries([1, 2], **{"0_weight": W, "0_bias": B}),
     r"the saved architecture is wrong: the model is not a layer description"),
    ("layers-not-a-list", model_entries({"type": "Sequential", "layers": 5}),
     r"a Sequential needs just a list of 'layers'"),
    ("unknown-layer",
     model_entries({"type": "Sequential", "layers": [linear(6, 3), {"type": "Conv9"}]},
                   **{"0_weight": W, "0_bias": B}),
     r"the model, layer 1: unknown layer type 'Conv9'; known: Sequential, Linear"),
    ("missing-setting", model_entries({"type": "Sequential", "layers": [{"type": "Linear"}]}),
     r"layer 0: Linear: missing a required argument: 'in_features'"),
    ("unknown-setting", model_entries({"type": "Sequential", "layers": [
        {"type": "ReLU", "inplace": True}]}),
     r"layer 0: ReLU: got an unexpected keyword argument 'inplace'"),
    ("negative-size", model_entries({"type": "Sequential", "layers": [linear(-6, 3)]}),
     r"layer 0: Linear: in_features must be a positive int, got -6"),
    ("integer-dtype", model_entries({"type": "Sequential", "layers": [linear(6, 3,
                                                                              dtype="int64")]}),
     r"Linear: dtype must name a floating dtype, got 'int64'"),
    ("list-setting", model_entries({"type": "Sequential", "layers": [
        {"type": "LeakyReLU", "alpha": [0.1]}]}),
     r"LeakyReLU's setting 'alpha' is \[0\.1\], not a number, string or boolean"),
    ("tiny-file-huge-linear", model_entries({"type": "Sequential", "layers": [
        linear(10**6, 10**6)]}, **{"0_weight": W, "0_bias": B}),
     r"the architecture needs '0\.weight' of shape \(1000000, 1000000\) and dtype float32, "
     r"the file holds shape \(6, 3\)"),
    ("arrays-missing", model_entries(GOOD),
     r"missing \['0\.weight', '0\.bias'\], unexpected \[\]"),
    ("wrong-format", {**model_entries(GOOD), "format": npy_bytes(np.array("other/2"))},
     r"has format 'other/2', expected 'jacograd-model/1'"),
]


@pytest.mark.parametrize("content, message", [case[1:] for case in UNTRUSTED_FILES],
                         ids=[case[0] for case in UNTRUSTED_FILES])
def test_load_checks_the_file_before_trusting_it(tmp_path, content, message):
    """One clear error naming the file, before any large allocation and without unpickling."""
    path = tmp_path / "model.npz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        write_npz(path, content)
    assert path.stat().st_size < 10_000
    tracemalloc.start()
    try:
        with pytest.raises(serialize.ModelFileError) as error:
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert re.search(message, str(error.value)), str(error.value)
    assert str(error.value).startswith(f"load: {path}") and "\n" not in str(error.value)
    assert isinstance(error.value, ValueError) and peak < 1 << 20


def test_a_handmade_file_that_matches_its_architecture_loads(tmp_path):
    """The checks above refuse what is wrong, not what nn.save did not write itself."""
    path = write_npz(tmp_path / "model.npz", model_entries(GOOD, **{"0_weight": W, "0_bias": B}))
    model = nn.load(path)
    np.testing.assert_array_equal(model(X).data, X @ W + B)


# One example of every layer type load can rebuild; a new type needs one here.
LAYER_EXAMPLES = {
    "Linear": [nn.Linear(3, 2), nn.Linear(3, 2, bias=False, dtype=np.float64)],
    "Flatten": [nn.Flatten()], "Sigmoid": [nn.Sigmoid()], "ReLU": [nn.ReLU()],
    "LeakyReLU": [nn.LeakyReLU(0.3)], "Tanh": [nn.Tanh()], "Softmax": [nn.Softmax(axis=0)],
    "Conv2D": [nn.Conv2D(3, 4, 3), nn.Conv2D(1, 2, (5, 3), stride=2, padding="same",
                                             bias=False, dtype=np.float64)],
    "MaxPool2D": [nn.MaxPool2D(2)], "AvgPool2D": [nn.AvgPool2D(3, stride=1, padding=1)],
    "Dropout": [nn.Dropout(0.25)], "Unflatten": [nn.Unflatten(1, (28, 28, 1))],
}


def test_every_loadable_layer_declares_the_parameters_it_makes():
    """load checks a file against these declarations before it builds anything."""
    assert set(LAYER_EXAMPLES) == set(serialize.LAYERS)
    for layers in LAYER_EXAMPLES.values():
        for layer in layers:
            spec = serialize.architecture(layer)
            declared = serialize._parameters(spec)
            built = serialize.build(spec)
            assert declared == {name: (p.shape, p.dtype.name)
                                for name, p in built.named_parameters()}, spec
