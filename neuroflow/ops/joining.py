"""Joining and splitting: concat, stack, unstack, split (re-exported by ``ops.array``).

Each op's adjoint is a primitive too (concat <-> split), so gradients of gradients work.
"""
from __future__ import annotations

import builtins

import numpy as np

from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import TensorShape, shape_str
from neuroflow.ops.array import _normalize_one_axis, _static_ints

_ALL_BUT_FIRST = builtins.range(1, 1 << 30)  # shape_inputs: every input after the first


def _merge_shapes(shapes, what):
    """The most specific shape compatible with all of ``shapes`` (None if any rank unknown)."""
    shapes = [TensorShape(s) for s in shapes]
    known = [s for s in shapes if s.rank is not None]
    if not known:
        return None
    rank = len(known[0])
    out = [None] * rank
    for s in known:
        if len(s) != rank or any(a is not None and b is not None and a != b
                                 for a, b in zip(out, s)):
            raise ValueError(f"{what}: " + " vs ".join(shape_str(t) for t in shapes))
        out = [a if a is not None else b for a, b in zip(out, s)]
    return out


# -- concat and its adjoint ---------------------------------------------------------------


def _concat_spec(*xs, axis):
    known = [x.shape for x in xs if x.shape.rank is not None]
    if not known:
        return Spec(None, xs[0].dtype)
    rank = len(known[0])
    if any(len(s) != rank for s in known):
        raise ValueError("ConcatOp: ranks of all input tensors should match: "
                         + " vs ".join(shape_str(x.shape) for x in xs))
    if rank == 0:
        raise ValueError("Can't concatenate scalars (use nf.stack instead)")
    a = _normalize_one_axis(axis, rank)
    rest = _merge_shapes([s[:a] + s[a + 1:] for s in known],
                         f"ConcatOp: dimensions other than {a} must match")
    total = None
    if len(known) == len(xs) and all(s[a] is not None for s in known):
        total = sum(s[a] for s in known)
    return Spec(rest[:a] + [total] + rest[a:], xs[0].dtype)


@primitive("ConcatV2", shape=_concat_spec)
def _concat(*xs, axis):
    if len({x.ndim for x in xs}) > 1:
        raise ValueError("ConcatOp: ranks of all input tensors should match")
    if xs[0].ndim == 0:
        raise ValueError("Can't concatenate scalars (use nf.stack instead)")
    return np.concatenate(xs, axis=axis)


@_concat.defgrad
def _concat_grad(op, dy):
    return list(_split_like(dy, *op.inputs, axis=op.attrs["axis"]))


def _split_like_spec(dy, *refs, axis):
    specs = []
    for r in refs:
        if dy.shape.rank is None:
            specs.append(Spec(r.shape, dy.dtype))
            continue
        dims = list(dy.shape)
        a = _normalize_one_axis(axis, len(dims))
        dims[a] = r.shape[a] if r.shape.rank is not None else None
        specs.append(Spec(dims, dy.dtype))
    return specs


@primitive("SplitLike", shape=_split_like_spec, same_dtype=False, num_outputs=None,
           view=True, shape_inputs=_ALL_BUT_FIRST)
def _split_like(dy, *refs, axis):
    """Splits ``dy`` along ``axis`` into pieces as long as each of ``refs`` (concat's VJP)."""
    offsets = np.cumsum([np.shape(r)[axis] for r in refs])[:-1]
    return tuple(np.split(dy, offsets, axis=axis))


@_split_like.defgrad
def _split_like_grad(op, *dys):
    return [_concat(*dys, axis=op.attrs["axis"])] + [None] * (len(op.inputs) - 1)


def concat(values, axis, name="concat"):
    """Joins tensors along an existing ``axis`` (``nf.concat``).

    >>> nf.concat([nf.zeros([2, 3]), nf.ones([2, 1])], axis=1).shape
    TensorShape([2, 4])
    """
    values = list(values)
    if not values:
        raise ValueError("concat needs at least one tensor")
    return _concat(*values, axis=int(axis), name=name)


# -- stack / unstack ----------------------------------------------------------------------


def _stack_spec(*xs, axis):
    shapes = [x.shape for x in xs]
    merged = _merge_shapes(shapes, "Shapes of all inputs to stack must match")
    if merged is None:
        return Spec(None, xs[0].dtype)
    merged.insert(_normalize_one_axis(axis, len(merged) + 1), len(xs))
    return Spec(merged, xs[0].dtype)


@primitive("Pack", shape=_stack_spec)
def _stack(*xs, axis):
    if len({x.shape for x in xs}) > 1:
        raise ValueError("Shapes of all inputs to stack must match: "
                         + " vs ".join(shape_str(x.shape) for x in xs))
    return np.stack(xs, axis=axis)


@_stack.defgrad
def _stack_grad(op, dy):
    return list(_unstack(dy, num=len(op.inputs), axis=op.attrs["axis"]))


