"""`autograd.compile(f)`: a training step as straight-line NumPy code.

The first call of `compiled = autograd.compile(f)` runs `f` on real values while
`autograd.tracing` records every primitive it applies, then runs `backward(create_graph=True)`
so that the backward pass, built from the derivative table's own VJPs, is recorded as primitives
too. Common subexpressions are shared, dead code removed, and the list of instructions is written
out as one Python function (`compiled.program.source`), which is what later calls run, on plain
arrays: no Tensors, no graph, no heap.

A compiled call is a drop-in for `out = f(*args); out.backward()` (the first output, or the only
one, is the loss): it returns what `f` returns, without a graph, and accumulates gradients into
`.grad` of every tensor that requires grad, arguments and tensors `f` captures (a model's
parameters) alike. Captured tensors are read afresh on every call, so in-place optimizer updates
between calls are seen. New argument shapes or dtypes trace again (each kept). See README.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import engine
from . import primitives as P
from . import tensor as tensor_module
from .tensor import Tensor
from .tracing import (
    Instruction,
    Ref,
    Trace,
    TracingError,
    current,
    hooks,
    random_draws,
    random_states,
)

__all__ = ["compile", "CompiledFunction", "Program", "TracingError"]


class GuardFailed(Exception):
    """A value the trace saw as Python (a validation check) differs on this call."""


def compile(f: Callable | None = None, *, names: Mapping[str, Any] | None = None,  # noqa: A001
            optimize: bool = True) -> Any:
    """Compile `f` (also usable as a decorator, with or without arguments).

    `names` maps names to tensors (e.g. `dict(model.named_parameters())` or `locals()`) for the
    generated source; `f`'s own local variables name its intermediate values automatically.
    `optimize=False` keeps the program as recorded (no sharing of common subexpressions, no
    dead-code removal), to compare.
    """
    if f is None:
        return lambda g: CompiledFunction(g, names, optimize)
    return CompiledFunction(f, names, optimize)


# ---------------------------------------------------------------------------------------------
# The compiled function: a cache of programs by argument shapes and dtypes.
# ---------------------------------------------------------------------------------------------
class CompiledFunction:
    """`f`, traced once per argument signature and replayed as a Program afterwards."""

    def __init__(self, f: Callable, names: Mapping[str, Any] | None, optimize: bool) -> None:
        if not callable(f):
            raise TypeError(f"compile: expected a function, got {type(f).__name__}")
        self.f, self.names, self.optimize = f, dict(names or {}), optimize
        self.programs: dict[tuple, Program] = {}
        self.program: Program | None = None  # the one the last call ran
        self._kinds: list[str] | None = None
        self._all_arrays = False
        self._structure: Any = None
        self.__doc__, self.__wrapped__ = getattr(f, "__doc__", None), f

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"compile: a compiled function takes positional arguments only, got "
                            f"keywords {sorted(kwargs)}")
        if current() is not None:
            raise TracingError(f"compile: {_name(self.f)} is compiled and was called while "
                               f"another function is being traced; compile only the outer one")
        key = self._signature(args)
        program = self.programs.get(key)
        if program is not None:
            try:
                result = program.run(args)
            except GuardFailed:
                return self._eager(args)
            if result is not _STALE:
                self.program = program
                return result
        program = self._trace(args, key)
        self.program = program
        try:
            return program.run(args)
        except GuardFailed:
            return self._eager(args)

    def clear(self) -> None:
        """Forget every trace (the next call traces again)."""
        self.programs.clear()
        self.program = None

    # ----- arguments -------------------------------------------------------------------------
    def _signature(self, args: tuple) -> tuple:
        """The cache key of these arguments; a clear error if their number or kinds changed."""
        if self._all_arrays and len(args) == len(self._kinds):  # the common case, kept lean
            for a in args:
                if type(a) is not np.ndarray:
                    break
            else:
                return tuple([(a.shape, a.dtype) for a in args])
        kinds, key = [], []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                kinds.append("Tensor")
                key.append((a.shape, a.dtype, a.requires_grad))
            elif isinstance(a, np.ndarray):
                kinds.append("array")
                key.append((a.shape, a.dtype))
            elif isinstance(a, (bool, int, float, np.generic)):
                kinds.append("number")
                key.append((type(a), a))
            else:
                raise TypeError(f"compile: argument {i} is a {type(a).__name__}; a compiled "
                                f"function takes arrays, Tensors and numbers (convert lists "
                                f"with np.asarray)")
        if self._kinds is None:
            return tuple(key)
        if len(kinds) != len(self._kinds):
            raise TypeError(f"compile: {_name(self.f)} was traced with {len(self._kinds)} "
                            f"arguments ({', '.join(self._kinds)}), now called with "
                            f"{len(kinds)} ({', '.join(kinds)})")
        for i, (now, then) in enumerate(zip(kinds, self._kinds)):
            if now != then:
                raise TypeError(f"compile: argument {i} of {_name(self.f)} was {_a(then)} "
                                f"when traced, now {_a(now)}; pass the same kind of value (a new "
                                f"shape or dtype is fine: it is traced again)")
        return tuple(key)

    def _trace(self, args: tuple, key: tuple) -> Program:
        program, structure = trace_program(self.f, args, self.names, self.optimize)
        if self._structure is None:
            self._kinds = [_kind(a) for a in args]
            self._all_arrays = all(type(a) is np.ndarray for a in args)
            self._structure = structure
        elif structure != self._structure:
            raise TypeError(f"compile: {_name(self.f)} returned {_describe(self._structure)} "
                            f"when traced first, but {_describe(structure)} for arguments "
                            f"{_shapes(args)}; a compiled function must return the same "
                            f"structure for every shape")
        self.programs[key] = program
        return program

    def _eager(self, args: tuple) -> Any:
        """f run by the engine (a guard failed): the eager result, exactly."""
        result = self.f(*args)
        first = _first_tensor(result)
        if first is not None and first.requires_grad:
            first.backward()
        return _detached(result)


def _kind(a: Any) -> str:
    return "Tensor" if isinstance(a, Tensor) else "array" if isinstance(a, np.ndarray) \
        else "number"


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _name(f: Any) -> str:
    return getattr(f, "__qualname__", None) or type(f).__name__


def _shapes(args: tuple) -> str:
    return ", ".join(str(np.shape(a)) for a in args)


_STALE = object()  # a captured tensor changed shape or dtype: trace again
_LOSS_AND_TENSOR = ("tuple", ("Tensor", "Tensor"))


# ---------------------------------------------------------------------------------------------
# Tracing a call into a program.
# ---------------------------------------------------------------------------------------------
def trace_program(f: Callable, args: tuple, names: Mapping[str, Any],
                  optimize: bool = True) -> tuple[Program, Any]:
    """Trace one call of `f` (forward, then backward from its first output) into a Program."""
    _warm_up_engine()
    trace = Trace()
    before = random_states(f)
    code = getattr(getattr(f, "__func__", f), "__code__", None)
    watcher = _LocalsAtReturn(code)
    with hooks(trace):
        traced_args = []
        for a in args:
            if isinstance(a, Tensor):
                value = trace.new_value(Tensor.__dict__["data"].slot.__get__(a, Tensor))
                trace.captured[id(a)] = (a, value._index)
                traced_args.append(a)
            elif isinstance(a, np.ndarray):
                value = trace.new_value(a)
                traced_args.append(value)
            else:
                trace.inputs.append(None)
                continue
            trace.kept.append(value)
            trace.inputs.append(value._index)
        with watcher:
            result = f(*traced_args)
        leaves, structure = _flatten(result)
        collector = _Collector(trace)
        loss = next((x for x in leaves if isinstance(x, Tensor)), None)
        if loss is not None and loss.requires_grad:
            targets = [t for t in _leaves_of(loss) if id(t) in trace.captured]
            if loss.size != 1:
                raise TracingError(f"compile: the first output of {_name(f)} has shape "
                                   f"{loss.shape}; the compiled backward starts from a scalar "
                                   f"loss (reduce it, e.g. .sum() or .mean())")
            if targets:
                collector.wanted = {id(t): t for t in targets}
                # The forward graph is freed as backward consumes it, as in eager mode; the
                # backward's own graph is not kept (its instructions are recorded).
                with _no_backward_graph(trace):
                    engine.backward([loss], [None], retain_graph=False, create_graph=True,
                                    targets=targets, tracer=collector)
        outputs = [trace.resolve(x) for x in leaves]
        # The user's names first (names=), then f's local variables.
        local_names = {name: trace.resolve(v) for name, v in
                       [*names.items(), *watcher.locals.items()]
                       if isinstance(v, (Tensor, np.ndarray))}
        del result, leaves, loss, traced_args  # the step's values: free them before the checks
        watcher.locals = {}
    try:
        program = Program(trace, outputs, collector, names, local_names, f, optimize)
    finally:
        trace.release()
    draws = random_draws(before, f)
    if trace.random_generators:
        draws.append("np.random.default_rng()")
    if draws:
        raise TracingError(
            f"compile: {_name(f)} draws random numbers while traced ({', '.join(draws)}); "
            f"they would be baked into the program and repeat on every call. Draw them outside "
            f"and pass them as arguments (e.g. a dropout mask), then they are inputs of the "
            f"program")
    program.structure = structure
    return program, structure


_warmed_up = False


def _warm_up_engine() -> None:
    """One tiny eager backward before the first trace: whatever the engine sets up on its first
    backward (it may measure itself on a probe graph) then happens outside the trace."""
    global _warmed_up
    if not _warmed_up:
        (Tensor(np.zeros(2), requires_grad=True) * 2.0).sum().backward()
        _warmed_up = True


class _no_backward_graph:
    """While tracing backward(create_graph=True), the nodes it makes forget their inputs: the
    graph of the backward pass would only be walked by a second backward, which a compiled step
    never runs, and it would keep every value of the step alive until the end."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def __enter__(self) -> None:
        self.node = make_node = getattr(tensor_module, "_node", None)
        if make_node is None:
            return
        trace = self.trace

        def node_without_inputs(*args: Any) -> Tensor:
            node = make_node(*args)
            if current() is trace:
                node._op, node._inputs, node._params = None, (), None
            return node

        tensor_module._node = node_without_inputs

    def __exit__(self, *exc: object) -> None:
        if self.node is not None:
            tensor_module._node = self.node


