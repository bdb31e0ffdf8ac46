"""Elementwise math: arithmetic, transcendental functions, comparisons, logic, casting."""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import Spec, primitive
from neuroflow.ops import shapes
from neuroflow.ops.broadcast import unbroadcast

# -- arithmetic ---------------------------------------------------------------------------


@primitive("AddV2", shape=shapes.broadcast)
def _add(x, y):
    return np.add(x, y)


@_add.defgrad
def _add_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(dy, x), unbroadcast(dy, y)]


def add(x, y, name=None):
    """x + y, elementwise with broadcasting (``nf.add``).

    >>> nf.add(nf.constant([1.0, 2.0]), 1.0).numpy()
    array([2., 3.], dtype=float32)
    """
    return _add(x, y, name=name)


@primitive("Sub", shape=shapes.broadcast)
def _subtract(x, y):
    return np.subtract(x, y)


@_subtract.defgrad
def _subtract_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(dy, x), unbroadcast(negative(dy), y)]


def subtract(x, y, name=None):
    """x - y, elementwise (``nf.subtract``)."""
    return _subtract(x, y, name=name)


@primitive("Mul", shape=shapes.broadcast)
def _multiply(x, y):
    return np.multiply(x, y)


@_multiply.defgrad
def _multiply_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(multiply(dy, conj(y)), x), unbroadcast(multiply(dy, conj(x)), y)]


def multiply(x, y, name=None):
    """x * y, elementwise (``nf.multiply``)."""
    return _multiply(x, y, name=name)


@primitive("RealDiv", shape=shapes.broadcast)
def _divide(x, y):
    return np.true_divide(x, y).astype(np.result_type(x, y), copy=False)


@_divide.defgrad
def _divide_grad(op, dy):
    x, y = op.inputs
    gx = divide(dy, conj(y))
    return [unbroadcast(gx, x), unbroadcast(negative(multiply(gx, conj(op.outputs[0]))), y)]


def divide(x, y, name=None):
    """x / y, elementwise (``nf.divide``; integer inputs give a float64 result, as TF)."""
    from neuroflow.core.op import convert_to_tensor
    x_is_int = getattr(x, "dtype", None) is not None and dtypes.as_dtype(x.dtype).is_integer
    if x_is_int:
        x = cast(convert_to_tensor(x), dtypes.float64)
        y = cast(convert_to_tensor(y, dtype=_dtype_or_none(y) or dtypes.int32), dtypes.float64)
    return _divide(x, y, name=name)


def _dtype_or_none(v):
    return getattr(v, "dtype", None)


@primitive("Neg", shape=shapes.same_shape)
def _negative(x):
    return np.negative(x)


@_negative.defgrad
def _negative_grad(op, dy):
    return [negative(dy)]


def negative(x, name=None):
    """-x (``nf.negative``)."""
    return _negative(x, name=name)


# -- complex helpers needed by the gradients above ----------------------------------------


@primitive("Conj", shape=shapes.same_shape)
def _conj(x):
    return np.conj(x) if np.iscomplexobj(x) else x


@_conj.defgrad
def _conj_grad(op, dy):
    return [conj(dy)]


def conj(x, name=None):
    """Complex conjugate; the identity on real tensors (``nf.math.conj``)."""
    if not dtypes.as_dtype(x.dtype).is_complex if hasattr(x, "dtype") else True:
        return x
    return _conj(x, name=name)


# -- casting and comparisons --------------------------------------------------------------


@primitive("Cast", shape=lambda x, dtype: Spec(x.shape, dtype), same_dtype=False)
def _cast(x, dtype):
    if np.iscomplexobj(x) and dtype.np_dtype.kind != "c":
        x = np.real(x)
    return np.asarray(x).astype(dtype.np_dtype)


@_cast.defgrad
def _cast_grad(op, dy):
    source = op.inputs[0].dtype
    if not source.is_differentiable:
        return [None]
    return [cast(dy, source)]


def cast(x, dtype, name=None):
    """Converts to ``dtype`` (``nf.cast``): floats to ints truncate toward zero, as TF.

    >>> nf.cast(nf.constant([1.7, -1.7]), nf.int32).numpy()
    array([ 1, -1], dtype=int32)
    """
    from neuroflow.core.op import convert_to_tensor
    dtype = dtypes.as_dtype(dtype)
    x = convert_to_tensor(x) if not hasattr(x, "dtype") else x
    if dtypes.as_dtype(x.dtype) == dtype:
        return x
    return _cast(x, dtype=dtype, name=name)


@primitive("Equal", shape=shapes.broadcast_bool, differentiable=False)
def _equal(x, y):
    return np.equal(x, y)


def equal(x, y, name=None):
    """x == y, elementwise (``nf.equal``)."""
    return _equal(x, y, name=name)


@primitive("NotEqual", shape=shapes.broadcast_bool, differentiable=False)
def _not_equal(x, y):
    return np.not_equal(x, y)


def not_equal(x, y, name=None):
    """x != y, elementwise (``nf.not_equal``)."""
    return _not_equal(x, y, name=name)

__all__ = ["add", "subtract", "multiply", "divide", "negative", "conj", "cast", "equal",
           "not_equal"]
