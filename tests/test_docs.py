"""Documentation that quotes code or figures is checked against the code, and the site builds.

- README's "For PyTorch users" table: every `code` → `result` in its last column is run.
- Notebook 04's description of the modern preset matches nn.mnist.PRESETS.
- Lab 07's cross-entropy: one number, computed by the engine, in the README and notebook 03.
- The `[notebooks]` extra installs the front end the README's command opens.
- `mkdocs build --strict` passes (skips without the `[docs]` extra; CI requires it).
"""

from __future__ import annotations

import builtins
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import unavailable

import autograd
import nn
from autograd import Tensor
from nn.mnist import PRESETS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text of the markdown section `## heading`, up to the next `## `."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, f"README.md has no section '## {heading}'"
    return match[1]


def markdown_cells(name: str) -> list[str]:
    notebook = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in notebook["cells"]
            if cell["cell_type"] == "markdown"]


def one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# For PyTorch users


def pytorch_table_claims() -> list[tuple[str, str, str]]:
    """(topic, expression, result) for each `expression` → `result` in the jacograd column."""
    rows = [line for line in section(README, "For PyTorch users").splitlines()
            if line.startswith("| ") and not line.startswith("| topic")]
    claims = []
    for row in rows:
        topic, _pytorch, ours = [cell.strip() for cell in row.strip("|").split(" | ")]
        claims += [(topic, code, result)
                   for code, result in re.findall(r"`([^`]+)` → `([^`]+)`", ours)]
    return claims


def pytorch_table_namespace() -> dict:
    """The names the table's preamble defines."""
    return dict(np=np, nn=nn, autograd=autograd, Tensor=Tensor, grad=autograd.grad,
                maximum=autograd.maximum, t=Tensor(np.ones((2, 3))),
                f32=Tensor(np.ones(2, np.float32)),
                x=Tensor(1.0, requires_grad=True), y=Tensor(1.0, requires_grad=True))


def test_the_pytorch_table_covers_what_pytorch_users_trip_on():
    topics = {topic for topic, _, _ in pytorch_table_claims()}
    for topic in ["size", "NumPy functions on a tensor", "variance", "`maximum` at a tie",
                  "`Linear` weight", "dtype promotion", "image layout"]:
        assert topic in topics, f"the PyTorch table checks nothing about {topic}"


@pytest.mark.parametrize("topic, code, result", pytorch_table_claims(),
                         ids=lambda value: str(value)[:40])
def test_the_pytorch_table_is_what_the_code_does(topic, code, result):
    namespace = pytorch_table_namespace()
    if result.endswith("Error"):
        with pytest.raises(getattr(builtins, result, Exception)) as error:
            eval(code, namespace)
        assert type(error.value).__name__ == result, f"{topic}: {code} raised {error.value!r}"
    else:
        assert str(eval(code, namespace)) == result, f"{topic}: {code} is not {result}"


# ---------------------------------------------------------------------------------------------
# Notebook 04 and the modern preset


# How the notebook's text names the preset's choices.
WORDS = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "he-normal": "He-normal",
         "he-uniform": "He-uniform", "xavier-normal": "Xavier-normal", "normal": "N(0, 1)",
         "adam": "Adam", "sgd": "SGD", True: "shuffled", False: "in order"}


def test_notebook_04_describes_the_modern_preset_it_trains():
    (text,) = [one_line(cell) for cell in markdown_cells("04_mnist_classifier.ipynb")
               if "--preset modern" in cell]
    modern = PRESETS["modern"]
    sizes = "-".join(map(str, [784, *modern["hidden"], 10]))
    assert re.findall(r"784(?:-\d+)+", text) == [sizes], text
    for choice in ("activation", "init", "optimizer", "shuffle"):
        assert WORDS[modern[choice]] in text, f"notebook 04 does not name the {choice}: {text}"
    assert f"batches of {modern['batch_size']}" in text, text
    assert float(re.search(r"\blr ([0-9.e-]*[0-9])", text)[1]) == modern["lr"], text
    decay = re.search(r"multiplied by ([0-9.]+) after each epoch", text)
    assert decay and float(decay[1]) == modern["lr_decay"], text


# ---------------------------------------------------------------------------------------------
# Lab 07's cross-entropy


def test_lab07_cross_entropy_is_one_number_everywhere():
    """One sample, v = [10, 5], y = class 0: L = −ln softmax(v)₀ = ln(1 + e⁻⁵)."""
    value = autograd.softmax_cross_entropy(Tensor([[10.0, 5.0]]), np.array([0])).item()
    assert value == pytest.approx(np.log1p(np.exp(-5.0)), rel=1e-12)
    quoted = f"{value:.7f}"  # 0.0067153
    notes_off = one_line(section(README, "Where the lecture notes are off"))
    assert f"0.00236 should be −ln 0.993307 = ln(1 + e⁻⁵) = {quoted}." in notes_off
    (cell,) = [one_line(c) for c in markdown_cells("03_jacobians.ipynb") if "0.00236" in c]
    assert f"= {quoted};" in cell
    for text in (notes_off, cell):  # the earlier answers are gone: 0.00672 and −½·ln 0.993307
        assert "0.00672" not in text and "−½·ln" not in text
        assert "0.0033577" not in text.replace("(that ½ would give 0.0033577)", "")


# ---------------------------------------------------------------------------------------------
# Installing and opening the notebooks


def test_the_notebooks_extra_installs_the_front_end_the_readme_opens():
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads pyproject.toml")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    front_end = [requirement for requirement in extras["notebooks"]
                 if re.match(r"notebook\b", requirement)]
    assert front_end, "[notebooks] installs no Jupyter front end"
    assert 'pip install -e ".[notebooks]"`:\n`jupyter notebook notebooks/`' in README
    (ours,) = [r for r in extras["dev"] if r.startswith("jacograd[")]
    assert "notebooks" in ours[len("jacograd["):-1].split(","), "[dev] must bring [notebooks]"


# ---------------------------------------------------------------------------------------------
# The documentation site


def test_the_docs_site_builds_strictly_offline(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        unavailable('needs the docs tools to build the site: pip install -e ".[docs]"')
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                             str(site)], cwd=ROOT, capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "For PyTorch users" in index and "Two commands" in index  # README, included
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        page = site / "notebooks" / notebook.stem / "index.html"
        assert page.is_file(), f"no page for {notebook.name}"
    reference = (site / "reference" / "autograd" / "index.html").read_text(encoding="utf-8")
    assert "Tensor" in reference and "backward" in reference  # from the docstrings
    assert "fonts.googleapis.com" not in index  # nothing fetched when the page is read
