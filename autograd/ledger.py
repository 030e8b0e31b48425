"""The backward ledger: one backward pass written down step by step, and the Jacobians behind it.

`record(loss)` runs `loss.backward()` with a tracer and keeps, in the order backward visits the
nodes, the gradient arriving at each node and what each VJP passed on to each input: the raw
result, where broadcasting was summed away, and the running sum at inputs used more than once.

A VJP is g · ∂out/∂x without ever forming ∂out/∂x. `local_jacobian` forms it anyway, exactly,
for small inputs: row k of J is the VJP applied to the unit vector e_k of the output. Then
`Ledger.check()` confirms that every recorded contribution is gᵀJ — lecture 1's "why Jacobians"
made concrete, and a second look at the derivative table.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import backward, sum_to, summed_axes
from .tensor import Primitive, Tensor, is_freed

SMALL = 6  # arrays with at most this many elements are shown in full


def summarize(value: Any, one_line: bool = True, small: int = SMALL) -> str:
    """A small array in full (on one line, or one line per row); a large one as mean/min/max."""
    a = np.asarray(value)
    if a.size <= small:
        text = np.array2string(a, precision=4, separator=", ", max_line_width=10**6)
        return text.replace("\n", "") if one_line else text.replace(",\n", "\n")
    stats = a.astype(np.float64) if a.dtype.kind == "b" else a
    return f"mean {stats.mean():.3g}, min {stats.min():.3g}, max {stats.max():.3g}"


def describe(value: Any) -> str:
    """Shape, then the summary: `(4, 3) mean 0.1, min -2, max 3`."""
    return f"{np.shape(value)} {summarize(value)}"


def broadcast_note(raw_shape: tuple, shape: tuple) -> str:
    """'sum over axis 0: (4, 3) → (3,)' where a VJP's result was summed back; '' if it was not."""
    axes = summed_axes(tuple(raw_shape), tuple(shape)) if tuple(raw_shape) != tuple(shape) else ()
    if not axes:
        return ""
    which = f"axis {axes[0]}" if len(axes) == 1 else "axes " + ", ".join(map(str, axes))
    return f"sum over {which}: {tuple(raw_shape)} → {tuple(shape)}"


def tensor_names(names: Mapping[str, Any] | None) -> dict[int, str]:
    """id(tensor) → name from a dict such as `locals()`, skipping names that start with '_'."""
    found: dict[int, str] = {}
    for name, value in (names or {}).items():
        if isinstance(value, Tensor) and not name.startswith("_"):
            found.setdefault(id(value), name)
    return found


def local_jacobian(op: Primitive | Tensor, *inputs: Any, wrt: int = 0, **params: Any) -> np.ndarray:
    """∂out/∂inputs[wrt] as an array of shape out.shape + input.shape; row k is vjp(e_k).

    `op` is a Primitive, given its inputs and params, or a graph node (a Tensor made by an op,
    whose graph is not freed), whose own inputs and params are used. Exact, not a finite
    difference; it costs one VJP per output element, so keep the arrays small.
    """
    out = None
    if isinstance(op, Tensor):
        if op._op is None or is_freed(op):
            raise ValueError("local_jacobian: this tensor is a leaf or its graph was freed")
        op, inputs, params, out = op._op, op._inputs, op._params or {}, op.data
    arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
    vjp = op.vjps[wrt]
    if vjp is None:
        raise ValueError(f"local_jacobian: input {wrt} of {op.name} is not differentiable")
    if out is None:  # (a recorded step's params may hold a `saved` from its own forward)
        static = {k: v for k, v in params.items() if k != "saved"}
        out, params = op.run(arrays, static)
    out = np.asarray(out)
    x = np.asarray(arrays[wrt])
    dtype = np.promote_types(out.dtype, x.dtype)
    jacobian = np.zeros((out.size, x.size), dtype=dtype if dtype.kind == "f" else np.float64)
    unit = np.zeros(out.size, dtype=out.dtype)
    for k in range(out.size):
        unit[k] = 1
        row = np.asarray(vjp(unit.reshape(out.shape), out, *arrays, **params))
        jacobian[k] = sum_to(row, x.shape).reshape(-1)  # broadcasting's adjoint, as the engine
        unit[k] = 0
    return jacobian.reshape(out.shape + x.shape)


@dataclass
class Contribution:
    """What one VJP passed to one input: its raw result's shape, the (summed) gradient, and the
    input's running sum so far (`count` contributions, this one included)."""

    wrt: int
    input: Tensor
    raw_shape: tuple
    gradient: np.ndarray
    running: np.ndarray
    count: int


@dataclass
class Step:
    """One node popped by backward: the gradient g arriving, and what its VJPs passed on."""

    index: int
    node: Tensor
    gradient: np.ndarray
    op: Primitive | None  # None for a leaf
    inputs: tuple  # inputs and params are kept here even if backward frees the graph
    params: dict
    contributions: list[Contribution]


