"""Precision, Recall, the confusion counts and AUC against scikit-learn and NumPy."""
from __future__ import annotations

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.metrics import reference

try:
    from sklearn import metrics as sk
except ImportError:
    sk = None

needs_sklearn = pytest.mark.skipif(sk is None, reason="scikit-learn is the reference here")


def _batches(y_true, y_pred, weight=None, size=7):
    for start in range(0, len(y_true), size):
        end = start + size
        yield (y_true[start:end], y_pred[start:end],
               None if weight is None else weight[start:end])


def _accumulate(metric, y_true, y_pred, weight=None):
    for t, p, w in _batches(y_true, y_pred, weight):
        metric.update_state(t, p, sample_weight=w)
    return metric.result().numpy()


def _binary_data(seed=0, n=40):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, (n, 1)).astype(np.float32)
    y_pred = np.clip(0.35 * y_true + rng.uniform(0, 0.7, (n, 1)), 0, 1).astype(np.float32)
    return y_true, y_pred, rng.uniform(0.1, 2.0, n).astype(np.float32)


@needs_sklearn
@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.8])
def test_precision_and_recall_match_sklearn_over_batches(threshold):
    y_true, y_pred, weight = _binary_data()
    predicted = (y_pred > threshold).astype(int).ravel()
    for cls, sk_fn in [(keras.metrics.Precision, sk.precision_score),
                       (keras.metrics.Recall, sk.recall_score)]:
        got = _accumulate(cls(thresholds=threshold), y_true, y_pred)
        np.testing.assert_allclose(got, sk_fn(y_true.ravel(), predicted), rtol=1e-6)
        got = _accumulate(cls(thresholds=threshold), y_true, y_pred, weight)
        np.testing.assert_allclose(got, sk_fn(y_true.ravel(), predicted, sample_weight=weight),
                                   rtol=1e-5)


def test_multiple_thresholds_give_one_value_each():
    y_true, y_pred, weight = _binary_data(1)
    thresholds = [0.2, 0.5, 0.7]
    tp, fp, tn, fn = reference.confusion(y_true, y_pred, thresholds, weight)
    precision = _accumulate(keras.metrics.Precision(thresholds=thresholds), y_true, y_pred,
                            weight)
    recall = _accumulate(keras.metrics.Recall(thresholds=thresholds), y_true, y_pred, weight)
    np.testing.assert_allclose(precision, tp / (tp + fp), rtol=1e-5)
    np.testing.assert_allclose(recall, tp / (tp + fn), rtol=1e-5)
    for cls, want in [(keras.metrics.TruePositives, tp), (keras.metrics.FalsePositives, fp),
                      (keras.metrics.TrueNegatives, tn), (keras.metrics.FalseNegatives, fn)]:
        np.testing.assert_allclose(_accumulate(cls(thresholds=thresholds), y_true, y_pred,
                                               weight), want, rtol=1e-5)


def test_top_k_and_class_id():
    rng = np.random.default_rng(2)
    y_pred = rng.uniform(size=(12, 5)).astype(np.float32)
    y_true = (rng.uniform(size=(12, 5)) > 0.6).astype(np.float32)
    # top_k=2: the two best scores of each row are the predicted positives
    top = np.argsort(-y_pred, axis=1)[:, :2]
    predicted = np.zeros_like(y_true, bool)
    np.put_along_axis(predicted, top, True, axis=1)
    positive = y_true != 0
    precision = _accumulate(keras.metrics.Precision(top_k=2), y_true, y_pred)
    np.testing.assert_allclose(precision, np.sum(predicted & positive) / np.sum(predicted),
                               rtol=1e-6)
    recall = _accumulate(keras.metrics.Recall(top_k=2), y_true, y_pred)
    np.testing.assert_allclose(recall, np.sum(predicted & positive) / np.sum(positive),
                               rtol=1e-6)
    # class_id=3: only column 3, threshold 0.5
    col_pred, col_true = y_pred[:, 3] > 0.5, positive[:, 3]
    precision = _accumulate(keras.metrics.Precision(class_id=3), y_true, y_pred)
    np.testing.assert_allclose(precision, np.sum(col_pred & col_true) / np.sum(col_pred),
                               rtol=1e-6)
    # top_k with class_id: column 3 counts as predicted only where it is in the row's top 2
    in_top = predicted[:, 3]
    recall = _accumulate(keras.metrics.Recall(top_k=2, class_id=3), y_true, y_pred)
    np.testing.assert_allclose(recall, np.sum(in_top & col_true) / np.sum(col_true),
                               rtol=1e-6)


def test_precision_without_predicted_positives_is_zero():
    metric = keras.metrics.Precision()
    metric.update_state([1, 0], [0.1, 0.2])
    assert float(metric.result()) == 0.0


def test_precision_recall_config_round_trip():
    metric = keras.metrics.Recall(thresholds=[0.2, 0.6], top_k=2, class_id=1, name="r")
    config = metric.get_config()
    assert config == {"name": "r", "dtype": "float32", "thresholds": [0.2, 0.6], "top_k": 2,
                      "class_id": 1}
    clone = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(clone) is keras.metrics.Recall and clone.get_config() == config


def test_thresholds_outside_unit_interval_are_rejected():
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        keras.metrics.Precision(thresholds=[0.5, 1.5])


