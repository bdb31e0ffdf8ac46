"""Tiling, padding, reversing and slicing: tile, pad, reverse, slice (re-exported by
``ops.array``).

Each op's adjoint is a primitive or an indexing op (tile <-> its sum, mirror pad <-> its
fold, constant pad <-> slicing), so gradients of gradients work.
"""
from __future__ import annotations

import builtins

import numpy as np

from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import SymbolicTensor, shape_str
from neuroflow.ops.array import _normalized_axes, _static_ints
from neuroflow.ops.indexing import getitem

# -- tile ---------------------------------------------------------------------------------


def _tile_spec(x, multiples):
    if x.shape.rank is None:
        return Spec([None] * len(multiples), x.dtype)
    if len(multiples) != x.shape.rank:
        raise ValueError(f"Expected multiples argument to be a vector of length "
                         f"{x.shape.rank} but got length {len(multiples)}")
    return Spec([None if d is None else d * m for d, m in zip(x.shape, multiples)], x.dtype)


@primitive("Tile", shape=_tile_spec)
def _tile(x, multiples):
    if len(multiples) != x.ndim:
        raise ValueError(f"Expected multiples argument to be a vector of length {x.ndim} "
                         f"but got length {len(multiples)}")
    return np.tile(x, multiples)


@_tile.defgrad
def _tile_grad(op, dy):
    return [_tile_sum(dy, op.inputs[0], multiples=op.attrs["multiples"])]


@primitive("TileGrad", shape=lambda dy, x, multiples: Spec(x.shape, dy.dtype),
           same_dtype=False, shape_inputs=(1,))
def _tile_sum(dy, x, multiples):
    """Sums the tiles of ``dy`` back onto one copy of ``x`` (tile's VJP)."""
    pairs = [n for m, d in zip(multiples, x.shape) for n in (m, d)]
    return np.sum(dy.reshape(pairs), axis=tuple(builtins.range(0, len(pairs), 2)))


@_tile_sum.defgrad
def _tile_sum_grad(op, dy):
    return [_tile(dy, multiples=op.attrs["multiples"]), None]


def tile(input, multiples, name=None):
    """Repeats ``input`` ``multiples[i]`` times along dim i (``nf.tile``).

    >>> nf.tile(nf.constant([[1, 2]]), [2, 3]).shape
    TensorShape([2, 6])
    """
    multiples = _static_ints(multiples, "multiples")
    if any(m < 0 for m in multiples):
        raise ValueError(f"multiples must be non-negative, got {list(multiples)}")
    return _tile(input, multiples=multiples, name=name)


# -- pad ----------------------------------------------------------------------------------

_MIRROR = {"REFLECT": "reflect", "SYMMETRIC": "symmetric"}


def _pad_spec(x, paddings, **attrs):
    if x.shape.rank is None:
        return Spec([None] * len(paddings), x.dtype)
    if len(paddings) != x.shape.rank:
        raise ValueError(f"paddings has {len(paddings)} rows for a tensor of rank "
                         f"{x.shape.rank}: it must be [rank, 2]")
    mode = attrs.get("mode")
    for d, (before, after) in zip(x.shape, paddings):
        if d is not None and mode is not None:
            _check_mirror(d, before, after, mode)
    return Spec([None if d is None else d + b + a for d, (b, a) in zip(x.shape, paddings)],
                x.dtype)


def _check_mirror(dim, before, after, mode):
    if mode == "REFLECT" and max(before, after) >= dim:
        raise ValueError(f"paddings must be less than the dimension size: {before}, {after} "
                         f"not less than {dim} (mode REFLECT)")
    if mode == "SYMMETRIC" and max(before, after) > dim:
        raise ValueError(f"paddings must be no greater than the dimension size: {before}, "
                         f"{after} greater than {dim} (mode SYMMETRIC)")


@primitive("PadV2", shape=_pad_spec)
def _pad(x, paddings, constant_values):
    if len(paddings) != x.ndim:
        raise ValueError(f"paddings has {len(paddings)} rows for a tensor of rank {x.ndim}")
    return np.pad(x, paddings, mode="constant", constant_values=constant_values)


@_pad.defgrad
def _pad_grad(op, dy):
    key = tuple(builtins.slice(b, -a if a else None) for b, a in op.attrs["paddings"])
    return [getitem(dy, key)]


@primitive("MirrorPad", shape=_pad_spec)
def _mirror_pad(x, paddings, mode):
    if len(paddings) != x.ndim:
        raise ValueError(f"paddings has {len(paddings)} rows for a tensor of rank {x.ndim}")
    for d, (before, after) in zip(x.shape, paddings):
        _check_mirror(d, before, after, mode)
    return np.pad(x, paddings, mode=_MIRROR[mode])


@_mirror_pad.defgrad
def _mirror_pad_grad(op, dy):
    return [_mirror_pad_fold(dy, paddings=op.attrs["paddings"], mode=op.attrs["mode"])]


def _fold_spec(dy, paddings, mode):
    if dy.shape.rank is None:
        return Spec([None] * len(paddings), dy.dtype)
    return Spec([None if d is None else d - b - a for d, (b, a) in zip(dy.shape, paddings)],
                dy.dtype)


@primitive("MirrorPadGrad", shape=_fold_spec)
def _mirror_pad_fold(dy, paddings, mode):
    """Adds each mirrored entry of ``dy`` back onto the entry it copies (MirrorPad's VJP)."""
    out = dy
    for axis, (before, after) in enumerate(paddings):
        if not before and not after:
            continue
        size = out.shape[axis] - before - after
        source = np.pad(np.arange(size), (before, after), mode=_MIRROR[mode])
        folded = np.zeros(out.shape[:axis] + (size,) + out.shape[axis + 1:], out.dtype)
        np.add.at(folded, (builtins.slice(None),) * axis + (source,), out)
        out = folded
    return out


