"""Clipping: by value, by norm, by global norm (composed from the math ops, as TF does, so
their gradients and second derivatives come from the parts). Part of ``neuroflow.ops.math``.
"""
from __future__ import annotations

from neuroflow.core.op import convert_to_tensor
from neuroflow.core.tensor import shape_str
from neuroflow.ops.math_arithmetic import (
    add_n,
    cast,
    divide,
    multiply,
)
from neuroflow.ops.math_functions import sqrt
from neuroflow.ops.math_logic import _select, greater, is_finite
from neuroflow.ops.math_piecewise import maximum, minimum


def _tensor(t, name):
    if t is None:
        raise ValueError(f"{name} is None: clipping needs a tensor")
    return t if hasattr(t, "dtype") else convert_to_tensor(t)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clips ``t`` to [clip_value_min, clip_value_max] (``nf.clip_by_value``); the gradient
    passes where ``t`` is inside the range (ends included) and goes to the bound elsewhere.

    >>> nf.clip_by_value(nf.constant([-2.0, 0.5, 3.0]), -1.0, 1.0).numpy()
    array([-1. ,  0.5,  1. ], dtype=float32)
    """
    t = _tensor(t, "t")
    clipped = maximum(minimum(t, clip_value_max), clip_value_min)
    if (t.shape.rank is not None and clipped.shape.rank is not None
            and not t.shape.is_compatible_with(clipped.shape)):
        raise ValueError(f"clip_by_value: the clip values would broadcast t of shape "
                         f"{shape_str(t.shape)} to {shape_str(clipped.shape)}; they must "
                         "broadcast to t's shape")
    return clipped


def _sum_of_squares(t, axes=None):
    from neuroflow.ops.reduce import reduce_sum
    return reduce_sum(multiply(t, t), axis=axes, keepdims=axes is not None)


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """Rescales ``t`` so that its L2 norm (over ``axes``, all axes when None) is at most
    ``clip_norm``: t * clip_norm / max(norm, clip_norm) (``nf.clip_by_norm``).

    >>> nf.clip_by_norm(nf.constant([3.0, 4.0]), 1.0).numpy()
    array([0.6, 0.8], dtype=float32)
    """
    from neuroflow.ops.array import ones_like
    t = _tensor(t, "t")
    squares = _sum_of_squares(t, axes)
    # sqrt is not differentiable at 0: take sqrt(1) there, so an all-zero t keeps finite
    # gradients (TF does the same).
    positive = greater(squares, 0)
    norm = _select(positive, sqrt(_select(positive, squares, ones_like(squares))), squares)
    clip_norm = _as_dtype(clip_norm, t.dtype)
    return divide(multiply(t, clip_norm), maximum(norm, clip_norm))


def _global_norm(tensors):
    dtype = tensors[0].dtype
    return sqrt(add_n([cast(_sum_of_squares(t), dtype) for t in tensors]))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales every tensor of ``t_list`` by clip_norm / max(global_norm, clip_norm), where
    global_norm = sqrt(sum of squares of all entries); returns (clipped list, global_norm)
    (``nf.clip_by_global_norm``). None entries stay None; an infinite norm gives NaN, as TF.

    >>> clipped, norm = nf.clip_by_global_norm([nf.constant([3.0]), nf.constant([4.0])], 1.0)
    >>> float(norm), clipped[1].numpy()
    (5.0, array([0.8], dtype=float32))
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"t_list should be a list or tuple of tensors, got "
                        f"{type(t_list).__name__}")
    tensors = [None if t is None else _tensor(t, "t_list entry") for t in t_list]
    present = [t for t in tensors if t is not None]
    if use_norm is not None:
        norm = _tensor(use_norm, "use_norm")
    elif present:
        norm = _global_norm(present)
    else:
        raise ValueError("clip_by_global_norm: t_list holds no tensors")
    clip_norm = _as_dtype(clip_norm, norm.dtype)
    scale = multiply(clip_norm, minimum(divide(1, norm), divide(1, clip_norm)))
    # An infinite or NaN norm makes every clipped entry NaN, to signal the error (as TF).
    scale = _select(is_finite(norm), scale, float("nan"))
    clipped = [None if t is None else multiply(t, cast(scale, t.dtype)) for t in tensors]
    return clipped, norm


def _as_dtype(value, dtype):
    if hasattr(value, "dtype"):
        return cast(value, dtype)
    return convert_to_tensor(value, dtype=dtype)


__all__ = ["clip_by_value", "clip_by_norm", "clip_by_global_norm"]
