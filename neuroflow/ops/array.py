"""Array ops: static values of shape tensors, shapes and reshaping, transposes, size-1 dims.

The other array ops live beside it and are re-exported here (``nf.concat``, ...):
``ops/creation.py`` (zeros, fill, range, eye, linspace ...), ``ops/joining.py`` (concat,
stack, unstack, split) and ``ops/tiling.py`` (tile, pad, reverse, slice). NumPy-style
indexing and gathers live in ``ops/indexing.py`` and ``ops/gather.py``.
"""
from __future__ import annotations

import builtins

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.context import ctx
from neuroflow.core.op import CONST, Spec, constant, primitive
from neuroflow.core.tensor import SymbolicTensor, TensorShape, shape_str

# -- static values of shape tensors --------------------------------------------------------


def constant_dim(t):
    """The value of a scalar int tensor when the graph tells it without running (else None).

    Constants, and elements of ``nf.shape(x)`` whose dim is statically known, qualify; a
    negative constant (the ``-1`` of reshape) is returned as is.
    """
    if not isinstance(t, SymbolicTensor):
        return int(np.asarray(t))
    op = t.op
    if op.op_def is CONST:
        value = op.attrs["value"]
        return int(value) if np.ndim(value) == 0 else None
    if op.type == "Cast":
        return constant_dim(op.inputs[0])
    if op.type == "Index" and len(op.attrs["key"]) == 1 and op.attrs["key"][0][0] == "int":
        k = op.attrs["key"][0][1]
        base = constant_value_as_shape(op.inputs[0], keep_negative=True)
        if isinstance(k, int) and base.rank is not None and -len(base) <= k < len(base):
            return base[k]
    return None


def constant_value_as_shape(t, keep_negative=False) -> TensorShape:
    """The static dims a 1-D shape tensor holds, as far as the graph tells without running
    it (TF's ``constant_value_as_shape``): unknown dims are None."""
    if not isinstance(t, SymbolicTensor):
        dims = [int(d) for d in np.asarray(t).reshape(-1)]
        return TensorShape(d if d >= 0 or keep_negative else None for d in dims)
    op = t.op
    if op.op_def is CONST:
        return constant_value_as_shape(op.attrs["value"], keep_negative)
    if op.type == "Shape":
        return op.inputs[0].shape
    if op.type == "Cast":
        return constant_value_as_shape(op.inputs[0], keep_negative)
    if op.type == "Pack" and op.attrs["axis"] == 0:
        dims = [constant_dim(x) for x in op.inputs]
        return TensorShape(d if d is None or d >= 0 or keep_negative else None for d in dims)
    if op.type == "ConcatV2" and op.attrs["axis"] in (0, -1):
        parts = [constant_value_as_shape(x, keep_negative) for x in op.inputs]
        if all(p.rank is not None for p in parts):
            return TensorShape([d for p in parts for d in p])
    if op.type == "Index" and len(op.attrs["key"]) == 1 and op.attrs["key"][0][0] == "slice":
        bounds = op.attrs["key"][0][1:]
        base = constant_value_as_shape(op.inputs[0], keep_negative)
        if base.rank is not None and all(b is None or isinstance(b, int) for b in bounds):
            return TensorShape(base[builtins.slice(*bounds)])
    if t.shape.rank == 1 and t.shape[0] is not None:
        return TensorShape([None] * t.shape[0])
    return TensorShape(None)


def _shape_operand(shape):
    """A shape argument as an int array, or a 1-D int tensor when some dims are symbolic."""
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(f"Cannot use the partially known shape {shape_str(shape)} as a "
                             "value; pass nf.shape(x) for dynamic dims")
        return np.asarray(list(shape), dtype=np.int32).reshape(-1)
    if hasattr(shape, "dtype"):
        return shape
    items = list(shape) if isinstance(shape, (list, tuple)) else [shape]
    if any(isinstance(d, SymbolicTensor) for d in items):
        from neuroflow.ops.joining import stack
        from neuroflow.ops.math import cast
        return stack([cast(d, dtypes.int32) if isinstance(d, SymbolicTensor) else int(d)
                      for d in items])
    return np.asarray([int(d) for d in items], dtype=np.int32)


