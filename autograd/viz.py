"""Pictures of the graph: `draw(t)` shows inline in Jupyter, `render(t, path)` writes a file.

Boxes are tensors: grey constants, blue parameters (leaves that require grad), white interior
results, and the output bold with a double border. Ellipses are primitives (hover for their
derivative rule). An edge whose gradient is summed back over broadcast axes says so. The DOT
text is written here, so `to_dot` needs neither the graphviz package nor its `dot` binary;
`draw` hands the same text to graphviz, which is imported only then.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from html import escape
from typing import Any

import numpy as np

from .files import atomic_write
from .ledger import broadcast_note, summarize, tensor_names
from .tensor import Constant, Freed, Tensor, is_freed

STYLES = {
    "constant": 'shape=box style=filled color="#b0b0b0" fillcolor="#f0f0f0" fontcolor="#606060" '
                'fontsize=9',
    "parameter": 'shape=box style="rounded,filled" color="#3d6fa8" fillcolor="#d7e7f8"',
    "tensor": 'shape=box style=rounded color="#606060"',
    "output": 'shape=box style="rounded,filled,bold" peripheries=2 fillcolor="#fff3c4"',
    "op": 'shape=ellipse style=filled color="#c08a2e" fillcolor="#fbe6bf" fontsize=10 '
          'margin="0.05,0.02" height=0.3',
    "summed": 'color="#b03a2e"',  # an edge whose gradient is summed back
}
# size: at most PAGE_WIDTH inches across (a notebook cell); larger drawings are scaled down.
PAGE_WIDTH = 9.5
LONG_CHAIN = 3  # ops on the longest path beyond which a graph is drawn top to bottom
HEADER = ('\tgraph [rankdir={rankdir} fontname=Helvetica nodesep=0.25 ranksep=0.35 '
          'size="{width},100" forcelabels=true]\n'
          '\tnode [fontname=Helvetica fontsize=11 height=0.3]\n'
          '\tedge [fontname=Helvetica fontsize=9 color="#707070" fontcolor="#b03a2e"]\n')
# Ops whose inputs broadcast to the output's shape (linear's bias too): gradients are summed back.
BROADCASTING = {"add", "sub", "mul", "div", "pow", "where", "broadcast_to"}
INSTALL_BINARY = ("drawing needs the Graphviz binary `dot`: install it with "
                  "apt-get install graphviz / brew install graphviz / conda install graphviz "
                  "(to_dot() needs neither the binary nor the graphviz package)")


def to_dot(t: Tensor, names: Mapping[str, Any] | None = None, rankdir: str | None = None,
           show_values: bool = True, collapse_modules: Any = None, gradients: Any = None,
           max_nodes: int | None = 500) -> str:
    """The DOT source of everything `t` depends on (see `draw` for the options)."""
    body = _body(t, names, rankdir, show_values, collapse_modules, gradients, max_nodes)
    return "digraph jacograd {\n" + "".join(body) + "}\n"


def draw(t: Tensor, names: Mapping[str, Any] | None = None, rankdir: str | None = None,
         show_values: bool = True, collapse_modules: Any = None, gradients: Any = None,
         max_nodes: int | None = 500) -> Any:
    """A `graphviz.Digraph` of everything `t` depends on; it displays inline in Jupyter.

    names: a dict such as `locals()` labelling tensors (names starting with '_' are skipped;
        a tensor's own `.name` is used too). rankdir: "LR" (left to right), "TB" (top to
        bottom), or None: LR for short graphs, TB for long chains, which would not fit a page
        across. show_values: print each tensor's value and gradient (up to 16 elements in
        full, larger ones as mean/min/max).

    After a plain `backward()` the graph is still drawn: ops, shapes, names, the values and
    gradients of leaves (and of interior tensors you still hold). Interior gradients show where
    they were kept (`retain_grad()`, or a ledger); elsewhere the box says they were not kept.
    collapse_modules: a model with `named_parameters()`; each layer's parameters and the ops
        that consume them are boxed together, labelled by the layer's name.
    gradients: a Ledger from `autograd.ledger.record` (or a dict id(tensor) → array) to show
        interior gradients; leaves show their `.grad` anyway.
    max_nodes: refuse larger graphs with a ValueError (None: no limit).
    """
    body = _body(t, names, rankdir, show_values, collapse_modules, gradients, max_nodes)
    return _picture_class(_graphviz())("jacograd", body=body)


def render(t: Tensor, path: str | os.PathLike, format: str | None = None,  # noqa: A002
           **options: Any) -> str:
    """Draw `t` into the file `path` (format from its suffix: svg, png, pdf…), atomically."""
    path = os.fspath(path)
    format = format or os.path.splitext(path)[1].lstrip(".") or "svg"  # noqa: A001
    data = draw(t, **options).pipe(format=format)
    return atomic_write(path, data)


def _graphviz() -> Any:
    """The graphviz package, or an ImportError that says how to install it."""
    try:
        import graphviz
    except ImportError:
        raise ImportError("drawing needs the graphviz package: pip install jacograd[viz] "
                          "(or pip install graphviz); to_dot() works without it") from None
    return graphviz


@functools.cache
def _picture_class(graphviz: Any) -> type:
    """graphviz.Digraph whose pipe and render (so Jupyter's display too) explain a missing `dot`."""

    def explained(method: Any) -> Any:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except graphviz.ExecutableNotFound:
                raise RuntimeError(INSTALL_BINARY) from None
        return wrapper

    methods = {"pipe": explained(graphviz.Digraph.pipe),
               "render": explained(graphviz.Digraph.render)}
    return type("Picture", (graphviz.Digraph,), methods)


def _tensors(root: Tensor, max_nodes: int | None) -> list[Tensor]:
    """Every tensor `root` depends on, each after its inputs (iterative depth-first search)."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack = [(root, False)]
    count = 0
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        count += 1 if t._op is None else 2 + sum(not isinstance(x, Tensor) for x in t._inputs)
        if max_nodes is not None and count > max_nodes:
            raise ValueError(
                f"draw: the graph has more than max_nodes={max_nodes} nodes, too many to read. "
                f"Draw a part of it (an intermediate tensor), or pass max_nodes=None to draw "
                f"it all anyway (with collapse_modules=model to box each layer)")
        stack.append((t, True))
        stack += [(x, False) for x in reversed(t._inputs) if isinstance(x, Tensor)]
    return order


def _layers(model: Any, tensors: list[Tensor]) -> tuple[dict[int, str], dict[int, str]]:
    """(id → layer, id → parameter name): parameters by their name's prefix ('layers.0.weight'
    is in 'layers.0: Linear'), and each op result that consumes a parameter directly."""
    if model is None:
        return {}, {}
    params = {id(p): name for name, p in model.named_parameters()}
    layer = {key: _layer_title(model, name.rpartition(".")[0]) for key, name in params.items()}
    for t in tensors:
        owners = [layer[id(x)] for x in t._inputs if id(x) in params]
        if owners:
            layer[id(t)] = owners[0]
    return layer, params


def _layer_title(model: Any, prefix: str) -> str:
    """'layers.0: Linear' (the submodule found by attribute lookup), or just the prefix."""
    module = model
    for part in prefix.split(".") if prefix else ():
        module = getattr(module, part, None)
    if not prefix or module is None:
        return prefix or type(model).__name__
    return f"{prefix}: {type(module).__name__}"


def _quote(text: str) -> str:
    """A DOT string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


