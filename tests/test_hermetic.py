"""conftest.py's two modes: a missing data set or binary skips with the fix, or fails under CI."""

import os
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


@pytest.mark.parametrize("require_all", [False, True])
def test_a_run_without_mnist_and_dot(pytester, monkeypatch, require_all):
    """End to end: the fixes are in the skip reasons; under JACOGRAD_REQUIRE_ALL=1 the run fails."""
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile(SKIPPING_TESTS)
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("PATH", "")  # no dot (pytest runs from sys.executable)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    monkeypatch.setenv(conftest.REQUIRE_ALL, "1" if require_all else "")
    result = pytester.runpytest_subprocess("-rsE")
    output = result.stdout.str()
    assert "set MNIST_DIR to the folder" in output and "apt-get install graphviz" in output
    if require_all:
        result.assert_outcomes(passed=1, skipped=1, errors=2)
        assert "JACOGRAD_REQUIRE_ALL=1: 1 skipped, so this run fails" in output
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        only_a_skip = pytester.runpytest_subprocess("-k", "optional_package or plain")
        only_a_skip.assert_outcomes(passed=1, skipped=1)
        assert only_a_skip.ret == pytest.ExitCode.TESTS_FAILED  # a skip alone fails CI
    else:
        result.assert_outcomes(passed=1, skipped=3)
        assert result.ret == pytest.ExitCode.OK
