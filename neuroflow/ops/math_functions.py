"""Smooth elementwise functions: roots, exp and log, trigonometry, tanh and sigmoid, erf, and
pow. Part of ``neuroflow.ops.math`` (which re-exports everything here).

Float-only functions refuse integer tensors as TF does (``nf.sqrt(4)`` is an error: write 4.0).
"""
from __future__ import annotations

import math as _pymath

import numpy as np

from neuroflow.core.op import primitive
from neuroflow.ops import shapes
from neuroflow.ops.broadcast import unbroadcast
from neuroflow.ops.math_arithmetic import (
    _multiply,
    add,
    conj,
    divide,
    multiply,
    negative,
    square,
    subtract,
)
from neuroflow.ops.math_erf import erf_numpy
from neuroflow.ops.math_logic import (
    FLOATS,
    INEXACT,
    NUMBERS,
    _select,
    check_python_floats,
    greater,
    kind_rule,
    not_equal,
    require_kind,
)

_inexact = kind_rule(INEXACT)

# -- roots, exp and log -----------------------------------------------------------------------


@primitive("Sqrt", shape=_inexact)
def _sqrt(x):
    require_kind(x.dtype, INEXACT)
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


@_sqrt.defgrad
def _sqrt_grad(op, dy):
    return [divide(multiply(dy, 0.5), conj(op.outputs[0]))]


def sqrt(x, name=None):
    """Square root, elementwise (``nf.sqrt``).

    >>> nf.sqrt(nf.constant([4.0, 9.0])).numpy()
    array([2., 3.], dtype=float32)
    """
    return _sqrt(x, name=name)


@primitive("Rsqrt", shape=_inexact)
def _rsqrt(x):
    require_kind(x.dtype, INEXACT)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.reciprocal(np.sqrt(x))


@_rsqrt.defgrad
def _rsqrt_grad(op, dy):
    y = conj(op.outputs[0])
    return [multiply(dy, _multiply(multiply(y, square(y)), -0.5))]


def rsqrt(x, name=None):
    """1 / sqrt(x), elementwise (``nf.math.rsqrt``).

    >>> nf.math.rsqrt(nf.constant([4.0])).numpy()
    array([0.5], dtype=float32)
    """
    return _rsqrt(x, name=name)


@primitive("Exp", shape=_inexact)
def _exp(x):
    require_kind(x.dtype, INEXACT)
    return np.exp(x)


@_exp.defgrad
def _exp_grad(op, dy):
    return [multiply(dy, conj(op.outputs[0]))]


def exp(x, name=None):
    """e^x, elementwise (``nf.exp``).

    >>> nf.exp(nf.constant([0.0])).numpy()
    array([1.], dtype=float32)
    """
    return _exp(x, name=name)


@primitive("Expm1", shape=_inexact)
def _expm1(x):
    require_kind(x.dtype, INEXACT)
    return np.expm1(x)


@_expm1.defgrad
def _expm1_grad(op, dy):
    return [multiply(dy, add(conj(op.outputs[0]), 1))]


def expm1(x, name=None):
    """e^x - 1, accurate for small x (``nf.math.expm1``).

    >>> nf.math.expm1(nf.constant([0.0])).numpy()
    array([0.], dtype=float32)
    """
    return _expm1(x, name=name)


@primitive("Log", shape=_inexact)
def _log(x):
    require_kind(x.dtype, INEXACT)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


@_log.defgrad
def _log_grad(op, dy):
    return [divide(dy, conj(op.inputs[0]))]


def log(x, name=None):
    """Natural logarithm, elementwise (``nf.math.log``; log(0) is -inf, without a warning).

    >>> nf.math.log(nf.constant([1.0])).numpy()
    array([0.], dtype=float32)
    """
    return _log(x, name=name)


@primitive("Log1p", shape=_inexact)
def _log1p(x):
    require_kind(x.dtype, INEXACT)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log1p(x)


@_log1p.defgrad
def _log1p_grad(op, dy):
    return [divide(dy, add(conj(op.inputs[0]), 1))]


def log1p(x, name=None):
    """log(1 + x), accurate for small x (``nf.math.log1p``).

    >>> nf.math.log1p(nf.constant([0.0])).numpy()
    array([0.], dtype=float32)
    """
    return _log1p(x, name=name)


# -- trigonometric and hyperbolic -------------------------------------------------------------


@primitive("Sin", shape=_inexact)
def _sin(x):
    require_kind(x.dtype, INEXACT)
    return np.sin(x)


@_sin.defgrad
def _sin_grad(op, dy):
    return [multiply(dy, conj(cos(op.inputs[0])))]


def sin(x, name=None):
    """Sine, elementwise (``nf.sin``).

    >>> nf.sin(nf.constant([0.0])).numpy()
    array([0.], dtype=float32)
    """
    return _sin(x, name=name)


@primitive("Cos", shape=_inexact)
def _cos(x):
    require_kind(x.dtype, INEXACT)
    return np.cos(x)


@_cos.defgrad
def _cos_grad(op, dy):
    return [negative(multiply(dy, conj(sin(op.inputs[0]))))]


