"""Linear algebra: matmul (batched, broadcasting), norms, and the matrix helpers of
``nf.linalg`` (matrix_transpose, adjoint, diag_part, trace); einsum and tensordot live in
``neuroflow.ops.einsum`` and are re-exported here.

matmul is the hot op of every dense layer: float32 stays float32 on BLAS, transposes are
strided views read with BLAS's transpose flag, and its gradient uses the transpose flags of
further matmuls rather than materialised transposes.
"""
from __future__ import annotations

import math

import numpy as np

from neuroflow.backend import threads
from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import shape_str
from neuroflow.ops.broadcast import unbroadcast
from neuroflow.ops.conv_runtime import outputs
from neuroflow.ops.einsum import einsum, tensordot
from neuroflow.ops.shapes import broadcast_shapes, normalize_axis

# -- matmul -------------------------------------------------------------------------------


def _matmul_spec(a, b, transpose_a=False, transpose_b=False):
    if a.shape.rank is None or b.shape.rank is None:
        return Spec(None, a.dtype)
    if a.shape.rank < 2 or b.shape.rank < 2:
        raise ValueError(f"MatMul needs inputs of rank >= 2, got shapes {shape_str(a.shape)} "
                         f"and {shape_str(b.shape)}")
    m, ka = (a.shape[-1], a.shape[-2]) if transpose_a else (a.shape[-2], a.shape[-1])
    kb, n = (b.shape[-1], b.shape[-2]) if transpose_b else (b.shape[-2], b.shape[-1])
    if ka is not None and kb is not None and ka != kb:
        raise ValueError(f"Matrix size-incompatible: In[0]: {shape_str(a.shape)}, "
                         f"In[1]: {shape_str(b.shape)}"
                         + (" (transpose_a)" if transpose_a else "")
                         + (" (transpose_b)" if transpose_b else ""))
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return Spec(list(batch) + [m, n], a.dtype)


def _t(x):
    return np.swapaxes(x, -1, -2)


# A 2-D product of at least this many multiply-adds is split by rows over the threads.
PARALLEL_MACS = 1 << 22


def _product(a, b, out=None):
    """``a @ b`` (into ``out`` when given: any strided array whose matrices have rows of
    adjacent elements); a big 2-D product as one GEMM per thread over its rows, a big stack
    of products (attention's [batch, heads] stacks) as one part of the leading axis per
    thread. A stack's matrices are handed to the BLAS as they lie when their rows are
    contiguous, and copied first when not (a transposed key): NumPy runs a stack of
    column-major matrices in its own loop, at about half the speed."""
    if a.ndim == 2 and b.ndim == 2 and a.shape[0] * a.shape[1] * b.shape[1] >= PARALLEL_MACS:
        parts = threads.split(a.shape[0], min_part=16)
        if len(parts) > 1 and a.dtype == b.dtype and a.dtype.kind in "fc":
            if out is None:
                out = outputs.empty((a.shape[0], b.shape[1]), a.dtype)
            threads.run(lambda lo, hi: np.matmul(a[lo:hi], b, out=out[lo:hi]), parts)
            return out
    elif a.ndim == b.ndim > 2 and a.shape[:-2] == b.shape[:-2] and a.shape[-1] == b.shape[-2] \
            and a.dtype == b.dtype and a.dtype.kind in "fc":
        # measured on the bert workload's [32, 12] stacks of 128 x 32 x 128 products:
        # NumPy's loop of small GEMMs runs on one core (80 GFLOP/s)
        big = math.prod(a.shape) * b.shape[-1] >= PARALLEL_MACS
        parts = threads.split(a.shape[0], min_part=1) if big else [(0, a.shape[0])]
        rows_apart = a.strides[-1] != a.itemsize, b.strides[-1] != b.itemsize
        if len(parts) > 1 or any(rows_apart):
            if out is None:
                out = outputs.empty(a.shape[:-1] + (b.shape[-1],), a.dtype)

            def part(lo, hi):
                x, y = a[lo:hi], b[lo:hi]
                np.matmul(np.ascontiguousarray(x) if rows_apart[0] else x,
                          np.ascontiguousarray(y) if rows_apart[1] else y, out=out[lo:hi])
            threads.run(part, parts)
            return out
    return np.matmul(a, b) if out is None else np.matmul(a, b, out=out)


