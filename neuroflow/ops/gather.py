"""Gathers and scatters (``gather``, ``gather_nd``, ``scatter_nd``, ``boolean_mask``) built on
the ``Index`` / ``IndexAdd`` primitives of ``ops/indexing.py``, and ``one_hot``.

Re-exported by ``ops.indexing`` (so ``nf.gather`` ...).
"""
from __future__ import annotations

import builtins

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import SymbolicTensor, TensorShape, shape_str
from neuroflow.ops.indexing import _index, _index_add

_FULL = ("slice", None, None, None)


def _tensor(x):
    return x if hasattr(x, "dtype") else convert_to_tensor(x)


def _index_operand(indices, what="indices"):
    """Indices as a tensor or int array, checking the dtype."""
    if not hasattr(indices, "dtype"):
        indices = np.asarray(indices)
        if indices.size == 0 and indices.dtype.kind == "f":
            indices = indices.astype(np.int32)
    kind = np.dtype(getattr(indices.dtype, "np_dtype", indices.dtype)).kind
    if kind not in "iu":
        raise TypeError(f"{what} must be an integer tensor, got dtype "
                        f"{dtypes.as_dtype(indices.dtype).name}")
    return indices


def _rank(x):
    shape = getattr(x, "shape", None)
    return TensorShape(shape).rank if shape is not None else np.ndim(x)


