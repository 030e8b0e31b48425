"""jacograd's import names, `autograd` and `nn`, are also those of other PyPI packages (HIPS
autograd, PyPI's nn). pip lets one overwrite the other's files without a word (`pip check` sees
nothing), so both our `__init__` files import this module first, and its check fails the import,
with the repair, when a foreign package sits where ours should be.

Cheap on every import: two small files are read and the folder is listed once; the installed
distributions are searched only to name the culprit in the error.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

NAMES = ("autograd", "nn")
# Our two __init__.py files are the ones that import this module.
MARK = "_import_names"


def check_import_names() -> None:
    """Raise ImportError if `autograd/` or `nn/` beside this package is not only jacograd's."""
    folder = Path(__file__).resolve().parent.parent  # site-packages, or a source checkout
    for name in NAMES:
        init = folder / name / "__init__.py"
        if init.is_file() and MARK not in init.read_text(encoding="utf-8", errors="replace"):
            raise ImportError(_message(name, folder, _owner(folder, name) or "another package",
                                       "replaced jacograd's"))
    # A foreign distribution installed first and overwritten by ours still claims the name.
    claimants = [entry for entry in os.listdir(folder)
                 if entry.lower().endswith((".dist-info", ".egg-info"))
                 and entry.split("-")[0].lower() in NAMES]
    for name in NAMES:
        owner = _owner(folder, name, claimants)
        if owner:
            raise ImportError(_message(name, folder, owner, "shares jacograd's"))


def _owner(folder: Path, name: str, infos: list[str] | None = None) -> str | None:
    """'Name version' of the distribution, other than jacograd, whose RECORD lists
    `name/__init__.py` in `folder` (all distributions there unless `infos` narrows them)."""
    if infos is None:
        infos = [entry for entry in os.listdir(folder) if entry.endswith(".dist-info")]
    for info in infos:
        record = folder / info / "RECORD"
        if not record.is_file() or info.lower().startswith("jacograd-"):
            continue
        lines = record.read_text(encoding="utf-8", errors="replace").splitlines()
        if any(line.startswith(f"{name}/__init__.py,") for line in lines):
            metadata = importlib.metadata.PathDistribution(folder / info).metadata
            return f"{metadata['Name']} {metadata['Version']}"
    return None


def _message(name: str, folder: Path, owner: str, what: str) -> str:
    return (f"the import name '{name}' is taken: {owner} {what} '{name}' package in "
            f"{folder / name}. jacograd installs the import names 'autograd' and 'nn', so it "
            f"cannot share an environment with another package of either name. Repair: give "
            f"jacograd its own virtual environment (python -m venv .venv), or remove the other "
            f"package and reinstall ours: pip uninstall {owner.split()[0]} && "
            f"pip install --force-reinstall jacograd")


check_import_names()
