"""Tests on real MNIST: a quick training run and the `python -m nn.mnist` command end to end."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import mnist

# The repository is cloned next to shared/ in CI; MNIST_DIR overrides that location.
REAL_MNIST = Path(
    os.environ.get("MNIST_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
)
needs_real_mnist = pytest.mark.skipif(
    not all((REAL_MNIST / name).is_file() for name in nn.data.MNIST_FILES),
    reason=f"real MNIST files not found in {REAL_MNIST} (set MNIST_DIR)",
)


def test_lecture_preset_is_lecture_11():
    config = mnist.configure(mnist.parse_args(["--preset", "lecture"]))
    assert config == dict(hidden=[64, 32], activation="sigmoid", init="normal", optimizer="sgd",
                          momentum=0.0, ema=False, lr=0.03, lr_decay=1.0, weight_decay=0.0,
                          epochs=20, batch_size=64, shuffle=False, drop_last=True, validation=0)


def test_flags_override_the_preset():
    args = mnist.parse_args(["--hidden", "40", "30", "20", "--init", "xavier-normal",
                             "--optimizer", "sgd", "--momentum", "0.9", "--ema", "--no-shuffle"])
    config = mnist.configure(args)
    assert config["hidden"] == [40, 30, 20] and config["init"] == "xavier-normal"
    assert config["optimizer"] == "sgd" and config["momentum"] == 0.9 and config["ema"]
    assert not config["shuffle"] and config["activation"] == "relu"  # the rest: modern


@needs_real_mnist
def test_one_epoch_on_20000_images_passes_90_percent():
    (x_train, y_train), (x_test, y_test) = nn.load_mnist(REAL_MNIST, download=False)
    loader = nn.DataLoader(nn.prepare_images(x_train[:20000]), y_train[:20000], batch_size=64,
                           shuffle=True, seed=0)
    model = nn.mlp([784, 128, 10], "relu", "he-normal", rng=0)
    nn.fit(model, nn.CrossEntropyLoss(), nn.Adam(model.parameters(), 2e-3), loader, 1,
           quiet=True)
    _, accuracy = nn.evaluate(model, nn.prepare_images(x_test), y_test)
    assert accuracy > 0.90


@needs_real_mnist
def test_command_line_trains_saves_and_plots(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "nn.mnist", "--epochs", "1", "--limit", "2000", "--quiet",
         "--data", str(REAL_MNIST), "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((out / "history.json").read_text())
    assert summary["config"]["epochs"] == 1 and len(summary["history"]["train_loss"]) == 1
    model = nn.load(out / "model.npz")
    assert [p.shape for p in model.parameters()] == [(784, 512), (512,), (512, 256), (256,),
                                                      (256, 10), (10,)]
    (_, _), (x_test, y_test) = nn.load_mnist(REAL_MNIST, download=False)
    outputs = nn.predict(model, nn.prepare_images(x_test[:500]))
    assert outputs.shape == (500, 10) and np.mean(outputs.argmax(1) == y_test[:500]) > 0.6
    assert summary["test_accuracy"] > 0.6
