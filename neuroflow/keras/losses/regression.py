"""Regression losses: squared, absolute, percentage and log errors, Huber, log-cosh, cosine."""
from __future__ import annotations

import math

from neuroflow.keras.losses.loss import EPSILON, LossFunctionWrapper, prepare
from neuroflow.ops.activations import softplus
from neuroflow.ops.math import abs as abs_
from neuroflow.ops.math import (
    divide,
    less_equal,
    log1p,
    maximum,
    multiply,
    negative,
    square,
    subtract,
    where,
)
from neuroflow.ops.normalization import l2_normalize
from neuroflow.ops.reduce import reduce_mean, reduce_sum


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred) ** 2) over the last axis, per sample.

    >>> keras.losses.mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]]).numpy()
    array([0.5], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    return reduce_mean(square(subtract(y_pred, y_true)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis, per sample.

    >>> keras.losses.mean_absolute_error([[0.0, 1.0]], [[1.0, 1.0]]).numpy()
    array([0.5], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    return reduce_mean(abs_(subtract(y_pred, y_true)), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|(y_true - y_pred) / max(|y_true|, epsilon)|) over the last axis.

    >>> keras.losses.mean_absolute_percentage_error([[2.0]], [[1.0]]).numpy()
    array([50.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    diff = abs_(divide(subtract(y_true, y_pred), maximum(abs_(y_true), EPSILON)))
    return multiply(reduce_mean(diff, axis=-1), 100.0)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(1 + y_pred) - log(1 + y_true)) ** 2) over the last axis (inputs clipped
    below at epsilon).

    >>> round(float(keras.losses.mean_squared_logarithmic_error([[0.0]], [[math.e - 1]])), 4)
    1.0
    """
    y_true, y_pred = prepare(y_true, y_pred)
    first = log1p(maximum(y_pred, EPSILON))
    second = log1p(maximum(y_true, EPSILON))
    return reduce_mean(square(subtract(first, second)), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """0.5 * e ** 2 where |e| <= delta, else delta * (|e| - 0.5 * delta); mean over the
    last axis (e = y_pred - y_true).

    >>> keras.losses.huber([[0.0]], [[3.0]]).numpy()
    array([2.5], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    error = subtract(y_pred, y_true)
    abs_error = abs_(error)
    quadratic = multiply(square(error), 0.5)
    linear = subtract(multiply(abs_error, float(delta)), 0.5 * float(delta) ** 2)
    return reduce_mean(where(less_equal(abs_error, float(delta)), quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true))) over the last axis, computed as
    x + softplus(-2x) - log(2) so large errors do not overflow.

    >>> keras.losses.log_cosh([[0.0]], [[0.0]]).numpy()
    array([0.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    x = subtract(y_pred, y_true)
    return reduce_mean(subtract(x + softplus(multiply(x, -2.0)), math.log(2.0)), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) along ``axis``: -1 for parallel
    vectors, 0 for orthogonal ones, 1 for opposite ones.

    >>> keras.losses.cosine_similarity([[1.0, 0.0]], [[2.0, 0.0]]).numpy()
    array([-1.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    return negative(reduce_sum(multiply(l2_normalize(y_true, axis=axis),
                                        l2_normalize(y_pred, axis=axis)), axis=axis))


class MeanSquaredError(LossFunctionWrapper):
    """``keras.losses.MeanSquaredError()``: mean of squared errors ('mse')."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error",
                 dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """``keras.losses.MeanAbsoluteError()``: mean of absolute errors ('mae')."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error",
                 dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``keras.losses.MeanAbsolutePercentageError()`` ('mape')."""

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction,
                         dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """``keras.losses.MeanSquaredLogarithmicError()`` ('msle')."""

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction,
                         dtype=dtype)


class Huber(LossFunctionWrapper):
    """``keras.losses.Huber(delta=1.0)``: quadratic for small errors, linear for large."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """``keras.losses.LogCosh()``: log(cosh(error)), like MSE near 0 and MAE far away."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """``keras.losses.CosineSimilarity(axis=-1)``: negative cosine similarity."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype,
                         axis=axis)