class _Collector:
    """The engine's tracer protocol: which gradient reached each node, and each leaf's parts."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.wanted: dict[int, Tensor] = {}
        self.gradient_of: dict[int, int] = {}  # value index of a node -> of its gradient
        self.parts: dict[int, list[Any]] = {}  # id(leaf) -> its gradient contributions

    def node(self, node: Tensor, g: Any) -> None:
        at, grad = self.trace.resolve(node.data), self.trace.resolve(g)
        if isinstance(at, Ref) and isinstance(grad, Ref):
            self.gradient_of.setdefault(at.index, grad.index)

    def edge(self, node: Tensor, i: int, x: Tensor, raw: Any, gx: Any) -> None:
        if id(x) in self.wanted:
            self.parts.setdefault(id(x), []).append(self.trace.resolve(gx))


class _LocalsAtReturn:
    """The local variables of `code`'s frame when it returns (to name values after them)."""

    def __init__(self, code: Any) -> None:
        self.code, self.locals = code, {}

    def __enter__(self) -> None:
        self.previous = sys.getprofile()
        if self.code is not None:
            sys.setprofile(self._profile)

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if event == "return" and frame.f_code is self.code:
            self.locals = dict(frame.f_locals)

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(self.previous)


def _leaves_of(root: Tensor) -> list[Tensor]:
    """The leaves requiring grad that `root` depends on, without recursion."""
    seen, stack, leaves = {id(root)}, [root], []
    while stack:
        t = stack.pop()
        if t._op is None:
            if t.requires_grad:
                leaves.append(t)
            continue
        for x in t._inputs:
            if isinstance(x, Tensor) and x.requires_grad and id(x) not in seen:
                seen.add(id(x))
                stack.append(x)
    return leaves


