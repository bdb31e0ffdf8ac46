"""Arithmetic: + - * /, negation, squares, reciprocals, sums of n, conjugates and casting.

Part of ``neuroflow.ops.math`` (which re-exports everything here).
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import Spec, convert_to_tensor, identity_kernel, primitive
from neuroflow.core.tensor import TensorShape, shape_str
from neuroflow.ops import shapes
from neuroflow.ops.broadcast import unbroadcast
from neuroflow.ops.math_logic import (
    NUMBERS,
    check_python_floats,
    kind_rule,
    require_kind,
)

# -- + - * / --------------------------------------------------------------------------------


@primitive("AddV2", shape=shapes.broadcast)
def _add(x, y):
    return np.add(x, y)


@_add.defgrad
def _add_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(dy, x, y), unbroadcast(dy, y, x)]


def add(x, y, name=None):
    """x + y, elementwise with broadcasting (``nf.add``).

    >>> nf.add(nf.constant([1.0, 2.0]), 1.0).numpy()
    array([2., 3.], dtype=float32)
    """
    check_python_floats(x, y)
    return _add(x, y, name=name)


@primitive("Sub", shape=shapes.broadcast)
def _subtract(x, y):
    return np.subtract(x, y)


@_subtract.defgrad
def _subtract_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(dy, x, y), unbroadcast(negative(dy), y, x)]


def subtract(x, y, name=None):
    """x - y, elementwise (``nf.subtract``).

    >>> nf.subtract(nf.constant([3, 4]), 1).numpy()
    array([2, 3], dtype=int32)
    """
    check_python_floats(x, y)
    return _subtract(x, y, name=name)


@primitive("Mul", shape=shapes.broadcast)
def _multiply(x, y):
    return np.multiply(x, y)


@_multiply.defgrad
def _multiply_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(multiply(dy, conj(y)), x), unbroadcast(multiply(dy, conj(x)), y)]


def multiply(x, y, name=None):
    """x * y, elementwise (``nf.multiply``).

    >>> nf.multiply(nf.constant([1.0, 2.0]), 3.0).numpy()
    array([3., 6.], dtype=float32)
    """
    check_python_floats(x, y)
    return _multiply(x, y, name=name)


@primitive("RealDiv", shape=shapes.broadcast)
def _divide(x, y):
    return np.true_divide(x, y).astype(np.result_type(x, y), copy=False)


@_divide.defgrad
def _divide_grad(op, dy):
    x, y = op.inputs
    gx = divide(dy, conj(y))
    return [unbroadcast(gx, x), unbroadcast(negative(multiply(gx, conj(op.outputs[0]))), y)]


# TF's truediv: small integers divide in float32, int32 and int64 in float64.
_TRUEDIV_BY_SIZE = {1: dtypes.float32, 2: dtypes.float32, 4: dtypes.float64, 8: dtypes.float64}


def divide(x, y, name=None):
    """x / y, elementwise (``nf.divide``, ``nf.math.truediv``, also ``x / y``); integer
    inputs divide in float (int32 and int64 give float64), as TF's truediv.

    >>> nf.divide(nf.constant([1, 3]), 2).numpy()
    array([0.5, 1.5])
    """
    check_python_floats(x, y)
    dx, dy = _dtype_of(x), _dtype_of(y)
    if dx is None and dy is None:
        x = convert_to_tensor(x)
        dx = x.dtype
    dtype = dx or dy
    if dtype.is_integer and (dx is None or dy is None or dx == dy):
        target = _TRUEDIV_BY_SIZE[dtype.size]
        x = cast(convert_to_tensor(x, dtype=dtype), target)
        y = cast(convert_to_tensor(y, dtype=dtype), target)
    return _divide(x, y, name=name)


truediv = divide


def _dtype_of(v):
    dtype = getattr(v, "dtype", None)
    return None if dtype is None else dtypes.as_dtype(dtype)


@primitive("Neg", shape=shapes.same_shape)
def _negative(x):
    return np.negative(x)


@_negative.defgrad
def _negative_grad(op, dy):
    return [negative(dy)]


def negative(x, name=None):
    """-x (``nf.negative``, also ``-x``).

    >>> nf.negative(nf.constant([1.0, -2.0])).numpy()
    array([-1.,  2.], dtype=float32)
    """
    return _negative(x, name=name)


# -- squares, reciprocals, sums of n ------------------------------------------------------


@primitive("Square", shape=kind_rule(NUMBERS))
def _square(x):
    return np.square(x)


@_square.defgrad
def _square_grad(op, dy):
    return [multiply(dy, _multiply(conj(op.inputs[0]), 2))]


def square(x, name=None):
    """x * x, elementwise (``nf.square``).

    >>> nf.square(nf.constant([2.0, -3.0])).numpy()
    array([4., 9.], dtype=float32)
    """
    return _square(x, name=name)


@primitive("Reciprocal", shape=kind_rule(NUMBERS))
def _reciprocal(x):
    require_kind(x.dtype, NUMBERS)
    with np.errstate(divide="ignore"):
        return np.reciprocal(x)


@_reciprocal.defgrad
def _reciprocal_grad(op, dy):
    return [negative(multiply(dy, square(conj(op.outputs[0]))))]


def reciprocal(x, name=None):
    """1 / x, elementwise (``nf.math.reciprocal``).

    >>> nf.math.reciprocal(nf.constant([2.0, 4.0])).numpy()
    array([0.5 , 0.25], dtype=float32)
    """
    return _reciprocal(x, name=name)


@primitive("SquaredDifference", shape=shapes.broadcast)
def _squared_difference(x, y):
    d = np.subtract(x, y)
    if d.dtype.kind == "c":
        return d * np.conj(d)
    return np.square(d, out=d) if type(d) is np.ndarray else np.square(d)


@_squared_difference.defgrad
def _squared_difference_grad(op, dy):
    x, y = op.inputs
    g = multiply(dy, _multiply(subtract(x, y), 2))
    return [unbroadcast(g, x), unbroadcast(negative(g), y)]


def squared_difference(x, y, name=None):
    """(x - y)^2, elementwise with broadcasting (``nf.math.squared_difference``).

    >>> nf.math.squared_difference(nf.constant([1.0, 5.0]), 2.0).numpy()
    array([1., 9.], dtype=float32)
    """
    check_python_floats(x, y)
    return _squared_difference(x, y, name=name)


def _add_n_rule(*xs):
    shape = TensorShape(None)
    for x in xs:
        if not shape.is_compatible_with(x.shape):
            raise ValueError("add_n inputs must all have the same shape, got "
                             + ", ".join(shape_str(t.shape) for t in xs))
        if x.shape.rank is not None:
            shape = x.shape if shape.rank is None else TensorShape(
                a if a is not None else b for a, b in zip(shape, x.shape))
    return Spec(shape, xs[0].dtype)


@primitive("AddN", shape=_add_n_rule)
def _add_n(*xs):
    first = xs[0].shape
    if any(x.shape != first for x in xs):
        raise ValueError("add_n inputs must all have the same shape (add_n does not "
                         "broadcast; use nf.add)")
    out = np.add(xs[0], xs[1])
    for x in xs[2:]:
        out = np.add(out, x, out=out) if type(out) is np.ndarray else np.add(out, x)
    return out


@_add_n.defgrad
def _add_n_grad(op, dy):
    return [dy] * len(op.inputs)


def add_n(inputs, name=None):
    """Sums a list of tensors of one shape and dtype, elementwise (``nf.add_n``).

    >>> nf.add_n([nf.constant([1.0, 2.0]), nf.constant([3.0, 4.0])]).numpy()
    array([4., 6.], dtype=float32)
    """
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError("inputs must be a non-empty list of tensors of one shape and dtype, "
                         f"got {inputs!r}")
    if len(inputs) == 1:
        return identity_kernel(inputs[0], name=name)
    return _add_n(*inputs, name=name)


# -- complex conjugate and casting ----------------------------------------------------------


@primitive("Conj", shape=shapes.same_shape)
def _conj(x):
    return np.conj(x) if np.iscomplexobj(x) else x


@_conj.defgrad
def _conj_grad(op, dy):
    return [conj(dy)]


def conj(x, name=None):
    """Complex conjugate; the identity on real tensors (``nf.math.conj``).

    >>> nf.math.conj(nf.constant([1 + 2j])).numpy()
    array([1.-2.j])
    """
    if not dtypes.as_dtype(x.dtype).is_complex if hasattr(x, "dtype") else True:
        return x
    return _conj(x, name=name)


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
    dtype = dtypes.as_dtype(dtype)
    x = convert_to_tensor(x) if not hasattr(x, "dtype") else x
    if dtypes.as_dtype(x.dtype) == dtype:
        return x
    return _cast(x, dtype=dtype, name=name)


__all__ = ["add", "subtract", "multiply", "divide", "truediv", "negative", "square",
           "reciprocal", "squared_difference", "add_n", "conj", "cast"]
