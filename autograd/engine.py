"""Reverse mode: walk the graph from the outputs back to the leaves, applying VJPs.

The walk is iterative (no recursion limit), visits each node once in reverse creation order
(a topological order: see tensor._creation_order), and pops each node's gradient as soon as it
has been passed on, so interior gradients are freed as early as possible. Without
`retain_graph`, each node forgets its inputs once used: the graph is freed as it is consumed,
and a second backward through it is a clear error.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

from . import anomaly, backends
from . import primitives as P
from . import tensor as _tensor
from .backends import reduce_sum
from .tensor import Constant, Freed, Tensor, _data, apply, check_versions, set_grad_enabled


def summed_axes(raw_shape: tuple, shape: tuple) -> tuple[int, ...]:
    """The axes of raw_shape that broadcasting added (leading) or stretched (from 1) to reach it."""
    lead = len(raw_shape) - len(shape)
    stretched = (lead + i for i, n in enumerate(shape) if n == 1 and raw_shape[lead + i] != 1)
    return tuple(range(lead)) + tuple(stretched)


def sum_to(g: Any, shape: tuple) -> Any:
    """Broadcasting's adjoint: sum g over the axes broadcasting added or stretched to reach it."""
    if isinstance(g, Tensor):  # create_graph: record the sum
        axes = summed_axes(g.shape, shape)
        return (g.sum(axis=axes, keepdims=True) if axes else g).reshape(shape)
    # reduce_sum is np.add.reduce on NumPy arrays: ndarray.sum without its Python wrapper,
    # which costs more than a bias-sized sum.
    if g.ndim == len(shape) + 1 and g.shape[1:] == shape:  # a bias: sum over the batch
        return np.add.reduce(g, axis=0) if type(g) is np.ndarray else reduce_sum(g, axis=0)
    axes = summed_axes(g.shape, shape)
    return (reduce_sum(g, axis=axes, keepdims=True) if axes else g).reshape(shape)


def _seed(root: Tensor, gradient: Any, create_graph: bool) -> Any:
    """The starting vector v of vᵀJ: 1 for a scalar output, else `gradient` checked for shape."""
    if not root.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad (no input had "
                           "requires_grad=True, or it was computed under no_grad)")
    if gradient is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward: the output has shape {root.shape}, not a scalar. backward() "
                f"computes vᵀJ, so pass gradient=v of shape {root.shape} (or reduce the "
                f"output first, e.g. .sum() or .mean())")
        seed = _ones_like(root.data)
    else:
        seed = _copy_like(gradient.data if isinstance(gradient, Tensor) else gradient, root)
        if seed.shape != root.shape:
            raise ValueError(f"backward: gradient has shape {seed.shape} but the output has "
                             f"shape {root.shape}; they must match")
    if create_graph and isinstance(gradient, Tensor):
        return gradient
    return Tensor._wrap(seed) if create_graph else seed


def _ones_like(data: Any) -> Any:
    """The seed 1, in data's backend: a GPU kernel refuses a host array, and a Dask graph
    should not start from one."""
    if type(data) is np.ndarray:
        return np.array(1, dtype=data.dtype).reshape(data.shape)  # cheaper than ones_like
    return np.ones_like(data)


def _copy_like(gradient: Any, root: Tensor) -> Any:
    """A copy of the user's `gradient` in root's dtype; arrays of root's device only."""
    if type(root.data) is np.ndarray or not backends.is_array(gradient):
        return np.array(gradient, dtype=root.dtype, copy=True)
    backends.check_one_device("backward", [root.data, gradient])
    return backends.copy(backends.as_array(gradient), root.dtype)


