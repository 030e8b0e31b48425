"""Weight initializers: each returns a new array of `shape` drawn from `rng` (a Generator or seed).

Fans follow the weight layout of lecture 11, W of shape (in_features, out_features):
fan_in = shape[0], fan_out = shape[1]; a conv kernel (kh, kw, in, out) multiplies both by kh·kw.
The formulas are the standard ones (Glorot & Bengio 2010, He et al. 2015); where notes 004
differ, the docstring says how.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

Rng = np.random.Generator | int | None


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (in, out); a vector counts as both. A conv kernel
    (kh, kw, in, out) joins each output to kh·kw·in inputs: fans kh·kw·in and kh·kw·out."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) > 2:
        receptive_field = math.prod(shape[:-2])
        return shape[-2] * receptive_field, shape[-1] * receptive_field
    return shape[0], shape[1] if len(shape) > 1 else shape[0]


def constant(shape: tuple[int, ...], value: float = 0.0, rng: Rng = None,
             dtype: Any = np.float32) -> np.ndarray:
    """Every entry `value` (biases start at 0; equal weights never break symmetry)."""
    return np.full(shape, value, dtype=dtype)


def uniform(shape: tuple[int, ...], low: float = -0.05, high: float = 0.05, rng: Rng = None,
            dtype: Any = np.float32) -> np.ndarray:
    """U[low, high] (Keras' RandomUniform defaults)."""
    return np.random.default_rng(rng).uniform(low, high, shape).astype(dtype)


def normal(shape: tuple[int, ...], mean: float = 0.0, std: float = 1.0, rng: Rng = None,
           dtype: Any = np.float32) -> np.ndarray:
    """N(mean, std²); the default N(0, 1) is lecture 11's `normal(0, 1, shape)`."""
    return np.random.default_rng(rng).normal(mean, std, shape).astype(dtype)


def xavier_uniform(shape: tuple[int, ...], rng: Rng = None, dtype: Any = np.float32) -> np.ndarray:
    """Glorot uniform U[-a, a], a = √(6/(fan_in + fan_out)): variance 2/(fan_in + fan_out)."""
    fan_in, fan_out = _fans(shape)
    bound = math.sqrt(6 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, rng, dtype)


def xavier_normal(shape: tuple[int, ...], rng: Rng = None, dtype: Any = np.float32) -> np.ndarray:
    """Glorot normal, std √(2/(fan_in + fan_out)); 004's N[0, 2/(in+out)] gives the variance."""
    fan_in, fan_out = _fans(shape)
    return normal(shape, 0.0, math.sqrt(2 / (fan_in + fan_out)), rng, dtype)


def he_uniform(shape: tuple[int, ...], rng: Rng = None, dtype: Any = np.float32) -> np.ndarray:
    """He uniform U[-a, a], a = √(6/fan_in): variance 2/fan_in, as He normal.

    Notes 004 write ±√(3/n_in); that bound has variance 1/n_in (LeCun uniform), half of He's.
    """
    bound = math.sqrt(6 / _fans(shape)[0])
    return uniform(shape, -bound, bound, rng, dtype)


def he_normal(shape: tuple[int, ...], rng: Rng = None, dtype: Any = np.float32) -> np.ndarray:
    """He normal, std √(2/fan_in): keeps the variance of ReLU activations layer to layer."""
    return normal(shape, 0.0, math.sqrt(2 / _fans(shape)[0]), rng, dtype)


INITIALIZERS: dict[str, Callable[..., np.ndarray]] = {
    "constant": constant,
    "uniform": uniform,
    "normal": normal,
    "xavier-uniform": xavier_uniform,
    "xavier-normal": xavier_normal,
    "he-uniform": he_uniform,
    "he-normal": he_normal,
}


def get(name: str) -> Callable[..., np.ndarray]:
    """The initializer called `name` ("he-normal"; "he_normal" and "glorot-" work too)."""
    key = name.lower().replace("_", "-").replace("glorot", "xavier")
    if key not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; choose from {', '.join(INITIALIZERS)}")
    return INITIALIZERS[key]


def initialize(init: str | Callable[..., np.ndarray], shape: tuple[int, ...], rng: Rng = None,
               dtype: Any = np.float32) -> np.ndarray:
    """An array of `shape` from `init`: a name above or a function (shape, rng=, dtype=)."""
    make = get(init) if isinstance(init, str) else init
    return np.asarray(make(tuple(shape), rng=rng, dtype=dtype), dtype=dtype)
