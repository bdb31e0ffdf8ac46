"""Accuracy metrics: exact match, binary (threshold), categorical, sparse categorical, and
the top-k accuracies."""
from __future__ import annotations

from neuroflow.core.op import convert_to_tensor
from neuroflow.keras.losses.loss import squeeze_or_expand_to_same_rank
from neuroflow.keras.metrics.metric import MeanMetricWrapper
from neuroflow.ops.array import expand_dims, reshape, shape, squeeze
from neuroflow.ops.lookup import in_top_k
from neuroflow.ops.math import cast, equal, greater
from neuroflow.ops.reduce import argmax, reduce_any, reduce_mean


def _tensors(y_true, y_pred):
    return convert_to_tensor(y_true), convert_to_tensor(y_pred)


def accuracy(y_true, y_pred):
    """1.0 where ``y_pred`` equals ``y_true`` exactly, else 0.0.

    >>> keras.metrics.accuracy([1, 2], [1, 3]).numpy()
    array([1., 0.], dtype=float32)
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    return cast(equal(cast(y_true, y_pred.dtype), y_pred), "float32")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of (y_pred > threshold) == y_true.

    >>> keras.metrics.binary_accuracy([[1.0], [0.0]], [[0.7], [0.6]]).numpy()
    array([1., 0.], dtype=float32)
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    predicted = cast(greater(y_pred, threshold), y_true.dtype)
    return reduce_mean(cast(equal(y_true, predicted), "float32"), axis=-1)


def _squeeze_last(matches):
    if matches.shape.rank is not None and matches.shape.rank > 1 and matches.shape[-1] == 1:
        return squeeze(matches, axis=-1)
    return matches


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) == argmax(y_true) (one-hot labels).

    >>> keras.metrics.categorical_accuracy([[0, 1]], [[0.2, 0.8]]).numpy()
    array([1.], dtype=float32)
    """
    y_true, y_pred = _tensors(y_true, y_pred)
    matches = equal(argmax(y_true, axis=-1), argmax(y_pred, axis=-1))
    return _squeeze_last(cast(matches, "float32"))


def _class_labels(y_true, y_pred):
    """Integer labels of the rank of y_pred minus one ((batch, 1) labels are squeezed)."""
    if y_true.shape.rank is not None and y_pred.shape.rank is not None and \
            y_true.shape.rank == y_pred.shape.rank and y_true.shape[-1] == 1:
        y_true = squeeze(y_true, axis=-1)
    return cast(y_true, "int64")


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label.

    >>> keras.metrics.sparse_categorical_accuracy([1, 0], [[0.2, 0.8], [0.3, 0.7]]).numpy()
    array([1., 0.], dtype=float32)
    """
    y_true, y_pred = _tensors(y_true, y_pred)
    labels = _class_labels(y_true, y_pred)
    matches = equal(labels, cast(argmax(y_pred, axis=-1), "int64"))
    return _squeeze_last(cast(matches, "float32"))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the true class (argmax of one-hot y_true) is among the k top predictions.

    >>> keras.metrics.top_k_categorical_accuracy([[0, 0, 1]], [[0.5, 0.3, 0.2]], k=2).numpy()
    array([0.], dtype=float32)
    """
    y_true, y_pred = _tensors(y_true, y_pred)
    labels = cast(argmax(y_true, axis=-1), "int32")
    return _in_top_k(labels, y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the k top predictions. With
    ``from_sorted_ids``, ``y_pred`` holds class ids sorted by score (best first).

    >>> keras.metrics.sparse_top_k_categorical_accuracy([2], [[0.5, 0.3, 0.2]], k=2).numpy()
    array([0.], dtype=float32)
    """
    y_true, y_pred = _tensors(y_true, y_pred)
    labels = cast(_class_labels(y_true, y_pred), "int32")
    if from_sorted_ids:
        ids = cast(y_pred[..., :k], "int32")
        return cast(reduce_any(equal(ids, expand_dims(labels, -1)), axis=-1), "float32")
    return _in_top_k(labels, y_pred, k)


def _in_top_k(labels, y_pred, k):
    if y_pred.shape.rank is not None and y_pred.shape.rank > 2:
        classes = y_pred.shape[-1]
        flat = in_top_k(reshape(labels, [-1]), reshape(y_pred, [-1, classes]), k)
        return cast(reshape(flat, shape(labels)), "float32")
    return cast(in_top_k(labels, cast(y_pred, "float32"), k), "float32")


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) matches binary labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction matches one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction matches integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the ``k`` top predictions (k=5)."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` top predictions (k=5)."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k,
                         from_sorted_ids=from_sorted_ids)

