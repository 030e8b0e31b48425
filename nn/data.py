"""MNIST loading (verified IDX files, downloaded on demand), one-hot labels and mini-batches.

Depends only on the standard library and NumPy; tqdm draws a download progress bar when installed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.client
import numbers
import os
import secrets
import shutil
import tempfile
import urllib.request
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# An IDX header is 0x00 0x00, the element type (0x08: unsigned bytes), the number of dimensions,
# then each dimension as a 4-byte integer: the magic number follows from the shape
# (2049 for the labels, 2051 for the images).
UNSIGNED_BYTE_IDX = 0x0800


class IdxFile(NamedTuple):
    """What one MNIST file must decode to."""

    shape: tuple[int, ...]
    sha256: str  # of the decompressed bytes


# The checksums are of the decompressed bytes because copies of the same data differ in their
# gzip wrapping (one public file exists recompressed with gzip -9 -n).
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": IdxFile(
        (60000, 28, 28), "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte.gz": IdxFile(
        (60000,), "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte.gz": IdxFile(
        (10000, 28, 28), "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte.gz": IdxFile(
        (10000,), "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

DOWNLOAD_CHUNK_BYTES = 1 << 16

Split = tuple[np.ndarray, np.ndarray]


class MNISTNotFoundError(FileNotFoundError):
    """The MNIST files are not in the folder and could not, or were not allowed to, be fetched."""


class MNISTFileError(ValueError):
    """An MNIST file is present but unusable: not gzip, truncated, bad header or wrong checksum.

    `source` is the file or URL, `problem` what is wrong with it.
    """

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source, self.problem = source, problem


# ---------------------------------------------------------------------------------------------
# Loading


def resolve_mnist_root(root: str | os.PathLike | None = None) -> Path:
    """The MNIST folder: `root`, else $MNIST_DIR, else a jacograd/mnist cache folder.

    The cache folder lives in $XDG_CACHE_HOME, or ~/.cache when that is unset.
    """
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("MNIST_DIR"):
        return Path(os.environ["MNIST_DIR"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "jacograd" / "mnist"


def load_mnist(
    root: str | os.PathLike | None = None,
    download: bool = True,
    *,
    verify: bool = True,
    mirrors: Sequence[str] = MIRRORS,
    progress: bool = True,
    timeout: float = 30.0,
) -> tuple[Split, Split]:
    """`((x_train, y_train), (x_test, y_test))` as read-only uint8 arrays, like Keras `load_data`.

    Missing files are downloaded (if `download`); `verify=False` skips the sha256 check.
    """
    folder = resolve_mnist_root(root)
    missing = [name for name in MNIST_FILES if not (folder / name).is_file()]
    if missing and not download:
        raise MNISTNotFoundError(_not_found_message(folder, missing))
    if missing:
        _download_missing(folder, missing, mirrors, progress, timeout)
    x_train, y_train, x_test, y_test = (
        _load_idx_file(folder / name, verify) for name in MNIST_FILES
    )
    return (x_train, y_train), (x_test, y_test)


def _load_idx_file(path: Path, verify: bool) -> np.ndarray:
    # The file's identity and modification stamp are part of the key, so a replaced or edited
    # file is decoded afresh; the arrays are read-only, so callers cannot corrupt the cache.
    stat = path.stat()
    file_version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return _load_idx_file_cached(path.resolve(), path.name, file_version, verify)


@functools.lru_cache(maxsize=8)
def _load_idx_file_cached(path: Path, name: str, file_version: tuple, verify: bool) -> np.ndarray:
    return _decode_idx(path.read_bytes(), name, str(path), verify)


def _decode_idx(raw: bytes, name: str, source: str, verify: bool = True) -> np.ndarray:
    """Check and decode the gzip-compressed IDX file `name`; errors name `source`."""
    shape, sha256 = MNIST_FILES[name]
    magic = UNSIGNED_BYTE_IDX + len(shape)
    data = _gunzip(raw, source)

    def fail(problem: str) -> MNISTFileError:
        return MNISTFileError(source, problem)

    header_bytes = 4 + 4 * len(shape)
    if len(data) < header_bytes:
        raise fail(f"truncated: the IDX header needs {header_bytes} bytes, got {len(data)}")
    found_magic = int.from_bytes(data[:4], "big")
    if found_magic != magic:
        raise fail(f"bad magic number {found_magic}, expected {magic}")
    found_shape = tuple(int.from_bytes(data[i : i + 4], "big") for i in range(4, header_bytes, 4))
    if found_shape != shape:
        raise fail(f"header says shape {found_shape}, expected {shape}")
    expected_bytes = header_bytes + int(np.prod(shape))
    if len(data) != expected_bytes:
        problem = "truncated" if len(data) < expected_bytes else "trailing data"
        raise fail(f"{problem}: expected {expected_bytes} bytes, got {len(data)}")
    if verify:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise fail(f"checksum mismatch: sha256 of the decompressed content is "
                       f"{actual[:16]}..., expected {sha256[:16]}...")
    return np.frombuffer(data, dtype=np.uint8, offset=header_bytes).reshape(shape)


GZIP_MAGIC = b"\x1f\x8b"
ZLIB_PROBLEMS = {  # zlib's words for a damaged gzip member, and ours
    "incorrect data check": "the CRC-32 check failed: the content is damaged",
    "incorrect length check": "the stored length does not match the content: it is damaged",
}


def _gunzip(raw: bytes, source: str) -> bytes:
    """The content of gzip data `raw`; each kind of damage has its own message naming `source`."""
    if not raw:
        raise MNISTFileError(source, "empty file (0 bytes)")
    if raw[:2] != GZIP_MAGIC:
        raise MNISTFileError(source, f"not a gzip file: it starts with {raw[:12]!r}")
    parts, rest = [], raw
    while rest[:2] == GZIP_MAGIC:  # a gzip file may be several members, one after another
        member = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            parts.append(member.decompress(rest))
        except zlib.error as error:
            reason = str(error).rpartition(": ")[2]
            problem = ZLIB_PROBLEMS.get(reason, f"zlib says {reason!r}")
            raise MNISTFileError(source, f"corrupt gzip data: {problem}") from None
        if not member.eof:
            raise MNISTFileError(source, "truncated or corrupt gzip data: the compressed "
                                         "stream ends before its end marker")
        rest = member.unused_data
    if rest.strip(b"\0"):  # zero padding is allowed, as gzip allows it
        raise MNISTFileError(source, f"trailing garbage: {len(rest)} bytes after the end of "
                                     f"the gzip data")
    return b"".join(parts)


def _not_found_message(folder: Path, missing: Sequence[str], download_errors=None) -> str:
    fix = ("Or pass download=True to fetch them." if download_errors is None
           else "\n  ".join(["Downloading failed from every mirror:", *download_errors]))
    return (f"MNIST files missing from {folder}: {', '.join(missing)}.\n"
            f"The folder must hold the four files {', '.join(MNIST_FILES)}.\n"
            "Point the loader at a folder that has them with load_mnist(root=...) or the "
            f"MNIST_DIR environment variable.\n{fix}")


# ---------------------------------------------------------------------------------------------
# Downloading


def _download_missing(
    folder: Path, missing: Sequence[str], mirrors: Sequence[str], progress: bool, timeout: float
) -> None:
    """Fetch every missing file (each from the first mirror that serves it verified).

    All are tried, so the error after a partial success names only the files still missing.
    """
    _check_writable(folder)
    errors = []
    for name in missing:
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                _download_file(url, folder / name, progress, timeout)
                break
            except MNISTFileError as error:  # the URL is said once, here
                failures.append(f"{url}: {error.problem}")
            # OSError covers URLError, HTTPError, timeouts and resets; ValueError covers bad
            # URLs; HTTPException covers malformed HTTP responses.
            except (OSError, ValueError, http.client.HTTPException) as error:
                failures.append(f"{url}: {error}")
        else:
            errors += failures
    still_missing = [name for name in missing if not (folder / name).is_file()]
    if still_missing:
        raise MNISTNotFoundError(_not_found_message(folder, still_missing, errors))


def _check_writable(folder: Path) -> None:
    """Make `folder` if needed and check a file can be created in it, or say why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        blocker = next((path for path in (folder, *folder.parents)
                        if path.exists() and not path.is_dir()), None)
        reason = (f"{blocker} is a file, not a folder" if blocker is not None
                  else f"{error.strerror or error}" + (
                      " (the folder is not writable)" if isinstance(error, PermissionError)
                      else ""))
        raise MNISTNotFoundError(
            f"cannot download MNIST into {folder}: {reason}.\n"
            "Choose a folder that can hold the four files with load_mnist(root=...) or the "
            "MNIST_DIR environment variable (nn.mnist: --data DIR).") from None


