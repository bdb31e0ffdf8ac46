"""Piecewise ops, whose gradients hold between kinks and jumps: abs and sign, floor, ceil and
round, floor division and modulo, maximum and minimum. Part of ``neuroflow.ops.math``.

At a kink the gradient follows TF: abs and sign use sign(0) = 0, maximum and minimum send the
gradient to x at ties, and floor, ceil, round and floordiv have none.
"""
from __future__ import annotations

import numpy as np

from neuroflow.core.op import primitive
from neuroflow.ops import shapes
from neuroflow.ops.broadcast import unbroadcast
from neuroflow.ops.math_arithmetic import cast, divide, multiply, negative
from neuroflow.ops.math_logic import (
    FLOATS,
    NUMBERS,
    REAL_NUMBERS,
    _select,
    check_python_floats,
    equal,
    greater_equal,
    kind_rule,
    less_equal,
    require_kind,
)

# -- abs and sign ---------------------------------------------------------------------------


@primitive("Abs", shape=kind_rule(NUMBERS, real=True))
def _abs(x):
    return np.abs(x)


@_abs.defgrad
def _abs_grad(op, dy):
    x, out = op.inputs[0], op.outputs[0]
    if not x.dtype.is_complex:
        return [multiply(dy, sign(x))]
    # d|z| = Re(conj(z / |z|) dz): the gradient is dy * z / |z|, and 0 at z = 0.
    from neuroflow.ops.array import ones_like
    safe = _select(equal(out, 0), ones_like(out), out)
    return [multiply(cast(dy, x.dtype), divide(x, cast(safe, x.dtype)))]


def abs(x, name=None):  # noqa: A001 - TF's name
    """|x| elementwise (``nf.abs``, also ``abs(x)``); the magnitude (a real tensor) for
    complex ``x``.

    >>> nf.abs(nf.constant([-1.5, 2.0])).numpy()
    array([1.5, 2. ], dtype=float32)
    """
    return _abs(x, name=name)


@primitive("Sign", shape=kind_rule(NUMBERS))
def _sign(x):
    return np.sign(x)


@_sign.defgrad
def _sign_grad(op, dy):
    from neuroflow.ops.array import zeros_like
    return [zeros_like(op.inputs[0])]


def sign(x, name=None):
    """-1, 0 or 1 by the sign of x (``nf.sign``); x / |x| for complex x. Its gradient is 0.

    >>> nf.sign(nf.constant([-2.0, 0.0, 3.0])).numpy()
    array([-1.,  0.,  1.], dtype=float32)
    """
    return _sign(x, name=name)



# -- rounding (TF defines no gradient for these) --------------------------------------------


@primitive("Floor", shape=kind_rule(FLOATS), differentiable=False)
def _floor(x):
    require_kind(x.dtype, FLOATS)
    return np.floor(x)


def floor(x, name=None):
    """The largest integer not above x, as a float (``nf.math.floor``).

    >>> nf.math.floor(nf.constant([1.5, -1.5])).numpy()
    array([ 1., -2.], dtype=float32)
    """
    return _floor(x, name=name)


@primitive("Ceil", shape=kind_rule(FLOATS), differentiable=False)
def _ceil(x):
    require_kind(x.dtype, FLOATS)
    return np.ceil(x)


def ceil(x, name=None):
    """The smallest integer not below x, as a float (``nf.math.ceil``).

    >>> nf.math.ceil(nf.constant([1.5, -1.5])).numpy()
    array([ 2., -1.], dtype=float32)
    """
    return _ceil(x, name=name)


@primitive("Round", shape=kind_rule(REAL_NUMBERS), differentiable=False)
def _round(x):
    return np.round(x)


def round(x, name=None):  # noqa: A001 - TF's name
    """Rounds to the nearest integer, halves to even as TF (``nf.round``).

    >>> nf.round(nf.constant([0.5, 1.5, 2.5, -0.5])).numpy()
    array([ 0.,  2.,  2., -0.], dtype=float32)
    """
    return _round(x, name=name)



