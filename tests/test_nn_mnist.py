"""Tests on real MNIST: a quick training run and the `python -m nn.mnist` command end to end."""

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import mnist

ROOT = Path(__file__).resolve().parents[1]
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


def test_every_initializer_of_nn_init_is_a_choice():
    for name in nn.init.INITIALIZERS:
        assert mnist.configure(mnist.parse_args(["--init", name]))["init"] == name


def test_benchmark_readme_describes_the_presets_that_run():
    """benchmarks/mnist_mlp.py times nn.mnist.PRESETS; its README must say what those are."""
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    for name, preset in mnist.PRESETS.items():
        if preset.get("network", "mlp") != "mlp":  # timed by benchmarks/conv.py
            continue
        line = re.search(rf"^- {name}: (.*)$", readme, re.MULTILINE)
        assert line, f"benchmarks/README.md does not describe the {name} preset"
        sizes = "-".join(map(str, [784, *preset["hidden"], 10]))
        assert line[1].lower().startswith(f"{sizes}, {preset['activation']}")
        assert float(re.search(r" lr ([0-9.e-]*[0-9])", line[1])[1]) == preset["lr"]
        assert f"batches of {preset['batch_size']}" in line[1]


# 400 random "images" stand in for MNIST, so that main runs in a second without the files.
FAKE_RNG = np.random.default_rng(0)
FAKE_MNIST = tuple((FAKE_RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                    FAKE_RNG.integers(0, 10, n, dtype=np.uint8)) for n in (400, 50))
RESULTS = ["curves.png", "history.json", "model.npz"]


@pytest.fixture
def run_main(tmp_path, monkeypatch):
    """run_main(*flags): `python -m nn.mnist --epochs 1 --hidden 8 *flags` on FAKE_MNIST."""
    monkeypatch.setattr(mnist, "load_mnist", lambda *args, **kwargs: FAKE_MNIST)
    out = tmp_path / "run"

    def run(*flags):
        argv = ["--epochs", "1", "--hidden", "8", "--quiet", "--out", str(out), *flags]
        assert mnist.main(argv) == 0
        return out

    return run


@pytest.mark.parametrize("flags, validation", [
    ([], 40),  # modern holds out 5,000 of 60,000; of 400 images, a tenth
    (["--limit", "200"], 20),
    (["--validation", "10"], 10),
    (["--preset", "lecture"], 0),
])
def test_validation_is_at_most_a_tenth_of_the_images(run_main, flags, validation):
    summary = json.loads((run_main(*flags) / "history.json").read_text())
    assert summary["config"]["validation"] == validation
    assert len(summary["history"]["val_loss"]) == (1 if validation else 0)


@pytest.mark.parametrize("name", RESULTS)
def test_a_failed_write_keeps_the_previous_result(run_main, monkeypatch, name):
    """Each result file is replaced whole or not at all: a crash never leaves half a file."""
    out = run_main()
    before = (out / name).read_bytes()
    replace = os.replace

    def replace_fails_for_name(source, target):
        if os.path.basename(target) == name:
            raise OSError("disk full")
        replace(source, target)

    monkeypatch.setattr(os, "replace", replace_fails_for_name)
    with pytest.raises(OSError, match="disk full"):
        run_main("--seed", "1")  # other weights: every file would change
    assert (out / name).read_bytes() == before
    assert sorted(os.listdir(out)) == RESULTS  # and no temporary file is left


def test_results_have_the_usual_file_mode(run_main):
    old_mask = os.umask(0o027)
    try:
        out = run_main()
    finally:
        os.umask(old_mask)
    assert {name: stat.S_IMODE((out / name).stat().st_mode) for name in RESULTS} == \
        dict.fromkeys(RESULTS, 0o640)


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
