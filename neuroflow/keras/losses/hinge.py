"""Hinge losses (maximum-margin classifiers): hinge, squared hinge, categorical hinge."""
from __future__ import annotations

from neuroflow.keras.losses.loss import LossFunctionWrapper, prepare
from neuroflow.ops.math import equal, logical_or, maximum, multiply, square, subtract, where
from neuroflow.ops.reduce import reduce_all, reduce_max, reduce_mean, reduce_sum


def _signed_labels(y_true):
    """Labels given as {0, 1} become {-1, 1}; labels already in {-1, 1} are kept."""
    is_binary = reduce_all(logical_or(equal(y_true, 0.0), equal(y_true, 1.0)))
    return where(is_binary, subtract(multiply(y_true, 2.0), 1.0), y_true)


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis; labels -1/1 (or 0/1).

    >>> keras.losses.hinge([[1.0]], [[0.25]]).numpy()
    array([0.75], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    margin = subtract(1.0, multiply(_signed_labels(y_true), y_pred))
    return reduce_mean(maximum(margin, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0) ** 2) over the last axis; labels -1/1 (or 0/1).

    >>> keras.losses.squared_hinge([[1.0]], [[0.5]]).numpy()
    array([0.25], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    margin = subtract(1.0, multiply(_signed_labels(y_true), y_pred))
    return reduce_mean(square(maximum(margin, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0), one-hot labels.

    >>> keras.losses.categorical_hinge([[0.0, 1.0]], [[0.5, 1.0]]).numpy()
    array([0.5], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    positive = reduce_sum(multiply(y_true, y_pred), axis=-1)
    negative = reduce_max(multiply(subtract(1.0, y_true), y_pred), axis=-1)
    return maximum(subtract(negative, positive) + 1.0, 0.0)


class Hinge(LossFunctionWrapper):
    """``keras.losses.Hinge()``."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """``keras.losses.SquaredHinge()``."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """``keras.losses.CategoricalHinge()``: one-hot labels."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)
