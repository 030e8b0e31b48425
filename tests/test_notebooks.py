"""The teaching notebooks: each runs top to bottom in a fresh kernel, and is committed executed.

Every notebooks/*.ipynb is picked up. Execution works on an in-memory copy (the committed file
is never rewritten), in notebooks/ as the working directory, and any cell error fails the test
with nbclient's CellExecutionError, which shows the cell and its traceback.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402 - after the skips
from jupyter_client.manager import AsyncKernelManager  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds

# Outputs a notebook must have been committed with: graph pictures (SVG) and plots (PNG).
REQUIRED_OUTPUTS = {
    "01_expressions_and_backward.ipynb": "image/svg+xml",
    "02_computation_graphs.ipynb": "image/svg+xml",
    "04_mnist_classifier.ipynb": "image/png",
    "05_convolutions.ipynb": "image/png",
}


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _mime_types(notebook) -> set[str]:
    return {mime for cell in _code_cells(notebook) for output in cell.outputs
            for mime in output.get("data", {})}


def _needs(path: Path) -> list[str]:
    """What running `path` needs beyond the packages: "real_mnist" (it loads MNIST; the test
    never downloads) and "graphviz_dot" (it renders graph pictures)."""
    source = path.read_text(encoding="utf-8")
    needs = ["real_mnist"] if "load_mnist" in source else []
    if any(call in source for call in ("draw(", "render(", "graphviz")):
        needs.append("graphviz_dot")
    return needs


def _kernel_manager() -> AsyncKernelManager:
    """A manager for ipykernel's built-in "python3" spec, i.e. this interpreter, ignoring any
    kernelspec installed in the user's or the system's Jupyter folders."""
    specs = KernelSpecManager(kernel_dirs=[])  # only the native spec remains
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)


def _kernel_environment() -> dict[str, str]:
    """This process's environment (MNIST_DIR included), with one BLAS thread by default: the
    notebooks' matrices are small, and on a busy 2-core machine OpenBLAS's thread pool makes
    them many times slower."""
    env = dict(os.environ)
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(variable, "1")
    return env


def test_notebooks_are_found():
    names = {path.name for path in NOTEBOOKS}
    missing = sorted(set(REQUIRED_OUTPUTS) - names)
    assert not missing, f"notebooks missing from {NOTEBOOK_DIR}: {missing}"


def test_kernel_is_this_interpreter():
    spec = _kernel_manager().kernel_spec
    assert spec.argv[0] == sys.executable, f"kernel would run {spec.argv[0]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_committed_executed(path: Path):
    """Every code cell ran, in order, in one kernel; no errors; the required pictures exist."""
    notebook = _read(path)
    cells = _code_cells(notebook)
    assert cells, f"{path.name} has no code cells"
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name} was not executed top to bottom in a fresh kernel "
        f"(execution counts {counts}); execute it and commit it with its outputs")
    errors = [output for cell in cells for output in cell.outputs
              if output.output_type == "error"]
    assert not errors, f"{path.name} was committed with an error output: {errors[0].ename}"
    assert any(cell.outputs for cell in cells), f"{path.name} has no outputs at all"
    required = REQUIRED_OUTPUTS.get(path.name)
    if required:
        assert required in _mime_types(notebook), f"{path.name} has no {required} output"


@pytest.mark.parametrize("path", [
    pytest.param(path, marks=[getattr(pytest.mark, need) for need in _needs(path)])
    for path in NOTEBOOKS], ids=lambda path: path.name)
def test_notebook_runs_in_fresh_kernel(path: Path):
    """Execute a copy top to bottom; a failing cell raises CellExecutionError with its output.
    Marks from _needs skip it (or fail it in CI) without real MNIST or Graphviz's dot."""
    notebook = copy.deepcopy(_read(path))
    client = nbclient.NotebookClient(
        notebook, km=_kernel_manager(), timeout=CELL_TIMEOUT, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute(env=_kernel_environment())
    executed = _code_cells(notebook)
    assert all(cell.execution_count is not None for cell in executed)
    required = REQUIRED_OUTPUTS.get(path.name)
    if required:
        assert required in _mime_types(notebook), f"{path.name} produced no {required} output"
