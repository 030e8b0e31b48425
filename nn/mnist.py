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
Writes curves.png, model.npz and history.json to --out.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from autograd.files import atomic_write

from .conv import cnn
from .data import DataLoader, MNISTFileError, MNISTNotFoundError, load_mnist, prepare_images
from .init import INITIALIZERS
from .losses import CrossEntropyLoss
from .module import ACTIVATIONS, mlp
from .optim import SGD, Adam
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="jacograd-mnist", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--preset", choices=PRESETS, default="modern", help="starting configuration")
    add("--hidden", type=int, nargs="+", metavar="UNITS", help="hidden layer sizes, e.g. 40 30 20")
    add("--activation", choices=ACTIVATIONS)
    add("--init", choices=INITIALIZERS, help="weight initializer (biases start at 0)")
    add("--optimizer", choices=["sgd", "adam"])
    add("--momentum", type=float, help="SGD momentum (classic form v = γv + lr·g)")
    add("--ema", action="store_true", default=None,
        help="SGD momentum as an average v = m·v + (1 - m)·g, p -= lr·v (notes 004)")
    add("--lr", type=float, help="learning rate (Adam: about 1e-3; SGD with momentum: 0.01-0.1)")
    add("--lr-decay", type=float, help="multiply the learning rate by this after each epoch")
    add("--weight-decay", type=float, help="L2 weight decay (adds wd·p to the gradient)")
    add("--epochs", type=int)
    add("--batch-size", type=int)
    add("--shuffle", action=argparse.BooleanOptionalAction, help="reshuffle every epoch")
    add("--drop-last", action=argparse.BooleanOptionalAction,
        help="drop the last partial batch (the lecture's n_batch = 60000 // 64)")
    add("--validation", type=int, metavar="N",
        help="hold out the last N training images (at most a tenth of them; 0: none)")
    add("--limit", type=int, metavar="N", help="train on the first N training images only")
    add("--seed", type=int, default=0, help="seed of the weights and the shuffling")
    add("--data", metavar="DIR", help="MNIST folder (default: $MNIST_DIR, else a download cache)")
    add("--out", metavar="DIR", default="runs/mnist", help="where to write the results")
    add("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    return parser.parse_args(argv)


def configure(args: argparse.Namespace) -> dict:
    """The preset's settings, overridden by the flags that were given."""
    config = dict(PRESETS[args.preset])
    config.update({key: value for key, value in vars(args).items()
                   if key in config and value is not None})
    return config


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = configure(args)
    say = (lambda *a: None) if args.quiet else print

    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(args.data, progress=not args.quiet)
    except (MNISTNotFoundError, MNISTFileError) as error:
        print(f"jacograd-mnist: {error}", file=sys.stderr)
        return 1
    X, y = prepare_images(x_train), y_train.astype(np.int64)
    if args.limit:
        X, y = X[:args.limit], y[:args.limit]
    # At most a tenth: --limit 2000 validates on 200, not on none (or on 1,000 of 2,000).
    n = config["validation"] = max(0, min(config["validation"], len(X) // 10))
    val_data = (X[-n:], y[-n:]) if n else None
    X, y = X[:len(X) - n], y[:len(y) - n]  # not X[:-n]: X[:-0] is empty

    if config.get("network") == "cnn":  # images (28, 28, 1) from the same rows of pixels
        model = cnn(config["hidden"], config["activation"], config["init"], rng=args.seed)
    else:
        model = mlp([X.shape[1], *config["hidden"], 10], config["activation"], config["init"],
                    rng=args.seed)
    if config["optimizer"] == "adam":
        optimizer = Adam(model.parameters(), config["lr"], weight_decay=config["weight_decay"])
    else:
        optimizer = SGD(model.parameters(), config["lr"], momentum=config["momentum"],
                        ema=config["ema"], weight_decay=config["weight_decay"])
    loader = DataLoader(X, y, config["batch_size"], shuffle=config["shuffle"], seed=args.seed,
                        drop_last=config["drop_last"])
    say(f"preset {args.preset}: {json.dumps(config)}")
    say(f"training on {len(X)} images ({len(loader)} batches per epoch), "
        f"validating on {0 if val_data is None else len(val_data[0])}, testing on {len(x_test)}")

    def decay_lr(epoch: int, history: object) -> None:
        optimizer.lr = config["lr"] * config["lr_decay"] ** epoch

    start = time.perf_counter()
    history = fit(model, CrossEntropyLoss(), optimizer, loader, config["epochs"], val_data,
                  quiet=args.quiet, on_epoch=decay_lr)
    test_loss, test_accuracy = evaluate(model, prepare_images(x_test), y_test.astype(np.int64))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save(model, out / "model.npz")
    plot_history(history, out / "curves.png")
    summary = {"preset": args.preset, "config": config, "test_loss": test_loss,
               "test_accuracy": test_accuracy, "history": dataclasses.asdict(history)}
    atomic_write(out / "history.json", json.dumps(summary).encode())
    print(f"test loss {test_loss:.4f}  test accuracy {100 * test_accuracy:.2f}%  "
          f"({time.perf_counter() - start:.1f} s; results in {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
