"""The backend test's cases: for every primitive of the derivative table, inputs and params.

tests/test_backends.py runs each primitive of `autograd.primitives` forward and backward on
NumPy, on Dask arrays and on a stand-in for CuPy (tests/device_array.py), and compares. A
primitive without an entry here FAILS that test: adding a primitive means adding its cases.

To add a case for a new primitive `foo(x, y, *, axis)`, add one line to CASES:

    "foo": [case(normal(4, 3), normal(3), axis=0)],

`case(*inputs, **params)`: inputs are NumPy arrays (floating ones get gradients; integer or
boolean ones are constants, as labels and masks are) or Python numbers; params are passed to
the primitive as keyword arguments (the Tensor method's `axis=`, `shape=`, `index=` ...);
floating NumPy arrays among them are data (max pooling's `source` and `maxima`) and move to the
backend with the inputs, integer and boolean ones (indices) stay on the host. Use
several cases to cover broadcasting, 1-d and batched shapes, ties. Keep shapes small, rows a
multiple of 2: Dask splits the first axis into chunks, so that cases cross a chunk boundary.
"""

from __future__ import annotations

import numpy as np

from autograd import primitives as P

_rng = np.random.default_rng(12)


def forward_backward(op, inputs: tuple, params: dict, move):
    """Apply op to the inputs moved by `move` (floating ones require grad; floating params move
    too) and backpropagate a fixed random vector; returns the output and the input gradients
    (None for constants). Shared by the backend test and the real-GPU test."""
    from autograd import Tensor
    from autograd.tensor import apply

    tensors = [Tensor(move(x), requires_grad=True)
               if isinstance(x, np.ndarray) and x.dtype.kind == "f" and op.vjps[i] is not None
               else move(x) for i, x in enumerate(inputs)]
    params = {k: move(v) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
              for k, v in params.items()}  # data among the params (max pooling's source)
    out = apply(op, tuple(tensors), params)
    seed = np.random.default_rng(5).standard_normal(out.shape).astype(out.dtype)
    out.backward(move(seed))  # the same vector on every backend
    return out, [t.grad if isinstance(t, Tensor) else None for t in tensors]


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


def between(low: float, high: float, *shape: int) -> np.ndarray:
    return _rng.uniform(low, high, shape)


def away_from_0(*shape: int) -> np.ndarray:
    return _rng.uniform(0.5, 1.5, shape) * _rng.choice([-1, 1], shape)


def distinct(*shape: int) -> np.ndarray:
    """No ties (max pooling's routes are unique)."""
    return _rng.permutation(int(np.prod(shape))).reshape(shape) * 0.5


def matrix(*shape: int) -> np.ndarray:
    """Well-conditioned square matrices: 3 I plus noise in [-1, 1]."""
    return _rng.uniform(-1, 1, shape) + 3 * np.eye(shape[-1])


# Cases a backend cannot run, with the reason: the engine must raise one clear error naming the
# op instead (the test checks it). Keyed by (primitive, case number, backend).
UNSUPPORTED = {
    ("getitem", 2, "dask"): "Dask indexes by one integer array at a time",
    ("getitem", 3, "dask"): "Dask cannot know the length of a 2-d boolean mask's result",
    ("reshape", 0, "dask"): "Dask reshapes only by merging or evenly splitting axes",
    # math.erf per element runs on the host; CuPy's cupyx.scipy.special has the kernels (used
    # when the array is CuPy's), the stand-in has none
    ("erf", 0, "device"): "no erf kernel on the device (CuPy's cupyx.scipy.special.erf is used)",
    ("erfc", 0, "device"): "no erfc kernel on the device (CuPy's cupyx.scipy.special.erfc is used)",
}

TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [-1.0, 5.0, 4.0], [0.5, 0.5, 0.5]])

