"""The README's op table against the code, so that neither can drift: every name in its second
column exists (as an autograd function or a Tensor attribute), and every public operation (an
autograd function NumPy calls can reach, or a public Tensor method) is in it."""

import re
from pathlib import Path

import autograd as ag
from autograd import Tensor
from autograd.numpy_dispatch import engine_function

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- op table:"
# Tensor methods that are the graph's API rather than operations (documented under backward).
GRAPH_API = {"backward", "requires_grad_", "retain_grad", "zero_grad", "is_leaf", "op"}


def table_names() -> dict[str, str]:
    """{name: kind} for each name in backticks in the second column of the op table."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    names = {}
    for line in lines[start + 3:]:  # the marker, the header and the |---| rule
        if not line.startswith("|"):
            break
        kind, operations = [cell.strip() for cell in line.strip("|").split("|")][:2]
        for span in re.findall(r"`([^`]*)`", operations):
            for token in span.split():
                word = re.fullmatch(r"\.?([A-Za-z_]\w*)(\(.*\))?", token)
                if word:  # operators such as + and @ are not names
                    names[word.group(1)] = kind
    return names


def public_operations() -> set[str]:
    functions = {name for name in ag.__all__ if engine_function(name) is not None}
    attributes = set(Tensor.__slots__)  # data, grad, requires_grad, name: not operations
    methods = {name for name in dir(Tensor) if not name.startswith("_")} - GRAPH_API - attributes
    return functions | methods


def test_the_table_has_rows():
    names = table_names()
    assert len(names) > 100 and names["sin"] == "trigonometry" and names["prod"] == "reductions"


def test_every_name_in_the_table_exists():
    missing = sorted(n for n in table_names() if not (hasattr(ag, n) or hasattr(Tensor, n)))
    assert missing == [], f"README op table names that autograd does not have: {missing}"


def test_every_public_operation_is_in_the_table():
    absent = sorted(public_operations() - set(table_names()))
    assert absent == [], (f"public operations missing from the README's op table: {absent} "
                          f"(add them to a row's second column)")
