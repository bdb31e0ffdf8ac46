"""Shape rules shared by many ops. A rule takes the symbolic inputs (anything with ``.shape``
and ``.dtype``) and the op's attributes, and returns a ``Spec`` per output; it raises
``ValueError`` with both shapes when they do not fit."""
from __future__ import annotations

from neuroflow.backend import dtypes
from neuroflow.core.op import Spec
from neuroflow.core.tensor import TensorShape, shape_str


def broadcast_shapes(*shapes) -> TensorShape:
    """NumPy broadcasting with unknown (None) dims and unknown ranks."""
    if any(TensorShape(s).rank is None for s in shapes):
        return TensorShape(None)
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(-rank, 0):
        dims = [s[i] for s in shapes if len(s) >= -i]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError("Incompatible shapes for broadcasting: "
                             + " vs ".join(shape_str(s) for s in shapes))
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return TensorShape(out)


def same_shape(x, *rest, **attrs):
    """Elementwise unary: the output looks like the input."""
    return Spec(x.shape, x.dtype)


def broadcast(*xs, **attrs):
    """Elementwise n-ary: broadcast shape, dtype of the first input."""
    return Spec(broadcast_shapes(*(x.shape for x in xs)), xs[0].dtype)


def broadcast_bool(*xs, **attrs):
    """Comparisons and logical ops: broadcast shape, bool."""
    return Spec(broadcast_shapes(*(x.shape for x in xs)), dtypes.bool_)


def unary_bool(x, **attrs):
    return Spec(x.shape, dtypes.bool_)


def real_of(x, **attrs):
    """Elementwise op whose output is the real part type (abs of complex, say)."""
    return Spec(x.shape, x.dtype.real_dtype)


def normalize_axis(axis, rank, op="op"):
    """A tuple of non-negative axes (None stays None), checking each against the rank."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(int(a) for a in axis)
    if rank is None:
        return axes
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"axis {a} is out of range for a tensor of rank {rank}")
        out.append(a % rank if rank else a)
    return tuple(out)


def reduced_shape(shape, axis, keepdims) -> TensorShape:
    shape = TensorShape(shape)
    if shape.rank is None:
        return TensorShape(None)
    axes = normalize_axis(axis, len(shape))
    if axes is None:
        axes = tuple(range(len(shape)))
    if keepdims:
        return TensorShape(1 if i in axes else d for i, d in enumerate(shape))
    return TensorShape(d for i, d in enumerate(shape) if i not in axes)


def reduction(x, axis=None, keepdims=False, **attrs):
    return Spec(reduced_shape(x.shape, axis, keepdims), x.dtype)
