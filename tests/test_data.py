"""Tests for nn.data: MNIST loading and verification, the downloader, one_hot and DataLoader."""

import gzip
import hashlib
import http.server
import os
import socket
import sys
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from nn import data as nn_data
from nn.data import (
    MNIST_FILES,
    DataLoader,
    MNISTFileError,
    MNISTNotFoundError,
    load_mnist,
    one_hot,
    prepare_images,
    resolve_mnist_root,
)

# Real MNIST only from $MNIST_DIR; without it these tests skip (conftest.py: the real_mnist mark).
REAL_MNIST = Path(os.environ.get("MNIST_DIR") or "MNIST_DIR-is-not-set")
NAMES = tuple(MNIST_FILES)
LABELS = "train-labels-idx1-ubyte.gz"  # the smallest file with 60,000 entries: cheap to damage
OTHER_NAMES = tuple(name for name in NAMES if name != LABELS)

needs_real_mnist = pytest.mark.real_mnist


def mnist_folder(path: Path, replaced: dict[str, bytes] | None = None, leave_out=()) -> Path:
    """A folder of links to the real MNIST files, some replaced by given bytes or left out."""
    replaced = replaced or {}
    path.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        if name in leave_out:
            continue
        if name in replaced:
            (path / name).write_bytes(replaced[name])
        else:
            # Links resolve to the real files, so the loader's cache makes them free to decode.
            try:
                (path / name).symlink_to(REAL_MNIST / name)
            except OSError:
                (path / name).write_bytes((REAL_MNIST / name).read_bytes())
    return path


def real_labels() -> tuple[bytes, bytes]:
    """The real training-labels file, compressed and decompressed."""
    compressed = (REAL_MNIST / LABELS).read_bytes()
    return compressed, gzip.decompress(compressed)


def with_last_label_changed(compressed: bytes, idx: bytes) -> bytes:
    """A well-formed labels file whose content differs in one byte: only the checksum sees it."""
    return gzip.compress(idx[:-1] + bytes([(idx[-1] + 1) % 10]))


# ---------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def mnist(real_mnist_dir):
    return load_mnist(real_mnist_dir, download=False)


def test_real_mnist_has_keras_shapes_and_dtypes(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    for array, shape in [
        (x_train, (60000, 28, 28)),
        (y_train, (60000,)),
        (x_test, (10000, 28, 28)),
        (y_test, (10000,)),
    ]:
        assert array.shape == shape
        assert array.dtype == np.uint8


def test_real_mnist_labels_are_the_ten_digits_in_original_order(mnist):
    (_, y_train), (_, y_test) = mnist
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.unique(y_train).tolist() == list(range(10))
    assert np.unique(y_test).tolist() == list(range(10))


def test_real_mnist_pixels_span_0_to_255(mnist):
    (x_train, _), (x_test, _) = mnist
    assert x_train.min() == 0 and x_train.max() == 255
    assert x_test.min() == 0 and x_test.max() == 255


def test_repeated_loads_share_read_only_arrays(mnist):
    (x_train, _), _ = load_mnist(REAL_MNIST, download=False)
    assert x_train is mnist[0][0]  # decoded once per process
    with pytest.raises(ValueError, match="read-only"):
        x_train[0, 0, 0] = 1  # an in-place edit would otherwise leak into every later load


def test_mnist_dir_environment_variable_locates_the_files(mnist, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(REAL_MNIST))
    (_, y_train), (_, y_test) = load_mnist(download=False)
    np.testing.assert_array_equal(y_train, mnist[0][1])
    np.testing.assert_array_equal(y_test, mnist[1][1])


@pytest.mark.parametrize(
    "root, mnist_dir, xdg_cache, expected",
    [
        ("given", "env", "xdg", "given"),
        (None, "env", "xdg", "env"),
        (None, None, "xdg", "xdg/jacograd/mnist"),
        (None, "", "xdg", "xdg/jacograd/mnist"),  # an empty variable counts as unset
        (None, None, None, "home/.cache/jacograd/mnist"),
    ],
)
def test_root_is_argument_then_mnist_dir_then_cache(
    tmp_path, monkeypatch, root, mnist_dir, xdg_cache, expected
):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for variable, value in [("MNIST_DIR", mnist_dir), ("XDG_CACHE_HOME", xdg_cache)]:
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, str(tmp_path / value) if value else "")
    given = None if root is None else tmp_path / root
    assert resolve_mnist_root(given) == tmp_path / expected


# ---------------------------------------------------------------------------------------------
# Missing and damaged files