# -- floor division and modulo ----------------------------------------------------------


def _real_binary_rule(x, y):
    require_kind(x.dtype.np_dtype, REAL_NUMBERS)
    return shapes.broadcast(x, y)


def _check_integer_divisor(x, y):
    if x.dtype.kind in "iu" and not np.all(y):
        raise ValueError("Integer division by zero")


@primitive("FloorDiv", shape=_real_binary_rule, differentiable=False)
def _floordiv(x, y):
    require_kind(x.dtype, REAL_NUMBERS)
    if x.dtype.kind == "f":
        # TF's float floordiv is floor(x / y): 1.0 // 0.1 is 10, where Python says 9.
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.floor(np.true_divide(x, y))
    _check_integer_divisor(x, y)
    return np.floor_divide(x, y)


def floordiv(x, y, name=None):
    """x / y rounded toward -inf (``nf.floordiv``, ``nf.math.floor_div``, also ``x // y``);
    integer division by zero is an error, as TF. Not differentiable (TF: no gradient).

    >>> nf.floordiv(nf.constant([7, -7]), 2).numpy()
    array([ 3, -4], dtype=int32)
    """
    check_python_floats(x, y)
    return _floordiv(x, y, name=name)


floor_div = floordiv


@primitive("FloorMod", shape=_real_binary_rule)
def _floormod(x, y):
    require_kind(x.dtype, REAL_NUMBERS)
    _check_integer_divisor(x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.mod(x, y)


@_floormod.defgrad
def _floormod_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(dy, x), unbroadcast(negative(multiply(dy, floordiv(x, y))), y)]


def floormod(x, y, name=None):
    """Remainder of floor division: its sign follows the divisor (``nf.floormod``,
    ``nf.math.mod``, also ``x % y``).

    >>> nf.floormod(nf.constant([7, -7]), 3).numpy()
    array([1, 2], dtype=int32)
    """
    check_python_floats(x, y)
    return _floormod(x, y, name=name)


mod = floormod



# -- extrema ------------------------------------------------------------------------------


def _ordered_binary_rule(x, y):
    require_kind(x.dtype.np_dtype, REAL_NUMBERS)
    return shapes.broadcast(x, y)


def _route(mask, dy, x, y):
    """Sends ``dy`` to ``x`` where ``mask`` holds and to ``y`` elsewhere (TF's extrema grads)."""
    from neuroflow.ops.array import zeros_like
    zeros = zeros_like(dy)
    return [unbroadcast(_select(mask, dy, zeros), x), unbroadcast(_select(mask, zeros, dy), y)]


@primitive("Maximum", shape=_ordered_binary_rule)
def _maximum(x, y):
    return np.maximum(x, y)


@_maximum.defgrad
def _maximum_grad(op, dy):
    x, y = op.inputs
    return _route(greater_equal(x, y), dy, x, y)


def maximum(x, y, name=None):
    """The larger of x and y, elementwise (``nf.maximum``); at ties the gradient goes to x.

    >>> nf.maximum(nf.constant([1.0, 5.0]), 2.0).numpy()
    array([2., 5.], dtype=float32)
    """
    check_python_floats(x, y)
    return _maximum(x, y, name=name)


@primitive("Minimum", shape=_ordered_binary_rule)
def _minimum(x, y):
    return np.minimum(x, y)


@_minimum.defgrad
def _minimum_grad(op, dy):
    x, y = op.inputs
    return _route(less_equal(x, y), dy, x, y)


def minimum(x, y, name=None):
    """The smaller of x and y, elementwise (``nf.minimum``); at ties the gradient goes to x.

    >>> nf.minimum(nf.constant([1.0, 5.0]), 2.0).numpy()
    array([1., 2.], dtype=float32)
    """
    check_python_floats(x, y)
    return _minimum(x, y, name=name)


__all__ = ["abs", "sign", "floor", "ceil", "round", "floordiv", "floormod", "maximum", "minimum"]
