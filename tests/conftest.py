"""What every test shares: a hermetic environment and the two things a fresh machine may lack.

- Caches and configuration (MNIST's download cache, matplotlib, IPython, Jupyter) go to a
  temporary folder for the whole run, so no test writes into the user's home directory.
- Real MNIST (`MNIST_DIR`) and Graphviz's `dot` binary are optional: a test that needs one is
  marked `real_mnist` or `graphviz_dot` (or asks for the `real_mnist_dir` fixture) and skips,
  saying how to enable it, when it is missing. With JACOGRAD_REQUIRE_ALL=1 (CI sets it) a
  missing one is a failure instead, and any other skip fails the run: CI runs every test.
- `small_mnist` writes a small, valid MNIST look-alike (IDX gz files with their own checksum
  table), so the loader and the benchmarks run without the real data and without the network.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

# Where caches and configuration would go in the user's home: one temporary folder instead,
# set before our packages (and matplotlib or IPython through them) are imported, and inherited
# by subprocesses and notebook kernels.
HOME_VARIABLES = {"XDG_CACHE_HOME": "cache", "XDG_CONFIG_HOME": "config",
                  "XDG_DATA_HOME": "data", "MPLCONFIGDIR": "matplotlib",
                  "IPYTHONDIR": "ipython", "JUPYTER_CONFIG_DIR": "jupyter-config",
                  "JUPYTER_DATA_DIR": "jupyter-data", "JUPYTER_RUNTIME_DIR": "jupyter-runtime"}
_sandbox = tempfile.mkdtemp(prefix="jacograd-tests-")
for _variable, _folder in HOME_VARIABLES.items():
    os.environ[_variable] = os.path.join(_sandbox, _folder)

import nn.data  # noqa: E402 - after the environment is set

REQUIRE_ALL = "JACOGRAD_REQUIRE_ALL"
MNIST_REASON = ("needs the real MNIST data: set MNIST_DIR to the folder holding the four IDX "
                f"files ({', '.join(nn.data.MNIST_FILES)})")
DOT_REASON = ("needs Graphviz's dot binary to render pictures: apt-get install graphviz "
              "(macOS: brew install graphviz)")


def required_all() -> bool:
    """True under JACOGRAD_REQUIRE_ALL=1: a missing data set or binary fails the test."""
    return os.environ.get(REQUIRE_ALL, "") not in ("", "0")


def unavailable(reason: str) -> None:
    """Skip with `reason`, or fail with it when everything is required (CI)."""
    if required_all():
        pytest.fail(f"{reason} [{REQUIRE_ALL}=1 requires it]", pytrace=False)
    pytest.skip(reason)


def real_mnist_folder() -> Path | None:
    """$MNIST_DIR if it holds the four files, else None (the tests never download)."""
    folder = os.environ.get("MNIST_DIR")
    if folder and all((Path(folder) / name).is_file() for name in nn.data.MNIST_FILES):
        return Path(folder)
    return None


def dot_available() -> bool:
    return shutil.which("dot") is not None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"real_mnist: {MNIST_REASON}")
    config.addinivalue_line("markers", f"graphviz_dot: {DOT_REASON}")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_sandbox, ignore_errors=True)


# The skips CI may keep: the real-GPU tests (tests/test_cupy.py: no CI machine has a GPU), and
# comparisons with PyTorch, an optional reference never required (the same tests check against
# an independent loop implementation as well).
ALLOWED_SKIPS = ("needs a GPU", "optional reference")


def _forbidden_skips(reporter) -> list:
    """The skips that fail a JACOGRAD_REQUIRE_ALL=1 run: all but the allowed ones."""
    return [report for report in reporter.stats.get("skipped", [])
            if not (isinstance(report.longrepr, tuple) and str(report.longrepr[2]).startswith(
                tuple(f"Skipped: {reason}" for reason in ALLOWED_SKIPS)))]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under JACOGRAD_REQUIRE_ALL=1 any skip (an importorskip too) but a GPU test's fails."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if required_all() and reporter and _forbidden_skips(reporter) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    skipped = _forbidden_skips(terminalreporter)
    if required_all() and skipped:
        terminalreporter.write_line(f"{REQUIRE_ALL}=1: {len(skipped)} skipped, so this run "
                                    "fails; CI runs every test", red=True)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("real_mnist") and real_mnist_folder() is None:
        unavailable(MNIST_REASON)
    if item.get_closest_marker("graphviz_dot") and not dot_available():
        unavailable(DOT_REASON)


@pytest.fixture(scope="session")
def real_mnist_dir() -> Path:
    """The folder of the real MNIST files ($MNIST_DIR); skips (or fails in CI) without it."""
    folder = real_mnist_folder()
    if folder is None:
        unavailable(MNIST_REASON)
    return folder


# ---------------------------------------------------------------------------------------------
# A small MNIST look-alike: valid IDX gz files, a digit's label drawn as a bright bar in its image


SMALL_MNIST_SIZES = {"train": 6400, "t10k": 1000}  # modern's 5,000 held out + 11 batches of 128


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic number, dimensions, then the bytes."""
    header = (nn.data.UNSIGNED_BYTE_IDX + array.ndim).to_bytes(4, "big")
    header += b"".join(size.to_bytes(4, "big") for size in array.shape)
    return header + array.tobytes()


