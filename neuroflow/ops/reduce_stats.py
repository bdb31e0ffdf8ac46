"""Statistical reductions: variance, standard deviation, Euclidean norm and logsumexp.

Written as primitives (NumPy's one-call kernels, gradients by hand) rather than composed
from means and squares: faster, and for logsumexp numerically stable. Part of
``neuroflow.ops.reduce``, which re-exports them.
"""
from __future__ import annotations

import numpy as np

from neuroflow.core.op import Spec, primitive
from neuroflow.ops import shapes
from neuroflow.ops.reduce import (
    _axis,
    _dtype,
    _expand,
    _group_count,
    _np_axis,
    reduce_max,
    reduce_mean,
    reduce_sum,
)


def _real_reduction(x, axis=None, keepdims=False):
    return Spec(shapes.reduced_shape(x.shape, axis, keepdims), x.dtype.real_dtype)


# -- moments ------------------------------------------------------------------------------


def _check_inexact(x, what):
    dtype = _dtype(x)
    if not (dtype.is_floating or dtype.is_complex):
        raise TypeError(f"{what} needs a floating or complex input, got dtype {dtype.name}")


def _centered(x, axis, keepdims, dy):
    """(x - mean(x)) and dy expanded to x's rank, in x's dtype."""
    from neuroflow.ops.math import cast, subtract
    centered = subtract(x, reduce_mean(x, axis, keepdims=True))
    return centered, cast(_expand(dy, x, axis, keepdims), x.dtype)


@primitive("ReduceVariance", shape=_real_reduction)
def _reduce_variance(x, axis, keepdims):
    return np.var(x, axis=_np_axis(axis), keepdims=keepdims)


@_reduce_variance.defgrad
def _reduce_variance_grad(op, dy):
    from neuroflow.ops.math import divide, multiply
    x = op.inputs[0]
    centered, dy = _centered(x, op.attrs["axis"], op.attrs["keepdims"], dy)
    scale = divide(2.0, _group_count(x, op.outputs[0]))
    return [multiply(multiply(centered, dy), scale)]


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance over ``axis`` (``nf.math.reduce_variance``; complex gives real).

    >>> nf.math.reduce_variance(nf.constant([1.0, 2.0, 3.0, 4.0])).numpy()
    1.25
    """
    _check_inexact(input_tensor, "reduce_variance")
    return _reduce_variance(input_tensor, axis=_axis(axis), keepdims=bool(keepdims), name=name)


@primitive("ReduceStd", shape=_real_reduction)
def _reduce_std(x, axis, keepdims):
    return np.std(x, axis=_np_axis(axis), keepdims=keepdims)


@_reduce_std.defgrad
def _reduce_std_grad(op, dy):
    from neuroflow.ops.math import cast, divide, multiply
    x, std = op.inputs[0], op.outputs[0]
    axis, keepdims = op.attrs["axis"], op.attrs["keepdims"]
    centered, dy = _centered(x, axis, keepdims, dy)
    denom = multiply(cast(_expand(std, x, axis, keepdims), x.dtype), _group_count(x, std))
    return [divide(multiply(centered, dy), denom)]


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation over ``axis`` (``nf.math.reduce_std``).

    >>> nf.math.reduce_std(nf.constant([1.0, 3.0])).numpy()
    1.0
    """
    _check_inexact(input_tensor, "reduce_std")
    return _reduce_std(input_tensor, axis=_axis(axis), keepdims=bool(keepdims), name=name)


@primitive("EuclideanNorm", shape=shapes.reduction)
def _reduce_euclidean_norm(x, axis, keepdims):
    squares = np.square(np.abs(x)) if np.iscomplexobj(x) else np.square(x)
    out = np.sqrt(np.sum(squares, axis=_np_axis(axis), keepdims=keepdims))
    return out.astype(x.dtype, copy=False)


@_reduce_euclidean_norm.defgrad
def _reduce_euclidean_norm_grad(op, dy):
    # d|x|/dx = x / |x|: NaN where the norm is 0, as TensorFlow's tf.norm gradient.
    from neuroflow.ops.math import divide, multiply
    x, y = op.inputs[0], op.outputs[0]
    axis, keepdims = op.attrs["axis"], op.attrs["keepdims"]
    return [multiply(divide(x, _expand(y, x, axis, keepdims)), _expand(dy, x, axis, keepdims))]


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(|x|^2)) over ``axis`` (``nf.math.reduce_euclidean_norm``).

    >>> nf.math.reduce_euclidean_norm(nf.constant([3.0, 4.0])).numpy()
    5.0
    """
    return _reduce_euclidean_norm(input_tensor, axis=_axis(axis), keepdims=bool(keepdims),
                                  name=name)


# -- logsumexp ----------------------------------------------------------------------------


@primitive("ReduceLogSumExp", shape=shapes.reduction)
def _reduce_logsumexp(x, axis, keepdims):
    ax = _np_axis(axis)
    # Shifting by the maximum keeps exp() finite; an infinite maximum is not subtracted,
    # so that all -inf gives -inf and any +inf gives +inf rather than NaN.
    shift = np.max(x, axis=ax, keepdims=True, initial=-np.inf)
    shift = np.where(np.isfinite(shift), shift, np.zeros((), x.dtype))
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - shift), axis=ax, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=ax)


@_reduce_logsumexp.defgrad
def _reduce_logsumexp_grad(op, dy):
    # softmax(x) * dy. The softmax is normalised afresh, exp(x - max) / sum(exp(x - max)),
    # rather than exp(x - logsumexp): at |x| ~ 1e4 the rounding of the float32 logsumexp
    # would otherwise show in the gradient. The max only shifts (softmax does not depend on
    # it), so it is held constant.
    from neuroflow.ops.gradient_control import stop_gradient
    from neuroflow.ops.math import divide, exp, multiply, subtract
    x = op.inputs[0]
    axis, keepdims = op.attrs["axis"], op.attrs["keepdims"]
    e = exp(subtract(x, stop_gradient(reduce_max(x, axis, keepdims=True))))
    softmax = divide(e, reduce_sum(e, axis, keepdims=True))
    return [multiply(softmax, _expand(dy, x, axis, keepdims))]


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """log(sum(exp(x))) over ``axis``, computed stably (finite for inputs like 1e4).

    >>> nf.reduce_logsumexp(nf.constant([1e4, 1e4])).numpy()
    10000.693
    """
    return _reduce_logsumexp(input_tensor, axis=_axis(axis), keepdims=bool(keepdims),
                             name=name)


__all__ = ["reduce_variance", "reduce_std", "reduce_euclidean_norm", "reduce_logsumexp"]
