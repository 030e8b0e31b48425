"""Tests for nn.save / nn.load: round trips, atomic writes and clear errors."""

import os
import stat
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