def stack(values, axis=0, name="stack"):
    """Joins same-shaped tensors along a new ``axis`` (``nf.stack``).

    >>> nf.stack([nf.zeros([3]), nf.ones([3])], axis=1).shape
    TensorShape([3, 2])
    """
    values = list(values)
    if not values:
        raise ValueError("stack needs at least one tensor")
    return _stack(*values, axis=int(axis), name=name)


def _unstack_spec(x, num, axis):
    if x.shape.rank is None:
        return [Spec(None, x.dtype)] * num
    a = _normalize_one_axis(axis, x.shape.rank)
    if x.shape[a] not in (None, num):
        raise ValueError(f"Cannot unstack {num} tensors from dimension {a} of size "
                         f"{x.shape[a]}")
    return [Spec(x.shape[:a] + x.shape[a + 1:], x.dtype)] * num


@primitive("Unpack", shape=_unstack_spec, num_outputs=None, view=True)
def _unstack(x, num, axis):
    if x.shape[axis] != num:
        raise ValueError(f"Cannot unstack {num} tensors from dimension {axis} of size "
                         f"{x.shape[axis]}")
    return tuple(np.moveaxis(x, axis, 0))


@_unstack.defgrad
def _unstack_grad(op, *dys):
    return [_stack(*dys, axis=op.attrs["axis"])]


def unstack(value, num=None, axis=0, name="unstack"):
    """Splits ``value`` along ``axis`` into a list of tensors of one rank less
    (``nf.unstack``); ``num`` must be known when the graph is built.

    >>> [t.shape for t in nf.unstack(nf.zeros([2, 3]), axis=1)]
    [TensorShape([2]), TensorShape([2]), TensorShape([2])]
    """
    if not hasattr(value, "dtype"):
        value = convert_to_tensor(value)
    axis = int(axis)
    if num is None:
        rank = value.shape.rank
        dim = None if rank is None or not -rank <= axis < rank else value.shape[axis]
        if dim is None:
            raise ValueError(f"Cannot infer argument `num` from shape "
                             f"{shape_str(value.shape)} (axis {axis}); pass num=")
        num = dim
    return list(_unstack(value, num=int(num), axis=axis, name=name))


# -- split --------------------------------------------------------------------------------


def _split_sizes(dim, splits):
    """Concrete piece sizes for dim (None where unknown)."""
    if isinstance(splits, int):
        if dim is not None and dim % splits:
            raise ValueError(f"Number of ways to split should evenly divide the split "
                             f"dimension, but got split_dim of size {dim} and "
                             f"num_split {splits}")
        return [None if dim is None else dim // splits] * splits
    sizes = list(splits)
    if -1 in sizes:
        if dim is None:
            return [None if s == -1 else s for s in sizes]
        rest = sum(s for s in sizes if s != -1)
        if rest > dim:
            raise ValueError(f"split sizes {sizes} add up to more than the dimension "
                             f"size {dim}")
        return [dim - rest if s == -1 else s for s in sizes]
    if dim is not None and sum(sizes) != dim:
        raise ValueError(f"split sizes {sizes} must add up to the dimension size {dim}")
    return sizes


def _split_spec(x, splits, axis):
    count = splits if isinstance(splits, int) else len(splits)
    if x.shape.rank is None:
        return [Spec(None, x.dtype)] * count
    a = _normalize_one_axis(axis, x.shape.rank)
    dims = list(x.shape)
    specs = []
    for size in _split_sizes(dims[a], splits):
        dims[a] = size
        specs.append(Spec(dims, x.dtype))
    return specs


@primitive("Split", shape=_split_spec, num_outputs=None, view=True)
def _split(x, splits, axis):
    sizes = _split_sizes(x.shape[axis], splits)
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


@_split.defgrad
def _split_grad(op, *dys):
    return [_concat(*dys, axis=op.attrs["axis"])]


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits ``value`` along ``axis`` into ``n`` equal pieces or pieces of the given
    sizes (one size may be -1) (``nf.split``).

    >>> [t.shape for t in nf.split(nf.zeros([5, 2]), [2, -1])]
    [TensorShape([2, 2]), TensorShape([3, 2])]
    """
    if np.ndim(num_or_size_splits) == 0 and not isinstance(num_or_size_splits,
                                                           (list, tuple)):
        splits = _static_ints(num_or_size_splits, "num_or_size_splits")[0]
        if splits <= 0:
            raise ValueError(f"num_or_size_splits must be positive, got {splits}")
    else:
        splits = _static_ints(num_or_size_splits, "num_or_size_splits")
        if splits.count(-1) > 1 or any(s < -1 for s in splits):
            raise ValueError(f"size splits {list(splits)} may hold at most one -1 and no "
                             "other negative size")
        if num is not None and int(num) != len(splits):
            raise ValueError(f"num={num} does not match {len(splits)} size splits")
    return list(_split(value, splits=splits, axis=int(axis), name=name))


__all__ = ["concat", "stack", "unstack", "split"]
