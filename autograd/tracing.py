"""Tracing for `autograd.compile`: run a step once on real values and write down what it did.

While a trace is active (in its own thread only), every primitive's forward is recorded as one
instruction, and so is every NumPy call on a traced array (`TracedArray`: the masks a VJP builds
from its inputs, `x > 0`, are part of the step, not constants). Values keep their real numbers,
so the traced call computes exactly what an eager call computes.

The hooks are class-level descriptors installed for the duration of a trace: `Primitive.forward`
(records each application), `Tensor.data` (a tensor that existed before the trace and whose data
is read becomes an input of the program, read afresh on every call) and `Tensor.__init__` /
`Tensor._wrap` (a copy of a traced value stays traced). Nothing in tensor.py knows about them.

Converting a traced value to Python (`bool`, `float`, `int`, `item()`) cannot be replayed: in the
user's code it is an error that says why; inside autograd and nn (input validation such as "labels
lie in [0, C)") the value seen is recorded as a guard, and a call where it differs runs eagerly.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .tensor import Primitive, Tensor


class TracingError(RuntimeError):
    """Raised when a function cannot be compiled faithfully; the message says why and what to do."""


class Ref:
    """A value of the program, by its index."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"Ref({self.index})"


class Instruction:
    """One step of the program: `outs = fn(*args, **kwargs)`, args holding Refs or constants.

    kind: "primitive" (op is the Primitive, fn its forward), "vjp" (fn one of op's VJPs, run on
    arrays with what op saved), "ufunc" (fn a ufunc or one of its
    methods), "function" (a NumPy function), "method" (name is the ndarray method),
    "getitem", "setitem", "copy" (np.array of a traced value), or "guard" (a value seen as
    Python during tracing: kwargs holds how it was converted and what it was).
    """

    __slots__ = ("kind", "name", "op", "fn", "args", "kwargs", "outs", "scalar")

    def __init__(self, kind: str, name: str, fn: Any, args: tuple, kwargs: dict,
                 outs: tuple[int, ...], op: Primitive | None = None) -> None:
        self.kind, self.name, self.fn, self.args, self.kwargs = kind, name, fn, args, kwargs
        self.outs, self.op, self.scalar = outs, op, False

    def refs(self) -> list[int]:
        """Indices of the values this instruction reads."""
        found: list[int] = []
        _collect_refs(self.args, found)
        _collect_refs(tuple(self.kwargs.values()), found)
        return found

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name} {self.args} {self.kwargs} -> {self.outs}>"


def _collect_refs(x: Any, found: list[int]) -> None:
    if isinstance(x, Ref):
        found.append(x.index)
    elif isinstance(x, (tuple, list)):
        for item in x:
            _collect_refs(item, found)
    elif isinstance(x, slice):
        _collect_refs((x.start, x.stop, x.step), found)


# ---------------------------------------------------------------------------------------------
# The trace: values, instructions, inputs.
# ---------------------------------------------------------------------------------------------
_active = threading.local()  # .trace: the Trace being recorded in this thread, if any
_lock = threading.Lock()  # one trace at a time: the hooks are class-level


def current() -> Trace | None:
    """The trace being recorded in this thread, or None."""
    return getattr(_active, "trace", None)


