"""``nf.linalg``: matrix products, contractions, norms and matrix helpers."""
from neuroflow.ops.linalg import (  # noqa: F401
    adjoint,
    diag_part,
    einsum,
    matmul,
    matrix_transpose,
    norm,
    tensordot,
    trace,
)

__all__ = ["matmul", "einsum", "tensordot", "norm", "matrix_transpose", "adjoint",
           "diag_part", "trace"]