def cos(x, name=None):
    """Cosine, elementwise (``nf.cos``).

    >>> nf.cos(nf.constant([0.0])).numpy()
    array([1.], dtype=float32)
    """
    return _cos(x, name=name)


@primitive("Tan", shape=_inexact)
def _tan(x):
    require_kind(x.dtype, INEXACT)
    return np.tan(x)


@_tan.defgrad
def _tan_grad(op, dy):
    return [multiply(dy, add(square(conj(op.outputs[0])), 1))]


def tan(x, name=None):
    """Tangent, elementwise (``nf.math.tan``).

    >>> nf.math.tan(nf.constant([0.0])).numpy()
    array([0.], dtype=float32)
    """
    return _tan(x, name=name)


@primitive("Tanh", shape=_inexact)
def _tanh(x):
    require_kind(x.dtype, INEXACT)
    return np.tanh(x)


@_tanh.defgrad
def _tanh_grad(op, dy):
    return [multiply(dy, subtract(1, square(conj(op.outputs[0]))))]


def tanh(x, name=None):
    """Hyperbolic tangent, elementwise (``nf.tanh``, ``nf.math.tanh``).

    >>> nf.tanh(nf.constant([0.0])).numpy()
    array([0.], dtype=float32)
    """
    return _tanh(x, name=name)


@primitive("Sigmoid", shape=_inexact)
def _sigmoid(x):
    require_kind(x.dtype, INEXACT)
    if x.dtype.kind == "c":
        return np.reciprocal(np.exp(np.negative(x)) + 1)
    # exp(min(x, 0)) / (1 + exp(-|x|)): neither exp overflows, and tiny results keep their
    # relative precision (the 1 - sigmoid(-x) form would lose it).
    return np.exp(np.minimum(x, 0)) / (np.exp(-np.abs(x)) + 1)


@_sigmoid.defgrad
def _sigmoid_grad(op, dy):
    y = conj(op.outputs[0])
    return [multiply(dy, multiply(y, subtract(1, y)))]


def sigmoid(x, name=None):
    """1 / (1 + e^-x), elementwise and without overflow for large |x| (``nf.sigmoid``).

    >>> nf.sigmoid(nf.constant([0.0, 1e4, -1e4])).numpy()
    array([0.5, 1. , 0. ], dtype=float32)
    """
    return _sigmoid(x, name=name)


# -- erf ----------------------------------------------------------------------------------

_erf_fn = None  # scipy.special.erf when SciPy imports, else erf_numpy; chosen on first use


def _erf_implementation():
    global _erf_fn
    if _erf_fn is None:
        try:
            from scipy.special import erf as scipy_erf
        except ImportError:
            scipy_erf = None
        _erf_fn = scipy_erf if scipy_erf is not None else erf_numpy
    return _erf_fn


@primitive("Erf", shape=kind_rule(FLOATS))
def _erf(x):
    require_kind(x.dtype, FLOATS)
    return np.asarray(_erf_implementation()(x)).astype(x.dtype, copy=False)


_TWO_OVER_SQRT_PI = 2.0 / _pymath.sqrt(_pymath.pi)


@_erf.defgrad
def _erf_grad(op, dy):
    x = op.inputs[0]
    return [multiply(dy, _multiply(exp(negative(square(x))), _TWO_OVER_SQRT_PI))]


def erf(x, name=None):
    """The Gauss error function, elementwise (``nf.math.erf``).

    >>> nf.math.erf(nf.constant([0.0, 10.0])).numpy()
    array([0., 1.], dtype=float32)
    """
    return _erf(x, name=name)


# -- pow ----------------------------------------------------------------------------------


@primitive("Pow", shape=shapes.broadcast)
def _pow(x, y):
    require_kind(x.dtype, NUMBERS)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.power(x, y)


@_pow.defgrad
def _pow_grad(op, dy):
    from neuroflow.ops.array import ones_like, zeros_like
    x, y = op.inputs
    z = op.outputs[0]
    gx = multiply(dy, multiply(conj(y), conj(pow(x, subtract(y, 1)))))
    # d/dy x^y = x^y log(x), taken as 0 where log(x) is undefined (x <= 0), as TF.
    mask = not_equal(x, 0) if x.dtype.is_complex else greater(x, 0)
    log_x = _select(mask, log(_select(mask, x, ones_like(x))), zeros_like(x))
    gy = multiply(dy, multiply(conj(z), conj(log_x)))
    return [unbroadcast(gx, x), unbroadcast(gy, y)]


def pow(x, y, name=None):  # noqa: A001 - TF's name
    """x ** y, elementwise with broadcasting (``nf.pow``, also ``x ** y``); integers to
    negative integer powers are an error, as TF.

    >>> nf.pow(nf.constant([2.0, 3.0]), 2).numpy()
    array([4., 9.], dtype=float32)
    """
    check_python_floats(x, y)
    return _pow(x, y, name=name)


__all__ = ["sqrt", "rsqrt", "exp", "expm1", "log", "log1p", "sin", "cos", "tan", "tanh",
           "sigmoid", "erf", "pow"]