class Trace:
    """What one traced call did."""

    def __init__(self) -> None:
        self.instructions: list[Instruction] = []
        # index -> the traced value, weakly: a value dies when the step no longer needs it,
        # and its memory layout is forgotten then (so a new array at that address is not it).
        self.values: list[weakref.ref] = []
        self.shapes: list[tuple] = []
        self.dtypes: list[np.dtype] = []
        self.kept: list[Any] = []  # inputs and captured tensors' views: alive for the trace
        self.layouts: dict[tuple, int] = {}  # memory layout -> index, for plain views of values
        self.inputs: list[int] = []  # indices of the explicit arguments
        self.captured: dict[int, tuple[Tensor, int]] = {}  # id(tensor) -> (tensor, index)
        # Tensors made during the trace (never captured), weakly: the step frees them as usual.
        self.created: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self.guards = 0
        self.random_generators = 0  # made during the trace (np.random.default_rng)
        self.computed: list[int] = []  # values made by instructions (not inputs or captured)

    def release(self) -> None:
        """Forget the traced values (each refers back to the trace: a cycle gc would free late)."""
        for ref in self.values:
            value = ref()
            if value is not None:
                value._trace = None
        self.values, self.layouts, self.kept = [], {}, []
        self.created = weakref.WeakValueDictionary()

    def value(self, index: int) -> TracedArray | None:
        """The traced value `index`, if it is still alive."""
        return self.values[index]()

    # ----- values ------------------------------------------------------------------------------
    def new_value(self, real: Any) -> TracedArray:
        """Register `real` (an array or NumPy scalar) as a new value of the program."""
        plain = np.asarray(real)
        value = plain.view(TracedArray)
        value._index, value._trace = len(self.values), self
        self._register(value, plain)
        return value

    def _register(self, value: TracedArray, plain: np.ndarray) -> None:
        key, index = _layout(plain), len(self.values)
        layouts = self.layouts

        def forget(_: Any) -> None:
            if layouts.get(key) == index:
                del layouts[key]

        self.values.append(weakref.ref(value, forget))
        self.shapes.append(plain.shape)
        self.dtypes.append(plain.dtype)
        layouts[key] = index

    def repoint(self, value: TracedArray, real: np.ndarray) -> None:
        """`value`'s memory was written in place: from now on it is a new value of the program."""
        value._index = len(self.values)
        self._register(value, real)

    def resolve(self, x: Any) -> Any:
        """`x` with traced arrays replaced by Refs (recursively in tuples, lists and slices)."""
        if isinstance(x, TracedArray):
            if x._trace is not self or x._index is None:
                raise TracingError(
                    f"compile: an array of shape {x.shape} was derived from a traced value by "
                    f"an operation the tracer does not record; compute it with autograd's ops "
                    f"or NumPy functions on the array itself")
            return Ref(x._index)
        if isinstance(x, np.ndarray):
            index = self.layouts.get(_layout(x))
            if index is None:
                self._check_not_a_view(x)
                return x
            return Ref(index)
        if isinstance(x, Tensor):
            return self.resolve(x.data)
        if isinstance(x, tuple):
            return tuple(self.resolve(item) for item in x)
        if isinstance(x, list):
            return [self.resolve(item) for item in x]
        if isinstance(x, slice) and any(isinstance(p, np.ndarray) for p in
                                         (x.start, x.stop, x.step)):
            return slice(*(self.resolve(p) for p in (x.start, x.stop, x.step)))
        return x

    def _check_not_a_view(self, x: np.ndarray) -> None:
        """A constant must not share memory with a value the step computes: it would be a view
        made by an operation the tracer did not see (np.lib.stride_tricks.as_strided, a view
        through a plain ndarray), frozen at the traced call's values."""
        if x.size == 0:
            return
        low, high = _byte_bounds(x)
        kept = {id(v) for v in self.kept}
        for index in self.computed:
            value = self.values[index]()
            if value is None or id(value) in kept or value.size == 0:
                continue
            value_low, value_high = _byte_bounds(value)
            if low < value_high and value_low < high:
                raise TracingError(
                    f"compile: an array of shape {x.shape} shares memory with a value the step "
                    f"computes (shape {value.shape}) but was made by an operation the tracer "
                    f"does not record (e.g. np.lib.stride_tricks.as_strided, or a plain "
                    f"np.ndarray view); it would be frozen at this call's values. Make it with "
                    f"NumPy functions of the traced array or with autograd's ops")

    def record(self, kind: str, name: str, fn: Any, args: tuple, kwargs: dict, result: Any,
               op: Primitive | None = None) -> Any:
        """Record an instruction whose real result is `result`; returns it as traced values."""
        args, kwargs = self.resolve(args), {k: self.resolve(v) for k, v in kwargs.items()}
        several = isinstance(result, tuple)
        parts = result if several else (result,)
        values = tuple(self.new_value(part) for part in parts)
        # Values that own new memory: a constant viewing it was made behind the tracer's back.
        self.computed.extend(v._index for v, part in zip(values, parts)
                             if isinstance(part, np.ndarray) and part.base is None)
        instruction = Instruction(kind, name, fn, args, kwargs, tuple(v._index for v in values),
                                  op)
        instruction.scalar = not several and not isinstance(result, np.ndarray)
        self.instructions.append(instruction)
        if name in _DATA_SHAPED or name == "getitem" and self._masked(args, kwargs):
            for value in values:  # a shape that depends on the data: checked on every call
                self.instructions.append(Instruction("guard", "shape", np.shape,
                                                     (Ref(value._index),),
                                                     {"expected": value.shape}, ()))
        return values if several else values[0]

    def _masked(self, args: tuple, kwargs: dict) -> bool:
        """Whether a traced boolean array is an index here (x[mask]: as many rows as Trues)."""
        index = kwargs.get("index", args[1] if len(args) > 1 else None)
        parts = index if isinstance(index, tuple) else (index,)
        return any(isinstance(p, Ref) and self.dtypes[p.index].kind == "b" for p in parts)


