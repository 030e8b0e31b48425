"""Train and evaluate an MLP on MNIST: `python -m nn.mnist` or `jacograd-mnist`.

--preset lecture   lecture 11 exactly: 784-64-32-10, sigmoid, weights N(0, 1), biases 0,
                   batches of 64 in order (the last partial batch dropped), SGD lr 0.03,
                   20 epochs, softmax + mean cross-entropy, all 60,000 training images.
--preset modern    (default) 784-512-256-10, ReLU, He init, shuffled batches of 128, Adam
                   lr 2e-3 times 0.7 after each epoch, 10 epochs, the last 5,000 training
                   images held out for validation: about 98.4-98.5% test accuracy.
--preset cnn       conv 5×5 32 - pool - conv 5×5 64 - pool - 128 - dropout 0.5 - 10 (ReLU,
                   He init), Adam lr 1e-3 times 0.8 after each epoch, otherwise as modern:
                   about 99.3-99.4% test accuracy.

Flags override the preset. At most a tenth of the training images is held out for validation,
so that --limit 2000 validates on the last 200 rather than on none or on most of them.
Every flag and the output folder are checked before any data is read. Each run writes
model.npz, history.json (strict JSON: NaN as null) and then curves.png to its own new folder,
runs/mnist/<preset>-<n>, unless --out names one. Without matplotlib or tqdm (the [train]
extra) it trains all the same, without progress bars or curves.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from autograd.files import atomic_write

from .conv import cnn
from .data import (
    MNIST_FILES,
    DataLoader,
    MNISTFileError,
    MNISTNotFoundError,
    load_mnist,
    prepare_images,
)
from .init import INITIALIZERS
from .losses import CrossEntropyLoss
from .module import ACTIVATIONS, Module, mlp
from .optim import SGD, Adam, Optimizer
from .serialize import save
from .train import evaluate, fit, plot_history

PRESETS = {
    "lecture": dict(hidden=[64, 32], activation="sigmoid", init="normal", optimizer="sgd",
                    momentum=0.0, ema=False, lr=0.03, lr_decay=1.0, weight_decay=0.0, epochs=20,
                    batch_size=64, shuffle=False, drop_last=True, validation=0),
    "modern": dict(hidden=[512, 256], activation="relu", init="he-normal", optimizer="adam",
                   momentum=0.9, ema=False, lr=2e-3, lr_decay=0.7, weight_decay=0.0, epochs=10,
                   batch_size=128, shuffle=True, drop_last=False, validation=5000),
    "cnn": dict(network="cnn", hidden=[128], activation="relu", init="he-normal",
                optimizer="adam", momentum=0.9, ema=False, lr=1e-3, lr_decay=0.8,
                weight_decay=0.0, epochs=10, batch_size=128, shuffle=True, drop_last=False,
                validation=5000),
}
RUNS = Path("runs/mnist")  # each run gets a new folder <preset>-<n> here, unless --out says
TRAINING_IMAGES = MNIST_FILES["train-images-idx3-ubyte.gz"].shape[0]
INSTALL_TRAIN = 'pip install "jacograd[train]"'


# ---------------------------------------------------------------------------------------------
# The command line, checked before anything is loaded or trained


def _number(convert: Callable[[str], Any], allowed: str,
            ok: Callable[[Any], bool]) -> Callable[[str], Any]:
    """An argparse type: `convert`ed text for which ok(value), else a usage error."""
    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}")
        return value
    return parse


positive_int = _number(int, "a positive integer", lambda n: n >= 1)
count = _number(int, "an integer >= 0", lambda n: n >= 0)
positive_float = _number(float, "a finite number > 0", lambda x: math.isfinite(x) and x > 0)
non_negative_float = _number(float, "a finite number >= 0",
                             lambda x: math.isfinite(x) and x >= 0)
fraction = _number(float, "a number in [0, 1)", lambda x: 0 <= x < 1)


class OneLineErrors(argparse.ArgumentParser):
    """Usage errors as one line, exit status 2: the full usage (a dozen lines) is in --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def make_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(prog="jacograd-mnist", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--preset", choices=PRESETS, default="modern", help="starting configuration")
    add("--hidden", type=positive_int, nargs="+", metavar="UNITS",
        help="hidden layer sizes, e.g. 40 30 20")
    add("--activation", choices=ACTIVATIONS)
    add("--init", choices=INITIALIZERS, help="weight initializer (biases start at 0)")
    add("--optimizer", choices=["sgd", "adam"])
    add("--momentum", type=fraction,
        help="SGD momentum in [0, 1) (classic form v = γv + lr·g); refused with Adam")
    add("--ema", action="store_true", default=None,
        help="SGD momentum as an average v = m·v + (1 - m)·g, p -= lr·v (notes 004)")
    add("--lr", type=positive_float,
        help="learning rate (Adam: about 1e-3; SGD with momentum: 0.01-0.1)")
    add("--lr-decay", type=positive_float,
        help="multiply the learning rate by this after each epoch")
    add("--weight-decay", type=non_negative_float,
        help="L2 weight decay (adds wd·p to the gradient)")
    add("--epochs", type=positive_int)
    add("--batch-size", type=positive_int)
    add("--shuffle", action=argparse.BooleanOptionalAction, help="reshuffle every epoch")
    add("--drop-last", action=argparse.BooleanOptionalAction,
        help="drop the last partial batch (the lecture's n_batch = 60000 // 64)")
    add("--validation", type=count, metavar="N",
        help="hold out the last N training images (at most a tenth of them; 0: none)")
    add("--limit", type=positive_int, metavar="N",
        help="train on the first N training images only")
    add("--seed", type=count, default=0, help="seed of the weights and the shuffling")
    add("--data", metavar="DIR", help="MNIST folder (default: $MNIST_DIR, else a download cache)")
    add("--out", metavar="DIR",
        help=f"where to write the results (default: a new folder {RUNS}/<preset>-<n>)")
    add("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    add("--compile", action=argparse.BooleanOptionalAction, default=None,
        help="run each step as one autograd.compile'd program: the same numbers as eager, bit "
             "for bit, faster (the default, but for the cnn preset, whose dropout draws random "
             "masks that a compiled program cannot replay; --no-compile runs eagerly)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The flags, each of the right type and range (else a usage error, exit 2)."""
    return make_parser().parse_args(argv)


def configure(args: argparse.Namespace) -> dict:
    """The preset's settings, overridden by the flags that were given."""
    config = dict(PRESETS[args.preset])
    config.update({key: value for key, value in vars(args).items()
                   if key in config and value is not None})
    return config


def held_out(config: dict, images: int) -> int:
    """How many of `images` training images validate: at most a tenth of them.

    --limit 2000 validates on 200, not on none (or on 1,000 of 2,000).
    """
    return min(config["validation"], images // 10)


def check(args: argparse.Namespace, config: dict) -> str | None:
    """What is wrong with this combination of flags, in one line, or None."""
    random = config.get("network") == "cnn"  # its Dropout draws a new mask every step
    if args.compile and random:
        return ("--compile: the cnn preset's dropout draws random masks, which a compiled "
                "program cannot replay (autograd.compile refuses them); use --no-compile")
    if args.compile is None:
        args.compile = not random
    if config["optimizer"] == "adam" and (args.momentum is not None or args.ema):
        flag = "--momentum" if args.momentum is not None else "--ema"
        return (f"{flag} is for --optimizer sgd; Adam keeps its own momentum (beta1 = 0.9), "
                f"so {flag} would be ignored")
    images = min(args.limit or TRAINING_IMAGES, TRAINING_IMAGES)
    training = images - held_out(config, images)
    if config["drop_last"] and training < config["batch_size"]:
        return (f"{training} training images make no full batch of {config['batch_size']} "
                f"and --drop-last drops the partial one: nothing would be trained; use a larger "
                f"--limit, a smaller --batch-size, or --no-drop-last")
    if args.data is not None and not Path(args.data).expanduser().is_dir():
        return f"--data {args.data}: no such folder"
    return None


def output_folder(out: str | None, preset: str) -> tuple[Path | None, str | None]:
    """(the folder, created and writable, or None; what went wrong, or None).

    Without `out`, a new folder RUNS/<preset>-<n> with the next free n: no run overwrites
    another.
    """
    flag = f"--out {out}" if out is not None else f"the default results folder {RUNS}"
    try:
        if out is not None:
            folder = Path(out).expanduser()
            if folder.exists() and not folder.is_dir():
                return None, f"{flag}: is a file, not a folder"
            folder.mkdir(parents=True, exist_ok=True)
        else:
            folder = _new_run_folder(RUNS, preset)
        with tempfile.TemporaryFile(dir=folder):  # can files be written there?
            pass
    except OSError as error:
        return None, f"{flag}: cannot write results there ({error.strerror or error})"
    return folder, None


def _new_run_folder(runs: Path, preset: str) -> Path:
    runs.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"{re.escape(preset)}-(\d+)")
    taken = [int(match[1]) for path in runs.iterdir() if (match := pattern.fullmatch(path.name))]
    n = max(taken, default=0) + 1
    while True:
        try:
            (runs / f"{preset}-{n}").mkdir()  # exist_ok=False: a concurrent run takes n + 1
            return runs / f"{preset}-{n}"
        except FileExistsError:
            n += 1


def missing_optional_packages() -> list[str]:
    """The [train] extra's packages that cannot be imported (progress bars, curves.png)."""
    missing = []
    for name in ("matplotlib", "tqdm"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    return missing


# ---------------------------------------------------------------------------------------------
# The run


def build_model(config: dict, n_inputs: int, seed: int) -> Module:
    """The network a preset describes: the cnn preset's convolutional network (on images made
    from the same rows of pixels), else a multilayer perceptron."""
    if config.get("network") == "cnn":
        return cnn(config["hidden"], config["activation"], config["init"], rng=seed)
    return mlp([n_inputs, *config["hidden"], 10], config["activation"], config["init"],
               rng=seed)


def build_optimizer(config: dict, model: Module) -> Optimizer:
    if config["optimizer"] == "adam":
        return Adam(model.parameters(), config["lr"], weight_decay=config["weight_decay"])
    return SGD(model.parameters(), config["lr"], momentum=config["momentum"], ema=config["ema"],
               weight_decay=config["weight_decay"])


def json_safe(value: Any) -> Any:
    """`value` with every NaN or infinity replaced by None, so json.dumps writes strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    config = configure(args)
    problem = check(args, config)
    out, out_problem = output_folder(args.out, args.preset) if problem is None else (None, None)
    if problem or out_problem:
        parser.error(problem or out_problem)  # exits 2
    say = (lambda *a: None) if args.quiet else print
    print(f"results will go to {out}")
    missing = missing_optional_packages()
    if missing:
        print(f"note: {' and '.join(missing)} not installed: training without progress bars "
              f"and curves.png; {INSTALL_TRAIN} adds them")

    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(args.data, progress=not args.quiet)
    except (MNISTNotFoundError, MNISTFileError) as error:
        print(f"jacograd-mnist: {error}", file=sys.stderr)
        return 1
    X, y = prepare_images(x_train), y_train.astype(np.int64)
    if args.limit:
        X, y = X[:args.limit], y[:args.limit]
    n = config["validation"] = held_out(config, len(X))
    val_data = (X[-n:], y[-n:]) if n else None
    X, y = X[:len(X) - n], y[:len(y) - n]  # not X[:-n]: X[:-0] is empty

    model = build_model(config, X.shape[1], args.seed)
    optimizer = build_optimizer(config, model)
    loader = DataLoader(X, y, config["batch_size"], shuffle=config["shuffle"], seed=args.seed,
                        drop_last=config["drop_last"])
    say(f"preset {args.preset}: {json.dumps(config)}")
    say(f"training on {len(X)} images ({len(loader)} batches per epoch), "
        f"validating on {n}, testing on {len(x_test)}")

    def decay_lr(epoch: int, history: object) -> None:
        optimizer.lr = config["lr"] * config["lr_decay"] ** epoch

    start = time.perf_counter()
    history = fit(model, CrossEntropyLoss(), optimizer, loader, config["epochs"], val_data,
                  quiet=args.quiet, on_epoch=decay_lr, compile=args.compile)
    test_loss, test_accuracy = evaluate(model, prepare_images(x_test), y_test.astype(np.int64))
    seconds = time.perf_counter() - start

    # The results first, the optional picture last: a missing or failing plot loses nothing.
    save(model, out / "model.npz")
    summary = {"preset": args.preset, "config": config, "test_loss": test_loss,
               "test_accuracy": test_accuracy, "seconds": seconds,
               "history": dataclasses.asdict(history)}
    atomic_write(out / "history.json", json.dumps(json_safe(summary), allow_nan=False).encode())
    print(f"test loss {test_loss:.4f}  test accuracy {100 * test_accuracy:.2f}%  "
          f"({seconds:.1f} s)")
    status = 0
    if "matplotlib" not in missing:
        try:
            plot_history(history, out / "curves.png", test_accuracy=test_accuracy)
        except Exception as error:  # the results are saved: report, do not lose them
            print(f"jacograd-mnist: curves.png not written ({type(error).__name__}: {error}); "
                  f"model.npz and history.json are", file=sys.stderr)
            status = 1
    print(f"results in {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