def _check_batch(params, indices, batch_dims):
    for i in builtins.range(batch_dims):
        p, q = params.shape[i], indices.shape[i]
        if p is not None and q is not None and p != q:
            raise ValueError(f"batch_dims={batch_dims}: params.shape[{i}] = {p} must equal "
                             f"indices.shape[{i}] = {q} (params {shape_str(params.shape)}, "
                             f"indices {shape_str(indices.shape)})")


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Slices of ``params`` along ``axis`` at ``indices`` (``nf.gather``): the result has
    shape ``params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis + 1:]``.

    >>> nf.gather(nf.constant([[1, 2], [3, 4], [5, 6]]), [2, 0]).numpy()
    array([[5, 6], [1, 2]], dtype=int32)
    """
    params = _tensor(params)
    indices = _index_operand(indices)
    index_rank, rank = _rank(indices), params.shape.rank
    batch_dims = int(batch_dims)
    if batch_dims < 0:
        if index_rank is None:
            raise ValueError("a negative batch_dims needs indices of known rank")
        batch_dims += index_rank
    axis = batch_dims if axis is None else int(axis)
    if axis < 0:
        if rank is None:
            raise ValueError("a negative axis needs params of known rank")
        axis += rank
    if rank is not None and not 0 <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for params of shape "
                         f"{shape_str(params.shape)}")
    if batch_dims > axis:
        raise ValueError(f"batch_dims ({batch_dims}) must be less than or equal to axis "
                         f"({axis})")
    if batch_dims == 0:
        key = (_FULL,) * axis + (("array", 0, None, True),)
        return _index(params, indices, key=key, name=name)
    if index_rank is None or rank is None:
        raise ValueError("gather with batch_dims needs params and indices of known rank")
    if batch_dims > index_rank:
        raise ValueError(f"batch_dims ({batch_dims}) must be at most the rank of indices "
                         f"({index_rank})")
    _check_batch(params, _tensor(indices), batch_dims)
    key = tuple(("range", j, index_rank) for j in builtins.range(batch_dims)) \
        + (_FULL,) * (axis - batch_dims) + (("array", 0, None, True),)
    out = _index(params, indices, key=key, name=name)
    middle = axis - batch_dims
    if middle == 0:
        return out
    # batch indices and the gathered axis were not side by side: NumPy put them first
    from neuroflow.ops.array import transpose
    total = index_rank + middle + rank - axis - 1
    perm = (list(builtins.range(batch_dims))
            + list(builtins.range(index_rank, index_rank + middle))
            + list(builtins.range(batch_dims, index_rank))
            + list(builtins.range(index_rank + middle, total)))
    return transpose(out, perm)


def _nd_key(indices, batch_dims, what):
    index_rank = _rank(indices)
    depth = indices.shape[-1] if index_rank else None
    if depth is None:
        raise ValueError(f"{what} needs the last dim of indices (the index depth) to be "
                         f"known, got indices of shape {shape_str(indices.shape)}")
    if depth == 0:
        raise ValueError(f"{what} with an index depth of 0 is not supported")
    return tuple(("range", j, index_rank - 1) for j in builtins.range(batch_dims)) + tuple(
        ("array", 0, k, True) for k in builtins.range(depth))


def gather_nd(params, indices, batch_dims=0, name=None):
    """Gathers slices of ``params`` at the multi-indices in the last dim of ``indices``
    (``nf.gather_nd``): the result has shape ``indices.shape[:-1] + params.shape[K:]``.

    >>> nf.gather_nd(nf.constant([[1, 2], [3, 4]]), [[1, 0], [0, 1]]).numpy()
    array([3, 2], dtype=int32)
    """
    params = _tensor(params)
    indices = _index_operand(indices)
    batch_dims = int(batch_dims)
    if batch_dims < 0 or (batch_dims and _rank(indices) is None):
        raise ValueError(f"batch_dims must be a non-negative int, got {batch_dims}")
    if batch_dims:
        _check_batch(params, _tensor(indices), batch_dims)
    key = _nd_key(indices, batch_dims, "gather_nd")
    rank = params.shape.rank
    if rank is not None and len(key) > rank:
        raise ValueError(f"index depth {len(key) - batch_dims} (+ {batch_dims} batch dims) "
                         f"exceeds the rank of params of shape {shape_str(params.shape)}")
    return _index(params, indices, key=key, name=name)


def scatter_nd(indices, updates, shape, name=None):
    """A tensor of ``shape``, zero except for ``updates`` placed at ``indices`` (repeated
    indices add up, as TF) (``nf.scatter_nd``).

    >>> nf.scatter_nd([[1], [3], [1]], nf.constant([1.0, 2.0, 3.0]), [5]).numpy()
    array([0., 4., 0., 2., 0.], dtype=float32)
    """
    from neuroflow.ops.array import _shape_operand
    indices = _index_operand(indices)
    key = _nd_key(indices, 0, "scatter_nd")
    return _index_add(updates, _shape_operand(shape), indices, key=key, name=name)


def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    """The entries (or slices) of ``tensor`` where ``mask`` is True (``nf.boolean_mask``):
    ``mask`` covers dims ``axis .. axis + mask.ndim - 1``, which the result flattens into one.

    >>> nf.boolean_mask(nf.constant([1, 2, 3]), [True, False, True]).numpy()
    array([1, 3], dtype=int32)
    """
    tensor = _tensor(tensor)
    if not hasattr(mask, "dtype"):
        mask = np.asarray(mask)
    if dtypes.as_dtype(mask.dtype) != dtypes.bool_:
        raise TypeError(f"mask must be a bool tensor, got dtype "
                        f"{dtypes.as_dtype(mask.dtype).name}")
    mask_rank = _rank(mask)
    if mask_rank is None:
        raise ValueError("boolean_mask needs a mask of known rank")
    if mask_rank == 0:
        raise ValueError("mask cannot be scalar.")
    axis = 0 if axis is None else int(axis)
    rank = tensor.shape.rank
    if axis < 0:
        if rank is None:
            raise ValueError("a negative axis needs a tensor of known rank")
        axis += rank
    if rank is not None:
        dims = tensor.shape[axis:axis + mask_rank]
        mask_shape = TensorShape(np.shape(mask) if not hasattr(mask, "shape") else mask.shape)
        if len(dims) != mask_rank or not dims.is_compatible_with(mask_shape):
            raise ValueError(f"Shapes {shape_str(dims)} and {shape_str(mask_shape)} are "
                             f"incompatible: the mask must match dims {axis}.."
                             f"{axis + mask_rank - 1} of a tensor of shape "
                             f"{shape_str(tensor.shape)}")
    return _index(tensor, mask, key=(_FULL,) * axis + (("bool", 0),), name=name)


def _one_hot_spec(indices, on, off, depth, axis):
    if indices.shape.rank is None:
        return Spec(None, on.dtype)
    dims = list(indices.shape)
    dims.insert(len(dims) if axis == -1 else axis, depth)
    return Spec(dims, on.dtype)


@primitive("OneHot", shape=_one_hot_spec, same_dtype=(1, 2), differentiable=False)
def _one_hot(indices, on, off, depth, axis):
    hot = indices[..., None] == np.arange(depth)
    out = np.where(hot, on, off).astype(on.dtype, copy=False)
    return out if axis == -1 else np.moveaxis(out, -1, axis)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot vectors of length ``depth`` along ``axis`` (default last); indices outside
    ``[0, depth)`` give all-``off_value`` rows (``nf.one_hot``).

    >>> nf.one_hot([0, 2], 3).numpy()
    array([[1., 0., 0.], [0., 0., 1.]], dtype=float32)
    """
    from neuroflow.ops.array import _static_int
    indices = _index_operand(indices)
    depth = _static_int(depth, "depth")
    if depth < 0:
        raise ValueError(f"one_hot: depth must be non-negative, got {depth}")
    if dtype is None:
        given = [v for v in (on_value, off_value) if v is not None]
        typed = [v.dtype for v in given if hasattr(v, "dtype")]
        dtype = typed[0] if typed else (dtypes.as_dtype(type(given[0])) if given
                                        and isinstance(given[0], (int, float, bool))
                                        else dtypes.float32)
    dtype = dtypes.as_dtype(dtype)
    on = _one_hot_value(1 if on_value is None else on_value, dtype, "on_value")
    off = _one_hot_value(0 if off_value is None else off_value, dtype, "off_value")
    rank = _rank(indices)
    axis = -1 if axis is None else int(axis)
    if axis < -1 or (rank is not None and axis > rank):
        raise ValueError(f"axis must be -1 or in [0, {rank}], got {axis}")
    if rank is not None and axis == rank:
        axis = -1
    return _one_hot(indices, on, off, depth=depth, axis=axis, name=name)


def _one_hot_value(value, dtype, what):
    if hasattr(value, "dtype"):
        if dtypes.as_dtype(value.dtype) != dtype:
            raise TypeError(f"{what} has dtype {dtypes.as_dtype(value.dtype).name}, but the "
                            f"one_hot dtype is {dtype.name}")
        if isinstance(value, SymbolicTensor) or hasattr(value, "_nf_variable"):
            return value
        return np.asarray(value)
    return np.asarray(value, dtype=dtype.np_dtype)


__all__ = ["gather", "gather_nd", "scatter_nd", "boolean_mask", "one_hot"]
