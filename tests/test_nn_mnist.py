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
# Real MNIST only from $MNIST_DIR; without it these tests skip (conftest.py: the real_mnist mark).
REAL_MNIST = Path(os.environ.get("MNIST_DIR") or "MNIST_DIR-is-not-set")
needs_real_mnist = pytest.mark.real_mnist


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

    def run(*flags, status=0):
        argv = ["--epochs", "1", "--hidden", "8", "--quiet", "--out", str(out), *flags]
        assert mnist.main(argv) == status
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
def test_a_failed_write_keeps_the_previous_result(run_main, monkeypatch, capsys, name):
    """Each result file is replaced whole or not at all: a crash never leaves half a file."""
    out = run_main()
    before = {result: (out / result).read_bytes() for result in RESULTS}
    replace = os.replace

    def replace_fails_for_name(source, target):
        if os.path.basename(target) == name:
            raise OSError("disk full")
        replace(source, target)

    monkeypatch.setattr(os, "replace", replace_fails_for_name)
    if name == "curves.png":  # the optional picture comes last; the results are saved
        assert run_main("--seed", "1", status=1) == out
        assert "curves.png not written (OSError: disk full)" in capsys.readouterr().err
        for result in ("model.npz", "history.json"):
            assert (out / result).read_bytes() != before[result]
    else:
        with pytest.raises(OSError, match="disk full"):
            run_main("--seed", "1")  # other weights: every file would change
    assert (out / name).read_bytes() == before[name]
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


# --- the command line checks everything before it starts ---------------------------------------
def usage_error(argv, capsys, monkeypatch) -> str:
    """The one-line error of `main(argv)`, which must exit 2 without reading any data."""
    def no_data(*args, **kwargs):
        raise AssertionError("main read the data before checking its arguments")

    monkeypatch.setattr(mnist, "load_mnist", no_data)
    with pytest.raises(SystemExit) as exit_:
        mnist.main(argv)
    assert exit_.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("jacograd-mnist: error: ") and stderr.endswith(" (see --help)\n")
    assert stderr.count("\n") == 1, stderr
    return stderr[len("jacograd-mnist: error: "):-len(" (see --help)\n")]