def _download_file(url: str, target: Path, progress: bool, timeout: float) -> None:
    """Stream `url` to a temporary file next to `target`; move it into place only once verified."""
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        with open(temporary, "xb") as out, urllib.request.urlopen(url, timeout=timeout) as reply:
            length = reply.headers.get("Content-Length")
            expected = int(length) if length else None
            with _progress(out, expected, target.name, progress) as sink:
                shutil.copyfileobj(reply, sink, DOWNLOAD_CHUNK_BYTES)
            received = out.tell()
        # http.client returns a short body without complaint when the server hangs up early.
        if expected is not None and received != expected:
            raise OSError(f"download interrupted: received {received} of {expected} bytes")
        _decode_idx(temporary.read_bytes(), target.name, url)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)  # nothing left to remove after a successful replace


def _progress(out, total: int | None, name: str, show: bool):
    """`out`, its writes drawn as a tqdm bar when `show` and tqdm is installed."""
    if show:
        try:
            from tqdm import tqdm  # optional dependency, only needed for the bar
        except ImportError:
            return contextlib.nullcontext(out)
        return tqdm.wrapattr(out, "write", total=total, bytes=False, desc=name, unit="B",
                             unit_scale=True, leave=False)
    return contextlib.nullcontext(out)


# ---------------------------------------------------------------------------------------------
# Preparing arrays for training