def _static_shape(shape):
    if hasattr(shape, "numpy"):
        shape = shape.numpy()
    return tuple(int(d) for d in np.asarray(shape, dtype=np.int64).reshape(-1))


def _static_int(value, what):
    if isinstance(value, SymbolicTensor):
        known = constant_dim(value)
        if known is None:
            raise ValueError(f"{what} must be known when the graph is built, got the "
                             f"symbolic tensor '{value.name}'")
        return known
    return int(np.asarray(value))


def _normalize_one_axis(axis, rank):
    axis = int(axis)
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range [{-rank}, {rank})")
    return axis % rank


# -- shape --------------------------------------------------------------------------------


@primitive("Shape", shape=lambda x, out_type: Spec(
    [x.shape.rank] if x.shape.rank is not None else [None], out_type), differentiable=False,
    shape_inputs=True)
def _shape(x, out_type):
    return np.asarray(np.shape(x), dtype=out_type.np_dtype)


def shape(input, out_type=dtypes.int32, name=None):
    """The dynamic shape of ``input`` as a 1-D int tensor (``nf.shape``).

    >>> nf.shape(nf.zeros([2, 3])).numpy()
    array([2, 3], dtype=int32)
    """
    if ctx.graph is None and not hasattr(input, "dtype"):
        input = constant(input)
    return _shape(input, out_type=dtypes.as_dtype(out_type), name=name)


def _dim_sources(new_shape):
    """For a shape built by stacking ``nf.shape(y)[k]`` scalars: (y, k) per entry, else None."""
    op = new_shape.op
    if op.type != "Pack":
        return None
    sources = []
    for t in op.inputs:
        while t.op.type == "Cast":
            t = t.op.inputs[0]
        key = t.op.attrs.get("key") if t.op.type == "Index" else None
        if key and len(key) == 1 and key[0][0] == "int" and isinstance(key[0][1], int) \
                and t.op.inputs[0].op.type == "Shape":
            sources.append((t.op.inputs[0].op.inputs[0], key[0][1]))
        else:
            sources.append(None)
    return sources


