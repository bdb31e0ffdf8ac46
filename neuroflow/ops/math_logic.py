"""Comparisons, logical ops and ``where``, plus the dtype rules shared by the math ops.

Part of ``neuroflow.ops.math`` (which re-exports everything here); this module is the lowest
of the math modules, so the arithmetic and function modules may import from it.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import Spec, primitive
from neuroflow.ops import shapes
from neuroflow.ops.broadcast import unbroadcast

# -- dtype rules ----------------------------------------------------------------------------

FLOATS = "f"
INEXACT = "fc"
NUMBERS = "iufc"
REAL_NUMBERS = "iuf"
_KIND_NAMES = {"f": "float16, float32, float64", "c": "complex64, complex128",
               "i": "int8, int16, int32, int64", "u": "uint8", "b": "bool"}


def require_kind(np_dtype, kinds):
    """Raises ValueError (TF's 'not in the list of allowed values') unless the kind fits."""
    if np_dtype.kind not in kinds:
        allowed = ", ".join(_KIND_NAMES[k] for k in kinds)
        raise ValueError(f"Value for attr 'T' of {dtypes.from_numpy(np_dtype).name} is not in "
                         f"the list of allowed values: {allowed}")


def kind_rule(kinds, real=False, bool_out=False):
    """A shape rule for elementwise unary ops accepting only the given dtype kinds; the output
    has the input's dtype, its real counterpart (``real``), or bool (``bool_out``)."""
    def rule(x, **attrs):
        require_kind(x.dtype.np_dtype, kinds)
        if bool_out:
            return Spec(x.shape, dtypes.bool_)
        return Spec(x.shape, x.dtype.real_dtype if real else x.dtype)
    return rule


def check_python_floats(x, y):
    """TF refuses a Python float beside an integer tensor (``int_tensor + 1.0``); so do we."""
    if type(x) is float:
        _float_into(x, y)
    elif type(y) is float:
        _float_into(y, x)


def _float_into(value, other):
    dtype = getattr(other, "dtype", None)
    if dtype is None:
        return
    dtype = dtypes.as_dtype(dtype)
    if dtype.is_integer or dtype.is_bool:
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}: a "
                        "Python float takes the dtype of the tensor it meets, and neuroflow "
                        "does not promote dtypes (use nf.cast, or write an integer)")


# -- comparisons ----------------------------------------------------------------------------


@primitive("Equal", shape=shapes.broadcast_bool, differentiable=False)
def _equal(x, y):
    return np.equal(x, y)


def equal(x, y, name=None):
    """x == y, elementwise with broadcasting (``nf.equal``).

    >>> nf.equal(nf.constant([1, 2]), 2).numpy()
    array([False,  True])
    """
    check_python_floats(x, y)
    return _equal(x, y, name=name)


@primitive("NotEqual", shape=shapes.broadcast_bool, differentiable=False)
def _not_equal(x, y):
    return np.not_equal(x, y)


def not_equal(x, y, name=None):
    """x != y, elementwise (``nf.not_equal``).

    >>> nf.not_equal(nf.constant([1, 2]), 2).numpy()
    array([ True, False])
    """
    check_python_floats(x, y)
    return _not_equal(x, y, name=name)


def _ordered_rule(x, y):
    require_kind(x.dtype.np_dtype, REAL_NUMBERS)
    return shapes.broadcast_bool(x, y)


@primitive("Less", shape=_ordered_rule, differentiable=False)
def _less(x, y):
    return np.less(x, y)


def less(x, y, name=None):
    """x < y, elementwise (``nf.less``, also ``x < y``).

    >>> nf.less(nf.constant([1.0, 3.0]), 2.0).numpy()
    array([ True, False])
    """
    check_python_floats(x, y)
    return _less(x, y, name=name)


@primitive("LessEqual", shape=_ordered_rule, differentiable=False)
def _less_equal(x, y):
    return np.less_equal(x, y)


def less_equal(x, y, name=None):
    """x <= y, elementwise (``nf.less_equal``, also ``x <= y``).

    >>> nf.less_equal(nf.constant([1.0, 3.0]), 1.0).numpy()
    array([ True, False])
    """
    check_python_floats(x, y)
    return _less_equal(x, y, name=name)


@primitive("Greater", shape=_ordered_rule, differentiable=False)
def _greater(x, y):
    return np.greater(x, y)


def greater(x, y, name=None):
    """x > y, elementwise (``nf.greater``, also ``x > y``).

    >>> nf.greater(nf.constant([1.0, 3.0]), 2.0).numpy()
    array([False,  True])
    """
    check_python_floats(x, y)
    return _greater(x, y, name=name)


@primitive("GreaterEqual", shape=_ordered_rule, differentiable=False)
def _greater_equal(x, y):
    return np.greater_equal(x, y)


def greater_equal(x, y, name=None):
    """x >= y, elementwise (``nf.greater_equal``, also ``x >= y``).

    >>> nf.greater_equal(nf.constant([1.0, 3.0]), 3.0).numpy()
    array([False,  True])
    """
    check_python_floats(x, y)
    return _greater_equal(x, y, name=name)


@primitive("IsFinite", shape=kind_rule(FLOATS, bool_out=True), differentiable=False)
def _is_finite(x):
    require_kind(x.dtype, FLOATS)
    return np.isfinite(x)