@needs_sklearn
def test_auc_roc_equals_sklearn_when_scores_fall_between_thresholds():
    rng = np.random.default_rng(3)
    n = 300
    y_true = rng.integers(0, 2, n)
    bins = np.clip(rng.normal(80 + 40 * y_true, 40), 0, 198).astype(int)
    y_pred = ((bins + 0.5) / 199).astype(np.float32)  # strictly between two thresholds
    weight = rng.uniform(0.2, 2.0, n)
    metric = keras.metrics.AUC()
    got = _accumulate(metric, y_true, y_pred)
    np.testing.assert_allclose(got, sk.roc_auc_score(y_true, y_pred), rtol=1e-5)
    got = _accumulate(keras.metrics.AUC(), y_true, y_pred, weight)
    np.testing.assert_allclose(got, sk.roc_auc_score(y_true, y_pred, sample_weight=weight),
                               rtol=1e-5)


@needs_sklearn
def test_auc_approximates_sklearn_on_continuous_scores():
    rng = np.random.default_rng(4)
    y_true = rng.integers(0, 2, 500)
    y_pred = 1 / (1 + np.exp(-rng.normal(1.2 * (2 * y_true - 1), 1.5)))
    got = _accumulate(keras.metrics.AUC(), y_true, y_pred.astype(np.float32))
    np.testing.assert_allclose(got, sk.roc_auc_score(y_true, y_pred), atol=2e-3)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("summation_method", ["interpolation", "minoring", "majoring"])
def test_auc_matches_reference(curve, summation_method):
    y_true, y_pred, weight = _binary_data(5, n=60)
    thresholds = reference.auc_thresholds(20)
    want = reference.auc(*reference.confusion(y_true, y_pred, thresholds, weight), curve,
                         summation_method)
    metric = keras.metrics.AUC(num_thresholds=20, curve=curve,
                               summation_method=summation_method)
    np.testing.assert_allclose(_accumulate(metric, y_true, y_pred, weight), want, rtol=1e-5)


def test_auc_custom_thresholds_and_from_logits():
    y_true, y_pred, _ = _binary_data(6)
    thresholds = [0.1, 0.4, 0.45, 0.9]
    full = np.array([-1e-7] + thresholds + [1 + 1e-7])
    want = reference.auc(*reference.confusion(y_true, y_pred, full))
    metric = keras.metrics.AUC(thresholds=thresholds)
    assert metric.num_thresholds == 6
    np.testing.assert_allclose(_accumulate(metric, y_true, y_pred), want, rtol=1e-6)
    logits = np.log(y_pred / (1 - y_pred + 1e-7) + 1e-7)
    from_logits = keras.metrics.AUC(thresholds=thresholds, from_logits=True)
    np.testing.assert_allclose(_accumulate(from_logits, y_true, logits), want, rtol=1e-6)


def test_auc_multi_label_averages_per_label_aucs():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 2, (30, 3))
    y_pred = np.clip(0.3 * y_true + rng.uniform(0, 0.7, (30, 3)), 0, 1).astype(np.float32)
    thresholds = reference.auc_thresholds(50)
    per_label = [reference.auc(*reference.confusion(y_true[:, j], y_pred[:, j], thresholds))
                 for j in range(3)]
    metric = keras.metrics.AUC(num_thresholds=50, multi_label=True)
    np.testing.assert_allclose(_accumulate(metric, y_true, y_pred), np.mean(per_label),
                               rtol=1e-5)
    weights = [1.0, 0.0, 3.0]
    weighted = keras.metrics.AUC(num_thresholds=50, multi_label=True, num_labels=3,
                                 label_weights=weights)
    np.testing.assert_allclose(_accumulate(weighted, y_true, y_pred),
                               np.dot(per_label, weights) / 4.0, rtol=1e-5)
    flat = keras.metrics.AUC(num_thresholds=50)
    want = reference.auc(*reference.confusion(y_true, y_pred, thresholds))
    np.testing.assert_allclose(_accumulate(flat, y_true, y_pred), want, rtol=1e-5)


def test_auc_reset_config_and_errors():
    metric = keras.metrics.AUC(num_thresholds=10, curve="PR", name="pr_auc")
    metric.update_state([0, 1, 1], [0.2, 0.8, 0.6])
    assert float(metric.result()) > 0.9
    metric.reset_state()
    assert float(metric.result()) == 0.0
    config = metric.get_config()
    assert config["num_thresholds"] == 10 and config["curve"] == "PR"
    assert "thresholds" not in config
    clone = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert clone.get_config() == config
    custom = keras.metrics.AUC(thresholds=[0.3, 0.5])
    assert keras.metrics.AUC.from_config(custom.get_config()).thresholds == custom.thresholds
    with pytest.raises(ValueError, match="curve"):
        keras.metrics.AUC(curve="ROCK")
    with pytest.raises(ValueError, match="summation method"):
        keras.metrics.AUC(summation_method="trapezoid")
    with pytest.raises(ValueError, match="num_thresholds"):
        keras.metrics.AUC(num_thresholds=1)


def test_confusion_metrics_accumulate_inside_nf_function():
    y_true, y_pred, weight = _binary_data(8)
    metrics = [keras.metrics.AUC(num_thresholds=30), keras.metrics.Precision(thresholds=0.4),
               keras.metrics.Recall(top_k=1)]
    eager = [keras.metrics.AUC(num_thresholds=30), keras.metrics.Precision(thresholds=0.4),
             keras.metrics.Recall(top_k=1)]

    @nf.function
    def step(t, p, w):
        for m in metrics:
            m.update_state(t, p, sample_weight=w)
        return [m.result() for m in metrics]

    for t, p, w in _batches(y_true, y_pred, weight, size=10):
        results = step(nf.constant(t), nf.constant(p), nf.constant(w))
        for m in eager:
            m.update_state(t, p, sample_weight=w)
    for got, m in zip(results, eager):
        np.testing.assert_allclose(got.numpy(), m.result().numpy(), rtol=1e-6)
