"""Creating tensors: zeros, ones, fill, zeros_like, ones_like, identity, range, eye,
linspace (re-exported by ``ops.array``)."""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import CONST, Spec, constant, identity_kernel, primitive
from neuroflow.core.tensor import SymbolicTensor, shape_str
from neuroflow.ops.array import (
    _normalize_one_axis,
    _shape_operand,
    _static_int,
    _static_shape,
    constant_value_as_shape,
    expand_dims,
)


def _is_dynamic(shape):
    if isinstance(shape, SymbolicTensor):
        return True
    return isinstance(shape, (list, tuple)) and any(isinstance(d, SymbolicTensor)
                                                    for d in shape)


def _dims(shape, op):
    dims = _static_shape(shape)
    if any(d < 0 for d in dims):
        raise ValueError(f"{op}: dims must be non-negative, got shape {list(dims)}")
    return dims


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of zeros (``nf.zeros``).

    >>> nf.zeros([2, 3]).shape
    TensorShape([2, 3])
    """
    if _is_dynamic(shape):
        return fill(shape, np.zeros((), dtypes.as_dtype(dtype).np_dtype), name=name)
    return constant(np.zeros(_dims(shape, "zeros"), dtypes.as_dtype(dtype).np_dtype), name=name
                    or "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of ones (``nf.ones``).

    >>> nf.ones([2], nf.int32).numpy()
    array([1, 1], dtype=int32)
    """
    if _is_dynamic(shape):
        return fill(shape, np.ones((), dtypes.as_dtype(dtype).np_dtype), name=name)
    return constant(np.ones(_dims(shape, "ones"), dtypes.as_dtype(dtype).np_dtype), name=name
                    or "ones")


def _fill_spec(dims, value):
    if value.shape.rank not in (None, 0):
        raise ValueError(f"value must be a scalar, got shape {shape_str(value.shape)}")
    shape = constant_value_as_shape(dims)
    if shape.rank is not None and any(d is not None and d < 0 for d in shape):
        raise ValueError(f"dims must be non-negative, got {list(shape)}")
    return Spec(shape, value.dtype)


@primitive("Fill", shape=_fill_spec, same_dtype=False)
def _fill(dims, value):
    return np.full(tuple(int(d) for d in dims), value, dtype=np.asarray(value).dtype)


@_fill.defgrad
def _fill_grad(op, dy):
    from neuroflow.ops.reduce import reduce_sum
    return [None, reduce_sum(dy)]


def fill(dims, value, name=None):
    """A tensor of shape ``dims`` filled with ``value`` (``nf.fill``).

    >>> nf.fill([2, 2], 7).numpy()
    array([[7, 7], [7, 7]], dtype=int32)
    """
    return _fill(_shape_operand(dims), value, name=name)


def _same_spec(x):
    return Spec(x.shape, x.dtype)


@primitive("ZerosLike", shape=_same_spec, differentiable=False, shape_inputs=True)
def _zeros_like(x):
    return np.zeros_like(x)


def zeros_like(input, dtype=None, name=None):
    """Zeros with the shape (and dtype) of ``input`` (``nf.zeros_like``).

    >>> nf.zeros_like(nf.constant([1.0, 2.0])).numpy()
    array([0., 0.], dtype=float32)
    """
    out = _zeros_like(input, name=name)
    if dtype is not None:
        from neuroflow.ops.math import cast
        out = cast(out, dtype)
    return out


@primitive("OnesLike", shape=_same_spec, differentiable=False, shape_inputs=True)
def _ones_like(x):
    return np.ones_like(x)


def ones_like(input, dtype=None, name=None):
    """Ones with the shape (and dtype) of ``input`` (``nf.ones_like``).

    >>> nf.ones_like(nf.constant([[1, 2]])).numpy()
    array([[1, 1]], dtype=int32)
    """
    out = _ones_like(input, name=name)
    if dtype is not None:
        from neuroflow.ops.math import cast
        out = cast(out, dtype)
    return out


def identity(input, name=None):
    """The input, as a new tensor (``nf.identity``; reads a variable's current value).

    >>> nf.identity(nf.constant([1.0, 2.0])).numpy()
    array([1., 2.], dtype=float32)
    """
    return identity_kernel(input, name=name)


_RANGE_ORDER = [dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64]


def _range_arg_dtype(value):
    if hasattr(value, "dtype"):
        return dtypes.as_dtype(value.dtype)
    return dtypes.float32 if isinstance(value, float) else dtypes.int32