def _flatten(result: Any) -> tuple[list, Any]:
    """The leaves of f's result (Tensors, arrays, constants) and its structure."""
    if isinstance(result, (tuple, list)):
        leaves, parts = [], []
        for item in result:
            sub_leaves, sub = _flatten(item)
            leaves += sub_leaves
            parts.append(sub)
        return leaves, (type(result).__name__, tuple(parts))
    if isinstance(result, Tensor):
        return [result], "Tensor"
    if isinstance(result, np.ndarray):
        return [result], "array"
    if result is None or isinstance(result, (bool, int, float, str)):
        return [result], ("constant", result)
    raise TracingError(f"compile: the function returned a {type(result).__name__}; return "
                       f"Tensors, arrays, numbers, or tuples and lists of them")


def _describe(structure: Any) -> str:
    if isinstance(structure, tuple) and structure[0] in ("tuple", "list"):
        inner = ", ".join(_describe(s) for s in structure[1])
        return f"({inner})" if structure[0] == "tuple" else f"[{inner}]"
    if isinstance(structure, tuple):
        return repr(structure[1])
    return structure


def _unflatten(structure: Any, leaves: list, position: list[int]) -> Any:
    if isinstance(structure, tuple) and structure[0] in ("tuple", "list"):
        items = [_unflatten(s, leaves, position) for s in structure[1]]
        return tuple(items) if structure[0] == "tuple" else items
    value = leaves[position[0]]
    position[0] += 1
    if structure == "Tensor":
        return Tensor._wrap(value if type(value) is np.ndarray else np.asarray(value))
    return value


def _first_tensor(result: Any) -> Tensor | None:
    leaves, _ = _flatten(result)
    return next((x for x in leaves if isinstance(x, Tensor)), None)


def _detached(result: Any) -> Any:
    if isinstance(result, (tuple, list)):
        return type(result)(_detached(x) for x in result)
    return result.detach() if isinstance(result, Tensor) else result


# ---------------------------------------------------------------------------------------------
# The program: instructions, optimized, named, written out and run.
# ---------------------------------------------------------------------------------------------
class Program:
    """One traced step as straight-line NumPy code.

    `source` is the step as Python (one line per primitive or NumPy call); `code` is the same
    list of `instructions` as it runs, with results written over dead temporaries (`out=`) and
    temporaries deleted after their last use. `inputs` names its parameters (the arguments,
    then the captured tensors, read afresh on every call); it returns f's results, then the
    gradient parts of each tensor that requires grad.
    """

    def __init__(self, trace: Trace, outputs: list, collector: _Collector,
                 names: Mapping[str, Any], local_names: Mapping[str, Any], f: Callable,
                 optimize: bool) -> None:
        self.shapes, self.dtypes = list(trace.shapes), list(trace.dtypes)
        self.structure_outputs = outputs
        parts = [(collector.wanted[key], refs) for key, refs in collector.parts.items()]
        # A tensor passed as an argument gets its gradient by position (each call passes its
        # own); a captured one by identity.
        position_of = {index: p for p, index in enumerate(trace.inputs) if index is not None}
        self.grad_targets = [(position_of.get(trace.captured[id(tensor)][1], tensor), len(refs))
                             for tensor, refs in parts]
        roots = outputs + [r for _, refs in parts for r in refs]
        instructions = list(trace.instructions)
        canon: dict[int, int] = {}
        if optimize:
            instructions, folded = _fold_constants(instructions, canon, self.shapes)
            roots = _fold_refs(_substitute(roots, canon), folded)
            instructions = _drop_times_one(instructions, canon, self.shapes, self.dtypes)
            roots = _substitute(roots, canon)
            instructions = _share_common(instructions, canon)
            roots = _substitute(roots, canon)
            instructions = _remove_dead(instructions, roots)
            instructions = _fold_sum_reshape(instructions, roots, canon, self.shapes)
            roots = _substitute(roots, canon)
            instructions = _remove_dead(instructions, roots)
        self.instructions = instructions
        self.roots = roots
        self.output_count = len(outputs)
        # Results that are constants or inputs (x * 1 is x): copied on every call, so that
        # each call returns arrays of its own, as eager does.
        inputs = {i for i in trace.inputs if i is not None} | {
            i for _, i in trace.captured.values()}
        self.constant_results = {k for k, r in enumerate(roots) if isinstance(r, np.ndarray)
                                 or isinstance(r, Ref) and r.index in inputs}
        # Parameters of the generated function: the arguments (all, in order), then the
        # captured tensors that are used.
        used = {i for ins in instructions for i in ins.refs()} | {
            r.index for r in roots if isinstance(r, Ref)}
        argument_names = _argument_names(f, len(trace.inputs))
        self.arguments = [(position, index) for position, index in enumerate(trace.inputs)
                          if index is not None]
        input_indices = set(trace.inputs)
        self.captured = [(tensor, index) for tensor, index in trace.captured.values()
                         if index not in input_indices and index in used]
        self.captured_specs = [(self.shapes[i], self.dtypes[i]) for _, i in self.captured]
        self.names = _name_values(self, trace, argument_names, names, local_names, collector,
                                  parts, canon)
        self.source, _ = _write(self)
        self.code, self.constants = _write(self, executable=True)
        namespace = dict(self.constants)
        exec(compile_source(self.code), namespace)  # noqa: S102 - our own generated code
        self.function = namespace["step"]

    @property
    def inputs(self) -> list[str]:
        return [self.names[i] for _, i in self.arguments] + [
            self.names[i] for _, i in self.captured]

    def __repr__(self) -> str:
        return self.source

    def run(self, args: tuple) -> Any:
        """Replay on `args`; accumulate gradients; return f's results (no graph)."""
        arrays = [args[position].data if isinstance(args[position], Tensor) else args[position]
                  for position, _ in self.arguments]
        for (tensor, _), (shape, dtype) in zip(self.captured, self.captured_specs):
            data = tensor.data
            if data.shape != shape or data.dtype != dtype:
                return _STALE
            arrays.append(data)
        results = self.function(*arrays)
        if self.constant_results:
            results = [np.array(r, copy=True) if k in self.constant_results else r
                       for k, r in enumerate(results)]
        position = self.output_count
        stored: set[int] = set()
        wrap = Tensor._wrap
        for target, count in self.grad_targets:
            tensor = args[target] if type(target) is int else target
            for g in results[position:position + count]:
                if (type(g) is np.ndarray and tensor.grad is None and g.base is None
                        and g.dtype == tensor.dtype and id(g) not in stored):
                    stored.add(id(g))  # the common case of _accumulate, inlined
                    tensor.grad = wrap(g)
                else:
                    _accumulate(tensor, g, stored)
            position += count
        if self.structure == _LOSS_AND_TENSOR:  # (loss, outputs), as nn.fit's step returns
            loss, outputs = results[0], results[1]
            return (wrap(loss if type(loss) is np.ndarray else np.asarray(loss)),
                    wrap(outputs if type(outputs) is np.ndarray else np.asarray(outputs)))
        return _unflatten(self.structure, list(results[:self.output_count]), [0])

    structure: Any = None
    inlined: set[int] = set()