def _reshape_spec(x, new_shape):
    dims = constant_value_as_shape(new_shape, keep_negative=True)
    if dims.rank is None:
        return Spec(None, x.dtype)
    dims = list(dims)
    if dims.count(-1) > 1:
        raise ValueError(f"Reshape can infer at most one dimension, got shape {dims}")
    if any(d is not None and d < -1 for d in dims):
        raise ValueError(f"Reshape dims must be non-negative or -1, got {dims}")
    in_dims = list(x.shape) if x.shape.rank is not None else None
    out_dims = list(dims)
    sources = _dim_sources(new_shape) if isinstance(new_shape, SymbolicTensor) else None
    if in_dims is not None and sources is not None:
        # reshape(x, [nf.shape(x)[0], -1]): the unknown batch dim cancels out on both sides
        for j, src in enumerate(sources):
            if src is not None and src[0] is x and -len(in_dims) <= src[1] < len(in_dims) \
                    and in_dims[src[1]] is None and out_dims[j] is None:
                in_dims[src[1]] = 1
                out_dims[j] = 1
    known = int(np.prod(in_dims)) if in_dims is not None and None not in in_dims else None
    if -1 in dims:
        rest = out_dims.copy()
        rest.remove(-1)
        if known is not None and None not in rest:
            rest_size = int(np.prod(rest))
            if rest_size == 0 or known % rest_size:
                raise ValueError(f"Cannot reshape a tensor with {known} elements to shape "
                                 f"{dims}")
            dims = [known // rest_size if d == -1 else d for d in dims]
        else:
            dims = [None if d == -1 else d for d in dims]
    elif known is not None and None not in out_dims and known != int(np.prod(out_dims)):
        raise ValueError(f"Cannot reshape a tensor with {known} elements to shape {dims} "
                         f"({int(np.prod(dims))} elements)")
    return Spec(dims, x.dtype)


@primitive("Reshape", shape=_reshape_spec, same_dtype=False, view=True)
def _reshape(x, new_shape):
    dims = tuple(int(d) for d in new_shape)
    try:
        return np.reshape(x, dims)
    except ValueError:  # NumPy's words name neither the request nor the rule; TF's do
        if dims.count(-1) > 1:
            raise ValueError(f"Reshape can infer at most one dimension, got shape "
                             f"{list(dims)}") from None
        raise ValueError(f"Cannot reshape a tensor with {x.size} elements to shape "
                         f"{list(dims)}" + ("" if -1 in dims else
                                             f" ({int(np.prod(dims))} elements)")) from None


@_reshape.defgrad
def _reshape_grad(op, dy):
    return [reshape(dy, shape(op.inputs[0])), None]


def reshape(tensor, shape, name=None):
    """Reshapes ``tensor``; one dim may be -1, dims may be scalar tensors (``nf.reshape``).

    >>> nf.reshape(nf.range(6), [2, -1]).shape
    TensorShape([2, 3])
    """
    return _reshape(tensor, _shape_operand(shape), name=name)


@primitive("Size", shape=lambda x, out_type: Spec([], out_type), differentiable=False,
           shape_inputs=True)
def _size(x, out_type):
    return np.asarray(np.size(x), dtype=out_type.np_dtype)


def size(input, out_type=dtypes.int32, name=None):
    """The number of elements of ``input`` as a scalar int tensor (``nf.size``).

    >>> nf.size(nf.zeros([2, 3])).numpy()
    6
    """
    return _size(input, out_type=dtypes.as_dtype(out_type), name=name)


@primitive("Rank", shape=lambda x: Spec([], dtypes.int32), differentiable=False,
           shape_inputs=True)
def _rank(x):
    return np.asarray(np.ndim(x), dtype=np.int32)


def rank(input, name=None):
    """The number of dimensions of ``input`` as a scalar int32 tensor (``nf.rank``).

    >>> nf.rank(nf.zeros([2, 3])).numpy()
    2
    """
    return _rank(input, name=name)


# -- transposes and size-1 dims -----------------------------------------------------------


def _transpose_spec(x, perm):
    if perm is None:
        return Spec(None if x.shape.rank is None else list(reversed(x.shape)), x.dtype)
    if x.shape.rank is None:
        return Spec([None] * len(perm), x.dtype)
    if len(perm) != x.shape.rank:
        raise ValueError(f"perm {list(perm)} has {len(perm)} entries for a tensor of rank "
                         f"{x.shape.rank}")
    return Spec([x.shape[p] for p in perm], x.dtype)


@primitive("Transpose", shape=_transpose_spec, view=True)
def _transpose(x, perm):
    if perm is not None and len(perm) != x.ndim:
        raise ValueError(f"perm {list(perm)} has {len(perm)} entries for a tensor of rank "
                         f"{x.ndim}")
    return np.transpose(x, perm)


@_transpose.defgrad
def _transpose_grad(op, dy):
    perm = op.attrs["perm"]
    return [_transpose(dy, perm=None if perm is None else tuple(np.argsort(perm).tolist()))]


def _static_ints(value, what):
    if isinstance(value, SymbolicTensor):
        known = constant_value_as_shape(value, keep_negative=True)
        if known.rank is None or None in known:
            raise ValueError(f"{what} must be known when the graph is built, got the "
                             f"symbolic tensor '{value.name}'")
        return tuple(known)
    if hasattr(value, "numpy"):
        value = value.numpy()
    return tuple(int(v) for v in np.asarray(value).reshape(-1))


def transpose(a, perm=None, conjugate=False, name="transpose"):
    """Permutes the dims of ``a`` (reverses them when ``perm`` is None) (``nf.transpose``).

    >>> nf.transpose(nf.zeros([2, 3, 4]), [0, 2, 1]).shape
    TensorShape([2, 4, 3])
    """
    if conjugate:
        from neuroflow.ops.math import conj
        a = conj(a)
    if perm is not None:
        perm = _static_ints(perm, "perm")
        n = len(perm)
        if sorted(p % n if -n <= p < n else p for p in perm) != list(builtins.range(n)):
            raise ValueError(f"transpose: perm {list(perm)} is not a permutation of "
                             f"0..{n - 1}")
        perm = tuple(p % n for p in perm)
    return _transpose(a, perm=perm, name=name)


def _squeeze_spec(x, axis):
    if x.shape.rank is None:
        return Spec(None, x.dtype)
    if axis is None:
        if None in x.shape:
            return Spec(None, x.dtype)
        return Spec([d for d in x.shape if d != 1], x.dtype)
    axes = _normalized_axes(axis, x.shape.rank)
    for a in axes:
        if x.shape[a] not in (None, 1):
            raise ValueError(f"Can not squeeze dim[{a}], expected a dimension of 1, got "
                             f"{x.shape[a]}")
    return Spec([d for i, d in enumerate(x.shape) if i not in axes], x.dtype)


def _normalized_axes(axis, rank):
    out = []
    for a in axis:
        if not -rank <= a < rank:
            raise ValueError(f"axis {a} is out of range for a tensor of rank {rank}")
        out.append(a % rank)
    return out


@primitive("Squeeze", shape=_squeeze_spec, view=True)
def _squeeze(x, axis):
    if axis is not None:
        for a in _normalized_axes(axis, x.ndim):
            if x.shape[a] != 1:
                raise ValueError(f"Can not squeeze dim[{a}], expected a dimension of 1, "
                                 f"got {x.shape[a]}")
    return np.squeeze(x, axis)


@_squeeze.defgrad
def _squeeze_grad(op, dy):
    return [reshape(dy, shape(op.inputs[0]))]


def squeeze(input, axis=None, name=None):
    """Removes size-1 dims: all of them, or those in ``axis`` (``nf.squeeze``).

    >>> nf.squeeze(nf.zeros([1, 2, 1]), axis=[0]).shape
    TensorShape([2, 1])
    """
    if axis is not None:
        axis = _static_ints(axis, "axis")
    return _squeeze(input, axis=axis, name=name)


def _expand_dims_spec(x, axis):
    if x.shape.rank is None:
        return Spec(None, x.dtype)
    dims = list(x.shape)
    dims.insert(_normalize_one_axis(axis, len(dims) + 1), 1)
    return Spec(dims, x.dtype)


@primitive("ExpandDims", shape=_expand_dims_spec, view=True)
def _expand_dims(x, axis):
    return np.expand_dims(x, _normalize_one_axis(axis, x.ndim + 1))


@_expand_dims.defgrad
def _expand_dims_grad(op, dy):
    return [reshape(dy, shape(op.inputs[0]))]


def expand_dims(input, axis, name=None):
    """Inserts a size-1 dim at ``axis`` (``nf.expand_dims``).

    >>> nf.expand_dims(nf.zeros([2, 3]), -1).shape
    TensorShape([2, 3, 1])
    """
    axis = _static_ints(axis, "axis")
    if len(axis) != 1:
        raise ValueError(f"expand_dims takes a single axis, got {list(axis)}")
    return _expand_dims(input, axis=axis[0], name=name)


__all__ = ["shape", "reshape", "size", "rank", "transpose", "squeeze", "expand_dims"]

# creation, joining, splitting, tiling, padding, reversing, slicing: re-exported array ops
from neuroflow.ops.creation import *  # noqa: E402,F403
from neuroflow.ops.creation import __all__ as _creation_all  # noqa: E402
from neuroflow.ops.joining import *  # noqa: E402,F403
from neuroflow.ops.joining import __all__ as _joining_all  # noqa: E402
from neuroflow.ops.tiling import *  # noqa: E402,F403
from neuroflow.ops.tiling import __all__ as _tiling_all  # noqa: E402

__all__ += _creation_all + _joining_all + _tiling_all
