"""Array ops: creation, shape manipulation, joining and splitting, gathering, indexing."""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.context import ctx
from neuroflow.core.op import Spec, constant, primitive
from neuroflow.core.tensor import TensorShape

# -- creation -----------------------------------------------------------------------------


def _static_shape(shape):
    if hasattr(shape, "numpy"):
        shape = shape.numpy()
    return tuple(int(d) for d in np.asarray(shape, dtype=np.int64).reshape(-1))


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of zeros (``nf.zeros``).

    >>> nf.zeros([2, 3]).shape
    TensorShape([2, 3])
    """
    if _is_dynamic(shape):
        return fill(shape, np.zeros((), dtypes.as_dtype(dtype).np_dtype), name=name)
    return constant(np.zeros(_static_shape(shape), dtypes.as_dtype(dtype).np_dtype), name=name
                    or "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of ones (``nf.ones``)."""
    if _is_dynamic(shape):
        return fill(shape, np.ones((), dtypes.as_dtype(dtype).np_dtype), name=name)
    return constant(np.ones(_static_shape(shape), dtypes.as_dtype(dtype).np_dtype), name=name
                    or "ones")


def _is_dynamic(shape):
    from neuroflow.core.tensor import SymbolicTensor
    return isinstance(shape, SymbolicTensor)


def _fill_spec(dims, value):
    from neuroflow.core.op import CONST
    if dims.op.op_def is CONST:
        return Spec(tuple(int(d) for d in dims.op.attrs["value"]), value.dtype)
    n = dims.shape[0] if dims.shape.rank == 1 else None
    return Spec(None if n is None else [None] * n, value.dtype)


@primitive("Fill", shape=_fill_spec, same_dtype=False)
def _fill(dims, value):
    return np.full(tuple(int(d) for d in dims), value, dtype=np.asarray(value).dtype)


@_fill.defgrad
def _fill_grad(op, dy):
    from neuroflow.ops.reduce import reduce_sum
    return [None, reduce_sum(dy)]


def fill(dims, value, name=None):
    """A tensor of shape ``dims`` filled with ``value`` (``nf.fill``)."""
    if not hasattr(dims, "dtype"):
        dims = np.asarray(dims, dtype=np.int32)
    return _fill(dims, value, name=name)


def _same_spec(x):
    return Spec(x.shape, x.dtype)


@primitive("ZerosLike", shape=_same_spec, differentiable=False, shape_inputs=True)
def _zeros_like(x):
    return np.zeros_like(x)


def zeros_like(input, dtype=None, name=None):
    """Zeros with the shape (and dtype) of ``input`` (``nf.zeros_like``)."""
    out = _zeros_like(input, name=name)
    if dtype is not None:
        from neuroflow.ops.math import cast
        out = cast(out, dtype)
    return out


@primitive("OnesLike", shape=_same_spec, differentiable=False, shape_inputs=True)
def _ones_like(x):
    return np.ones_like(x)


def ones_like(input, dtype=None, name=None):
    """Ones with the shape (and dtype) of ``input`` (``nf.ones_like``)."""
    out = _ones_like(input, name=name)
    if dtype is not None:
        from neuroflow.ops.math import cast
        out = cast(out, dtype)
    return out


# -- shape --------------------------------------------------------------------------------


@primitive("Shape", shape=lambda x, out_type: Spec(
    [x.shape.rank] if x.shape.rank is not None else [None], out_type), differentiable=False,
    shape_inputs=True)
def _shape(x, out_type):
    return np.asarray(np.shape(x), dtype=out_type.np_dtype)


def shape(input, out_type=dtypes.int32, name=None):
    """The dynamic shape of ``input`` as a 1-D int tensor (``nf.shape``)."""
    if ctx.graph is None and not hasattr(input, "dtype"):
        input = constant(input)
    return _shape(input, out_type=dtypes.as_dtype(out_type), name=name)


def _reshape_spec(x, new_shape):
    from neuroflow.core.op import CONST
    if new_shape.op.op_def is CONST:
        dims = [int(d) for d in new_shape.op.attrs["value"]]
    elif new_shape.op.type == "Shape":
        return Spec(new_shape.op.inputs[0].shape, x.dtype)
    else:
        n = new_shape.shape[0] if new_shape.shape.rank == 1 else None
        return Spec(None if n is None else [None] * n, x.dtype)
    if dims.count(-1) > 1:
        raise ValueError(f"Reshape can infer at most one dimension, got shape {dims}")
    known = x.shape.num_elements() if x.shape.rank is not None else None
    if -1 in dims:
        rest = int(np.prod([d for d in dims if d != -1]))
        if known is not None:
            if rest == 0 or known % rest:
                raise ValueError(f"Cannot reshape a tensor with {known} elements to shape "
                                 f"{dims}")
            dims = [known // rest if d == -1 else d for d in dims]
        else:
            dims = [None if d == -1 else d for d in dims]
    elif known is not None and known != int(np.prod(dims)):
        raise ValueError(f"Cannot reshape a tensor with {known} elements to shape {dims} "
                         f"({int(np.prod(dims))} elements)")
    return Spec(dims, x.dtype)


@primitive("Reshape", shape=_reshape_spec, same_dtype=False, view=True)
def _reshape(x, new_shape):
    return np.reshape(x, tuple(int(d) for d in new_shape))


@_reshape.defgrad
def _reshape_grad(op, dy):
    return [reshape(dy, shape(op.inputs[0])), None]


def reshape(tensor, shape, name=None):
    """Reshapes ``tensor``; one dim may be -1 (``nf.reshape``).

    >>> nf.reshape(nf.range(6), [2, -1]).shape
    TensorShape([2, 3])
    """
    if not hasattr(shape, "dtype"):
        shape = np.asarray(list(shape) if isinstance(shape, TensorShape) else shape,
                           dtype=np.int32).reshape(-1)
    return _reshape(tensor, shape, name=name)


@primitive("Size", shape=lambda x, out_type: Spec([], out_type), differentiable=False,
           shape_inputs=True)
def _size(x, out_type):
    return np.asarray(np.size(x), dtype=out_type.np_dtype)


def size(input, out_type=dtypes.int32, name=None):
    """The number of elements of ``input`` as a scalar int tensor (``nf.size``)."""
    return _size(input, out_type=dtypes.as_dtype(out_type), name=name)


@primitive("Rank", shape=lambda x: Spec([], dtypes.int32), differentiable=False,
           shape_inputs=True)
def _rank(x):
    return np.asarray(np.ndim(x), dtype=np.int32)


def rank(input, name=None):
    """The number of dimensions of ``input`` as a scalar int32 tensor (``nf.rank``)."""
    return _rank(input, name=name)

__all__ = ["zeros", "ones", "fill", "zeros_like", "ones_like", "shape", "reshape", "size",
           "rank"]