def _one_gemm(a, b, transpose_a=False, transpose_b=False):
    """(rows, matrix, shape of the product) when ``a @ b`` is one 2-D GEMM: two matrices, or
    a C-ordered stack of matrices times one matrix (one big GEMM over all the stack's rows,
    not a loop of small ones); else None. Transposes are strided views: BLAS reads them
    with its transpose flag, no copy."""
    matrix = _t(b) if transpose_b else b
    if matrix.ndim != 2:
        return None
    if a.ndim == 2:
        rows = _t(a) if transpose_a else a
    elif a.ndim > 2 and not transpose_a and a.flags.c_contiguous:
        rows = a.reshape(math.prod(a.shape[:-1]), a.shape[-1])
    else:
        return None
    if rows.shape[-1] != matrix.shape[0]:
        return None
    lead = rows.shape[:1] if a.ndim == 2 else a.shape[:-1]
    return rows, matrix, lead + matrix.shape[1:]


@primitive("MatMul", shape=_matmul_spec)
def _matmul(a, b, transpose_a=False, transpose_b=False):
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"MatMul needs inputs of rank >= 2, got shapes {a.shape} and {b.shape}")
    if a.ndim > 2:
        folded = _one_gemm(a, b, transpose_a, transpose_b)
        if folded is not None:
            rows, matrix, shape = folded
            return _product(rows, matrix).reshape(shape)
    try:
        return _product(_t(a) if transpose_a else a, _t(b) if transpose_b else b)
    except ValueError:  # NumPy words it as a gufunc signature; say it as the shape rule does
        ka, kb = a.shape[-2 if transpose_a else -1], b.shape[-1 if transpose_b else -2]
        if ka == kb:
            raise
        raise ValueError(f"Matrix size-incompatible: In[0]: {shape_str(a.shape)}, "
                         f"In[1]: {shape_str(b.shape)}"
                         + (" (transpose_a)" if transpose_a else "")
                         + (" (transpose_b)" if transpose_b else "")) from None


def _folded_grad_b(a, dy, transpose_b):
    """d/db for a stack of matrices ``a`` times one matrix ``b``: one GEMM over all rows, or
    None when the static shapes do not allow it (the batched product is used instead)."""
    from neuroflow.ops.array import reshape
    if a.shape.rank is None or a.shape.rank <= 2:
        return None
    k, n = a.shape[-1], dy.shape[-1]
    if not k or not n:
        return None
    rows, grads = reshape(a, [-1, k]), reshape(dy, [-1, n])
    if transpose_b:
        return matmul(grads, rows, transpose_a=True)
    return matmul(rows, grads, transpose_a=True)


