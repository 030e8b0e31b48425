"""The derivative table: each primitive's forward and, beside it, one VJP per input.

Contract. For out = f(x₁, …, xₙ; params), the i-th VJP is called as

    vjp_i(g, out, x₁, …, xₙ, **params)  ->  g · ∂out/∂xᵢ

where g is the gradient arriving at `out` (out's shape). A VJP may return a result of the
broadcast shape; the engine sums it back to xᵢ's shape (broadcasting's adjoint lives there,
once) and casts it to xᵢ's dtype. `None` marks an input that is never differentiated.

The VJPs use only operators, methods and the primitives themselves, so the same line runs on
NumPy arrays in an ordinary backward pass and on Tensors (recording a graph) when
`create_graph=True` asks for higher-order derivatives.

`sub`, `div` and `neg` could be composed (x - y is x + (-1)·y, x / y is x · y⁻¹); they are
primitives so that they round exactly as NumPy does, cost one node, and read as themselves in
graph pictures and the ledger.

Subgradient conventions: relu'(0) = 0, |x|'(0) = 0, and `max` and `min` split the gradient
evenly between tied extremes. (`maximum`, `minimum` and `clip` are composed from `where`; see
Tensor.) The piecewise-constant ops (sign, floor, ceil, round, trunc, floor_divide) have a zero
gradient everywhere, their jumps included; `norm` and `hypot` take the subgradient 0 at 0;
`prod` never divides by x, so it is exact with zeros. The README's table lists them all.

The table is split by section, one module each (elementwise, linalg, reductions, shape,
softmax, conv); every primitive is re-exported here, so `autograd.primitives.exp` is the name
to use.
"""

from .conv import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