def test_missing_folder_error_names_folder_files_and_both_fixes(tmp_path):
    folder = tmp_path / "nowhere"
    with pytest.raises(MNISTNotFoundError) as error:
        load_mnist(folder, download=False)
    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    assert str(folder) in message
    assert all(name in message for name in NAMES)
    assert "MNIST_DIR" in message and "root=" in message
    assert not folder.exists()  # download=False must not create anything


@needs_real_mnist
def test_missing_file_error_says_which_one_is_missing(tmp_path):
    folder = mnist_folder(tmp_path, leave_out=[LABELS])
    with pytest.raises(MNISTNotFoundError, match=f"missing from .*: {LABELS}\\."):
        load_mnist(folder, download=False)


DAMAGED_LABEL_FILES = [
    pytest.param(lambda gz, idx: b"plain text", "not a gzip file", id="not-gzip"),
    pytest.param(lambda gz, idx: gz[: len(gz) // 2], "truncated or corrupt gzip", id="cut-gzip"),
    pytest.param(lambda gz, idx: b"", "empty file (0 bytes)", id="empty-file"),
    pytest.param(
        lambda gz, idx: gzip.compress(idx[:30000]),
        "truncated: expected 60008 bytes, got 30000",
        id="short-content",
    ),
    pytest.param(
        lambda gz, idx: gzip.compress(idx + b"\0\0"),
        "trailing data: expected 60008 bytes, got 60010",
        id="long-content",
    ),
    pytest.param(
        lambda gz, idx: gzip.compress((2051).to_bytes(4, "big") + idx[4:]),
        "bad magic number 2051, expected 2049",
        id="images-magic",
    ),
    pytest.param(
        lambda gz, idx: gzip.compress(idx[:4] + (59999).to_bytes(4, "big") + idx[8:-1]),
        "header says shape (59999,), expected (60000,)",
        id="wrong-count",
    ),
    pytest.param(
        with_last_label_changed,
        "checksum mismatch: sha256 of the decompressed content is ",
        id="changed-label",
    ),
]


@needs_real_mnist
@pytest.mark.parametrize("damage, problem", DAMAGED_LABEL_FILES)
def test_damaged_file_gives_clear_error_naming_it(tmp_path, damage, problem):
    folder = mnist_folder(tmp_path, replaced={LABELS: damage(*real_labels())})
    with pytest.raises(MNISTFileError) as error:
        load_mnist(folder, download=False)
    assert str((folder / LABELS).resolve()) in str(error.value)
    assert problem in str(error.value)


@needs_real_mnist
def test_checksum_error_shows_expected_digest_and_verify_false_skips_it(tmp_path):
    folder = mnist_folder(tmp_path, replaced={LABELS: with_last_label_changed(*real_labels())})
    expected_digest = MNIST_FILES[LABELS].sha256
    with pytest.raises(MNISTFileError, match=f"expected {expected_digest[:16]}"):
        load_mnist(folder, download=False)
    (_, y_train), _ = load_mnist(folder, download=False, verify=False)
    assert y_train[-1] == (real_labels()[1][-1] + 1) % 10


# ---------------------------------------------------------------------------------------------
# Downloading, from HTTP servers on 127.0.0.1 only


class QuietFileHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class HangUpEarlyHandler(http.server.BaseHTTPRequestHandler):
    """Promises a million bytes, sends a hundred, then closes: an interrupted download."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + bytes(98))

    def log_message(self, *args) -> None:
        pass


def serving(directory: Path):
    return partial(QuietFileHandler, directory=str(directory))


@pytest.fixture
def serve(monkeypatch):
    """Start HTTP servers on 127.0.0.1 on free ports; `serve(handler)` returns the base URL."""
    monkeypatch.setenv("no_proxy", "*")  # a configured proxy must not see the test traffic
    servers = []

    def start(handler) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # A short poll interval keeps shutdown() quick.
        serve = partial(server.serve_forever, poll_interval=0.01)
        threading.Thread(target=serve, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def refused_url() -> str:
    """A 127.0.0.1 URL with nothing listening: connecting fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@needs_real_mnist
def test_download_fills_an_empty_cache_with_verified_files(tmp_path, serve):
    mirror = serve(serving(REAL_MNIST))
    folder = tmp_path / "cache" / "mnist"
    (_, y_train), (x_test, _) = load_mnist(folder, mirrors=[mirror], progress=False)
    assert sorted(os.listdir(folder)) == sorted(NAMES)
    for name in NAMES:
        assert (folder / name).read_bytes() == (REAL_MNIST / name).read_bytes()
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert x_test.shape == (10000, 28, 28)


@needs_real_mnist
def test_download_falls_through_to_a_mirror_that_works(tmp_path, serve):
    empty = tmp_path / "empty"
    empty.mkdir()
    mirrors = [refused_url(), serve(serving(empty)), serve(serving(REAL_MNIST))]
    folder = mnist_folder(tmp_path / "cache", leave_out=[LABELS])
    (_, y_train), _ = load_mnist(folder, mirrors=mirrors, progress=False)
    assert (folder / LABELS).read_bytes() == (REAL_MNIST / LABELS).read_bytes()
    assert len(y_train) == 60000


BAD_DOWNLOADS = [
    pytest.param(lambda gz, idx: b"<html>gateway error</html>", "not a gzip file", id="not-gzip"),
    pytest.param(lambda gz, idx: gz[:1000], "truncated or corrupt gzip", id="cut-gzip"),
    pytest.param(with_last_label_changed, "checksum mismatch", id="changed-label"),
]


@needs_real_mnist
@pytest.mark.parametrize("damage, problem", BAD_DOWNLOADS)
def test_bad_download_is_reported_and_leaves_no_file_behind(tmp_path, serve, damage, problem):
    served = tmp_path / "served"
    served.mkdir()
    (served / LABELS).write_bytes(damage(*real_labels()))
    mirror = serve(serving(served))
    folder = mnist_folder(tmp_path / "cache", leave_out=[LABELS])
    with pytest.raises(MNISTNotFoundError) as error:
        load_mnist(folder, mirrors=[mirror], progress=False)
    assert f"{mirror}{LABELS}: " in str(error.value)
    assert problem in str(error.value)
    assert sorted(os.listdir(folder)) == sorted(OTHER_NAMES)


@needs_real_mnist
def test_interrupted_download_is_reported_and_leaves_no_file_behind(tmp_path, serve):
    mirror = serve(HangUpEarlyHandler)
    folder = mnist_folder(tmp_path, leave_out=[LABELS])
    with pytest.raises(MNISTNotFoundError, match="received 100 of 1000000 bytes"):
        load_mnist(folder, mirrors=[mirror], progress=False)
    assert sorted(os.listdir(folder)) == sorted(OTHER_NAMES)


def test_error_lists_every_mirror_that_failed(tmp_path, serve):
    empty = tmp_path / "empty"
    empty.mkdir()
    mirrors = [refused_url(), serve(serving(empty))]
    folder = tmp_path / "cache"
    with pytest.raises(MNISTNotFoundError) as error:
        load_mnist(folder, mirrors=mirrors, progress=False)
    message = str(error.value)
    assert "Downloading failed from every mirror" in message
    assert f"{mirrors[0]}{NAMES[0]}: " in message
    assert f"{mirrors[1]}{NAMES[0]}: HTTP Error 404" in message
    assert os.listdir(folder) == []


@needs_real_mnist
@pytest.mark.parametrize("tqdm_installed", [True, False])
def test_progress_bar_is_drawn_with_tqdm_and_skipped_without(
    tmp_path, serve, monkeypatch, capsys, tqdm_installed
):
    if tqdm_installed:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` fail
    folder = mnist_folder(tmp_path, leave_out=[LABELS])
    load_mnist(folder, mirrors=[serve(serving(REAL_MNIST))], progress=True)
    assert (folder / LABELS).is_file()
    assert (LABELS in capsys.readouterr().err) == tqdm_installed


# ---------------------------------------------------------------------------------------------
# Damaged gzip wrapping, partial downloads and unusable folders, on a tiny generated data set


def idx_bytes(shape: tuple[int, ...], seed: int) -> bytes:
    """An IDX file of unsigned bytes of `shape`, random content."""
    header = (nn_data.UNSIGNED_BYTE_IDX + len(shape)).to_bytes(4, "big")
    header += b"".join(n.to_bytes(4, "big") for n in shape)
    content = np.random.default_rng(seed).integers(0, 10, shape, dtype=np.uint8)
    return header + content.tobytes()


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """A folder of four small, valid MNIST-format files; the loader is told their checksums."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    shapes = [(30, 28, 28), (30,), (10, 28, 28), (10,)]
    files = {}
    for seed, (name, shape) in enumerate(zip(NAMES, shapes)):
        idx = idx_bytes(shape, seed)
        (folder / name).write_bytes(gzip.compress(idx, mtime=0))
        files[name] = nn_data.IdxFile(shape, hashlib.sha256(idx).hexdigest())
    monkeypatch.setattr(nn_data, "MNIST_FILES", files)
    return folder


def gzip_with_bad_crc(gz: bytes) -> bytes:
    damaged = bytearray(gz)
    damaged[-8] ^= 0xFF  # the CRC-32 of the content is the trailer's first 4 of 8 bytes
    return bytes(damaged)


GZIP_DAMAGE = [
    pytest.param(gzip_with_bad_crc,
                 "corrupt gzip data: the CRC-32 check failed: the content is damaged", id="crc"),
    pytest.param(lambda gz: gz + b"<html>oops</html>",
                 "trailing garbage: 17 bytes after the end of the gzip data", id="trailing"),
    pytest.param(lambda gz: gz[:-3] + bytes([gz[-3] ^ 1]) + gz[-2:],
                 "corrupt gzip data: the stored length does not match the content: it is "
                 "damaged", id="length"),
    pytest.param(lambda gz: b"plain text, not gzip",
                 "not a gzip file: it starts with b'plain text, '", id="not-gzip"),
]


@pytest.mark.parametrize("damage, problem", GZIP_DAMAGE)
def test_each_kind_of_gzip_damage_has_its_own_exact_message(tiny_mnist, damage, problem):
    path = tiny_mnist / LABELS
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(MNISTFileError) as error:
        load_mnist(tiny_mnist, download=False)
    assert str(error.value) == f"{path.resolve()}: {problem}"


def test_gzip_zero_padding_and_several_members_are_accepted(tiny_mnist):
    path = tiny_mnist / LABELS
    idx = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(idx[:100]) + gzip.compress(idx[100:]) + bytes(512))
    (_, y_train), _ = load_mnist(tiny_mnist, download=False)
    assert y_train.tobytes() == idx[8:]


def test_after_a_partial_download_the_error_names_only_the_file_still_missing(
        tiny_mnist, tmp_path, serve):
    served = tmp_path / "served"
    served.mkdir()
    for name in NAMES:
        content = (tiny_mnist / name).read_bytes()
        (served / name).write_bytes(gzip_with_bad_crc(content) if name == LABELS else content)
    mirror = serve(serving(served))
    cache = tmp_path / "cache"
    with pytest.raises(MNISTNotFoundError) as error:
        load_mnist(cache, mirrors=[mirror], progress=False)
    message = str(error.value)
    assert f"MNIST files missing from {cache}: {LABELS}.\n" in message
    assert message.count(mirror) == 1
    assert f"{mirror}{LABELS}: corrupt gzip data: the CRC-32 check failed" in message
    assert sorted(os.listdir(cache)) == sorted(OTHER_NAMES)  # the three good ones are kept
    (served / LABELS).write_bytes((tiny_mnist / LABELS).read_bytes())
    (_, y_train), _ = load_mnist(cache, mirrors=[mirror], progress=False)  # fetches just one
    assert len(y_train) == 30


def refuse_to_create_files(*args, **kwargs):
    # Tests run as root, where a read-only folder is still writable: this is what a user sees.
    raise PermissionError(13, "Permission denied", kwargs.get("dir"))


@pytest.mark.parametrize("make_folder, reason", [
    (lambda tmp: (tmp / "file").write_bytes(b"") or tmp / "file" / "mnist",
     "{tmp}/file is a file, not a folder"),
    (lambda tmp: (tmp / "file").write_bytes(b"") or tmp / "file",
     "{tmp}/file is a file, not a folder"),
    (lambda tmp: tmp / "read-only", "Permission denied (the folder is not writable)"),
], ids=["parent-is-a-file", "folder-is-a-file", "not-writable"])
def test_an_unusable_folder_is_a_clear_error(tmp_path, serve, monkeypatch, make_folder, reason):
    folder = make_folder(tmp_path)
    if "read-only" in str(folder):
        monkeypatch.setattr(nn_data.tempfile, "TemporaryFile", refuse_to_create_files)
    with pytest.raises(MNISTNotFoundError) as error:
        load_mnist(folder, mirrors=[refused_url()], progress=False)
    first_line = str(error.value).splitlines()[0]
    assert first_line == f"cannot download MNIST into {folder}: {reason.format(tmp=tmp_path)}."
    assert "load_mnist(root=...)" in str(error.value) and "--data" in str(error.value)


# ---------------------------------------------------------------------------------------------
# prepare_images and one_hot


def test_prepare_images_flattens_and_scales_to_unit_range():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    flat = prepare_images(images)
    assert flat.dtype == np.float32
    np.testing.assert_allclose(flat, [[0.0, 1.0, 0.2, 0.4]])
    assert prepare_images(images, dtype=np.float64).dtype == np.float64


def test_prepare_images_rejects_already_scaled_images():
    with pytest.raises(ValueError, match="uint8"):
        prepare_images(np.ones((2, 28, 28), dtype=np.float32))


@pytest.mark.parametrize(
    "labels, num_classes, expected",
    [
        ([0, 2, 1], 3, [[1, 0, 0], [0, 0, 1], [0, 1, 0]]),
        (np.array([9, 0], dtype=np.uint8), 10, [[0] * 9 + [1], [1] + [0] * 9]),
        (np.array([], dtype=np.int64), 4, np.zeros((0, 4))),
    ],
)
def test_one_hot_puts_a_single_one_per_row(labels, num_classes, expected):
    encoded = one_hot(labels, num_classes)
    assert encoded.dtype == np.float32
    assert encoded.shape == np.shape(expected)
    np.testing.assert_array_equal(encoded, expected)


def test_one_hot_honours_dtype():
    assert one_hot([1, 2], dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize(
    "labels, num_classes, problem",
    [
        ([0, 10], 10, r"\[0, 10\), found 10"),
        ([3, -1], 10, "found -1"),
        ([0.0, 1.0], 10, "integer labels, got dtype float64"),
        (["1"], 10, "integer labels"),
        ([0], 0, "num_classes must be at least 1"),
    ],
)
def test_one_hot_rejects_bad_input(labels, num_classes, problem):
    with pytest.raises(ValueError, match=problem):
        one_hot(labels, num_classes)


# ---------------------------------------------------------------------------------------------
# DataLoader


@pytest.mark.parametrize(
    "samples, batch_size, drop_last, batches, last_batch",
    [
        (10, 3, False, 4, 1),
        (10, 3, True, 3, 3),
        (9, 3, False, 3, 3),
        (9, 3, True, 3, 3),
        (2, 5, False, 1, 2),
        (2, 5, True, 0, None),
        (60000, 64, False, 938, 32),
        (60000, 64, True, 937, 64),  # the lecture's training loop
    ],
)
def test_batch_count_and_last_batch_size(samples, batch_size, drop_last, batches, last_batch):
    loader = DataLoader(np.zeros((samples, 2)), np.zeros(samples), batch_size, drop_last=drop_last)
    sizes = [len(x) for x, _ in loader]
    assert len(loader) == len(sizes) == batches
    assert (sizes[-1] if sizes else None) == last_batch


def test_unshuffled_batches_are_in_order_and_are_views():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    batches = list(DataLoader(X, y, batch_size=4))
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), y)
    assert all(np.shares_memory(xb, X) for xb, _ in batches)


@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_epoch_keeps_pairs_and_sees_each_sample_at_most_once(drop_last):
    y = np.arange(103)
    X = y[:, None] * 10
    loader = DataLoader(X, y, batch_size=10, shuffle=True, seed=0, drop_last=drop_last)
    for _ in range(2):
        batches = list(loader)
        seen = np.concatenate([yb for _, yb in batches])
        assert all(np.array_equal(xb[:, 0], yb * 10) for xb, yb in batches)
        assert len(np.unique(seen)) == len(seen) == (100 if drop_last else 103)


def epoch_orders(seed, epochs=2):
    loader = DataLoader(np.zeros((50, 1)), np.arange(50), batch_size=7, shuffle=True, seed=seed)
    return [np.concatenate([yb for _, yb in loader]).tolist() for _ in range(epochs)]


def test_shuffle_is_reproducible_per_seed_and_new_each_epoch():
    first, second = epoch_orders(seed=1)
    assert sorted(first) == list(range(50))
    assert first != second
    assert first != list(range(50))
    assert epoch_orders(seed=1) == [first, second]
    assert epoch_orders(seed=2) != [first, second]


@pytest.mark.parametrize(
    "X, y, batch_size, problem",
    [
        (np.zeros((3, 2)), np.zeros(2), 1, "same length, got 3 and 2"),
        (np.zeros((3, 2)), np.zeros(3), 0, "batch_size must be a positive int, got 0"),
        (np.zeros((3, 2)), np.zeros(3), None, "batch_size must be a positive int, got None"),
        (np.zeros((3, 2)), np.zeros(3), 2.5, "batch_size must be a positive int, got 2.5"),
        (1.0, 2.0, 1, r"X and y must be arrays with a first \(sample\) axis, got shapes \(\) "),
        (np.zeros((3, 2)), 2.0, 1, r"got shapes \(3, 2\) and \(\)"),
    ],
)
def test_data_loader_rejects_bad_arguments(X, y, batch_size, problem):
    with pytest.raises(ValueError, match=problem):
        DataLoader(X, y, batch_size)
