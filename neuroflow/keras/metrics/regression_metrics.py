"""Regression metrics: mean squared / absolute / percentage / log errors, their root, cosine
similarity and log-cosh, as running means over all samples seen."""
from __future__ import annotations

from neuroflow.core.op import convert_to_tensor
from neuroflow.keras.losses import regression as losses
from neuroflow.keras.losses.loss import prepare, squeeze_or_expand_to_same_rank
from neuroflow.keras.metrics.metric import Mean, MeanMetricWrapper
from neuroflow.ops.math import cast, multiply, sqrt, square, subtract
from neuroflow.ops.normalization import l2_normalize
from neuroflow.ops.reduce import reduce_sum


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)) along ``axis`` (the metric is the
    similarity itself; the loss is its negative).

    >>> keras.metrics.cosine_similarity([[1.0, 0.0]], [[2.0, 0.0]]).numpy()
    array([1.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred)
    return reduce_sum(multiply(l2_normalize(y_true, axis=axis), l2_normalize(y_pred, axis=axis)),
                      axis=axis)


class MeanSquaredError(MeanMetricWrapper):
    """Running mean of squared errors."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(losses.mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Running mean of absolute errors."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(losses.mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Running mean of absolute percentage errors."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(losses.mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Running mean of squared logarithmic errors."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(losses.mean_squared_logarithmic_error, name, dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Running mean of the cosine similarity between labels and predictions."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype, axis=axis)


class LogCoshError(MeanMetricWrapper):
    """Running mean of log(cosh(error))."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(losses.log_cosh, name, dtype)


class RootMeanSquaredError(Mean):
    """sqrt of the running (weighted) mean of squared errors over all entries seen.

    >>> m = keras.metrics.RootMeanSquaredError(); m.update_state([[0.0]], [[2.0]])
    >>> float(m.result())
    2.0
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = cast(convert_to_tensor(y_pred), self.dtype)
        y_true = cast(convert_to_tensor(y_true), self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(square(subtract(y_pred, y_true)), sample_weight)

    def result(self):
        return sqrt(super().result())
