"""NumPy's `linalg` names on tensors, so that code written for `np.linalg` runs on `autograd.linalg`
(the functions themselves live in autograd.ops, their derivatives in primitives/linalg.py)."""

from .ops import det, inv, slogdet, solve

__all__ = ["det", "inv", "slogdet", "solve"]