SMALL = 16  # tensors with at most this many elements show their values in full
GREY = '<FONT POINT-SIZE="9" COLOR="#606060">{}</FONT>'


def _shape_dtype(t: Tensor) -> tuple[tuple, np.dtype]:
    """A tensor's shape and dtype, also after backward freed its data (see engine._release)."""
    kept = t._params if t.data is None else t.data
    return kept.shape, kept.dtype


def _tensor_label(t: Tensor, name: str | None, grad: Any, show_values: bool,
                  grad_dropped: bool) -> str:
    """An HTML-like label: name in bold, shape and dtype, value, gradient."""
    lines = [f"<B>{escape(name)}</B>"] if name else []
    lines.append(GREY.format("{} {}".format(*_shape_dtype(t))))
    if show_values:
        if t.data is None:
            lines.append(GREY.format("value freed by backward()"))
        else:
            lines += map(escape, summarize(t.data, one_line=False, small=SMALL).splitlines())
        if grad is not None:
            grad = summarize(grad, one_line=False, small=SMALL).splitlines()
            lines += [f'<FONT COLOR="#b03a2e">{escape(line)}</FONT>' for line in
                      ["grad " + grad[0]] + ["     " + line for line in grad[1:]]]
        elif grad_dropped:
            lines.append(GREY.format("grad not kept (retain_grad() keeps it)"))
    return "<" + "<BR/>".join(lines) + ">"


