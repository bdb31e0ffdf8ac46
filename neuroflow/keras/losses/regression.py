"""Regression losses."""
from __future__ import annotations

from neuroflow.keras.losses.loss import LossFunctionWrapper
from neuroflow.ops.math import square, subtract
from neuroflow.ops.reduce import reduce_mean


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)^2) over the last axis, per sample."""
    from neuroflow.ops.math import cast
    y_true = cast(y_true, y_pred.dtype)
    return reduce_mean(square(subtract(y_pred, y_true)), axis=-1)


class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(mean_squared_error, name=name, reduction=reduction)
