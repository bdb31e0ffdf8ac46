"""Broadcasting and its gradient: the one place where broadcast gradients are reduced.

``unbroadcast(g, x)`` sums a gradient back to the shape of the input it belongs to. The two
primitives below are each other's gradient, so broadcasting is differentiable to any order.
"""
from __future__ import annotations

import numpy as np

from neuroflow.core.op import Spec, primitive
from neuroflow.core.tensor import EagerTensor
from neuroflow.ops.shapes import broadcast_shapes, normalize_axis


def _sum_to_shape(g, shape):
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    out = np.sum(g, axis=axes, keepdims=True) if axes else g
    return out.reshape(shape)


@primitive("SumToShapeOf", shape=lambda g, x: Spec(x.shape, g.dtype), same_dtype=False,
           shape_inputs=(1,))
def sum_to_shape_of(g, x):
    """Sums ``g`` over the axes along which ``x`` was broadcast to ``g``'s shape."""
    return _sum_to_shape(g, x.shape)


@sum_to_shape_of.defgrad
def _sum_to_shape_of_grad(op, dy):
    return [broadcast_as(dy, op.inputs[0]), None]


@primitive("BroadcastAs", shape=lambda d, ref: Spec(ref.shape, d.dtype), same_dtype=False,
           view=True, shape_inputs=(1,))
def broadcast_as(d, ref):
    """Broadcasts ``d`` to the shape of ``ref``."""
    return np.broadcast_to(d, ref.shape)


@broadcast_as.defgrad
def _broadcast_as_grad(op, dy):
    return [sum_to_shape_of(dy, op.inputs[0]), None]


def unbroadcast(g, x, other=None):
    """The gradient ``g`` of a broadcast result, reduced to the shape of input ``x``;
    ``other``, the op's other input, when given lets static shapes show that no reduction
    is needed (a bias added to a batch of unknown size), so that no op reads ``x``."""
    if g is None:
        return None
    if other is not None and not _may_stretch(x, other):
        return g
    gs, xs = g.shape, x.shape
    if isinstance(g, EagerTensor):
        if g._value.shape == tuple(xs):
            return g
    elif xs.is_fully_defined() and gs.is_fully_defined() and tuple(gs) == tuple(xs):
        return g
    return sum_to_shape_of(g, x)


def _may_stretch(x, other):
    """Whether broadcasting ``x`` against ``other`` may make a result bigger than ``x``:
    unless ``other`` has no more axes than ``x`` and each of its axes is 1 or known equal
    to x's."""
    xs, os = x.shape, other.shape
    if xs.rank is None or os.rank is None or os.rank > xs.rank:
        return True
    return any(not (d == 1 or (d is not None and d == e))
               for d, e in zip(os, list(xs)[xs.rank - os.rank:]))


def _broadcast_to_spec(x, shape):
    shape_list = [None if d is None or d < 0 else d for d in shape]
    broadcast_shapes(x.shape, shape_list)
    return Spec(shape_list, x.dtype)


@primitive("BroadcastTo", shape=_broadcast_to_spec, same_dtype=False, view=True)
def _broadcast_to(x, shape):
    return np.broadcast_to(x, shape)


@_broadcast_to.defgrad
def _broadcast_to_grad(op, dy):
    return [sum_to_shape_of(dy, op.inputs[0])]


def broadcast_to(input, shape, name=None):
    """Broadcasts ``input`` to ``shape`` (``nf.broadcast_to``).

    >>> nf.broadcast_to(nf.constant([1, 2]), [3, 2]).shape
    TensorShape([3, 2])
    """
    return _broadcast_to(input, shape=tuple(int(d) for d in np.asarray(
        shape.numpy() if hasattr(shape, "numpy") else shape).reshape(-1)), name=name)


def _expanded_shape(shape, axis):
    if shape.rank is None:
        return None
    axes = normalize_axis(axis, shape.rank)
    axes = range(shape.rank) if axes is None else axes
    return [1 if i in axes else d for i, d in enumerate(shape)]


@primitive("ExpandReduced", same_dtype=False, shape_inputs=(1,),
           shape=lambda dy, x, axis: Spec(_expanded_shape(x.shape, axis), dy.dtype))
def expand_reduced(dy, x, axis):
    """Reinserts the reduced axes of a reduction's output gradient as size-1 dims."""
    if axis is None:
        return np.reshape(dy, (1,) * x.ndim)
    return np.expand_dims(dy, normalize_axis(axis, x.ndim))


@expand_reduced.defgrad
def _expand_reduced_grad(op, dy):
    from neuroflow.ops.array import reshape, shape
    return [reshape(dy, shape(op.inputs[0])), None]


def reduction_grad(dy, x, axis, keepdims):
    """Gradient helper for sum-like reductions: ``dy`` broadcast back to ``x``'s shape."""
    if not keepdims:
        dy = expand_reduced(dy, x, axis=axis)
    return broadcast_as(dy, x)
