"""Reductions over axes: sums, means, extrema, products, moments, logsumexp, arg-extrema."""
from __future__ import annotations

import numpy as np

from neuroflow.core.op import primitive
from neuroflow.ops import shapes
from neuroflow.ops.broadcast import reduction_grad


def _axis(axis):
    """Normalises the ``axis`` argument: None, an int, or a tuple of ints."""
    if axis is None:
        return None
    if hasattr(axis, "numpy"):
        axis = axis.numpy()
    if np.ndim(axis) == 0:
        return int(axis)
    return tuple(int(a) for a in np.asarray(axis).reshape(-1))


def _np_axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


@primitive("Sum", shape=shapes.reduction)
def _reduce_sum(x, axis, keepdims):
    return np.sum(x, axis=_np_axis(axis), keepdims=keepdims)


@_reduce_sum.defgrad
def _reduce_sum_grad(op, dy):
    return [reduction_grad(dy, op.inputs[0], op.attrs["axis"], op.attrs["keepdims"])]


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """Sum over ``axis`` (all axes when None) (``nf.reduce_sum``).

    >>> nf.reduce_sum(nf.ones([2, 3]), axis=1).numpy()
    array([3., 3.], dtype=float32)
    """
    return _reduce_sum(input_tensor, axis=_axis(axis), keepdims=bool(keepdims), name=name)


@primitive("Mean", shape=shapes.reduction)
def _reduce_mean(x, axis, keepdims):
    return np.mean(x, axis=_np_axis(axis), keepdims=keepdims, dtype=x.dtype)


@_reduce_mean.defgrad
def _reduce_mean_grad(op, dy):
    from neuroflow.ops.array import size
    from neuroflow.ops.math import cast, divide
    x = op.inputs[0]
    g = reduction_grad(dy, x, op.attrs["axis"], op.attrs["keepdims"])
    count = divide(cast(size(x), x.dtype), cast(size(op.outputs[0]), x.dtype))
    return [divide(g, count)]


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean over ``axis`` (``nf.reduce_mean``; integer inputs give an integer mean, as TF)."""
    return _reduce_mean(input_tensor, axis=_axis(axis), keepdims=bool(keepdims), name=name)

__all__ = ["reduce_sum", "reduce_mean"]
