"""Accuracy metrics: exact match, binary (threshold), categorical and sparse categorical."""
from __future__ import annotations

from neuroflow.keras.metrics.metric import MeanMetricWrapper
from neuroflow.ops.array import reshape
from neuroflow.ops.math import cast, equal, greater
from neuroflow.ops.reduce import argmax, reduce_mean


def accuracy(y_true, y_pred):
    return cast(equal(cast(y_true, y_pred.dtype), y_pred), "float32")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    predicted = cast(greater(y_pred, threshold), y_pred.dtype)
    return reduce_mean(cast(equal(cast(y_true, y_pred.dtype), predicted), "float32"), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return cast(equal(argmax(y_true, axis=-1), argmax(y_pred, axis=-1)), "float32")


def sparse_categorical_accuracy(y_true, y_pred):
    labels = y_true
    if labels.shape.rank is not None and labels.shape.rank == y_pred.shape.rank:
        labels = reshape(labels, [-1] if labels.shape.rank == 2 else list(
            d if d is not None else -1 for d in labels.shape[:-1]))
    predicted = argmax(y_pred, axis=-1)
    return cast(equal(cast(labels, "int64"), predicted), "float32")


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)
