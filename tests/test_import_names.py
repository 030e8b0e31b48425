"""A foreign `autograd` (HIPS) or `nn` (PyPI) where ours should be fails the import clearly.

Each case copies our two packages into a fresh "site-packages", lets a foreign distribution
take a name as pip would (its files, its dist-info RECORD), and imports in a subprocess.
"""

import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOREIGN_INIT = '"""Not jacograd."""\n'


def site_with(tmp_path: Path, name: str | None, overwritten: bool) -> Path:
    """Our packages in tmp_path/site; a foreign distribution of `name` installed over them
    (`overwritten`: its __init__.py replaced ours) or under them (ours replaced its)."""
    site = tmp_path / "site"
    for package in ("autograd", "nn"):
        shutil.copytree(ROOT / package, site / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    if name:
        info = site / f"{name}-1.7.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.7.0\n")
        (info / "RECORD").write_text(f"{name}/__init__.py,sha256=x,20\n{name}/core.py,,\n")
        (site / name / "core.py").write_text("")
        if overwritten:
            (site / name / "__init__.py").write_text(FOREIGN_INIT)
    return site


def import_in(site: Path, module: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                          text=True, cwd=site, env=env, timeout=120)


@pytest.mark.parametrize("name, overwritten, module", [
    ("autograd", True, "nn"),   # pip install autograd after jacograd: HIPS's __init__ is used
    ("nn", True, "autograd"),   # pip install nn after jacograd
    ("autograd", False, "autograd"),  # jacograd installed over HIPS autograd: it still claims it
    ("nn", False, "nn"),
])
def test_a_foreign_package_in_our_place_is_one_clear_error(tmp_path, name, overwritten, module):
    result = import_in(site_with(tmp_path, name, overwritten), module)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"ImportError: the import name '{name}' is taken: {name} 1.7.0 ")
    assert "own virtual environment" in last_line
    assert f"pip uninstall {name} && pip install --force-reinstall jacograd" in last_line


@pytest.mark.parametrize("module", ["autograd", "nn"])
def test_our_packages_alone_import(tmp_path, module):
    result = import_in(site_with(tmp_path, None, False), module)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("info, record", [
    ("torch-2.13.0.dist-info", "torch/autograd/__init__.py,sha256=x,20\n"),
    ("autograd_gamma-0.5.0.dist-info", "autograd_gamma/__init__.py,sha256=x,20\n"),
    ("nn-0.1.dist-info", "nn_utils/__init__.py,sha256=x,20\n"),  # named nn, owns no nn/
])
def test_other_distributions_in_the_folder_are_not_claimants(tmp_path, info, record):
    site = site_with(tmp_path, None, False)
    (site / info).mkdir()
    (site / info / "RECORD").write_text(record)
    result = import_in(site, "nn")
    assert result.returncode == 0, result.stderr


def test_the_wheel_includes_every_package_folder():
    """pyproject's package patterns cover every folder with an __init__.py (a missing
    autograd.primitives made `pip install jacograd` unusable while source checkouts worked)."""
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads pyproject.toml")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["packages"]["find"]["include"]
    folders = [init.parent.relative_to(ROOT) for name in ("autograd", "nn")
               for init in (ROOT / name).rglob("__init__.py")]
    assert len(folders) >= 3
    for folder in folders:
        package = ".".join(folder.parts)
        assert any(fnmatch.fnmatchcase(package, pattern) for pattern in patterns), package