@_matmul.defgrad
def _matmul_grad(op, dy):
    from neuroflow.ops.math import conj
    a, b = op.inputs
    ta, tb = op.attrs.get("transpose_a", False), op.attrs.get("transpose_b", False)
    a, b = conj(a), conj(b)
    if not ta and not tb:
        ga = matmul(dy, b, transpose_b=True)
    elif not ta and tb:
        ga = matmul(dy, b)
    elif ta and not tb:
        ga = matmul(b, dy, transpose_b=True)
    else:
        ga = matmul(b, dy, transpose_a=True, transpose_b=True)
    gb = _folded_grad_b(a, dy, tb) if not ta and b.shape.rank == 2 else None
    if gb is None:
        if not ta and not tb:
            gb = matmul(a, dy, transpose_a=True)
        elif not ta and tb:
            gb = matmul(dy, a, transpose_a=True)
        elif ta and not tb:
            gb = matmul(a, dy)
        else:
            gb = matmul(dy, a, transpose_a=True, transpose_b=True)
    return [unbroadcast(ga, op.inputs[0]), unbroadcast(gb, op.inputs[1])]


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False, grad_b=False,
           name=None):
    """Matrix product of the last two axes, batch axes broadcast (``nf.matmul``, ``a @ b``).

    The sparsity and ``grad_*`` hints are accepted and ignored; ``output_type`` casts the
    product (TensorFlow uses it to widen int8 products).

    >>> nf.matmul(nf.ones([2, 3]), nf.ones([3, 4])).shape
    TensorShape([2, 4])
    """
    if (transpose_a and adjoint_a) or (transpose_b and adjoint_b):
        raise ValueError("Only one of transpose_a and adjoint_a (and of transpose_b and "
                         "adjoint_b) can be True.")
    if adjoint_a or adjoint_b:
        from neuroflow.ops.math import conj
        if adjoint_a:
            a, transpose_a = conj(a), True
        if adjoint_b:
            b, transpose_b = conj(b), True
    attrs = {}
    if transpose_a:
        attrs["transpose_a"] = True
    if transpose_b:
        attrs["transpose_b"] = True
    if output_type is None:
        return _matmul(a, b, name=name, **attrs)
    from neuroflow.ops.math import cast
    return cast(_matmul(a, b, **attrs), output_type, name=name)


# -- norms --------------------------------------------------------------------------------


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):
    """Vector or matrix norm (``nf.norm``, ``nf.linalg.norm``).

    Vector norms (``axis`` None or an int): 'euclidean' (= 2), 1, np.inf, any p > 0.
    Matrix norms (``axis`` a pair): 'euclidean'/'fro', 1 (max column sum), np.inf (max
    row sum); the matrix 2-norm needs singular values and raises NotImplementedError.

    >>> nf.norm(nf.constant([3.0, 4.0])).numpy()
    5.0
    """
    from neuroflow.ops.math import abs as abs_
    from neuroflow.ops.reduce import _axis, reduce_euclidean_norm, reduce_max, reduce_sum
    x = tensor if hasattr(tensor, "dtype") else convert_to_tensor(tensor)
    keepdims = bool(keepdims)
    if x.dtype.is_complex:
        x = abs_(x)
    is_matrix = isinstance(axis, (list, tuple)) and len(axis) == 2
    if is_matrix:
        pair = tuple(int(a) for a in axis)
        rank = x.shape.rank
        if rank is not None and len(set(normalize_axis(pair, rank))) != 2:
            raise ValueError(f"norm: the matrix axes {list(pair)} must be two different axes")
        if ord in ("euclidean", "fro"):
            return reduce_euclidean_norm(x, axis=pair, keepdims=keepdims, name=name)
        if ord == 2:
            raise NotImplementedError("norm: the matrix 2-norm (largest singular value) is "
                                      "not implemented")
        if ord == 1 or ord == np.inf:
            # 1: the largest column sum (sum down axis[0]); inf: the largest row sum
            summed = pair[0] if ord == 1 else pair[1]
            sums = reduce_sum(abs_(x), axis=summed, keepdims=True)
            # reducing the already size-1 summed axis again drops it unless keepdims
            return reduce_max(sums, axis=pair, keepdims=keepdims, name=name)
        raise ValueError(f"norm: ord={ord!r} is not a supported matrix norm ('euclidean', "
                         "'fro', 1, 2, np.inf)")
    if axis is not None:
        axis = _axis(axis)
        if isinstance(axis, tuple):
            if len(axis) != 1:
                raise ValueError("norm: 'axis' must be None, an integer, or a tuple of 2 "
                                 f"unique integers, got {axis!r}")
            axis = axis[0]
    if ord in ("euclidean", 2):
        return reduce_euclidean_norm(x, axis=axis, keepdims=keepdims, name=name)
    if ord == 1:
        return reduce_sum(abs_(x), axis=axis, keepdims=keepdims, name=name)
    if ord == np.inf:
        return reduce_max(abs_(x), axis=axis, keepdims=keepdims, name=name)
    if isinstance(ord, (int, float)) and not isinstance(ord, bool) and ord > 0:
        from neuroflow.ops.math import pow as pow_
        total = reduce_sum(pow_(abs_(x), float(ord)), axis=axis, keepdims=keepdims)
        return pow_(total, 1.0 / ord, name=name)
    raise ValueError(f"norm: ord={ord!r} is not a supported vector norm ('euclidean', 1, 2, "
                     "np.inf or a number > 0; 'fro' needs a pair of axes)")


