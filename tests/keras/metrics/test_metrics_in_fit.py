"""Metrics inside compiled ``model.fit`` / ``evaluate``: the values in the History equal a
NumPy recomputation over the whole epoch (learning rate 0 keeps the predictions fixed, so
the epoch's accumulated metrics must equal the metrics of ``model.predict``)."""
from __future__ import annotations

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.metrics import reference


def _frozen_model(units, activation, inputs=3, seed=0):
    nf.random.set_seed(seed)
    model = keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(units, activation)])
    return model


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_binary_metrics_in_history_equal_numpy(run_eagerly):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(45, 3)).astype(np.float32)
    y = (x[:, :1] + 0.5 * rng.normal(size=(45, 1)) > 0).astype(np.float32)
    model = _frozen_model(1, "sigmoid")
    model.compile(keras.optimizers.SGD(learning_rate=0.0), "binary_crossentropy",
                  metrics=["accuracy", "mse", "mae", keras.metrics.AUC(name="auc"),
                           keras.metrics.Precision(name="precision"),
                           keras.metrics.Recall(thresholds=0.3, name="recall"),
                           keras.metrics.RootMeanSquaredError(name="rmse")],
                  run_eagerly=run_eagerly)
    # batch 10 over 45 samples: a last batch of 5, so a second trace shares the metric state
    history = model.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    p = model.predict(x, verbose=0).astype(np.float64)
    tp, fp, tn, fn = reference.confusion(y, p, reference.auc_thresholds(200))
    want = {
        "accuracy": np.mean((p > 0.5) == y),
        "mse": np.mean((p - y) ** 2),
        "mae": np.mean(np.abs(p - y)),
        "auc": reference.auc(tp, fp, tn, fn),
        "precision": np.sum((p > 0.5) & (y == 1)) / np.sum(p > 0.5),
        "recall": np.sum((p > 0.3) & (y == 1)) / np.sum(y == 1),
        "rmse": np.sqrt(np.mean((p - y) ** 2)),
    }
    for name, value in want.items():
        assert len(history.history[name]) == 2
        np.testing.assert_allclose(history.history[name], [value, value], rtol=1e-5,
                                   err_msg=name)
    evaluated = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    for name, value in want.items():
        np.testing.assert_allclose(evaluated[name], value, rtol=1e-5, err_msg=name)


def test_multiclass_metrics_and_weighted_metrics_in_history_equal_numpy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(36, 3)).astype(np.float32)
    labels = rng.integers(0, 4, 36)
    weight = rng.uniform(0.1, 2.0, 36)
    model = _frozen_model(4, "softmax", seed=1)
    model.compile(keras.optimizers.SGD(learning_rate=0.0), "sparse_categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(
                      k=2, name="top2")],
                  weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="w_acc")])
    history = model.fit(x, labels, sample_weight=weight, batch_size=8, epochs=1,
                        shuffle=False, verbose=0)
    p = model.predict(x, verbose=0)
    hits = p.argmax(1) == labels
    higher = np.sum(p > p[np.arange(36), labels][:, None], axis=1)
    np.testing.assert_allclose(history.history["w_acc"], [np.sum(hits * weight) / weight.sum()],
                               rtol=1e-5)
    evaluated = model.evaluate(x, labels, batch_size=36, verbose=0, return_dict=True)
    np.testing.assert_allclose(evaluated["accuracy"], hits.mean(), rtol=1e-6)
    np.testing.assert_allclose(evaluated["top2"], np.mean(higher < 2), rtol=1e-6)


def test_metrics_reset_each_epoch_while_training():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = _frozen_model(1, "sigmoid", seed=2)
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy",
                  metrics=["accuracy", keras.metrics.AUC(name="auc")])
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    assert history.history["auc"][-1] > 0.95
    assert history.history["accuracy"][-1] > history.history["accuracy"][0]


def test_confusion_metric_with_mismatched_labels_says_what_it_needs():
    metric = keras.metrics.AUC()
    with pytest.raises(ValueError, match=r"Labels of shape \(4,\) do not match predictions "
                                         r"of shape \(4, 3\)"):
        metric.update_state(np.array([0, 1, 2, 1]), np.full((4, 3), 0.3, np.float32))


def test_multi_label_auc_and_class_id_recall_in_compiled_fit():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (x + 0.3 * rng.normal(size=(40, 3)) > 0).astype(np.float32)
    model = _frozen_model(3, "sigmoid", seed=3)
    model.compile(keras.optimizers.SGD(learning_rate=0.0), "binary_crossentropy",
                  metrics=[keras.metrics.AUC(multi_label=True, name="auc"),
                           keras.metrics.Recall(class_id=2, name="recall_2")])
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    p = model.predict(x, verbose=0)
    thresholds = reference.auc_thresholds(200)
    want = np.mean([reference.auc(*reference.confusion(y[:, j], p[:, j], thresholds))
                    for j in range(3)])
    np.testing.assert_allclose(history.history["auc"], [want], rtol=1e-5)
    recall = np.sum((p[:, 2] > 0.5) & (y[:, 2] == 1)) / np.sum(y[:, 2] == 1)
    np.testing.assert_allclose(history.history["recall_2"], [recall], rtol=1e-6)