def compile_source(source: str) -> Any:
    """Python's own compile() (this module's compile() is autograd's)."""
    return builtins.compile(source, "<autograd.compile>", "exec")


def _accumulate(tensor: Tensor, g: Any, stored: set[int]) -> None:
    """Add g into tensor.grad exactly as the engine's backward does."""
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    if g.dtype != tensor.dtype:
        g = g.astype(tensor.dtype)
    if tensor.grad is not None:
        tensor.grad = Tensor._wrap(tensor.grad.data + g)
        return
    if g.base is not None or id(g) in stored:  # a view, or given to another tensor already
        g = np.array(g, copy=True)
    stored.add(id(g))
    tensor.grad = Tensor._wrap(g)


def _argument_names(f: Callable, count: int) -> list[str]:
    try:
        parameters = [p for p in inspect.signature(f).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters[:count]]
    return names + [f"x{i}" for i in range(len(names), count)]


# ----- optimization passes ---------------------------------------------------------------------
def _substitute(x: Any, canon: dict[int, int]) -> Any:
    if isinstance(x, Ref):
        return Ref(canon[x.index]) if x.index in canon else x
    if isinstance(x, tuple):
        return tuple(_substitute(i, canon) for i in x)
    if isinstance(x, list):
        return [_substitute(i, canon) for i in x]
    if isinstance(x, slice):
        return slice(*(_substitute(p, canon) for p in (x.start, x.stop, x.step)))
    if isinstance(x, dict):
        return {k: _substitute(v, canon) for k, v in x.items()}
    return x


def _key(x: Any) -> Any:
    """A hashable key that equals another only for the same value (arrays: the same object)."""
    if isinstance(x, Ref):
        return ("ref", x.index)
    if x is None or isinstance(x, (bool, int, float, str, complex)):
        return (type(x).__name__, repr(x))
    if isinstance(x, np.generic):
        return ("scalar", x.dtype.str, x.tobytes())
    if isinstance(x, np.dtype):
        return ("dtype", x.str)
    if isinstance(x, (tuple, list)):
        return (type(x).__name__, tuple(_key(i) for i in x))
    if isinstance(x, slice):
        return ("slice", _key(x.start), _key(x.stop), _key(x.step))
    if isinstance(x, dict):
        return ("dict", tuple((k, _key(v)) for k, v in sorted(x.items())))
    return ("object", id(x))


def _fold_constants(instructions: list[Instruction], canon: dict[int, int],
                    shapes: list) -> tuple[list[Instruction], dict[int, Any]]:
    """Compute once what depends on no input: instructions on Python numbers and 0-d arrays
    (the seed of backward, -1/N, ...), and reshapes to the shape a value already has."""
    constants: dict[int, Any] = {}  # value index -> its folded value
    folded: set[int] = set()  # ids of arrays folding made (they may be folded further)
    kept = []
    for ins in instructions:
        ins.args = _fold_refs(ins.args, constants)
        ins.kwargs = _fold_refs(ins.kwargs, constants)
        if (ins.kind == "primitive" and ins.fn is _RESHAPE_FORWARD and isinstance(ins.args[0], Ref)
                and tuple(ins.kwargs.get("shape", ())) == tuple(shapes[ins.args[0].index])):
            canon[ins.outs[0]] = canon.get(ins.args[0].index, ins.args[0].index)
            continue
        ins.args, ins.kwargs = _substitute(ins.args, canon), _substitute(ins.kwargs, canon)
        if ins.kind not in ("guard", "setitem") and _foldable((ins.args, ins.kwargs), folded):
            with np.errstate(all="ignore"):
                result = ins.fn(*ins.args, **ins.kwargs)
            parts = result if len(ins.outs) > 1 else (result,)
            for index, value in zip(ins.outs, parts):
                constants[index] = value
                folded.add(id(value))
            continue
        kept.append(ins)
    return kept, constants