def _constant_label(value: Any, show_values: bool) -> str:
    """A number in full; an array by shape and dtype (and value)."""
    if isinstance(value, Constant):  # a large constant that a freed graph only describes
        return _quote(f"{value.shape} {value.dtype}")
    if np.ndim(value) == 0:
        return _quote(summarize(value))
    text = f"{np.shape(value)} {np.asarray(value).dtype}"
    return _quote(text + "\n" + summarize(value, small=SMALL) if show_values else text)


def _param_text(params: dict | None) -> str:
    """'axis=1', leaving out params that are None or False, each value cut to 24 characters."""
    short = lambda v: (s if len(s := str(v).replace("\n", "")) <= 24 else s[:21] + "...")
    shown = {k: v for k, v in (params or {}).items()
             if v is not None and v is not False and k != "saved"}  # saved: internal to the VJP
    return ", ".join(f"{k}={short(v)}" for k, v in shown.items())


def _body(root: Tensor, names: Mapping[str, Any] | None, rankdir: str, show_values: bool,
          model: Any, gradients: Any, max_nodes: int | None) -> list[str]:
    """The lines of the DOT body (what to_dot prints and draw hands to graphviz)."""
    if rankdir not in (None, "LR", "TB", "RL", "BT"):
        raise ValueError(f"draw: rankdir must be LR, TB, RL, BT or None, got {rankdir!r}")
    tensors = _tensors(root, max_nodes)
    rankdir = rankdir or ("TB" if _depth(tensors) > LONG_CHAIN else "LR")
    layer, param_names = _layers(model, tensors)
    labels = tensor_names(names)
    captured = getattr(gradients, "gradients", gradients) or {}
    ids = {id(t): f"t{k}" for k, t in enumerate(tensors)}
    groups: dict[str | None, list[str]] = {}  # layer (None: no layer) → node lines
    edges: list[str] = []
    for t in tensors:
        node, lines = ids[id(t)], groups.setdefault(layer.get(id(t)), [])
        name = labels.get(id(t)) or t.name or param_names.get(id(t))
        grad = captured.get(id(t), None if t.grad is None else t.grad.data)
        kind = ("output" if t is root else "tensor" if t._op is not None
                else "parameter" if t.requires_grad else "constant")
        dropped = is_freed(t) and t is not root  # its gradient was passed on, not kept
        label = _tensor_label(t, name, grad, show_values, dropped)
        lines.append(f"\t{node} [label={label} {STYLES[kind]}]\n")
        if t._op is None:
            continue
        params = t._params.params if isinstance(t._params, Freed) else t._params
        op, params = f"op{node[1:]}", _param_text(params)
        text = t._op.name + (f"\n{params}" if params else "")
        lines.append(f"\t{op} [label={_quote(text)} tooltip={_quote(t._op.math)} "
                     f"{STYLES['op']}]\n")
        edges.append(f"\t{op} -> {node}\n")
        for i, x in enumerate(t._inputs):
            if not isinstance(x, Tensor):
                lines.append(f"\t{op}c{i} [label={_constant_label(x, show_values)} "
                             f"{STYLES['constant']}]\n")
                edges.append(f"\t{op}c{i} -> {op}\n")
                continue
            broadcasts = t._op.name in BROADCASTING or (t._op.name == "linear" and i == 2)
            note = (broadcast_note(_shape_dtype(t)[0], _shape_dtype(x)[0]) if broadcasts
                    else "")
            style = f" [label={_quote(note)} {STYLES['summed']}]" if note else ""
            edges.append(f"\t{ids[id(x)]} -> {op}{style}\n")
    body = [HEADER.format(rankdir=rankdir, width=PAGE_WIDTH)] + groups.pop(None, [])
    for k, (name, lines) in enumerate(groups.items()):
        body.append(f"\tsubgraph cluster_{k} {{\n\t\tlabel={_quote(name)} style=\"rounded,dashed\""
                    f" color=\"#3d6fa8\" fontcolor=\"#3d6fa8\"\n")
        body += ["\t" + line for line in lines] + ["\t}\n"]
    return body + edges


def _depth(tensors: list) -> int:
    """Ops on the longest path to the output (tensors come each after its inputs)."""
    depth: dict[int, int] = {}
    for t in tensors:
        depth[id(t)] = 1 + max((depth.get(id(x), 0) for x in t._inputs if isinstance(x, Tensor)),
                               default=-1)
    return max(depth.values(), default=0)