# -- matrix helpers (nf.linalg) -----------------------------------------------------------


def _matrix_spec(x, what):
    if x.shape.rank is not None and x.shape.rank < 2:
        raise ValueError(f"{what} needs an input of rank >= 2, got shape {shape_str(x.shape)}")


def _transpose_spec(x):
    _matrix_spec(x, "matrix_transpose")
    if x.shape.rank is None:
        return Spec(None, x.dtype)
    return Spec(list(x.shape[:-2]) + [x.shape[-1], x.shape[-2]], x.dtype)


@primitive("MatrixTranspose", shape=_transpose_spec, view=True)
def _matrix_transpose(x):
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose needs an input of rank >= 2, got shape {x.shape}")
    return np.swapaxes(x, -1, -2)


@_matrix_transpose.defgrad
def _matrix_transpose_grad(op, dy):
    return [_matrix_transpose(dy)]


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Swaps the last two axes (``nf.linalg.matrix_transpose``; ``conjugate`` conjugates).

    >>> nf.linalg.matrix_transpose(nf.ones([5, 2, 3])).shape
    TensorShape([5, 3, 2])
    """
    if conjugate:
        from neuroflow.ops.math import conj
        a = conj(a)
    return _matrix_transpose(a, name=name)


def adjoint(matrix, name=None):
    """The conjugate transpose of the last two axes (``nf.linalg.adjoint``)."""
    return matrix_transpose(matrix, name=name, conjugate=True)


def _diag_part_spec(x):
    _matrix_spec(x, "diag_part")
    if x.shape.rank is None:
        return Spec(None, x.dtype)
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n) if m is not None and n is not None else None
    return Spec(list(x.shape[:-2]) + [k], x.dtype)


@primitive("MatrixDiagPart", shape=_diag_part_spec)
def _diag_part(x):
    if x.ndim < 2:
        raise ValueError(f"diag_part needs an input of rank >= 2, got shape {x.shape}")
    return np.diagonal(x, axis1=-2, axis2=-1).copy()


@_diag_part.defgrad
def _diag_part_grad(op, dy):
    return [_diag_embed(dy, op.inputs[0])]


@primitive("MatrixDiagPartGrad", shape=lambda d, x: Spec(x.shape, d.dtype), same_dtype=False)
def _diag_embed(d, x):
    """Zeros shaped like ``x`` with ``d`` on the main diagonal of the last two axes."""
    out = np.zeros(x.shape, d.dtype)
    k = np.arange(d.shape[-1])
    out[..., k, k] = d
    return out


@_diag_embed.defgrad
def _diag_embed_grad(op, dy):
    return [_diag_part(dy), None]


def diag_part(input, name="diag_part", k=0):
    """The main diagonal of the last two axes (``nf.linalg.diag_part``; only k=0).

    >>> nf.linalg.diag_part(nf.constant([[1.0, 2.0], [3.0, 4.0]])).numpy()
    array([1., 4.], dtype=float32)
    """
    if k != 0:
        raise NotImplementedError("diag_part: only the main diagonal (k=0) is implemented")
    return _diag_part(input, name=name)


def trace(x, name=None):
    """Sum of the main diagonal of the last two axes (``nf.linalg.trace``).

    >>> nf.linalg.trace(nf.constant([[1.0, 2.0], [3.0, 4.0]])).numpy()
    5.0
    """
    from neuroflow.ops.reduce import reduce_sum
    return reduce_sum(_diag_part(x), axis=-1, name=name)


__all__ = ["matmul", "einsum", "tensordot", "norm"]