class Ledger:
    """The steps of one backward pass, in the order backward visits them (root first).

    It is the engine's tracer: backward calls `node(node, g)` when it pops g at a node and
    `edge(node, i, x, raw, gx)` for each input's contribution. `gradients` maps id(tensor) to
    the gradient that reached it, interior nodes included (draw(..., gradients=ledger) shows them).
    """

    def __init__(self, names: Mapping[str, Any] | None = None) -> None:
        self.steps: list[Step] = []
        self.gradients: dict[int, np.ndarray] = {}
        self._names = tensor_names(names)
        self._running: dict[int, tuple[np.ndarray, int]] = {}
        self._index: dict[int, int] = {}  # id(node) → its step

    # ----- the tracer protocol ---------------------------------------------------------------
    def node(self, node: Tensor, g: Any) -> None:
        step = Step(len(self.steps), node, np.asarray(g), node._op, node._inputs,
                    node._params or {}, [])
        self.steps.append(step)
        self.gradients[id(node)], self._index[id(node)] = step.gradient, step.index

    def edge(self, node: Tensor, i: int, x: Tensor, raw: Any, gx: Any) -> None:
        previous, count = self._running.get(id(x), (0, 0))
        running = previous + np.asarray(gx)
        self._running[id(x)] = (running, count + 1)
        self.steps[-1].contributions.append(
            Contribution(i, x, np.shape(raw), np.asarray(gx), running, count + 1))

    # ----- Jacobians ---------------------------------------------------------------------------
    def local_jacobian(self, step: int | Step, wrt: int = 0) -> np.ndarray:
        """∂out/∂input `wrt` of a recorded step (its graph may have been freed since)."""
        step = self.steps[step] if isinstance(step, int) else step
        if step.op is None:
            raise ValueError(f"local_jacobian: step {step.index} is a leaf, it has no inputs")
        return local_jacobian(step.op, *step.inputs, wrt=wrt, **step.params)

    def check(self, max_size: int = 10_000) -> int:
        """Verify each contribution equals gᵀJ, for Jacobians of at most `max_size` entries.

        Returns how many contributions were checked; raises AssertionError at the first that
        differs (which would mean a VJP is not linear in g, or broadcasting was summed wrongly).
        """
        checked = 0
        for step in self.steps:
            for c in step.contributions:
                if step.gradient.size * c.input.size > max_size:
                    continue
                jacobian = self.local_jacobian(step, c.wrt).reshape(step.gradient.size, -1)
                expected = (step.gradient.reshape(-1) @ jacobian).reshape(c.input.shape)
                tol = np.finfo(jacobian.dtype).eps ** 0.5
                scale = max(1.0, float(np.abs(expected).max(initial=0)))
                if not np.allclose(c.gradient, expected, rtol=tol, atol=tol * scale):
                    raise AssertionError(
                        f"step {step.index} ({step.op.name}), input {c.wrt}: the VJP gave "
                        f"{summarize(c.gradient)} but gᵀJ is {summarize(expected)}")
                checked += 1
        return checked

    # ----- rendering ---------------------------------------------------------------------------
    def _label(self, t: Tensor) -> str:
        """The tensor's name, else '#k' for the step at which backward popped it."""
        return self._names.get(id(t)) or t.name or f"#{self._index.get(id(t), '?')}"

    def rows(self) -> list[tuple[str, ...]]:
        """The table's cells: one row per contribution (a step's first row names the node)."""
        header = ("step", "node", "op", "gradient in", "to input", "contribution",
                  "broadcast summed", "running sum")
        rows = [header]
        totals = {key: count for key, (_, count) in self._running.items()}
        for s in self.steps:
            first = (str(s.index), self._label(s.node), s.op.name if s.op else "(leaf)",
                     describe(s.gradient))
            if not s.contributions:
                rows.append(first + ("",) * 4)
            for c in s.contributions:
                fan_out = totals[id(c.input)]
                running = f"{c.count}/{fan_out}: {summarize(c.running)}" if fan_out > 1 else ""
                rows.append(first + (self._label(c.input), describe(c.gradient),
                                     broadcast_note(c.raw_shape, c.input.shape), running))
                first = ("",) * 4
        return rows

    def table(self) -> str:
        """The ledger as a plain-text table."""
        rows = self.rows()
        widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    __str__ = table

    def _repr_html_(self) -> str:
        """The ledger as an HTML table, for notebooks."""
        header, *body = self.rows()
        cells = lambda row, tag: "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row)
        lines = [f"<tr>{cells(header, 'th')}</tr>"] + [f"<tr>{cells(r, 'td')}</tr>" for r in body]
        return "<table>\n" + "\n".join(lines) + "\n</table>"

    def __repr__(self) -> str:
        return f"<Ledger of {len(self.steps)} steps>"


def record(output: Tensor, gradient: Any = None, names: Mapping[str, Any] | None = None,
           retain_graph: bool = True) -> Ledger:
    """Run `output.backward(gradient)` and return its Ledger; leaves' `.grad` accumulate as usual.

    `names` (e.g. `locals()`) labels the tensors. The graph is kept by default, so that it can
    still be drawn (`draw(output, gradients=ledger)`); the ledger itself works either way. It
    refers to the tensors rather than copying them: record again after an in-place update.
    """
    ledger = Ledger(names)
    backward([output], [gradient], retain_graph=retain_graph, tracer=ledger)
    return ledger