BAD_COMMAND_LINES = [  # (flags, the error)
    (["--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    (["--epochs", "-1"], "argument --epochs: must be a positive integer, got '-1'"),
    (["--epochs", "two"], "argument --epochs: must be a positive integer, got 'two'"),
    (["--limit", "-5"], "argument --limit: must be a positive integer, got '-5'"),
    (["--limit", "0"], "argument --limit: must be a positive integer, got '0'"),
    (["--hidden", "0"], "argument --hidden: must be a positive integer, got '0'"),
    (["--hidden", "40", "-3"], "argument --hidden: must be a positive integer, got '-3'"),
    (["--batch-size", "0"], "argument --batch-size: must be a positive integer, got '0'"),
    (["--lr", "-1"], "argument --lr: must be a finite number > 0, got '-1'"),
    (["--lr", "nan"], "argument --lr: must be a finite number > 0, got 'nan'"),
    (["--lr", "inf"], "argument --lr: must be a finite number > 0, got 'inf'"),
    (["--lr-decay", "-1"], "argument --lr-decay: must be a finite number > 0, got '-1'"),
    (["--lr-decay", "0"], "argument --lr-decay: must be a finite number > 0, got '0'"),
    (["--weight-decay", "-0.0001"],
     "argument --weight-decay: must be a finite number >= 0, got '-0.0001'"),
    (["--optimizer", "sgd", "--momentum", "1.5"],
     "argument --momentum: must be a number in [0, 1), got '1.5'"),
    (["--validation", "-1"], "argument --validation: must be an integer >= 0, got '-1'"),
    (["--seed", "-1"], "argument --seed: must be an integer >= 0, got '-1'"),
    (["--momentum", "0.9"], "--momentum is for --optimizer sgd; Adam keeps its own momentum "
                            "(beta1 = 0.9), so --momentum would be ignored"),
    (["--ema"], "--ema is for --optimizer sgd; Adam keeps its own momentum (beta1 = 0.9), so "
                "--ema would be ignored"),
    (["--preset", "lecture", "--limit", "50"],
     "50 training images make no full batch of 64 and --drop-last drops the partial one: "
     "nothing would be trained; use a larger --limit, a smaller --batch-size, or "
     "--no-drop-last"),
    (["--limit", "100", "--batch-size", "128", "--drop-last"],
     "90 training images make no full batch of 128 and --drop-last drops the partial one: "
     "nothing would be trained; use a larger --limit, a smaller --batch-size, or "
     "--no-drop-last"),
    (["--data", "{tmp}/absent"], "--data {tmp}/absent: no such folder"),
    (["--out", "{tmp}/file"], "--out {tmp}/file: is a file, not a folder"),
    (["--out", "{tmp}/file/run"], "--out {tmp}/file/run: cannot write results there "
                                  "(Not a directory)"),
]


@pytest.mark.parametrize("flags, message", BAD_COMMAND_LINES,
                         ids=[" ".join(flags) for flags, _ in BAD_COMMAND_LINES])
def test_a_bad_command_line_is_a_usage_error_before_any_data_is_read(
        tmp_path, capsys, monkeypatch, flags, message):
    (tmp_path / "file").write_bytes(b"")
    monkeypatch.chdir(tmp_path)  # the default results folder would be made here
    argv = [flag.format(tmp=tmp_path) for flag in flags]
    assert usage_error(argv, capsys, monkeypatch) == message.format(tmp=tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["file"]  # no results folder was made


def test_an_out_folder_that_cannot_be_written_is_a_usage_error(tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):  # tests run as root, for whom chmod does not refuse
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(mnist.tempfile, "TemporaryFile", refuse)
    message = usage_error(["--out", str(tmp_path / "run")], capsys, monkeypatch)
    assert message == f"--out {tmp_path / 'run'}: cannot write results there (Permission denied)"


def test_the_lecture_preset_on_50_images_exits_2_from_the_shell(tmp_path):
    """It used to print "0 batches per epoch" and exit 0."""
    result = subprocess.run([sys.executable, "-m", "nn.mnist", "--preset", "lecture",
                             "--limit", "50", "--data", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("jacograd-mnist: error: 50 training images make no full ")
    assert result.stderr.count("\n") == 1
    assert os.listdir(tmp_path) == []


# --- the main job never loses a finished run -----------------------------------------------------
@pytest.fixture
def fake_data(monkeypatch):
    monkeypatch.setattr(mnist, "load_mnist", lambda *args, **kwargs: FAKE_MNIST)


def run_in(folder: Path, *flags: str, status: int = 0) -> None:
    argv = ["--epochs", "1", "--hidden", "8", "--quiet", *flags]
    assert mnist.main(argv) == status


def test_each_run_gets_a_new_folder_printed_at_start_and_end(tmp_path, monkeypatch, capsys,
                                                             fake_data):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "mnist" / "modern-7").mkdir(parents=True)  # numbers go on from 7
    for expected in ["modern-8", "modern-9", "lecture-1"]:
        run_in(tmp_path, *(["--preset", "lecture"] if expected.startswith("lecture") else []))
        lines = capsys.readouterr().out.splitlines()
        folder = Path("runs") / "mnist" / expected
        assert lines[0] == f"results will go to {folder}"
        assert lines[-1] == f"results in {folder}"
        assert sorted(os.listdir(folder)) == RESULTS
    assert sorted(os.listdir(tmp_path / "runs" / "mnist")) == [
        "lecture-1", "modern-7", "modern-8", "modern-9"]


def test_out_chooses_the_folder_exactly(tmp_path, monkeypatch, fake_data):
    monkeypatch.chdir(tmp_path)
    run_in(tmp_path, "--out", "here/there")
    assert sorted(os.listdir(tmp_path / "here" / "there")) == RESULTS
    assert not (tmp_path / "runs").exists()


def test_without_matplotlib_and_tqdm_the_run_trains_and_says_how_to_get_them(
        tmp_path, monkeypatch, capsys, fake_data):
    for name in ("matplotlib", "tqdm"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` fail
    run_in(tmp_path, "--out", str(tmp_path / "run"))
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert notes == ['note: matplotlib and tqdm not installed: training without progress bars '
                     'and curves.png; pip install "jacograd[train]" adds them']
    assert sorted(os.listdir(tmp_path / "run")) == ["history.json", "model.npz"]
    assert "test accuracy" in out


def test_a_failing_plot_loses_nothing(tmp_path, monkeypatch, capsys, fake_data):
    def broken_plot(*args, **kwargs):
        raise RuntimeError("no display")

    monkeypatch.setattr(mnist, "plot_history", broken_plot)
    run_in(tmp_path, "--out", str(tmp_path / "run"), status=1)
    assert sorted(os.listdir(tmp_path / "run")) == ["history.json", "model.npz"]
    summary = json.loads((tmp_path / "run" / "history.json").read_text())
    assert 0 <= summary["test_accuracy"] <= 1
    assert "curves.png not written (RuntimeError: no display)" in capsys.readouterr().err


def refuse_constants(name):
    raise ValueError(f"not strict JSON: {name}")


def test_history_json_is_strict_json_with_null_for_nan(tmp_path, monkeypatch, fake_data):
    fit = mnist.fit

    def fit_with_a_nan_loss(*args, **kwargs):
        history = fit(*args, **kwargs)
        history.loss[0] = history.train_loss[0] = float("nan")
        history.val_loss[0] = float("inf")
        return history

    monkeypatch.setattr(mnist, "fit", fit_with_a_nan_loss)
    run_in(tmp_path, "--out", str(tmp_path / "run"))
    text = (tmp_path / "run" / "history.json").read_text()
    summary = json.loads(text, parse_constant=refuse_constants)
    assert summary["history"]["train_loss"] == [None]
    assert summary["history"]["val_loss"] == [None] and summary["history"]["loss"][0] is None