# Operations whose result's shape depends on the data (besides indexing with a boolean mask).
_DATA_SHAPED = {"nonzero", "argwhere", "flatnonzero", "unique", "extract", "compress"}


def _byte_bounds(a: np.ndarray) -> tuple[int, int]:
    """The first and one-past-last byte addresses of the memory a spans."""
    low = high = a.__array_interface__["data"][0]
    for n, stride in zip(a.shape, a.strides):
        if stride < 0:
            low += (n - 1) * stride
        else:
            high += (n - 1) * stride
    return low, high + a.itemsize


def _layout(a: np.ndarray) -> tuple:
    """What makes two arrays the same view of the same memory."""
    return (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str)


def _plain(x: Any) -> Any:
    """`x` with TracedArrays viewed as plain ndarrays (recursively in tuples and lists)."""
    if isinstance(x, TracedArray):
        return x.view(np.ndarray)
    if isinstance(x, tuple):
        return tuple(_plain(item) for item in x)
    if isinstance(x, list):
        return [_plain(item) for item in x]
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, slice):
        return slice(_plain(x.start), _plain(x.stop), _plain(x.step))
    return x


# ---------------------------------------------------------------------------------------------
# Traced arrays: real values that record the NumPy calls made on them.
# ---------------------------------------------------------------------------------------------
# Functions whose results describe shapes and types, never the data: not recorded.
_STATIC_FUNCTIONS = {np.shape, np.ndim, np.size, np.result_type, np.may_share_memory,
                     np.shares_memory, np.iscomplexobj, np.isrealobj}

# ndarray methods recorded as themselves (reductions such as sum and max go through ufuncs).
_METHODS = ("reshape", "astype", "copy", "transpose", "swapaxes", "ravel", "flatten", "squeeze",
            "clip", "round", "dot", "argmax", "argmin", "cumsum", "cumprod", "repeat", "take",
            "diagonal", "nonzero", "sort", "argsort", "trace", "var", "std", "mean", "prod",
            "any", "all", "sum", "max", "min")


