"""Regression and loss-based metrics against NumPy, over several batches."""
from __future__ import annotations

import numpy as np
import pytest

from neuroflow import keras


def _accumulate(metric, y_true, y_pred, weight=None, size=4):
    for start in range(0, len(y_true), size):
        sl = slice(start, start + size)
        metric.update_state(y_true[sl], y_pred[sl],
                            sample_weight=None if weight is None else weight[sl])
    return float(metric.result())


def _data(seed=0):
    rng = np.random.default_rng(seed)
    y_true = rng.uniform(0.5, 2.0, (10, 3)).astype(np.float32)
    y_pred = rng.uniform(0.5, 2.0, (10, 3)).astype(np.float32)
    return y_true, y_pred, rng.uniform(0.1, 2.0, 10)


def _norm(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


PER_SAMPLE = {
    "mean_squared_error": lambda t, p: np.mean((t - p) ** 2, -1),
    "mean_absolute_error": lambda t, p: np.mean(np.abs(t - p), -1),
    "mean_absolute_percentage_error": lambda t, p: 100 * np.mean(np.abs((t - p) / t), -1),
    "mean_squared_logarithmic_error": lambda t, p: np.mean((np.log1p(t) - np.log1p(p)) ** 2,
                                                           -1),
    "cosine_similarity": lambda t, p: np.sum(_norm(t) * _norm(p), -1),
    "logcosh": lambda t, p: np.mean(np.log(np.cosh(p - t)), -1),
    "poisson": lambda t, p: np.mean(p - t * np.log(p + 1e-7), -1),
    "hinge": lambda t, p: np.mean(np.maximum(1 - t * p, 0), -1),
}
CLASSES = {
    "mean_squared_error": keras.metrics.MeanSquaredError,
    "mean_absolute_error": keras.metrics.MeanAbsoluteError,
    "mean_absolute_percentage_error": keras.metrics.MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": keras.metrics.MeanSquaredLogarithmicError,
    "cosine_similarity": keras.metrics.CosineSimilarity,
    "logcosh": keras.metrics.LogCoshError,
    "poisson": keras.metrics.Poisson,
    "hinge": keras.metrics.Hinge,
}


@pytest.mark.parametrize("name", sorted(PER_SAMPLE))
def test_mean_metrics_match_numpy(name):
    y_true, y_pred, weight = _data()
    per_sample = PER_SAMPLE[name](y_true.astype(np.float64), y_pred.astype(np.float64))
    metric = CLASSES[name]()
    assert metric.name == name
    np.testing.assert_allclose(_accumulate(metric, y_true, y_pred), per_sample.mean(),
                               rtol=1e-5)
    metric.reset_state()
    np.testing.assert_allclose(_accumulate(metric, y_true, y_pred, weight),
                               np.sum(per_sample * weight) / np.sum(weight), rtol=1e-5)


def test_root_mean_squared_error():
    y_true, y_pred, weight = _data(1)
    squared = (y_true.astype(np.float64) - y_pred) ** 2
    metric = keras.metrics.RootMeanSquaredError()
    np.testing.assert_allclose(_accumulate(metric, y_true, y_pred), np.sqrt(squared.mean()),
                               rtol=1e-5)
    metric = keras.metrics.RootMeanSquaredError()
    want = np.sqrt(np.sum(squared.mean(-1) * weight) / weight.sum())
    np.testing.assert_allclose(_accumulate(metric, y_true, y_pred, weight), want, rtol=1e-5)
    # (batch,) labels with (batch, 1) predictions
    column = keras.metrics.RootMeanSquaredError()
    got = _accumulate(column, y_true[:, 0], y_pred[:, :1])
    np.testing.assert_allclose(got, np.sqrt(np.mean((y_true[:, 0] - y_pred[:, 0]) ** 2)),
                               rtol=1e-5)


def test_crossentropy_metrics_match_the_losses():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(9, 4)).astype(np.float32)
    labels = rng.integers(0, 4, 9)
    one_hot = np.eye(4, dtype=np.float32)[labels]
    pairs = [
        (keras.metrics.SparseCategoricalCrossentropy(from_logits=True),
         keras.losses.SparseCategoricalCrossentropy(from_logits=True), labels),
        (keras.metrics.CategoricalCrossentropy(from_logits=True),
         keras.losses.CategoricalCrossentropy(from_logits=True), one_hot),
        (keras.metrics.BinaryCrossentropy(from_logits=True),
         keras.losses.BinaryCrossentropy(from_logits=True), one_hot),
        (keras.metrics.KLDivergence(), keras.losses.KLDivergence(), one_hot),
    ]
    for metric, loss, y_true in pairs:
        y_pred = logits if "Divergence" not in type(loss).__name__ else np.exp(logits) / \
            np.exp(logits).sum(-1, keepdims=True)
        np.testing.assert_allclose(_accumulate(metric, y_true, y_pred),
                                   float(loss(y_true, y_pred)), rtol=1e-5)


def test_metric_aliases():
    for name, cls in [("mse", keras.metrics.MeanSquaredError),
                      ("mae", keras.metrics.MeanAbsoluteError),
                      ("mape", keras.metrics.MeanAbsolutePercentageError),
                      ("msle", keras.metrics.MeanSquaredLogarithmicError),
                      ("root_mean_squared_error", keras.metrics.RootMeanSquaredError),
                      ("RootMeanSquaredError", keras.metrics.RootMeanSquaredError),
                      ("auc", keras.metrics.AUC), ("precision", keras.metrics.Precision),
                      ("recall", keras.metrics.Recall)]:
        assert isinstance(keras.metrics.get(name), cls), name
    with pytest.raises(ValueError, match="Unknown metric: 'mean_sqared_error'"):
        keras.metrics.get("mean_sqared_error")
