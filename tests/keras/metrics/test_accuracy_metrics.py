"""Accuracy metrics against NumPy, accumulated over several batches, with sample weights."""
from __future__ import annotations

import numpy as np
import pytest

from neuroflow import keras

RNG = np.random.default_rng(0)


def _accumulate(metric, y_true, y_pred, weight=None, size=5):
    for start in range(0, len(y_true), size):
        sl = slice(start, start + size)
        metric.update_state(y_true[sl], y_pred[sl],
                            sample_weight=None if weight is None else weight[sl])
    return float(metric.result())


def _weighted_mean(values, weight):
    return np.sum(values * weight) / np.sum(weight)


def _classification(n=17, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    scores = rng.uniform(size=(n, classes)).astype(np.float32)
    return labels, scores, rng.uniform(0.1, 2.0, n)


@pytest.mark.parametrize("weighted", [False, True])
def test_accuracy_metrics_match_numpy(weighted):
    labels, scores, weight = _classification()
    w = weight if weighted else np.ones(len(labels))
    one_hot = np.eye(4, dtype=np.float32)[labels]
    hits = scores.argmax(1) == labels
    cases = [
        (keras.metrics.SparseCategoricalAccuracy(), labels, scores, hits),
        (keras.metrics.SparseCategoricalAccuracy(), labels[:, None], scores, hits),
        (keras.metrics.CategoricalAccuracy(), one_hot, scores, hits),
        (keras.metrics.Accuracy(), labels, scores.argmax(1), hits),
    ]
    for metric, y_true, y_pred, want in cases:
        got = _accumulate(metric, y_true, y_pred, weight if weighted else None)
        np.testing.assert_allclose(got, _weighted_mean(want, w), rtol=1e-6,
                                   err_msg=metric.name)


@pytest.mark.parametrize("threshold", [0.5, 0.7])
def test_binary_accuracy_matches_numpy(threshold):
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, (13, 3)).astype(np.float32)
    y_pred = rng.uniform(size=(13, 3)).astype(np.float32)
    weight = rng.uniform(0.1, 2.0, 13)
    per_sample = np.mean((y_pred > threshold) == y_true, axis=1)
    metric = keras.metrics.BinaryAccuracy(threshold=threshold)
    np.testing.assert_allclose(_accumulate(metric, y_true, y_pred), per_sample.mean(),
                               rtol=1e-6)
    metric = keras.metrics.BinaryAccuracy(threshold=threshold)
    np.testing.assert_allclose(_accumulate(metric, y_true, y_pred, weight),
                               _weighted_mean(per_sample, weight), rtol=1e-6)
    # (batch,) labels against (batch, 1) predictions line up instead of broadcasting
    column = keras.metrics.BinaryAccuracy(threshold=threshold)
    got = _accumulate(column, y_true[:, 0], y_pred[:, :1])
    np.testing.assert_allclose(got, np.mean((y_pred[:, 0] > threshold) == y_true[:, 0]))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracies_match_numpy(k):
    labels, scores, weight = _classification(seed=2)
    # a row's class is in the top k when fewer than k classes score strictly higher
    higher = np.sum(scores > scores[np.arange(len(labels)), labels][:, None], axis=1)
    hits = higher < k
    sparse = keras.metrics.SparseTopKCategoricalAccuracy(k=k)
    np.testing.assert_allclose(_accumulate(sparse, labels, scores, weight),
                               _weighted_mean(hits, weight), rtol=1e-6)
    dense = keras.metrics.TopKCategoricalAccuracy(k=k)
    np.testing.assert_allclose(_accumulate(dense, np.eye(4)[labels], scores),
                               hits.mean(), rtol=1e-6)
    sorted_ids = np.argsort(-scores, axis=1)
    from_ids = keras.metrics.SparseTopKCategoricalAccuracy(k=k, from_sorted_ids=True)
    np.testing.assert_allclose(_accumulate(from_ids, labels, sorted_ids), hits.mean(),
                               rtol=1e-6)


def test_top_k_counts_ties_with_the_kth_score_as_hits():
    scores = np.array([[0.5, 0.5, 0.1]], np.float32)
    assert float(keras.metrics.sparse_top_k_categorical_accuracy([1], scores, k=1)[0]) == 1.0


def test_accuracy_defaults_names_and_config():
    assert keras.metrics.TopKCategoricalAccuracy().get_config()["k"] == 5
    metric = keras.metrics.BinaryAccuracy(threshold=0.3, name="acc03")
    clone = keras.metrics.BinaryAccuracy.from_config(metric.get_config())
    assert clone.name == "acc03" and clone.get_config()["threshold"] == 0.3
    for name, cls in [("accuracy", keras.metrics.Accuracy), ("acc", keras.metrics.Accuracy),
                      ("binary_accuracy", keras.metrics.BinaryAccuracy),
                      ("sparse_top_k_categorical_accuracy",
                       keras.metrics.SparseTopKCategoricalAccuracy),
                      ("top_k_categorical_accuracy", keras.metrics.TopKCategoricalAccuracy)]:
        assert isinstance(keras.metrics.get(name), cls), name