class TracedArray(np.ndarray):
    """An ndarray whose value belongs to a trace: operations on it are recorded."""

    _index: int | None
    _trace: Trace | None

    def __array_finalize__(self, obj: Any) -> None:
        # A view made by an operation the tracer did not see is untracked: using it is an error.
        self._index, self._trace = None, None

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if any(isinstance(x, Tensor) for x in inputs):
            return NotImplemented  # a Tensor takes the call (the engine records it)
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        trace = current()
        out = kwargs.pop("out", None)
        if trace is None:  # a traced value used after its trace: plain NumPy
            if out is not None:
                kwargs["out"] = _plain(out)
            return fn(*_plain(inputs), **_plain(kwargs))
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        if method == "at":  # np.add.at(a, index, b): in place, replayed on a copy of a
            return _record_at(trace, ufunc, inputs)
        if out is None:
            return trace.record("ufunc", name, fn, inputs, kwargs,
                                fn(*_plain(inputs), **_plain(kwargs)))
        return _record_in_place(trace, "ufunc", name, fn, inputs, kwargs, out)

    def __array_function__(self, func: Callable, types: Any, args: tuple, kwargs: dict) -> Any:
        if any(issubclass(t, Tensor) for t in types):
            return NotImplemented  # a Tensor takes the call (the engine records it)
        trace = current()
        result = func(*_plain(args), **_plain(kwargs))
        if trace is None or func in _STATIC_FUNCTIONS:
            return result
        if kwargs.get("out") is not None:
            raise TracingError(f"compile: {func.__name__}(..., out=...) writes into a traced "
                               f"array; assign the result instead")
        if isinstance(result, list):
            result = tuple(result)
        if isinstance(result, tuple) and not all(isinstance(r, np.ndarray) for r in result):
            return result  # e.g. np.broadcast_shapes: shapes, not data
        if not isinstance(result, (tuple, np.ndarray, np.generic, bool, int, float, complex)):
            return result  # dtypes and other descriptions
        return trace.record("function", func.__name__, func, args, kwargs, result)

    # ----- indexing and methods ------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        trace = current()
        result = self.view(np.ndarray)[_plain(index)]
        if trace is None:
            return result
        return trace.record("getitem", "getitem", _getitem, (self, index), {}, result)

    def __setitem__(self, index: Any, value: Any) -> None:
        trace = current()
        self.view(np.ndarray)[_plain(index)] = _plain(value)
        if trace is not None:  # replayed on a copy: x = setitem(x, index, value)
            instruction_args = trace.resolve((self, index, value))
            trace.repoint(self, self.view(np.ndarray))
            trace.instructions.append(Instruction("setitem", "setitem", _setitem,
                                                  instruction_args, {}, (self._index,)))

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self)))

    @property
    def T(self) -> Any:  # noqa: N802 - ndarray's name
        return self.transpose()

    # ----- conversions to Python: recorded as guards inside the library, errors elsewhere --------
    def __bool__(self) -> bool:
        return _to_python(self, bool, "bool()")

    def __float__(self) -> float:
        return _to_python(self, float, "float()")

    def __int__(self) -> int:
        return _to_python(self, int, "int()")

    def __index__(self) -> int:
        return _to_python(self, _index_of, "an index (range(), slicing)")

    def __complex__(self) -> complex:
        return _to_python(self, complex, "complex()")

    def item(self, *args: Any) -> Any:
        if args:
            return self[args if len(args) > 1 else args[0]].item()
        return _to_python(self, _item, "item()")

    def tolist(self) -> Any:
        return _to_python(self, _tolist, "tolist()")

    def __contains__(self, value: Any) -> bool:
        return bool((self == value).any())

    def __repr__(self) -> str:
        return "traced " + repr(self.view(np.ndarray))

    def __str__(self) -> str:
        return str(self.view(np.ndarray))

    def __reduce__(self):
        raise TracingError("compile: a traced value cannot be pickled or deep-copied")


def _make_method(name: str) -> Callable:
    def method(self: TracedArray, *args: Any, **kwargs: Any) -> Any:
        trace = current()
        plain = self.view(np.ndarray)
        result = getattr(plain, name)(*_plain(args), **_plain(kwargs))
        if trace is None or not isinstance(result, (np.ndarray, np.generic, tuple)):
            return result
        return trace.record("method", name, _method_caller(name), (self, *args), kwargs, result)
    method.__name__ = name
    return method


_CALLERS: dict[str, Callable] = {}


def _method_caller(name: str) -> Callable:
    """One function per method name, so that equal instructions have equal functions (CSE)."""
    if name not in _CALLERS:
        def call(x: Any, *args: Any, **kwargs: Any) -> Any:
            return getattr(x, name)(*args, **kwargs)
        call.__name__ = name
        _CALLERS[name] = call
    return _CALLERS[name]