def backward(roots: Sequence[Tensor], gradients: Sequence[Any], retain_graph: bool = False,
             create_graph: bool = False, targets: Sequence[Tensor] | None = None,
             tracer: Any = None) -> dict[int, Any] | None:
    """Propagate gradients from `roots` (seeded with `gradients`) to the leaves.

    Leaves (and tensors that `retain_grad()`) accumulate into `.grad`. With `targets`, nothing
    is accumulated; the gradients reaching the targets are returned, keyed by id. A `tracer`
    (see autograd.ledger) is told every step, for the backward ledger.
    """
    if _graph_only is None and not retain_graph:
        _calibrate()
    grads: dict[int, Any] = {}
    ready: list[tuple[int, int, Tensor]] = []  # a max-heap on creation number
    for root, gradient in zip(roots, gradients):
        seed = _seed(root, gradient, create_graph)
        if id(root) in grads:
            grads[id(root)] = grads[id(root)] + seed
        else:
            grads[id(root)] = seed
            heappush(ready, (-root._seq, id(root), root))
    wanted = None if targets is None else {id(t) for t in targets}
    if tracer is None and _tensor._anomaly:
        tracer = anomaly.BackwardCheck()
    # Nodes created after the latest in-place change anywhere cannot have seen one: only older
    # nodes have their inputs' versions checked (see tensor._Versions).
    last_change = _tensor._last_change
    # In an ordinary pass a leaf's gradient goes straight into .grad; the ledger's tracer and
    # autograd.grad's targets need every tensor to come through the loop below instead.
    leaves_now = wanted is None and tracer is None
    captured: dict[int, Any] = {}
    stored: set[int] = set()
    consumers: dict[int, int] = {}  # nodes used by more than one consumer: how many
    # VJPs on arrays record nothing whatever the mode; VJPs on tensors must record.
    with set_grad_enabled(True) if create_graph else contextlib.nullcontext():
        while ready:
            # Every consumer of a node was created after it, so when the node is popped all
            # of its gradient contributions have arrived.
            node = heappop(ready)[2]
            g = grads.pop(id(node))
            if tracer is not None:
                tracer.node(node, g)
            if wanted is not None:
                if id(node) in wanted:
                    captured[id(node)] = g
            elif node._op is None or node._retains:
                _accumulate(node, g, create_graph, stored)
            if node._op is not None:
                if node._seq < last_change:
                    check_versions(node)
                _propagate(node, g, grads, ready, create_graph, tracer, leaves_now, stored,
                           consumers)
                if not retain_graph:
                    _release(node, consumers.pop(id(node), 1) if consumers else 1)
    return captured if targets is not None else None


def _release(node: Tensor, consumers: int, references=sys.getrefcount) -> None:
    """Mark node freed and let go of what only backward needed, keeping how node was made so
    that the graph can still be drawn. Its data goes if it is large and no one but the graph
    holds it: getrefcount then counts one reference per consumer (their inputs) plus a fixed
    number from the walk itself (measured once, see _calibrate). A tensor the user holds keeps
    its data, as any Python object would, and small ones stay for the pictures."""
    node._seq = 0
    if node._params:  # drop what the VJPs saved, and describe large arrays (an index)
        node._params = {k: _described(v) for k, v in node._params.items() if k != "saved"}
    if node.data.size > SMALL:
        walk = references(node) - consumers
        if _probe is not None:
            _probe.append(walk)
        elif walk == _graph_only:
            node._params = Freed(node._params, node.data.shape, node.data.dtype)
            node.data = None
    for x in node._inputs:  # (written out: this loop runs for every node of every backward)
        if type(x) is Tensor:
            if x.requires_grad or x.data.size <= SMALL:
                continue
        elif type(x) is not np.ndarray or x.size <= SMALL:
            continue
        # a large constant (a batch of data): describe it instead of keeping it
        node._inputs = tuple(Constant(_data(x)) if _large_constant(x) else x
                             for x in node._inputs)
        break


def _large_constant(x: Any) -> bool:
    """A large array, or a large leaf tensor that does not require grad: not kept by a freed
    graph (a parameter is, with its gradient, for the pictures)."""
    if type(x) is Tensor:
        return x._op is None and not x.requires_grad and x.data.size > SMALL
    return type(x) is np.ndarray and x.size > SMALL


def _described(value: Any) -> Any:
    return Constant(value) if type(value) is np.ndarray and value.size > SMALL else value


# The references getrefcount sees in _release, beyond the consumers', for a node that only
# the graph holds. Interpreters count the walk's own references differently (borrowed stack
# references in newer Pythons), so it is measured on a probe graph before the first release.
_graph_only: int | None = None
_probe: list[int] | None = None


