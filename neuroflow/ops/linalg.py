"""Linear algebra: matmul (batched, broadcasting), tensordot, einsum, norms."""
from __future__ import annotations

import numpy as np

from neuroflow.core.op import Spec, primitive
from neuroflow.core.tensor import shape_str
from neuroflow.ops.broadcast import unbroadcast
from neuroflow.ops.shapes import broadcast_shapes


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


@primitive("MatMul", shape=_matmul_spec)
def _matmul(a, b, transpose_a=False, transpose_b=False):
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"MatMul needs inputs of rank >= 2, got shapes {a.shape} and {b.shape}")
    return np.matmul(_t(a) if transpose_a else a, _t(b) if transpose_b else b)


@_matmul.defgrad
def _matmul_grad(op, dy):
    from neuroflow.ops.math import conj
    a, b = op.inputs
    ta, tb = op.attrs.get("transpose_a", False), op.attrs.get("transpose_b", False)
    a, b = conj(a), conj(b)
    if not ta and not tb:
        ga = matmul(dy, b, transpose_b=True)
        gb = matmul(a, dy, transpose_a=True)
    elif not ta and tb:
        ga = matmul(dy, b)
        gb = matmul(dy, a, transpose_a=True)
    elif ta and not tb:
        ga = matmul(b, dy, transpose_b=True)
        gb = matmul(a, dy)
    else:
        ga = matmul(b, dy, transpose_a=True, transpose_b=True)
        gb = matmul(dy, a, transpose_a=True, transpose_b=True)
    return [unbroadcast(ga, op.inputs[0]), unbroadcast(gb, op.inputs[1])]


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           name=None):
    """Matrix product of the last two axes, batch axes broadcast (``nf.matmul``, ``a @ b``).

    >>> nf.matmul(nf.ones([2, 3]), nf.ones([3, 4])).shape
    TensorShape([2, 4])
    """
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
    return _matmul(a, b, name=name, **attrs)

__all__ = ["matmul"]