def _range_spec(start, limit, delta):
    values = [_scalar_constant(t) for t in (start, limit, delta)]
    if any(v is None for v in values):
        return Spec([None], start.dtype)
    return Spec([len(_arange(*values))], start.dtype)


def _scalar_constant(t):
    """The value of a scalar graph constant (any dtype), else None."""
    if isinstance(t, SymbolicTensor):
        return t.op.attrs["value"][()] if t.op.op_def is CONST else None
    return np.asarray(t)[()]


def _arange(start, limit, delta):
    if delta == 0:
        raise ValueError(f"Requires delta != 0: {delta}")
    if (delta > 0 and start > limit) or (delta < 0 and start < limit):
        raise ValueError(f"Requires start {'<=' if delta > 0 else '>='} limit when delta "
                         f"{'>' if delta > 0 else '<'} 0: {start}/{limit}")
    return np.arange(start, limit, delta, dtype=np.asarray(start).dtype)


_range_kernel = primitive("Range", shape=_range_spec, differentiable=False)(_arange)


def range(start, limit=None, delta=1, dtype=None, name="range"):
    """The sequence start, start + delta, ... up to (not including) limit (``nf.range``).

    Integer arguments give int32, floats float32 (as ``tf.range``).
    >>> nf.range(1, 7, 2).numpy()
    array([1, 3, 5], dtype=int32)
    """
    from neuroflow.ops.math import cast
    if limit is None:
        start, limit = 0, start
    args = [start, limit, delta]
    if dtype is None:
        found = [_range_arg_dtype(a) for a in args]
        ranked = [d for d in found if d in _RANGE_ORDER]
        dtype = max(ranked, key=_RANGE_ORDER.index) if ranked else found[0]
    dtype = dtypes.as_dtype(dtype)
    args = [cast(a, dtype) if hasattr(a, "dtype") else np.asarray(a).astype(dtype.np_dtype)
            for a in args]
    return _range_kernel(*args, name=name)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """An identity matrix, or a batch of them (``nf.eye``).

    >>> nf.eye(2, 3).numpy()
    array([[1., 0., 0.], [0., 1., 0.]], dtype=float32)
    """
    rows = _static_int(num_rows, "num_rows")
    cols = rows if num_columns is None else _static_int(num_columns, "num_columns")
    matrix = np.eye(rows, cols, dtype=dtypes.as_dtype(dtype).np_dtype)
    if batch_shape is not None:
        matrix = np.broadcast_to(matrix, _static_shape(batch_shape) + matrix.shape)
    return constant(matrix, name=name or "eye")


def linspace(start, stop, num, name=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (``nf.linspace``);
    tensor endpoints broadcast and the values run along ``axis``.

    >>> nf.linspace(10.0, 12.0, 3).numpy()
    array([10., 11., 12.], dtype=float32)
    """
    from neuroflow.core.op import convert_to_tensor
    from neuroflow.ops.joining import concat
    from neuroflow.ops.math import add, multiply, subtract
    num = _static_int(num, "num")
    if num <= 0:
        raise ValueError(f"linspace needs num > 0, got {num}")
    ref = next((v.dtype for v in (start, stop) if hasattr(v, "dtype")), dtypes.float32)
    start = convert_to_tensor(start, dtype=None if hasattr(start, "dtype") else ref)
    stop = convert_to_tensor(stop, dtype=None if hasattr(stop, "dtype") else ref)
    if not dtypes.as_dtype(start.dtype).is_floating:
        raise TypeError(f"linspace needs floating start and stop, got {start.dtype.name}")
    diff = subtract(stop, start)
    base = add(start, zeros_like(diff))
    rank = diff.shape.rank
    if rank is None:
        raise ValueError("linspace needs start and stop of known rank")
    axis = _normalize_one_axis(axis, rank + 1)
    first = expand_dims(base, axis)
    if num == 1:
        return first
    steps = np.arange(num - 1, dtype=start.dtype.np_dtype) / start.dtype.np_dtype.type(num - 1)
    steps = steps.reshape((num - 1,) + (1,) * (rank - axis))
    values = add(first, multiply(expand_dims(diff, axis), steps))
    return concat([values, expand_dims(add(stop, zeros_like(diff)), axis)], axis)


__all__ = ["zeros", "ones", "fill", "zeros_like", "ones_like", "identity", "range", "eye",
           "linspace"]
