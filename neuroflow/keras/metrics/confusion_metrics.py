"""Metrics over confusion-matrix counts at thresholds: true/false positives/negatives,
Precision, Recall and AUC (Keras's semantics: an entry is predicted positive when its score
is strictly above a threshold; a label is positive when it is non-zero).

The counts at all thresholds come from one comparison of the (flattened) predictions with
the threshold vector and a matrix product with the weighted labels, so a batch costs
O(batch * thresholds) vectorised work and no Python loop.
"""
from __future__ import annotations

import numpy as np

from neuroflow.core.op import convert_to_tensor
from neuroflow.keras.losses.loss import squeeze_or_expand_to_same_rank
from neuroflow.keras.metrics.metric import Metric, divide_no_nan, read
from neuroflow.ops.array import expand_dims, ones_like, reshape, squeeze
from neuroflow.ops.gather import one_hot
from neuroflow.ops.linalg import matmul
from neuroflow.ops.lookup import top_k as top_k_op
from neuroflow.ops.math import add, cast, greater, multiply, not_equal, subtract
from neuroflow.ops.reduce import reduce_max, reduce_sum

NEG_INF = -1e10
COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def parse_thresholds(thresholds, default):
    """A list of thresholds in [0, 1] from a float, a list, or None (the default)."""
    if thresholds is None:
        return [default]
    values = [float(t) for t in np.atleast_1d(np.asarray(thresholds, dtype=np.float64))]
    invalid = [t for t in values if not 0.0 <= t <= 1.0]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return values


def _filter_top_k(y_pred, k):
    """Scores outside each row's top k become NEG_INF (never above any threshold)."""
    classes = y_pred.shape[-1]
    if classes is None:
        raise ValueError("top_k needs predictions with a known last dimension, got shape "
                         f"{tuple(y_pred.shape)}")
    _, indices = top_k_op(y_pred, k)
    in_top = reduce_max(one_hot(indices, int(classes), dtype=y_pred.dtype), axis=-2)
    return add(multiply(y_pred, in_top), multiply(subtract(1.0, in_top), NEG_INF))


def _aligned_weight(sample_weight, y_pred, dtype):
    """Sample weights over the leading axes of y_pred, broadcast to its full shape."""
    weight = cast(convert_to_tensor(sample_weight), dtype)
    if weight.shape.rank is not None and y_pred.shape.rank is not None:
        while weight.shape.rank > y_pred.shape.rank and weight.shape[-1] == 1:
            weight = squeeze(weight, axis=-1)
        while 0 < weight.shape.rank < y_pred.shape.rank:
            weight = expand_dims(weight, -1)
    return multiply(weight, ones_like(y_pred))


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None,
                     class_id=None, multi_label=False, label_weights=None, dtype="float32"):
    """Weighted (tp, fp, tn, fn) at each threshold: shape (T,), or (T, labels) with
    ``multi_label`` (then y_pred is (batch, labels))."""
    y_pred = cast(convert_to_tensor(y_pred), dtype)
    y_true = cast(convert_to_tensor(y_true), dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if not y_true.shape.is_compatible_with(y_pred.shape):
        raise ValueError(f"Labels of shape {tuple(y_true.shape)} do not match predictions of "
                         f"shape {tuple(y_pred.shape)}: confusion-matrix metrics (Precision, "
                         "Recall, AUC, ...) need labels of the predictions' shape (one-hot or "
                         "multi-hot labels for multi-class predictions).")
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, int(top_k))
    if class_id is not None:
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
    label = cast(not_equal(y_true, 0.0), dtype)
    weight = None
    if sample_weight is not None:
        weight = _aligned_weight(sample_weight, y_pred, dtype)
    if label_weights is not None and not multi_label:
        lw = convert_to_tensor(np.asarray(label_weights, dtype=np.dtype(dtype)))
        weight = multiply(lw, ones_like(y_pred)) if weight is None else multiply(weight, lw)
    thr = convert_to_tensor(np.asarray(thresholds, dtype=np.dtype(dtype)))
    positive_mass = label if weight is None else multiply(label, weight)
    negative_mass = subtract(1.0, label) if weight is None else multiply(subtract(1.0, label),
                                                                          weight)
    if multi_label:
        above = cast(greater(expand_dims(y_pred, 0), reshape(thr, [-1, 1, 1])), dtype)
        tp = reduce_sum(multiply(above, positive_mass), axis=1)
        fp = reduce_sum(multiply(above, negative_mass), axis=1)
        total_pos = reduce_sum(positive_mass, axis=0)
        total_neg = reduce_sum(negative_mass, axis=0)
    else:
        above = cast(greater(reshape(y_pred, [1, -1]), reshape(thr, [-1, 1])), dtype)
        tp = reshape(matmul(above, reshape(positive_mass, [-1, 1])), [-1])
        fp = reshape(matmul(above, reshape(negative_mass, [-1, 1])), [-1])
        total_pos = reduce_sum(positive_mass)
        total_neg = reduce_sum(negative_mass)
    return {"true_positives": tp, "false_positives": fp,
            "true_negatives": subtract(total_neg, fp), "false_negatives": subtract(total_pos, tp)}


class _ConfusionMetric(Metric):
    """Keeps the confusion counts it needs (``_counts``) at ``self.thresholds``."""

    _counts = COUNTS

    def __init__(self, thresholds, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        self.thresholds = list(thresholds)
        self.top_k = top_k
        self.class_id = class_id
        for count in self._counts:
            setattr(self, count, self.add_variable((len(self.thresholds),), name=count))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, self.top_k,
                                  self.class_id, dtype=self.dtype)
        for count in self._counts:
            getattr(self, count).assign_add(counts[count])

    def _single(self, value):
        return value[0] if len(self.thresholds) == 1 else value


class _CountMetric(_ConfusionMetric):
    def __init__(self, thresholds=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        super().__init__(parse_thresholds(thresholds, 0.5), name=name, dtype=dtype)

    def result(self):
        return self._single(read(getattr(self, self._counts[0])))

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_CountMetric):
    """Weighted count of positives predicted positive (at ``thresholds``, default 0.5)."""
    _counts = ("true_positives",)


class FalsePositives(_CountMetric):
    """Weighted count of negatives predicted positive."""
    _counts = ("false_positives",)


class TrueNegatives(_CountMetric):
    """Weighted count of negatives predicted negative."""
    _counts = ("true_negatives",)


class FalseNegatives(_CountMetric):
    """Weighted count of positives predicted negative."""
    _counts = ("false_negatives",)


class Precision(_ConfusionMetric):
    """tp / (tp + fp) at ``thresholds`` (default 0.5; with ``top_k``, the k top scores of
    each row count as positive); ``class_id`` restricts it to one class.

    >>> m = keras.metrics.Precision(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> float(m.result())  # 2 of the 3 predicted positives are positive
    0.6666666865348816
    """
    _counts = ("true_positives", "false_positives")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        default = 0.5 if top_k is None else NEG_INF
        super().__init__(parse_thresholds(thresholds, default), top_k, class_id, name, dtype)

    def result(self):
        tp = read(self.true_positives)
        return self._single(divide_no_nan(tp, add(tp, read(self.false_positives))))

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Recall(Precision):
    """tp / (tp + fn) at ``thresholds`` (default 0.5), with ``top_k`` and ``class_id`` as
    in Precision.

    >>> m = keras.metrics.Recall(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> float(m.result())  # 2 of the 3 positives are found
    0.6666666865348816
    """
    _counts = ("true_positives", "false_negatives")

    def result(self):
        tp = read(self.true_positives)
        return self._single(divide_no_nan(tp, add(tp, read(self.false_negatives))))