CONV = {"stride": (2, 2), "padding": ((0, 0), (1, 1)), "dilation": (1, 2)}
POOL = {"kernel_size": (3, 2), "stride": (1, 2), "padding": ((1, 1), (0, 0))}
SOURCE = distinct(2, 4, 4, 2)  # max pooling's input and output: where its gradient is routed
MAXIMA = {"source": SOURCE, "maxima": P.max_pool2d(SOURCE, **POOL)}

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
    # more elementwise functions
    "clone": [case(normal(4, 3))],
    "sin": [case(normal(4, 3))],
    "cos": [case(normal(4, 3))],
    "tan": [case(between(-1.2, 1.2, 4, 3))],
    "arcsin": [case(between(-0.8, 0.8, 4, 3))],
    "arccos": [case(between(-0.8, 0.8, 4, 3))],
    "arctan": [case(normal(4, 3))],
    "sinh": [case(normal(4, 3))],
    "cosh": [case(normal(4, 3))],
    "arcsinh": [case(normal(4, 3))],
    "arccosh": [case(between(1.2, 3.0, 4, 3))],
    "arctanh": [case(between(-0.8, 0.8, 4, 3))],
    "log1p": [case(positive(4, 3))],
    "expm1": [case(normal(4, 3))],
    "log2": [case(positive(4, 3))],
    "log10": [case(positive(4, 3))],
    "exp2": [case(normal(4, 3))],
    "erf": [case(normal(4, 3))],
    "erfc": [case(normal(4, 3))],
    "sign": [case(away_from_0(4, 3))],
    "floor": [case(normal(4, 3) + 0.5)],
    "ceil": [case(normal(4, 3))],
    "trunc": [case(normal(4, 3))],
    "round": [case(normal(4, 3), decimals=0), case(normal(4, 3) * 10, decimals=-1)],
    "floor_divide": [case(normal(4, 3) * 3, away_from_0(3))],
    "mod": [case(normal(4, 3) * 3, away_from_0(3))],
    "fmod": [case(normal(4, 3) * 3, away_from_0(1, 3))],
    "logaddexp": [case(normal(4, 3), normal(3))],
    "logaddexp2": [case(normal(4, 1), normal(3))],
    "arctan2": [case(normal(4, 3), normal(4, 3))],
    "hypot": [case(normal(4, 3), normal(1, 3))],
    "softplus": [case(normal(4, 3))],
    "elu": [case(away_from_0(4, 3), alpha=1.5)],
    # more reductions
    "prod": [case(normal(4, 3), axis=1, keepdims=False),
             case(np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 3.0]]), axis=1, keepdims=True),
             case(normal(2, 3, 2), axis=(0, 2), keepdims=False),
             case(normal(4, 3), axis=None, keepdims=False)],
    "norm": [case(normal(4, 3), axis=1, keepdims=False),
             case(normal(4, 3), axis=None, keepdims=True)],
    "cumsum": [case(normal(4, 3), axis=1), case(normal(4, 2), axis=0)],
    # joining, reordering, padding, diagonals
    "concatenate": [case(normal(2, 1), normal(2, 3), normal(2, 2), axis=1),
                    case(normal(2, 3), normal(4, 3), axis=0)],
    "stack": [case(normal(4), normal(4), axis=1), case(normal(4, 3), normal(4, 3), axis=0)],
    "flip": [case(normal(4, 3), axis=(1,)), case(normal(4, 3), axis=(0, 1))],
    "roll": [case(normal(4, 3), shift=(1, -1), axis=(0, 1))],
    "pad": [case(normal(4, 3), widths=((1, 0), (0, 2)), mode="constant", value=0.0),
            case(normal(4, 2), widths=((2, 1), (1, 1)), mode="edge", value=0),
            case(normal(4, 3), widths=((2, 1), (0, 2)), mode="reflect", value=0)],
    "diagonal": [case(normal(4, 4), offset=1, axis1=0, axis2=1),
                 case(normal(2, 3, 3), offset=0, axis1=1, axis2=2)],
    "embed_diagonal": [case(normal(2, 2), shape=(2, 3, 2), offset=-1, axis1=1, axis2=2)],
    "einsum": [case(normal(2, 3), normal(3, 2), subscripts="ij,jk->ik", optimize=False),
               case(normal(3, 3), normal(2), subscripts="ii,k->ik", optimize=False),
               case(normal(2, 1, 3), normal(2, 3), subscripts="...i,...i", optimize=True)],
    # linear algebra
    "inv": [case(matrix(4, 4)), case(matrix(2, 3, 3))],
    "det": [case(np.array([[0.5, 2.0, 0.1], [1.5, 0.2, 0.3], [0.1, 0.4, 2.0]])),
            case(matrix(2, 3, 3))],
    "slogdet": [case(matrix(2, 2, 2))],
    "solve": [case(matrix(4, 4), normal(4)), case(matrix(2, 2, 2), normal(2, 2, 3))],
    # convolution and pooling (channels-last); the adjoints share conv2d's geometry
    "conv2d": [case(normal(2, 4, 3, 2), normal(2, 2, 2, 2), normal(2), **CONV),
               case(normal(2, 5, 5, 3), normal(3, 3, 3, 4), stride=(1, 1),
                    padding=((1, 1), (1, 1)), dilation=(1, 1))],
    "conv2d_input_grad": [case(normal(2, 2, 2, 2), normal(2, 2, 2, 2), x_shape=(2, 4, 3, 2),
                               **CONV)],
    "conv2d_kernel_grad": [case(normal(2, 4, 3, 2), normal(2, 2, 2, 2), kernel_size=(2, 2),
                                **CONV)],
    "max_pool2d": [case(distinct(2, 4, 4, 2), **POOL)],
    "max_pool2d_route": [case(normal(2, 4, 2, 2), **POOL, **MAXIMA)],
    "max_pool2d_gather": [case(normal(2, 4, 4, 2), **POOL, **MAXIMA)],
    "avg_pool2d": [case(normal(2, 4, 3, 2), **POOL)],
    "avg_pool2d_spread": [case(normal(2, 4, 1, 2), x_shape=(2, 4, 3, 2), **POOL)],
}