def write_small_mnist(folder: Path, seed: int = 0) -> dict[str, nn.data.IdxFile]:
    """Write the four files into `folder`; return their table (shapes, sha256) in MNIST's order."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    labels = {split: rng.integers(0, 10, n, dtype=np.uint8)
              for split, n in SMALL_MNIST_SIZES.items()}
    table = {}
    for name in nn.data.MNIST_FILES:
        split = name.split("-")[0]
        if "labels" in name:
            array = labels[split]
        else:  # noise, plus a bar in row 2·label so that the digits can be learned
            array = rng.integers(0, 64, (len(labels[split]), 28, 28), dtype=np.uint8)
            array[np.arange(len(array)), 2 * labels[split] + 4, 4:24] = 255
        content = idx_bytes(array)
        (folder / name).write_bytes(gzip.compress(content, mtime=0))
        table[name] = nn.data.IdxFile(array.shape, hashlib.sha256(content).hexdigest())
    return table


@pytest.fixture(scope="session")
def small_mnist_files(tmp_path_factory) -> tuple[Path, dict[str, nn.data.IdxFile]]:
    folder = tmp_path_factory.mktemp("small-mnist")
    return folder, write_small_mnist(folder)


@pytest.fixture
def small_mnist(small_mnist_files, monkeypatch) -> Path:
    """The folder of the small data set, with nn.data's checksum table swapped for its own
    for this test only (the production table and its verification stay as they are)."""
    folder, table = small_mnist_files
    monkeypatch.setattr(nn.data, "MNIST_FILES", table)
    return folder


# A Python command that runs a script with nn.data's table replaced by the small data set's.
_RUN_WITH_TABLE = """
import json, runpy, sys
import nn.data
table, script, *arguments = sys.argv[1:]
nn.data.MNIST_FILES = {name: nn.data.IdxFile(tuple(shape), digest)
                       for name, (shape, digest) in json.loads(open(table).read()).items()}
sys.argv = [script, *arguments]
sys.path.insert(0, str(__import__("pathlib").Path(script).parent))
runpy.run_path(script, run_name="__main__")
"""


@pytest.fixture(scope="session")
def small_mnist_command(small_mnist_files) -> list[str]:
    """`[*small_mnist_command, script, *args]` runs `script` on the small data set's table."""
    folder, table = small_mnist_files
    table_file = folder.parent / "small-mnist-table.json"
    table_file.write_text(json.dumps({name: [list(f.shape), f.sha256] for name, f in
                                      table.items()}))
    return [sys.executable, "-c", _RUN_WITH_TABLE, str(table_file)]
