"""Cross-entropies, from probabilities or from logits (``from_logits=True``)."""
from __future__ import annotations

from neuroflow.keras.losses.loss import LossFunctionWrapper
from neuroflow.ops import activations, losses as nn_losses
from neuroflow.ops.math import cast, clip_by_value, log, multiply, negative, subtract
from neuroflow.ops.reduce import reduce_mean, reduce_sum

_EPSILON = 1e-7


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1,
                                    ignore_class=None):
    """Cross-entropy against integer labels; ``y_pred`` probabilities or logits."""
    from neuroflow.ops.array import reshape, shape
    labels = y_true
    if labels.shape.rank is not None and y_pred.shape.rank is not None and \
            labels.shape.rank == y_pred.shape.rank and labels.shape[-1] == 1:
        labels = reshape(labels, shape(labels)[:-1])
    labels = cast(labels, "int32") if not labels.dtype.is_integer else labels
    logits = y_pred if from_logits else log(clip_by_value(y_pred, _EPSILON, 1 - _EPSILON))
    return nn_losses.sparse_softmax_cross_entropy_with_logits(labels, logits)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy against one-hot (or soft) labels."""
    y_true = cast(y_true, y_pred.dtype)
    if label_smoothing:
        classes = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / classes
    if from_logits:
        return nn_losses.softmax_cross_entropy_with_logits(y_true, y_pred, axis=axis)
    probs = y_pred / reduce_sum(y_pred, axis=axis, keepdims=True)
    probs = clip_by_value(probs, _EPSILON, 1 - _EPSILON)
    return negative(reduce_sum(multiply(y_true, log(probs)), axis=axis))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean binary cross-entropy over the last axis."""
    y_true = cast(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        per_entry = nn_losses.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = clip_by_value(y_pred, _EPSILON, 1 - _EPSILON)
        per_entry = negative(multiply(y_true, log(p)) + multiply(subtract(1.0, y_true),
                                                                  log(subtract(1.0, p))))
    return reduce_mean(per_entry, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=from_logits)


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy"):
        super().__init__(categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy"):
        super().__init__(binary_crossentropy, name=name, reduction=reduction,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


del activations