def is_finite(x, name=None):
    """True where x is neither infinite nor NaN (``nf.math.is_finite``).

    >>> nf.math.is_finite(nf.constant([1.0, float("inf"), float("nan")])).numpy()
    array([ True, False, False])
    """
    return _is_finite(x, name=name)


@primitive("IsInf", shape=kind_rule(FLOATS, bool_out=True), differentiable=False)
def _is_inf(x):
    require_kind(x.dtype, FLOATS)
    return np.isinf(x)


def is_inf(x, name=None):
    """True where x is +inf or -inf (``nf.math.is_inf``).

    >>> nf.math.is_inf(nf.constant([1.0, -float("inf")])).numpy()
    array([False,  True])
    """
    return _is_inf(x, name=name)


@primitive("IsNan", shape=kind_rule(FLOATS, bool_out=True), differentiable=False)
def _is_nan(x):
    require_kind(x.dtype, FLOATS)
    return np.isnan(x)


def is_nan(x, name=None):
    """True where x is NaN (``nf.math.is_nan``).

    >>> nf.math.is_nan(nf.constant([1.0, float("nan")])).numpy()
    array([False,  True])
    """
    return _is_nan(x, name=name)


# -- logic ----------------------------------------------------------------------------------


def _bool_rule(*xs):
    for x in xs:
        require_kind(x.dtype.np_dtype, "b")
    return shapes.broadcast_bool(*xs)


def _require_bool(*arrays):
    for a in arrays:
        if a.dtype.kind != "b":
            require_kind(a.dtype, "b")


@primitive("LogicalAnd", shape=_bool_rule, differentiable=False)
def _logical_and(x, y):
    _require_bool(x, y)
    return np.logical_and(x, y)


def logical_and(x, y, name=None):
    """x AND y for bool tensors, with broadcasting (``nf.logical_and``, also ``x & y``).

    >>> nf.logical_and(nf.constant([True, True]), nf.constant([True, False])).numpy()
    array([ True, False])
    """
    return _logical_and(x, y, name=name)


@primitive("LogicalOr", shape=_bool_rule, differentiable=False)
def _logical_or(x, y):
    _require_bool(x, y)
    return np.logical_or(x, y)


def logical_or(x, y, name=None):
    """x OR y for bool tensors (``nf.logical_or``, also ``x | y``).

    >>> nf.logical_or(nf.constant([True, False]), False).numpy()
    array([ True, False])
    """
    return _logical_or(x, y, name=name)


@primitive("LogicalXor", shape=_bool_rule, differentiable=False)
def _logical_xor(x, y):
    _require_bool(x, y)
    return np.logical_xor(x, y)


def logical_xor(x, y, name=None):
    """x XOR y for bool tensors (``nf.math.logical_xor``, also ``x ^ y``).

    >>> nf.math.logical_xor(nf.constant([True, False]), True).numpy()
    array([False,  True])
    """
    return _logical_xor(x, y, name=name)


@primitive("LogicalNot", shape=_bool_rule, differentiable=False)
def _logical_not(x):
    _require_bool(x)
    return np.logical_not(x)


def logical_not(x, name=None):
    """NOT x for a bool tensor (``nf.logical_not``, also ``~x``).

    >>> nf.logical_not(nf.constant([True, False])).numpy()
    array([False,  True])
    """
    return _logical_not(x, name=name)


# -- where ----------------------------------------------------------------------------------


def _select_rule(condition, x, y):
    if condition.dtype != dtypes.bool_:
        raise ValueError(f"condition must be a bool tensor, got dtype {condition.dtype.name}")
    return Spec(shapes.broadcast_shapes(condition.shape, x.shape, y.shape), x.dtype)


@primitive("SelectV2", shape=_select_rule, same_dtype=(1, 2))
def _select(condition, x, y):
    if condition.dtype.kind != "b":
        raise ValueError(f"condition must be a bool tensor, got dtype "
                         f"{dtypes.from_numpy(condition.dtype).name}")
    return np.where(condition, x, y)


@_select.defgrad
def _select_grad(op, dy):
    from neuroflow.ops.array import zeros_like
    condition, x, y = op.inputs
    zeros = zeros_like(dy)
    return [None, unbroadcast(_select(condition, dy, zeros), x),
            unbroadcast(_select(condition, zeros, dy), y)]


def _where_rule(condition):
    rank = condition.shape.rank
    return Spec([None, rank], dtypes.int64)


@primitive("Where", shape=_where_rule, differentiable=False)
def _where_indices(condition):
    return np.argwhere(condition).astype(np.int64, copy=False)


def where(condition, x=None, y=None, name=None):
    """Elements of ``x`` where ``condition`` holds, else of ``y``, broadcasting all three
    (``nf.where``); with only ``condition``, the int64 coordinates [N, rank] of its true
    (non-zero) elements.

    >>> nf.where(nf.constant([True, False]), 1.0, 0.0).numpy()
    array([1., 0.], dtype=float32)
    >>> nf.where(nf.constant([[True, False], [False, True]])).numpy()
    array([[0, 0],
           [1, 1]])
    """
    if x is None and y is None:
        return _where_indices(condition, name=name)
    if x is None or y is None:
        raise ValueError("nf.where takes either only condition, or condition, x and y "
                         f"(x is {'given' if x is not None else 'None'}, y is "
                         f"{'given' if y is not None else 'None'})")
    check_python_floats(x, y)
    return _select(condition, x, y, name=name)


__all__ = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not", "where"]