def _drop_times_one(instructions: list[Instruction], canon: dict[int, int], shapes: list,
                    dtypes: list) -> list[Instruction]:
    """x * 1 is x, bit for bit (backward's seed of 1 multiplies the first gradient)."""
    kept = []
    for ins in instructions:
        ins.args, ins.kwargs = _substitute(ins.args, canon), _substitute(ins.kwargs, canon)
        if ins.fn is np.multiply and ins.kind in ("primitive", "ufunc") and not ins.kwargs \
                and len(ins.args) == 2:
            a, b = ins.args
            x, one = (a, b) if isinstance(a, Ref) else (b, a)
            out = ins.outs[0]
            if (isinstance(x, Ref) and not isinstance(one, Ref) and _all_ones(one)
                    and shapes[x.index] == shapes[out] and dtypes[x.index] == dtypes[out]
                    and np.result_type(one).kind in "biuf"):
                canon[out] = x.index
                continue
        kept.append(ins)
    return kept


def _all_ones(x: Any) -> bool:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.generic, np.ndarray)):
        return False
    return bool(np.all(np.asarray(x) == 1))


def _fold_refs(x: Any, constants: dict[int, Any]) -> Any:
    if isinstance(x, Ref):
        return constants.get(x.index, x)
    if isinstance(x, tuple):
        return tuple(_fold_refs(i, constants) for i in x)
    if isinstance(x, list):
        return [_fold_refs(i, constants) for i in x]
    if isinstance(x, dict):
        return {k: _fold_refs(v, constants) for k, v in x.items()}
    return x


def _foldable(x: Any, folded: set[int]) -> bool:
    """No Refs, and arrays only if 0-d or made by folding (a captured array may change)."""
    if isinstance(x, Ref):
        return False
    if isinstance(x, np.ndarray):
        return x.ndim == 0 or id(x) in folded
    if isinstance(x, (tuple, list)):
        return all(_foldable(i, folded) for i in x)
    if isinstance(x, dict):
        return all(_foldable(v, folded) for v in x.values())
    if isinstance(x, slice):
        return _foldable((x.start, x.stop, x.step), folded)
    return True


def _share_common(instructions: list[Instruction], canon: dict[int, int]) -> list[Instruction]:
    """Common subexpressions: an instruction equal to an earlier one reuses its results."""
    seen: dict[Any, tuple[int, ...]] = {}
    kept = []
    for ins in instructions:
        ins.args, ins.kwargs = _substitute(ins.args, canon), _substitute(ins.kwargs, canon)
        if ins.kind == "setitem":  # its output index is also the array it changed
            kept.append(ins)
            continue
        key = (ins.kind, ins.name, id(ins.fn), _key(ins.args), _key(ins.kwargs))
        earlier = seen.get(key)
        if earlier is not None:
            for mine, theirs in zip(ins.outs, earlier):
                canon[mine] = theirs
            continue
        seen[key] = ins.outs
        kept.append(ins)
    return kept


def _remove_dead(instructions: list[Instruction], roots: list) -> list[Instruction]:
    """Drop instructions whose results nothing uses (guards always stay)."""
    live = {r.index for r in roots if isinstance(r, Ref)}
    kept = []
    for ins in reversed(instructions):
        if ins.kind == "guard" or any(o in live for o in ins.outs):
            live.update(ins.refs())
            kept.append(ins)
    return kept[::-1]


_SUM_FORWARD = P.sum.forward
_RESHAPE_FORWARD = P.reshape.forward


def _fold_sum_reshape(instructions: list[Instruction], roots: list, canon: dict[int, int],
                      shapes: list) -> tuple[list[Instruction], dict[int, Any]]:
    """sum(keepdims=True) then reshape to the reduced shape is sum(keepdims=False): broadcasting's
    adjoint reads as `db = dZ.sum(axis=0)`."""
    uses: dict[int, int] = {}
    for ins in instructions:
        for i in ins.refs():
            uses[i] = uses.get(i, 0) + 1
    for r in roots:
        if isinstance(r, Ref):
            uses[r.index] = uses.get(r.index, 0) + 1
    producer = {ins.outs[0]: ins for ins in instructions if len(ins.outs) == 1}
    kept = []
    for ins in instructions:
        if (ins.kind == "primitive" and ins.fn is _RESHAPE_FORWARD and isinstance(ins.args[0], Ref)
                and uses.get(ins.args[0].index) == 1):
            total = producer.get(ins.args[0].index)
            if (total is not None and total.kind == "primitive" and total.fn is _SUM_FORWARD
                    and total.kwargs.get("keepdims") is True
                    and _reduced(shapes[total.outs[0]], total.kwargs.get("axis"))
                    == tuple(ins.kwargs.get("shape", ()))):
                total.kwargs = {**total.kwargs, "keepdims": False}
                shapes[total.outs[0]] = tuple(ins.kwargs["shape"])
                canon[ins.outs[0]] = total.outs[0]
                continue
        kept.append(ins)
    for ins in kept:
        ins.args, ins.kwargs = _substitute(ins.args, canon), _substitute(ins.kwargs, canon)
    return kept


