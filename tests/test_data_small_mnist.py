"""The MNIST loader on the small look-alike of conftest.py: runs on any machine, offline.

The real data's tests are in test_data.py (they need MNIST_DIR); these check the same paths
(reading, verifying, downloading) on files the tests write themselves.
"""

import gzip
import http.server
import os
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import nn.data
from nn.data import MNISTFileError, load_mnist, resolve_mnist_root

LABELS = "train-labels-idx1-ubyte.gz"


def decoded(path: Path) -> np.ndarray:
    """The array in an IDX gz file, read without nn.data."""
    content = gzip.decompress(path.read_bytes())
    dimensions = content[3]
    shape = [int.from_bytes(content[4 + 4 * i:8 + 4 * i], "big") for i in range(dimensions)]
    return np.frombuffer(content[4 + 4 * dimensions:], np.uint8).reshape(shape)


def test_small_mnist_loads_with_its_shapes_labels_and_read_only_arrays(small_mnist):
    (x_train, y_train), (x_test, y_test) = load_mnist(small_mnist, download=False)
    assert [a.shape for a in (x_train, y_train, x_test, y_test)] == \
        [(6400, 28, 28), (6400,), (1000, 28, 28), (1000,)]
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(y_train, decoded(small_mnist / LABELS))
    assert set(np.unique(y_test)) == set(range(10))
    with pytest.raises(ValueError, match="read-only"):
        x_train[0, 0, 0] = 1


def test_mnist_dir_locates_the_small_data_set(small_mnist, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(small_mnist))
    (_, y_train), _ = load_mnist(download=False)
    np.testing.assert_array_equal(y_train, decoded(small_mnist / LABELS))


def test_a_changed_byte_fails_the_checksum_and_verify_false_skips_it(small_mnist, tmp_path):
    for path in small_mnist.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    labels = decoded(small_mnist / LABELS).copy()
    labels[-1] = (labels[-1] + 1) % 10
    content = gzip.decompress((small_mnist / LABELS).read_bytes())
    (tmp_path / LABELS).write_bytes(gzip.compress(content[:-1] + labels[-1:].tobytes()))
    with pytest.raises(MNISTFileError, match="checksum mismatch"):
        load_mnist(tmp_path, download=False)
    (_, y_train), _ = load_mnist(tmp_path, download=False, verify=False)
    assert y_train[-1] == labels[-1]


def test_the_production_table_still_rejects_the_small_files(small_mnist_files):
    """The small data set loads only under its own table: the real one is untouched."""
    folder, _ = small_mnist_files
    assert nn.data.MNIST_FILES["train-images-idx3-ubyte.gz"].shape == (60000, 28, 28)
    with pytest.raises(MNISTFileError, match=r"header says shape \(6400, 28, 28\), expected"):
        load_mnist(folder, download=False)


class QuietFileHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_download_into_an_empty_folder_from_a_local_mirror(small_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("no_proxy", "*")  # a configured proxy must not see the test traffic
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(QuietFileHandler, directory=str(small_mnist)))
    threading.Thread(target=partial(server.serve_forever, poll_interval=0.01), daemon=True).start()
    try:
        folder = tmp_path / "cache"
        mirror = f"http://127.0.0.1:{server.server_port}/"
        (_, y_train), _ = load_mnist(folder, mirrors=[mirror], progress=False)
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(os.listdir(folder)) == sorted(nn.data.MNIST_FILES)
    np.testing.assert_array_equal(y_train, decoded(small_mnist / LABELS))


def test_the_default_cache_is_not_in_the_home_folder(monkeypatch):
    """conftest.py points XDG_CACHE_HOME at a temporary folder: no test writes into ~."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    cache = resolve_mnist_root()
    assert Path.home() not in cache.parents
    assert Path(os.environ["XDG_CACHE_HOME"]) in cache.parents