for _name in _METHODS:
    setattr(TracedArray, _name, _make_method(_name))


def _getitem(x: Any, index: Any) -> Any:
    return x[index]


def _setitem(x: Any, index: Any, value: Any) -> Any:
    x = np.array(x, copy=True)
    x[index] = value
    return x


def _index_of(x: np.ndarray) -> int:
    return x.__index__()


def _item(x: np.ndarray) -> Any:
    return x.item()


def _tolist(x: np.ndarray) -> Any:
    return x.tolist()


_AT: dict[Any, Callable] = {}


def _at(ufunc: np.ufunc) -> Callable:
    """ufunc.at as a function that returns a new array (one per ufunc, for CSE)."""
    if ufunc not in _AT:
        def at(a: Any, *rest: Any) -> Any:
            a = np.array(a, copy=True)
            ufunc.at(a, *rest)
            return a
        at.__name__ = f"{ufunc.__name__}_at"
        _AT[ufunc] = at
    return _AT[ufunc]


def _record_at(trace: Trace, ufunc: np.ufunc, inputs: tuple) -> None:
    target = inputs[0]
    if not isinstance(target, TracedArray):
        raise TracingError(f"compile: np.{ufunc.__name__}.at writes traced values into an array "
                           f"the trace does not own; start from np.zeros_like(x) of a traced x")
    args = trace.resolve(inputs)
    ufunc.at(*_plain(inputs))
    trace.repoint(target, target.view(np.ndarray))
    trace.instructions.append(Instruction("function", f"{ufunc.__name__}_at", _at(ufunc), args,
                                          {}, (target._index,)))


def _record_in_place(trace: Trace, kind: str, name: str, fn: Any, inputs: tuple, kwargs: dict,
                     out: tuple) -> Any:
    """A ufunc with out=: computed in place, recorded as a new value that out now holds."""
    outs = out if isinstance(out, tuple) else (out,)
    args = trace.resolve(inputs)
    resolved_kwargs = {k: trace.resolve(v) for k, v in kwargs.items()}
    fn(*_plain(inputs), out=tuple(_plain(o) for o in outs), **_plain(kwargs))
    indices = []
    for o in outs:
        if not isinstance(o, TracedArray):
            raise TracingError(f"compile: {name}(..., out=...) writes a traced value into an "
                               f"array the trace does not own; assign the result instead")
        trace.repoint(o, o.view(np.ndarray))
        indices.append(o._index)
    trace.instructions.append(Instruction(kind, name, fn, args, resolved_kwargs, tuple(indices)))
    return outs[0] if len(outs) == 1 else tuple(outs)


# The package directories whose code may convert traced values (validation): guarded, not refused.
_HERE = os.path.dirname(os.path.abspath(__file__))
_LIBRARY = (_HERE + os.sep, os.path.join(os.path.dirname(_HERE), "nn") + os.sep)
_NUMPY = os.path.dirname(np.__file__) + os.sep
_THIS_FILE = os.path.abspath(__file__)
_TENSOR_FILE = os.path.join(_HERE, "tensor.py")
_CONVERSIONS = {"__bool__", "__float__", "__int__", "__index__", "item", "tolist", "__len__",
                "__complex__", "__contains__"}


def _to_python(value: TracedArray, convert: Callable, how: str) -> Any:
    """The Python value of a traced array: a guard in library code, an error in user code."""
    plain = value.view(np.ndarray)
    trace = current()
    if trace is None:
        return convert(plain)
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename == _THIS_FILE or filename.startswith(_NUMPY) or (
                filename == _TENSOR_FILE and frame.f_code.co_name in _CONVERSIONS):
            frame = frame.f_back
            continue
        break
    where = "" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"
    if frame is None or not frame.f_code.co_filename.startswith(_LIBRARY) or \
            os.path.abspath(frame.f_code.co_filename) == _THIS_FILE:
        raise TracingError(
            f"compile: {how} of a traced value (shape {value.shape}) at {where}. A compiled "
            f"function is traced once and replayed on new data, so Python values computed "
            f"from the data (and `if` on them) cannot be replayed. Return the tensor and "
            f"convert it outside the compiled function, or choose with autograd.where.")
    result = convert(plain)
    trace.instructions.append(Instruction("guard", how, convert, (trace.resolve(value),),
                                          {"expected": result}, ()))
    trace.guards += 1
    return result