def _reduced(shape: tuple, axis: Any) -> tuple:
    if axis is None:
        return ()
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(n for i, n in enumerate(shape) if i not in axes)


# ----- names -----------------------------------------------------------------------------------
def _identifier(name: str) -> str:
    """A Python identifier from a name such as "0.weight" (-> "layer0_weight")."""
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if not text or text[0].isdigit():
        text = "layer" + text
    return text + "_" if keyword.iskeyword(text) else text


_RESERVED = {"np", "step", "GuardFailed", "setitem", "bool", "int", "float", "complex", "len",
             "range", "slice", "print"}


def _name_values(program: Program, trace: Trace, argument_names: list[str],
                 names: Mapping[str, Any], local_names: Mapping[str, Any],
                 collector: _Collector, parts: list, canon: dict[int, int]) -> dict[int, str]:
    """Value index -> name: arguments, then the user's names, f's locals, gradients, t1, t2..."""
    result: dict[int, str] = {}
    taken = set(_RESERVED) | {ins.name for ins in program.instructions
                              if ins.kind == "primitive"}

    def give(index: Any, name: str) -> None:
        if isinstance(index, Ref):
            index = index.index
        if not isinstance(index, int):
            return
        index = canon.get(index, index)
        name = _identifier(name)
        if index in result or name in taken:
            return
        result[index] = name
        taken.add(name)

    for position, index in enumerate(trace.inputs):
        if index is not None:
            give(index, argument_names[position])
    by_tensor = {id(v): n for n, v in names.items() if isinstance(v, Tensor)}
    for tensor, index in program.captured:
        if id(tensor) in by_tensor:
            give(index, by_tensor[id(tensor)])
    for name, ref in local_names.items():
        if not name.startswith("_"):
            give(ref, name)
    unnamed = 0
    for tensor, index in program.captured:  # still unnamed: the tensor's own name, or p1, p2
        if canon.get(index, index) not in result:
            unnamed += 1
            give(index, tensor.name or f"p{unnamed}")
    named_forward = dict(result)
    for node_index, grad_index in collector.gradient_of.items():
        node_index = canon.get(node_index, node_index)
        if node_index in named_forward:
            give(grad_index, "d" + named_forward[node_index])
    for tensor, refs in parts:
        leaf = next((i for t, i in program.captured if t is tensor), None)
        if leaf is None:
            leaf = trace.captured.get(id(tensor), (None, None))[1]
        if leaf in result and len(refs) == 1:
            give(refs[0], "d" + result[leaf])
    for ins in program.instructions:  # what a primitive saved for its backward
        if ins.kind == "primitive" and ins.op.saves and len(ins.outs) == 2:
            give(ins.outs[1], "saved")
    for k, output in enumerate(program.structure_outputs):  # what f returns, unnamed so far
        give(output, "loss" if k == 0 and collector.wanted else f"output{k}")
    program.inlined = {i for i in _transposes_used_once(program) if i not in result}
    used = {i for ins in program.instructions for i in ins.refs()} | {
        r.index for r in program.roots if isinstance(r, Ref)}
    counter = 0
    for ins in program.instructions:
        for o in ins.outs:
            while o not in result and o not in program.inlined and o in used:
                counter += 1
                give(o, f"t{counter}")
    return result


def _transposes_used_once(program: Program) -> set[int]:
    """Matrix transposes read by one instruction: written inline, `dW2 = A1.T @ dZ2`."""
    uses: dict[int, int] = {}
    for ins in program.instructions:
        for i in ins.refs():
            uses[i] = uses.get(i, 0) + 1
    roots = {r.index for r in program.roots if isinstance(r, Ref)}
    found = set()
    for ins in program.instructions:
        if len(ins.outs) != 1 or uses.get(ins.outs[0]) != 1 or ins.outs[0] in roots:
            continue
        x = ins.args[0] if ins.args else None
        if not isinstance(x, Ref) or len(program.shapes[x.index]) != 2:
            continue
        plain_transpose = (
            (ins.kind == "method" and ins.name == "transpose" and len(ins.args) == 1
             and not ins.kwargs)
            or (ins.kind == "method" and ins.name == "swapaxes" and not ins.kwargs
                and tuple(ins.args[1:]) in ((-1, -2), (-2, -1), (0, 1), (1, 0)))
            or (ins.kind == "primitive" and ins.fn is P.transpose.forward
                and ins.kwargs.get("axes") in (None, (1, 0))))
        if plain_transpose:
            found.add(ins.outs[0])
    return found


# ----- writing the code ------------------------------------------------------------------------
_INFIX = {np.add: "+", np.subtract: "-", np.multiply: "*", np.divide: "/", np.matmul: "@",
          np.greater: ">", np.greater_equal: ">=", np.less: "<", np.less_equal: "<=",
          np.equal: "==", np.not_equal: "!="}
_PREFIX = {np.negative: "-", np.invert: "~"}
_KNOWN = {P.sum.forward: "sum", P.max.forward: "max", P.min.forward: "min",
          P.reshape.forward: "reshape", P.transpose.forward: "transpose",
          P.broadcast_to.forward: "broadcast_to", P.getitem.forward: "getitem",
          P.cast.forward: "cast", P.where.forward: "where"}


