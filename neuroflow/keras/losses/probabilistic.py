"""Cross-entropies (from probabilities, or from logits with ``from_logits=True``), KL
divergence and Poisson.

From logits the fused ``nf.nn`` cross-entropy ops do the work: one max-subtracted pass,
finite for logits of any size. From probabilities, predictions are clipped to
[epsilon, 1 - epsilon] before the log, as Keras does.
"""
from __future__ import annotations

from neuroflow.core.op import convert_to_tensor
from neuroflow.keras.losses.loss import EPSILON, LossFunctionWrapper, prepare
from neuroflow.ops import losses as nn_losses
from neuroflow.ops.array import shape, squeeze, transpose
from neuroflow.ops.math import (
    cast,
    clip_by_value,
    divide,
    log,
    multiply,
    negative,
    not_equal,
    subtract,
    where,
)
from neuroflow.ops.reduce import reduce_mean, reduce_sum


def _check_same_shape(y_true, y_pred, what, hint=""):
    if not y_true.shape.is_compatible_with(y_pred.shape):
        raise ValueError(f"{what}: arguments `target` and `output` must have the same shape. "
                         f"Received: target.shape={_shape(y_true)}, "
                         f"output.shape={_shape(y_pred)}.{hint}")


def _shape(t):
    return tuple(t.shape) if t.shape.rank is not None else "<unknown>"


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy, averaged over ``axis`` (the last by default), per sample.

    Labels are smoothed towards 0.5 by ``label_smoothing``.

    >>> keras.losses.binary_crossentropy([[1.0]], [[0.0]], from_logits=True).numpy()
    array([0.6931472], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    _check_same_shape(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        per_entry = nn_losses.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
        per_entry = negative(multiply(y_true, log(p)) + multiply(subtract(1.0, y_true),
                                                                  log(subtract(1.0, p))))
    return reduce_mean(per_entry, axis=axis)


def _num_classes(y_pred, axis):
    classes = y_pred.shape[axis] if y_pred.shape.rank is not None else None
    if classes is not None:
        return float(classes)
    return cast(shape(y_pred)[axis], y_pred.dtype)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true * log(y_pred)) along ``axis``, against one-hot (or soft) labels.

    From probabilities, ``y_pred`` is normalised to sum to 1 along ``axis`` first.
    ``label_smoothing`` mixes the labels with the uniform distribution.

    >>> keras.losses.categorical_crossentropy([[0.0, 1.0]], [[0.0, 0.0]],
    ...                                       from_logits=True).numpy()
    array([0.6931472], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    _check_same_shape(
        y_true, y_pred, "categorical_crossentropy",
        " If your labels are integer class indices rather than one-hot vectors, use "
        "SparseCategoricalCrossentropy (loss='sparse_categorical_crossentropy').")
    if label_smoothing:
        classes = _num_classes(y_pred, axis)
        uniform = label_smoothing / classes if isinstance(classes, float) else divide(
            cast(label_smoothing, y_pred.dtype), classes)
        y_true = y_true * (1.0 - label_smoothing) + uniform
    if from_logits:
        return nn_losses.softmax_cross_entropy_with_logits(y_true, y_pred, axis=axis)
    probs = divide(y_pred, reduce_sum(y_pred, axis=axis, keepdims=True))
    probs = clip_by_value(probs, EPSILON, 1.0 - EPSILON)
    return negative(reduce_sum(multiply(y_true, log(probs)), axis=axis))


def _sparse_labels(y_true, y_pred):
    labels = convert_to_tensor(y_true)
    if labels.shape.rank is not None and y_pred.shape.rank is not None and \
            labels.shape.rank == y_pred.shape.rank and labels.shape[-1] == 1:
        labels = squeeze(labels, axis=-1)
    if not labels.dtype.is_integer:
        labels = cast(labels, "int32")
    return labels


def _move_axis_last(y_pred, axis):
    rank = y_pred.shape.rank
    if axis in (-1, None) or rank is None or axis % rank == rank - 1:
        return y_pred
    axis %= rank
    perm = [i for i in range(rank) if i != axis] + [axis]
    return transpose(y_pred, perm)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Cross-entropy against integer class labels (``y_pred``: probabilities or logits).

    Labels must lie in [0, num_classes): an out-of-range label raises an error naming it.
    Entries whose label equals ``ignore_class`` get a loss of 0.

    >>> keras.losses.sparse_categorical_crossentropy([1], [[0.0, 0.0]],
    ...                                              from_logits=True).numpy()
    array([0.6931472], dtype=float32)
    """
    y_pred = convert_to_tensor(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = cast(y_pred, "float32")
    y_pred = _move_axis_last(y_pred, axis)
    labels = _sparse_labels(y_true, y_pred)
    valid = None
    if ignore_class is not None:
        valid = not_equal(labels, int(ignore_class))
        labels = where(valid, labels, 0)
    if from_logits:
        logits = y_pred
    else:
        probs = divide(y_pred, reduce_sum(y_pred, axis=-1, keepdims=True))
        logits = log(clip_by_value(probs, EPSILON, 1.0 - EPSILON))
    losses = nn_losses.sparse_softmax_cross_entropy_with_logits(labels, logits)
    if valid is not None:
        losses = where(valid, losses, 0.0)
    return losses


def kl_divergence(y_true, y_pred):
    """sum(y_true * log(y_true / y_pred)) over the last axis, both clipped to [epsilon, 1].

    >>> keras.losses.kl_divergence([[0.5, 0.5]], [[0.5, 0.5]]).numpy()
    array([0.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    y_true = clip_by_value(y_true, EPSILON, 1.0)
    y_pred = clip_by_value(y_pred, EPSILON, 1.0)
    return reduce_sum(multiply(y_true, log(divide(y_true, y_pred))), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + epsilon)) over the last axis.

    >>> keras.losses.poisson([[1.0]], [[2.0]]).numpy()  # 2 - log(2)
    array([1.3068528], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    return reduce_mean(subtract(y_pred, multiply(y_true, log(y_pred + EPSILON))), axis=-1)


class BinaryCrossentropy(LossFunctionWrapper):
    """``keras.losses.BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1)``."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """``keras.losses.CategoricalCrossentropy(from_logits=False, label_smoothing=0.0)``:
    one-hot labels."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy",
                 dtype=None):
        super().__init__(categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """``keras.losses.SparseCategoricalCrossentropy(from_logits=False, ignore_class=None)``:
    integer labels. With ``ignore_class``, averaging reductions count the other entries
    only."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class)

    def loss_mask(self, y_true, y_pred):
        ignore_class = self.fn_kwargs.get("ignore_class")
        if ignore_class is None:
            return None
        return not_equal(_sparse_labels(y_true, y_pred), int(ignore_class))


class KLDivergence(LossFunctionWrapper):
    """``keras.losses.KLDivergence()``: Kullback-Leibler divergence ('kld')."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """``keras.losses.Poisson()``: Poisson negative log-likelihood (up to a constant)."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)