def _calibrate() -> None:
    global _graph_only, _probe
    _graph_only, _probe = -1, []  # -1: drop nothing while probing

    def graph() -> Tensor:
        x = Tensor(np.zeros(SMALL + 1), requires_grad=True)
        return (x * 2.0).sum()  # x * 2 is held by the sum node only

    try:
        backward([graph()], [None])
        _graph_only = _probe[-1]  # the interior node is released after the root
    finally:
        _probe = None


# Constants up to this many elements stay in a freed graph (pictures show their values).
SMALL = 16


def _propagate(node: Tensor, g: Any, grads: dict[int, Any], ready: list, create_graph: bool,
               tracer: Any, leaves_now: bool, stored: set[int], consumers: dict[int, int]) -> None:
    """Apply the node's VJPs for the inputs that need a gradient, passing each result on."""
    op, inputs, params = node._op, node._inputs, node._params
    if node._seq == 0:  # freed by an earlier backward (see _release)
        raise RuntimeError(
            "backward: trying to backward through a graph a second time (or through a "
            "tensor whose graph was already freed); call backward(retain_graph=True) the "
            "first time if you need to backward twice")
    if create_graph:
        out, args = node, inputs
    elif len(inputs) == 1:  # the fast path: VJPs on plain arrays, no graph recorded
        out, args = node.data, (inputs[0].data,)
    else:
        out, args = node.data, [x.data if isinstance(x, Tensor) else x for x in inputs]
    vjps = op.vjps
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        gx = vjps[i](g, out, *args, **params) if params else vjps[i](g, out, *args)
        raw, data = gx, x.data
        if gx.shape != data.shape:
            gx = sum_to(gx, data.shape)
        if gx.dtype is not data.dtype and gx.dtype != data.dtype:
            gx = gx.astype(data.dtype)
        if tracer is not None:
            tracer.edge(node, i, x, raw, gx)
        if leaves_now and x._op is None:
            _accumulate(x, gx, create_graph, stored)
            continue
        key = id(x)
        previous = grads.get(key)
        if previous is None:
            grads[key] = gx
            heappush(ready, (-x._seq, key, x))
        else:
            grads[key] = previous + gx
            consumers[key] = consumers.get(key, 1) + 1


def _accumulate(node: Tensor, g: Any, create_graph: bool, stored: set[int]) -> None:
    """Add g into node.grad (PyTorch semantics: gradients accumulate until zeroed)."""
    if create_graph:
        if node.grad is not None:
            node.grad = node.grad + g
            return
        if id(g) in stored:  # x + y passes g to both: give the second its own (identity) node
            g = apply(P.reshape, (g,), {"shape": g.shape})
        stored.add(id(g))
        node.grad = g
        return
    if node.grad is not None:
        node.grad = Tensor._wrap(node.grad.data + g)
        return
    # The same array can reach two leaves (x + y passes g to both), or be a view of another
    # gradient (reshape, broadcast); copy then, so that each .grad owns its memory.
    if type(g) is not np.ndarray:
        g = _owned(g, stored)
    elif id(g) in stored or not g.flags.owndata:
        g = np.array(g, copy=True)
    stored.add(id(g))
    node.grad = Tensor._wrap(g)


def _owned(g: Any, stored: set[int]) -> Any:
    """g as an array .grad can keep: NumPy scalars become arrays, other backends copy within
    themselves (a Dask copy is free: its graph is shared, not computed)."""
    if not backends.is_array(g):
        return np.array(g, copy=True)
    return g.copy() if id(g) in stored or backends.is_view(g) else g


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """Gradients of `outputs` with respect to `inputs`, returned without touching `.grad`.

    As `torch.autograd.grad`: `grad_outputs` is v in vᵀJ (needed for non-scalar outputs);
    `create_graph=True` makes the returned gradients differentiable themselves.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):  # one array, tensor or number
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    captured = backward(outputs, grad_outputs, retain_graph, create_graph, targets=inputs)
    results = []
    for i, x in enumerate(inputs):
        g = captured.get(id(x))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) was not used to compute "
                               f"the outputs; pass allow_unused=True to get None for it")
        if g is not None and not isinstance(g, Tensor):
            g = Tensor._wrap(backends.as_array(g))
        results.append(g)
    return tuple(results)