class _Writer:
    def __init__(self, program: Program) -> None:
        self.names = program.names
        self.constants: dict[str, Any] = {"np": np, "GuardFailed": GuardFailed,
                                          "setitem": _setitem_copy}
        self.by_id: dict[int, str] = {}
        self.inline: dict[int, str] = {}
        self.shapes = program.shapes
        self.used = {i for ins in program.instructions for i in ins.refs()} | {
            r.index for r in program.roots if isinstance(r, Ref)}

    def is_matrix_transpose(self, x: Any, axes: Any) -> bool:
        """x.transpose(axes) or x.swapaxes(-1, -2) that is plain x.T (a 2-d x)."""
        return isinstance(x, Ref) and len(self.shapes[x.index]) == 2 and tuple(axes) in (
            (1, 0), (-1, -2), (-2, -1))

    def bind(self, value: Any, prefix: str) -> str:
        """A name in the generated module's namespace for a function or constant."""
        if id(value) in self.by_id:
            return self.by_id[id(value)]
        name, k = prefix, 1
        while name in self.constants or name in self.names.values():
            k += 1
            name = f"{prefix}{k}" if prefix.startswith("c") else f"{prefix}_{k}"
        self.constants[name] = value
        self.by_id[id(value)] = name
        return name

    def value(self, x: Any, in_index: bool = False) -> str:
        if isinstance(x, Ref):
            return self.inline.get(x.index) or self.names[x.index]
        if x is None or isinstance(x, (bool, int, str)):
            return repr(x)
        if isinstance(x, float):
            return repr(x) if np.isfinite(x) else self.bind(x, "c")
        if x is Ellipsis:
            return "..."
        if isinstance(x, np.generic) and np.isfinite(x):
            return repr(x)
        if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind == "f" and np.isfinite(x):
            dtype = "" if x.dtype == np.float64 else f", dtype=np.{x.dtype.name}"
            return f"np.array({float(x)!r}{dtype})"  # a 0-d constant such as the seed 1
        if isinstance(x, np.dtype) and getattr(np, x.name, None) is x.type:
            return f"np.{x.name}"
        if isinstance(x, type) and getattr(np, x.__name__, None) is x:
            return f"np.{x.__name__}"
        if isinstance(x, tuple):
            inner = ", ".join(self.value(i, in_index) for i in x)
            return inner if in_index else f"({inner}{',' if len(x) == 1 else ''})"
        if isinstance(x, list):
            return "[" + ", ".join(self.value(i) for i in x) + "]"
        if isinstance(x, slice):
            parts = ["" if p is None else self.value(p) for p in (x.start, x.stop, x.step)]
            if in_index:
                return ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
            return f"slice({', '.join(p or 'None' for p in parts)})"
        return self.bind(x, "c")

    def arguments(self, args: tuple, kwargs: dict) -> str:
        parts = [self.value(a) for a in args]
        parts += [f"{k}={self.value(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)

    def function(self, fn: Any, name: str) -> str:
        """How generated code calls `fn`: np.<name> when it is NumPy's, else a bound name."""
        public = getattr(fn, "__name__", None)
        if public and getattr(np, public, None) is fn:
            return f"np.{public}"
        return self.bind(fn, _identifier(name))

    def expression(self, ins: Instruction) -> str:
        args, kwargs, fn = ins.args, ins.kwargs, ins.fn
        if ins.kind in ("primitive", "ufunc") and not kwargs:
            all_constant = not any(isinstance(a, Ref) for a in args)
            if fn in _INFIX and len(args) == 2 and not all_constant:
                return f"{self.value(args[0])} {_INFIX[fn]} {self.value(args[1])}"
            if fn in _PREFIX and len(args) == 1 and not all_constant:
                return f"{_PREFIX[fn]}{self.value(args[0])}"
        if ins.kind == "primitive" and fn in _KNOWN:
            written = self.known(_KNOWN[fn], args, kwargs)
            if written:
                return written
        if ins.kind == "ufunc" and "." in ins.name:
            ufunc_name, method = ins.name.split(".")
            if getattr(np, ufunc_name, None) is getattr(fn, "__self__", None):
                return f"np.{ufunc_name}.{method}({self.arguments(args, kwargs)})"
        if ins.kind == "method":
            if ins.name == "transpose" and len(args) == 1 and not kwargs:
                return f"{self.value(args[0])}.T"
            if ins.name == "swapaxes" and not kwargs and self.is_matrix_transpose(args[0],
                                                                                 args[1:]):
                return f"{self.value(args[0])}.T"
            return f"{self.value(args[0])}.{ins.name}({self.arguments(args[1:], kwargs)})"
        if ins.kind == "getitem":
            return f"{self.value(args[0])}[{self.value(args[1], in_index=True)}]"
        if ins.kind == "setitem":
            return f"setitem({self.arguments(args, kwargs)})"
        if ins.kind == "copy":
            return f"np.array({self.value(args[0])}, dtype={self.value(kwargs['dtype'])})"
        return f"{self.function(fn, ins.name)}({self.arguments(args, kwargs)})"

    def known(self, kind: str, args: tuple, kwargs: dict) -> str | None:
        """The table's shape and reduction primitives as the NumPy methods they are."""
        x = self.value(args[0])
        if kind in ("sum", "max", "min"):
            options = []
            if kwargs.get("axis") is not None:
                axis = kwargs["axis"]
                if isinstance(axis, tuple) and len(axis) == 1:
                    axis = axis[0]
                options.append(f"axis={self.value(axis)}")
            if kwargs.get("keepdims"):
                options.append("keepdims=True")
            return f"{x}.{kind}({', '.join(options)})"
        if kind == "reshape":
            return f"{x}.reshape({self.value(tuple(kwargs['shape']))})"
        if kind == "transpose":
            axes = kwargs.get("axes")
            if axes is None or self.is_matrix_transpose(args[0], axes):
                return f"{x}.T"
            return f"{x}.transpose({self.value(tuple(axes))})"
        if kind == "broadcast_to":
            return f"np.broadcast_to({x}, {self.value(tuple(kwargs['shape']))})"
        if kind == "getitem":
            return f"{x}[{self.value(kwargs['index'], in_index=True)}]"
        if kind == "cast":
            return f"{x}.astype({self.value(kwargs['dtype'])})"
        if kind == "where":
            return f"np.where({self.arguments(args, {})})"
        return None

    def line(self, ins: Instruction, number: int) -> str:
        if ins.kind == "guard":
            expected = ins.kwargs["expected"]
            check = {"bool()": "bool", "float()": "float", "int()": "int",
                     "complex()": "complex"}.get(ins.name)
            got = f"{check}({self.value(ins.args[0])})" if check else \
                f"{self.function(ins.fn, 'convert')}({self.value(ins.args[0])})"
            if expected is True or expected is False:
                test = f"not {self.value(ins.args[0])}" if expected else self.value(ins.args[0])
            else:
                test = f"{got} != {self.value(expected)}"
            return f"if {test}: raise GuardFailed({number})  # a check made when traced"
        targets = ", ".join(self.names[o] if o in self.names else "_" for o in ins.outs)
        comment = f"  # {ins.op.math}" if ins.kind == "vjp" else ""
        return f"{targets} = {self.expression(ins)}{comment}"


# ----- memory: results written over dead temporaries, temporaries deleted after last use ------
# Elementwise ufuncs that may write their result over an input of the same shape and dtype.
_ELEMENTWISE = {np.add, np.subtract, np.multiply, np.divide, np.negative, np.exp, np.log,
                np.sqrt, np.tanh, np.power, np.abs}
# Forwards that always return a new array (never a view of an input): their results may be
# overwritten, and reading a value with them makes no view that could see it change.
_ALLOCATING = _ELEMENTWISE | {np.matmul, np.greater, np.greater_equal, np.less, np.less_equal,
                              np.equal, np.not_equal, P.sum.forward, P.max.forward,
                              P.min.forward, P.linear.forward, P.sigmoid.forward,
                              P.relu.forward, P.softmax.forward, P.log_softmax.forward}


def _memory_plan(program: Program) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Which instruction writes over which dead input (instruction -> argument position), and
    which values die after each instruction (to `del` them: peak memory as eager's)."""
    instructions = program.instructions
    kept = {r.index for r in program.roots if isinstance(r, Ref)} | {
        i for _, i in program.arguments} | {i for _, i in program.captured}
    last_use: dict[int, int] = {}
    only_safe_readers: dict[int, bool] = {}
    fresh = set()
    for k, ins in enumerate(instructions):
        safe = ins.kind == "guard" or (ins.kind in ("primitive", "ufunc")
                                       and "." not in ins.name and ins.fn in _ALLOCATING)
        for i in ins.refs():
            last_use[i] = k
            only_safe_readers[i] = only_safe_readers.get(i, True) and safe
        if ins.kind in ("primitive", "ufunc") and "." not in ins.name and ins.fn in _ALLOCATING:
            fresh.update(ins.outs)
    overwrite: dict[int, int] = {}
    for k, ins in enumerate(instructions):
        if (ins.fn not in _ELEMENTWISE or ins.kwargs or len(ins.outs) != 1 or ins.scalar
                or ins.kind not in ("primitive", "ufunc") or "." in ins.name):
            continue
        out = ins.outs[0]
        for position, a in enumerate(ins.args):
            if (isinstance(a, Ref) and a.index in fresh and a.index not in kept
                    and last_use.get(a.index) == k and only_safe_readers.get(a.index)
                    and len(program.shapes[a.index]) > 0
                    and program.shapes[a.index] == program.shapes[out]
                    and program.dtypes[a.index] == program.dtypes[out]
                    and sum(1 for b in ins.args if isinstance(b, Ref) and b.index == a.index)
                    == 1):
                overwrite[k] = position
                break
    dead: dict[int, list[int]] = {}
    for i, k in last_use.items():
        if i not in kept:
            dead.setdefault(k, []).append(i)
    return overwrite, dead


def _write(program: Program, executable: bool = False) -> tuple[str, dict[str, Any]]:
    """The program as the source of `def step(...)`, and the namespace it runs in. The
    executable version writes results over dead temporaries (`out=`) and deletes temporaries
    after their last use; the readable one (Program.source) does neither."""
    writer = _Writer(program)
    overwrite, dead = _memory_plan(program) if executable else ({}, {})
    body = []
    for k, ins in enumerate(program.instructions):
        if ins.outs and ins.outs[0] in program.inlined:
            writer.inline[ins.outs[0]] = writer.expression(ins)
            continue
        if k in overwrite:
            target = writer.value(ins.args[overwrite[k]])
            call = f"np.{ins.fn.__name__}({writer.arguments(ins.args, {})}, out={target})"
            body.append(f"{writer.names[ins.outs[0]]} = {call}")
        else:
            body.append(writer.line(ins, k))
        gone = [writer.names[i] for i in dead.get(k, ()) if i in writer.names
                and i not in program.inlined]
        if gone:
            body.append(f"del {', '.join(gone)}")
    results = [writer.value(r) for r in program.roots]
    parameters = ", ".join(program.inputs)
    lines = [f"def step({parameters}):"]
    arrays = [f"{name} {value.shape}" for name, value in writer.constants.items()
              if isinstance(value, np.ndarray)]
    if arrays:
        lines.append(f"    # constant arrays: {', '.join(arrays)}")
    lines += [f"    {line}" for line in body]
    lines.append(f"    return ({', '.join(results)}{',' if len(results) == 1 else ''})")
    return "\n".join(lines) + "\n", writer.constants


def _setitem_copy(x: Any, index: Any, value: Any) -> Any:
    x = np.array(x, copy=True)
    x[index] = value
    return x