# ---------------------------------------------------------------------------------------------
# Hooks: descriptors that replace Primitive.forward and Tensor.data during a trace.
# ---------------------------------------------------------------------------------------------
class _RecordingForward:
    """Primitive.forward while tracing: the forward, recorded, in the tracing thread."""

    def __init__(self, slot: Any) -> None:
        self.slot = slot

    def __get__(self, op: Any, owner: Any = None) -> Any:
        if op is None:
            return self
        forward = self.slot.__get__(op, owner)
        trace = current()
        if trace is None or forward is None:
            return forward

        def recorded(*args: Any, **params: Any) -> Any:
            if params.get("out") is not None:
                raise TracingError(f"compile: an in-place update ({op.name} into an existing "
                                   f"tensor) inside a compiled function cannot be replayed; "
                                   f"update tensors outside it (e.g. in the optimizer step)")
            result = forward(*_plain(args), **_plain(params))
            return trace.record("primitive", op.name, forward, args, params, result, op)
        return recorded

    def __set__(self, op: Any, value: Any) -> None:
        self.slot.__set__(op, value)


class _RecordedVJPs:
    """Primitive.vjps while tracing. A primitive that saves for backward (PyTorch's
    save_for_backward) has VJPs written to use what it saved on arrays, and to recompute it on
    Tensors (for create_graph). The compiled backward needs no higher order, so such a VJP is
    recorded as one call on arrays: what the eager engine runs, with the saved value."""

    def __init__(self, slot: Any) -> None:
        self.slot = slot

    def __get__(self, op: Any, owner: Any = None) -> Any:
        if op is None:
            return self
        vjps = self.slot.__get__(op, owner)
        trace = current()
        if trace is None or not op.saves:
            return vjps
        return tuple(None if vjp is None else _whole_vjp(trace, op, i, vjp)
                     for i, vjp in enumerate(vjps))

    def __set__(self, op: Any, value: Any) -> None:
        self.slot.__set__(op, value)


def _whole_vjp(trace: Trace, op: Primitive, i: int, vjp: Callable) -> Callable:
    def recorded(g: Any, out: Any, *args: Any, **params: Any) -> Any:
        real = vjp(*_plain_data((g, out, *args)), **_plain_data(params))
        name = f"{op.name}_vjp" if sum(v is not None for v in op.vjps) == 1 else \
            f"{op.name}_vjp{i}"
        value = trace.record("vjp", name, vjp, (g, out, *args), params, real, op)
        return Tensor._wrap(value) if isinstance(g, Tensor) else value
    return recorded


def _plain_data(x: Any) -> Any:
    """Tensors as their data, traced arrays as plain ones (recursively)."""
    if isinstance(x, Tensor):
        return _plain(x.data)
    if isinstance(x, tuple):
        return tuple(_plain_data(item) for item in x)
    if isinstance(x, dict):
        return {k: _plain_data(v) for k, v in x.items()}
    return _plain(x)


class _TracedData:
    """Tensor.data while tracing: a tensor that existed before the trace becomes an input."""

    def __init__(self, slot: Any) -> None:
        self.slot = slot

    def __get__(self, tensor: Any, owner: Any = None) -> Any:
        if tensor is None:
            return self
        data = self.slot.__get__(tensor, owner)
        trace = current()
        if trace is None or isinstance(data, TracedArray) or id(tensor) in trace.created:
            return data
        entry = trace.captured.get(id(tensor))
        if entry is not None and entry[0] is tensor:
            value = trace.value(entry[1])
            if value.view(np.ndarray).__array_interface__ == data.__array_interface__:
                return value
        index = trace.layouts.get(_layout(data))
        if index is not None:  # a plain view of a traced value (np.asarray stripped the type)
            value = trace.value(index)
            if value is not None:
                return value
        value = trace.new_value(data)
        trace.kept.append(value)
        trace.captured[id(tensor)] = (tensor, value._index)
        return value

    def __set__(self, tensor: Any, value: Any) -> None:
        self.slot.__set__(tensor, value)


