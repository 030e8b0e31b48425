"""The backend test's cases: for every primitive of the derivative table, inputs and params.

tests/test_backends.py runs each primitive of `autograd.primitives` forward and backward on
NumPy, on Dask arrays and on a stand-in for CuPy (tests/device_array.py), and compares. A
primitive without an entry here FAILS that test: adding a primitive means adding its cases.

To add a case for a new primitive `foo(x, y, *, axis)`, add one line to CASES:

    "foo": [case(normal(4, 3), normal(3), axis=0)],

`case(*inputs, **params)`: inputs are NumPy arrays (floating ones get gradients; integer or
boolean ones are constants, as labels and masks are) or Python numbers; params are passed to
the primitive as keyword arguments (the Tensor method's `axis=`, `shape=`, `index=` ...). Use
several cases to cover broadcasting, 1-d and batched shapes, ties. Keep shapes small, rows a
multiple of 2: Dask splits the first axis into chunks, so that cases cross a chunk boundary.
"""

from __future__ import annotations

import numpy as np

_rng = np.random.default_rng(12)


def case(*inputs, **params) -> tuple[tuple, dict]:
    return inputs, params


def normal(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return _rng.uniform(0.5, 2.0, shape)


def labels(n: int, classes: int) -> np.ndarray:
    return _rng.integers(0, classes, n)


def probabilities(n: int, classes: int) -> np.ndarray:
    p = _rng.uniform(0.1, 1.0, (n, classes))
    return p / p.sum(axis=1, keepdims=True)


# Cases a backend cannot run, with the reason: the engine must raise one clear error naming the
# op instead (the test checks it). Keyed by (primitive, case number, backend).
UNSUPPORTED = {
    ("getitem", 2, "dask"): "Dask indexes by one integer array at a time",
    ("getitem", 3, "dask"): "Dask cannot know the length of a 2-d boolean mask's result",
    ("reshape", 0, "dask"): "Dask reshapes only by merging or evenly splitting axes",
}

TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [-1.0, 5.0, 4.0], [0.5, 0.5, 0.5]])

CASES: dict[str, list[tuple[tuple, dict]]] = {
    # elementwise arithmetic (broadcasting both ways)
    "add": [case(normal(4, 3), normal(3))],
    "sub": [case(normal(4, 1), normal(4, 3))],
    "mul": [case(normal(4, 3), normal(4, 3)), case(normal(4, 3), 2.5)],
    "div": [case(normal(4, 3), positive(3))],
    "neg": [case(normal(4, 3))],
    "pow": [case(positive(4, 3), normal(4, 3)), case(normal(4, 3), 2.0),
            case(np.array([[0.0, 1.5], [2.0, 0.0]]), np.array([[0.0, 2.0], [0.0, 3.0]]))],
    # elementwise functions
    "exp": [case(normal(4, 3))],
    "log": [case(positive(4, 3))],
    "sqrt": [case(positive(4, 3))],
    "tanh": [case(normal(4, 3))],
    "abs": [case(np.array([[-1.5, 0.0, 2.0], [3.0, -0.5, 0.0]]))],
    "sigmoid": [case(normal(4, 3))],
    "relu": [case(np.array([[-1.5, 0.0, 2.0], [3.0, -0.5, 0.0]]))],
    "where": [case(normal(4, 3) > 0, normal(4, 3), normal(3))],
    "cast": [case(normal(4, 3), dtype=np.dtype(np.float32))],
    # linear algebra
    "matmul": [case(normal(4, 3), normal(3, 2)), case(normal(2, 4, 3), normal(3, 2)),
               case(normal(3), normal(3, 2)), case(normal(4, 3), normal(3)),
               case(normal(3), normal(3))],
    "linear": [case(normal(4, 3), normal(3, 2), normal(2))],
    # reductions (ties share the gradient)
    "sum": [case(normal(4, 3), axis=None, keepdims=False),
            case(normal(4, 3), axis=0, keepdims=True),
            case(normal(2, 3, 4), axis=(0, 2), keepdims=False)],
    "max": [case(TIES, axis=1, keepdims=False), case(TIES, axis=None, keepdims=False),
            case(normal(4, 3), axis=0, keepdims=True)],
    "min": [case(TIES, axis=1, keepdims=True), case(normal(4, 3), axis=None, keepdims=False)],
    # shape
    "reshape": [case(normal(4, 3), shape=(2, 6)), case(normal(4, 3), shape=(12,)),
                case(normal(4, 3), shape=(4, 1, 3))],
    "transpose": [case(normal(2, 3, 4), axes=(2, 0, 1)), case(normal(4, 3), axes=None)],
    "broadcast_to": [case(normal(3), shape=(4, 3))],
    "getitem": [case(normal(4, 3), index=(slice(1, 3), 0)),
                case(normal(4, 3), index=np.array([0, 2, 2, 3])),
                case(normal(4, 3), index=(np.array([0, 3, 0]), np.array([1, 2, 1]))),
                case(normal(4, 3), index=TIES > 0.7),
                case(normal(4, 3), index=np.array([True, False, True, True]))],
    "scatter": [case(normal(3), index=np.array([0, 2, 2]), shape=(4,)),
                case(normal(2, 3), index=slice(1, 3), shape=(4, 3))],
    # softmax family
    "softmax": [case(normal(4, 3), axis=-1), case(normal(4, 3), axis=0)],
    "log_softmax": [case(normal(4, 3), axis=-1), case(normal(4, 3), axis=0)],
    "softmax_cross_entropy": [case(normal(4, 3), labels(4, 3)),
                              case(normal(4, 3), probabilities(4, 3))],
    "bce_with_logits": [case(normal(4, 3) * 3, (normal(4, 3) > 0).astype(float)),
                        case(np.array([-800.0, 0.0, 800.0, 1.0]), np.array([1.0, 0.5, 0.0, 1.0]))],
}