def prepare_images(images: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Flatten uint8 images to (N, pixels) and scale them to [0, 1]."""
    images = np.asarray(images)
    # Rejecting floats catches images that were already scaled being divided by 255 again.
    if images.dtype != np.uint8:
        raise ValueError(f"prepare_images expects uint8 pixels 0-255, got dtype {images.dtype}")
    flat = images.reshape(len(images), -1).astype(dtype)
    flat /= 255
    return flat


def one_hot(labels, num_classes: int = 10, dtype=np.float32) -> np.ndarray:
    """(N,) integer labels -> (N, num_classes) array with a single 1 per row."""
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"one_hot expects integer labels, got dtype {labels.dtype}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    out_of_range = labels[(labels < 0) | (labels >= num_classes)]
    if out_of_range.size:
        raise ValueError(f"labels must lie in [0, {num_classes}), found {out_of_range.flat[0]}")
    return np.eye(num_classes, dtype=dtype)[labels]


class DataLoader:
    """Iterate over (X_batch, y_batch) mini-batches; with `shuffle`, in a new order every epoch."""

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        batch_size: int = 64,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim == 0 or y.ndim == 0:
            raise ValueError(f"X and y must be arrays with a first (sample) axis, got shapes "
                             f"{X.shape} and {y.shape}")
        if len(X) != len(y):
            raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.X, self.y = X, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        # One generator for the loader's lifetime: each epoch draws a new permutation from it,
        # and the sequence of epochs is the same for the same seed.
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        full, rest = divmod(len(self.X), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        # The permutation is drawn here, not lazily in a generator, so epochs are numbered by
        # the order of iter() calls. In order, a batch is a slice: a view, no copy.
        size, starts = self.batch_size, range(0, len(self) * self.batch_size, self.batch_size)
        if self.shuffle:
            order = self.rng.permutation(len(self.X))
            batches = [order[i:i + size] for i in starts]
        else:
            batches = [slice(i, i + size) for i in starts]
        return ((self.X[batch], self.y[batch]) for batch in batches)
