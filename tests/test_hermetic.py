"""conftest.py's two modes: a missing data set or binary skips with the fix, or fails under CI."""

import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import conftest
import pytest


def item_marked(name: str):
    """The least of a test item that pytest_runtest_setup reads: its marks."""
    return types.SimpleNamespace(get_closest_marker=lambda mark: mark == name or None)


@pytest.mark.parametrize("mark, hide, fix", [
    ("graphviz_dot", ("PATH", ""), "apt-get install graphviz"),
    ("real_mnist", ("MNIST_DIR", ""), "set MNIST_DIR to the folder"),
])
def test_a_missing_resource_skips_with_the_fix_or_fails_under_require_all(mark, hide, fix,
                                                                           monkeypatch):
    monkeypatch.setenv(*hide)
    monkeypatch.delenv(conftest.REQUIRE_ALL, raising=False)
    with pytest.raises(pytest.skip.Exception, match=fix):
        conftest.pytest_runtest_setup(item_marked(mark))
    monkeypatch.setenv(conftest.REQUIRE_ALL, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{fix}.*JACOGRAD_REQUIRE_ALL=1 requires"):
        conftest.pytest_runtest_setup(item_marked(mark))
    conftest.pytest_runtest_setup(item_marked("unrelated"))  # other tests run as usual


def test_mnist_dir_without_the_four_files_counts_as_missing(tmp_path, monkeypatch):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert conftest.real_mnist_folder() is None


@pytest.mark.parametrize("variable", sorted(conftest.HOME_VARIABLES))
def test_caches_and_configuration_are_in_a_temporary_folder(variable):
    assert Path(os.environ[variable]).is_relative_to(conftest._sandbox)


SKIPPING_TESTS = """
import pytest

@pytest.mark.real_mnist
def test_mnist():
    pass

@pytest.mark.graphviz_dot
def test_dot():
    pass

def test_optional_package():
    pytest.importorskip("no_such_package_here")

def test_plain():
    pass
"""


def run_pytest(folder: Path, require_all: bool, *arguments: str) -> tuple[int, str, dict]:
    """Run pytest on `folder` (a conftest.py copy and SKIPPING_TESTS) without MNIST_DIR and
    without dot; returns the exit code, the output and the outcome counts."""
    env = {**os.environ, "PATH": "", conftest.REQUIRE_ALL: "1" if require_all else "",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env.pop("MNIST_DIR", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-rsE", "-p", "no:cacheprovider",
                             *arguments], cwd=folder, env=env, capture_output=True, text=True,
                            timeout=300)
    summary = result.stdout.splitlines()[-1]
    counts = {word: int(number)
              for number, word in re.findall(r"(\d+) (passed|skipped|failed|errors?)\b", summary)}
    return result.returncode, result.stdout, counts


@pytest.mark.parametrize("require_all", [False, True])
def test_a_run_without_mnist_and_dot(tmp_path, require_all):
    """End to end: the fixes are in the skip reasons; under JACOGRAD_REQUIRE_ALL=1 the run fails."""
    shutil.copy(Path(__file__).parent / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_skipping.py").write_text(SKIPPING_TESTS, encoding="utf-8")
    code, output, counts = run_pytest(tmp_path, require_all)
    assert "set MNIST_DIR to the folder" in output and "apt-get install graphviz" in output
    if require_all:
        assert counts == {"passed": 1, "skipped": 1, "errors": 2}, output
        assert "JACOGRAD_REQUIRE_ALL=1: 1 skipped, so this run fails" in output
        assert code == pytest.ExitCode.TESTS_FAILED
        code, output, counts = run_pytest(tmp_path, True, "-k", "optional_package or plain")
        assert counts == {"passed": 1, "skipped": 1}, output
        assert code == pytest.ExitCode.TESTS_FAILED  # a skip alone fails CI
    else:
        assert counts == {"passed": 1, "skipped": 3}, output
        assert code == pytest.ExitCode.OK