class hooks:
    """Install the tracing hooks for `trace` in this thread (a context manager)."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def __enter__(self) -> Trace:
        _lock.acquire()
        self.saved = {"forward": Primitive.__dict__["forward"], "vjps": Primitive.__dict__["vjps"],
                      "data": Tensor.__dict__["data"],
                      "init": Tensor.__dict__["__init__"], "wrap": Tensor.__dict__["_wrap"]}
        trace, init, wrap = self.trace, self.saved["init"], self.saved["wrap"].__func__

        def traced_init(tensor: Tensor, *args: Any, **kwargs: Any) -> None:
            init(tensor, *args, **kwargs)  # Tensor(x) copies with np.array: traced below
            if current() is trace:
                trace.created[id(tensor)] = tensor

        def traced_wrap(data: Any, requires_grad: bool = False) -> Tensor:
            tensor = wrap(data, requires_grad)
            if current() is trace:
                trace.created[id(tensor)] = tensor
            return tensor

        asarray, array = np.asarray, np.array

        def traced_asarray(a: Any, dtype: Any = None, order: Any = None, **kwargs: Any) -> Any:
            """np.asarray keeps a traced value traced (it would strip the type)."""
            if current() is trace and order is None and not kwargs:
                source = a.data if isinstance(a, Tensor) else a
                if isinstance(source, TracedArray):
                    if dtype is None or np.dtype(dtype) == source.dtype:
                        return source
                    return source.astype(dtype)
            return asarray(a, dtype=dtype, order=order, **kwargs)

        def traced_array(a: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
            """np.array of a traced value (a copy) is a traced value."""
            real = array(_plain(a.data if isinstance(a, Tensor) else a), dtype, *args, **kwargs)
            if current() is trace and not args and set(kwargs) <= {"copy"}:
                if _has_ref(trace.resolve(a)) and isinstance(real, np.ndarray):
                    return trace.record("copy", "array", _copy, (a,), {"dtype": real.dtype},
                                        real)
            return real

        default_rng = np.random.default_rng

        def traced_default_rng(*args: Any, **kwargs: Any) -> np.random.Generator:
            """A generator made during the trace: its draws would be baked into the program."""
            if current() is trace:
                trace.random_generators += 1
            return default_rng(*args, **kwargs)

        self.numpy_functions = (asarray, array, default_rng)
        np.asarray, np.array = traced_asarray, traced_array
        np.random.default_rng = traced_default_rng
        Primitive.forward = _RecordingForward(self.saved["forward"])
        Primitive.vjps = _RecordedVJPs(self.saved["vjps"])
        Tensor.data = _TracedData(self.saved["data"])
        Tensor.__init__ = traced_init
        Tensor._wrap = staticmethod(traced_wrap)
        _active.trace = trace
        return trace

    def __exit__(self, *exc: object) -> None:
        _active.trace = None
        np.asarray, np.array, np.random.default_rng = self.numpy_functions
        Primitive.forward = self.saved["forward"]
        Primitive.vjps = self.saved["vjps"]
        Tensor.data = self.saved["data"]
        Tensor.__init__ = self.saved["init"]
        Tensor._wrap = self.saved["wrap"]
        _lock.release()


def _copy(x: Any, dtype: Any) -> np.ndarray:
    return np.array(x.data if isinstance(x, Tensor) else x, dtype=dtype, copy=True)


def _has_ref(x: Any) -> bool:
    found: list[int] = []
    _collect_refs(x, found)
    return bool(found)


# ---------------------------------------------------------------------------------------------
# Randomness: a trace must not draw random numbers (they would be baked into the program).
# ---------------------------------------------------------------------------------------------
_RANDOM_TYPES = (np.random.Generator, np.random.RandomState, np.random.BitGenerator)


def random_states(f: Any) -> dict[int, tuple[Any, Any]]:
    """The NumPy random generators `f` can reach, and their states, by id.

    Reachable: through closures, defaults, bound instances, the globals a function's code names
    (and the attributes of modules it names), and the items and attributes of objects found so
    (a Module's generator, a list of them), a few levels deep; and NumPy's global generator
    (np.random.rand). A walk rather than gc.get_objects(): that list alone would cost a
    compiled step more memory than an eager one.
    """
    found: dict[int, tuple[Any, Any]] = {}
    legacy = getattr(getattr(np.random, "mtrand", None), "_rand", None)
    seen: set[int] = set()
    stack: list[tuple[Any, int, frozenset]] = [(f, 0, frozenset()), (legacy, 0, frozenset())]
    while stack:
        obj, depth, names = stack.pop()
        if obj is None or id(obj) in seen or depth > 8:
            continue
        seen.add(id(obj))
        if isinstance(obj, _RANDOM_TYPES):
            bit_generator = obj if isinstance(obj, np.random.BitGenerator) else getattr(
                obj, "bit_generator", None) or obj._bit_generator
            found[id(obj)] = (obj, repr(bit_generator.state))
            continue
        stack.extend((child, depth + 1, child_names)
                     for child, child_names in _children(obj, names))
    return found


def _children(obj: Any, names: frozenset) -> list[tuple[Any, frozenset]]:
    """What the walk in random_states goes on to from `obj`."""
    if isinstance(obj, (str, bytes, int, float, bool, complex, np.ndarray, np.generic, type)):
        return []
    code = getattr(obj, "__code__", None)
    if code is not None:  # a function: its closure, defaults, and the globals it names
        code_names = _code_names(code)
        items = [c.cell_contents for c in (obj.__closure__ or ()) if _has_contents(c)]
        items += list(obj.__defaults__ or ()) + list((obj.__kwdefaults__ or {}).values())
        globals_ = getattr(obj, "__globals__", {})
        items += [globals_[n] for n in code_names if n in globals_]
        return [(item, code_names) for item in items]
    if hasattr(obj, "__func__") and hasattr(obj, "__self__"):  # a bound method
        return [(obj.__func__, names), (obj.__self__, names)]
    if isinstance(obj, type(np)):  # a module: only the attributes the code names
        if obj.__name__.split(".")[0] == "numpy":  # its global generator is checked directly
            return []
        attributes = vars(obj)
        return [(attributes[n], names) for n in names if n in attributes]
    if isinstance(obj, dict):
        return [(v, names) for v in obj.values()]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [(v, names) for v in obj]
    attributes = getattr(obj, "__dict__", None)
    children = [(v, names) for v in attributes.values()] if isinstance(attributes, dict) else []
    if callable(obj):  # a callable object (a Module): its methods
        children += [(getattr(type(obj), n), names) for n in ("__call__", "forward")
                     if hasattr(getattr(type(obj), n, None), "__code__")]
    return children


def _code_names(code: Any) -> frozenset:
    """The names a code object and the functions defined in it refer to."""
    names = set(code.co_names) | set(code.co_freevars)
    for constant in code.co_consts:
        if hasattr(constant, "co_names"):
            names |= _code_names(constant)
    return frozenset(names)


def _has_contents(cell: Any) -> bool:
    try:
        return cell.cell_contents is not cell  # always True; reading it is the test
    except ValueError:  # an empty cell
        return False


def random_draws(before: dict[int, tuple[Any, Any]], f: Any) -> list[str]:
    """Generators reachable from `f` that drew numbers since `before` was taken."""
    changed = []
    for obj, state in before.values():
        bit_generator = obj if isinstance(obj, np.random.BitGenerator) else getattr(
            obj, "bit_generator", None) or obj._bit_generator
        if repr(bit_generator.state) != state:
            changed.append(f"a {type(obj).__name__} that drew numbers")
    return changed