@_mirror_pad_fold.defgrad
def _mirror_pad_fold_grad(op, dy):
    return [_mirror_pad(dy, paddings=op.attrs["paddings"], mode=op.attrs["mode"])]


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """Pads ``tensor`` by ``paddings[i] = [before, after]`` along dim i (``nf.pad``); mode
    'CONSTANT' (with ``constant_values``), 'REFLECT' or 'SYMMETRIC', any case.

    >>> nf.pad(nf.constant([[1, 2, 3]]), [[0, 0], [2, 1]], "REFLECT").numpy()
    array([[3, 2, 1, 2, 3, 2]], dtype=int32)
    """
    upper = mode.upper() if isinstance(mode, str) else mode
    if upper not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f"pad mode must be one of 'CONSTANT', 'REFLECT' or 'SYMMETRIC' "
                         f"(any case), got {mode!r}")
    flat = _static_ints(paddings, "paddings")
    if len(flat) % 2:
        raise ValueError(f"paddings must have shape [rank, 2], got {len(flat)} values")
    pairs = tuple((flat[i], flat[i + 1]) for i in builtins.range(0, len(flat), 2))
    if any(p < 0 for p in flat):
        raise ValueError(f"paddings must be non-negative, got {[list(p) for p in pairs]}")
    if upper != "CONSTANT":
        return _mirror_pad(tensor, paddings=pairs, mode=upper, name=name)
    if isinstance(constant_values, SymbolicTensor):
        from neuroflow.ops.array import constant_dim
        known = constant_dim(constant_values) if constant_values.dtype.is_integer else None
        if known is None and constant_values.op.type == "Const":
            known = constant_values.op.attrs["value"][()]
        if known is None:
            raise ValueError("constant_values must be known when the graph is built")
        constant_values = known
    value = np.asarray(constant_values)
    if value.size != 1:
        raise ValueError(f"constant_values must be a scalar, got shape {value.shape}")
    return _pad(tensor, paddings=pairs, constant_values=value.reshape(())[()].item(),
                name=name)


# -- reverse and slice --------------------------------------------------------------------


def _reverse_spec(x, axis):
    if x.shape.rank is not None:
        _normalized_axes(axis, x.shape.rank)
    return Spec(x.shape, x.dtype)


@primitive("ReverseV2", shape=_reverse_spec, view=True)
def _reverse(x, axis):
    return np.flip(x, _normalized_axes(axis, x.ndim)) if axis else x


@_reverse.defgrad
def _reverse_grad(op, dy):
    return [_reverse(dy, axis=op.attrs["axis"])]


def reverse(tensor, axis, name=None):
    """Reverses ``tensor`` along each dim in ``axis`` (``nf.reverse``).

    >>> nf.reverse(nf.constant([[1, 2, 3]]), [1]).numpy()
    array([[3, 2, 1]], dtype=int32)
    """
    axis = _static_ints(axis, "axis")
    rank = getattr(tensor, "shape", None)
    rank = rank.rank if rank is not None else np.ndim(tensor)
    if rank is not None:
        normalized = _normalized_axes(axis, rank)
        if len(set(normalized)) != len(normalized):
            raise ValueError(f"axis {list(axis)}: a dimension is specified more than once")
    return _reverse(tensor, axis=axis, name=name)


def slice(input_, begin, size, name=None):
    """The block of ``input_`` starting at ``begin`` with ``size`` (``-1``: to the end)
    along each dim (``nf.slice``).

    >>> nf.slice(nf.reshape(nf.range(12), [3, 4]), [1, 0], [2, -1]).shape
    TensorShape([2, 4])
    """
    from neuroflow.ops.math import add
    sizes = _static_ints(size, "size")
    if isinstance(begin, SymbolicTensor):
        begins = [getitem(begin, i) for i in builtins.range(len(sizes))]
    else:
        begins = list(_static_ints(begin, "begin"))
    if len(begins) != len(sizes):
        raise ValueError(f"begin and size must have the same length, got {len(begins)} "
                         f"and {len(sizes)}")
    if not hasattr(input_, "dtype"):
        input_ = convert_to_tensor(input_)
    shape = input_.shape
    if shape.rank is not None:
        if len(shape) != len(sizes):
            raise ValueError(f"begin and size must have length {len(shape)} (the rank of "
                             f"a tensor of shape {shape_str(shape)}), got {len(sizes)}")
        for i, (d, b, s) in enumerate(zip(shape, begins, sizes)):
            if isinstance(b, int) and b < 0:
                raise ValueError(f"Expected begin[{i}] >= 0, but got {b}")
            if s < -1:
                raise ValueError(f"Expected size[{i}] >= -1, but got {s}")
            if d is not None and isinstance(b, int) and (b > d or (s != -1 and b + s > d)):
                raise ValueError(f"Expected size[{i}] in [0, {d - b}], but got {s} "
                                 f"(begin[{i}] = {b}, dimension size {d})")
    key = tuple(builtins.slice(b, None if s == -1 else (b + s if isinstance(b, int)
                                                       else add(b, s)))
                for b, s in zip(begins, sizes))
    return getitem(input_, key, name=name)


__all__ = ["tile", "pad", "reverse", "slice"]
