"""Metric, Mean, Sum and MeanMetricWrapper: accumulation, weights, state, compiled updates."""
from __future__ import annotations

import numpy as np

import neuroflow as nf
from neuroflow import keras


def test_mean_accumulates_weighted_values_and_resets():
    metric = keras.metrics.Mean()
    metric.update_state([1.0, 3.0])
    metric.update_state([5.0, 7.0], sample_weight=[1.0, 0.0])
    np.testing.assert_allclose(float(metric.result()), (1 + 3 + 5) / 3)
    metric.reset_state()
    assert float(metric.result()) == 0.0  # no data: 0, not NaN
    metric.update_state(4.0)
    assert float(metric.result()) == 4.0


def test_mean_applies_per_sample_weights_to_rows():
    values = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    metric = keras.metrics.Mean()
    metric.update_state(values, sample_weight=[3.0, 1.0])
    np.testing.assert_allclose(float(metric.result()), (3 * 2.0 + 1 * 20.0) / 4)
    metric = keras.metrics.Mean()
    metric.update_state(values, sample_weight=np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    np.testing.assert_allclose(float(metric.result()), (1.0 + 30.0) / 2)


def test_sum():
    metric = keras.metrics.Sum()
    metric.update_state([1.0, 2.0])
    metric.update_state([[3.0, 4.0]], sample_weight=[2.0])
    np.testing.assert_allclose(float(metric.result()), 1 + 2 + 2 * (3 + 4))


def test_mean_metric_wrapper_with_a_function():
    def within_one(y_true, y_pred):
        return nf.cast(nf.abs(y_true - y_pred) <= 1.0, "float32")

    metric = keras.metrics.MeanMetricWrapper(within_one, name="within_one")
    metric.update_state(np.array([0.0, 0.0, 0.0]), np.array([0.5, 2.0, 1.0]))
    np.testing.assert_allclose(float(metric.result()), 2 / 3)
    wrapped = keras.metrics.get(within_one)
    assert isinstance(wrapped, keras.metrics.MeanMetricWrapper)
    config = keras.metrics.MeanMetricWrapper(keras.metrics.binary_accuracy,
                                             threshold=0.2).get_config()
    clone = keras.metrics.MeanMetricWrapper.from_config(config)
    clone.update_state([[1.0]], [[0.3]])
    assert float(clone.result()) == 1.0


def test_state_is_non_trainable_variables_updated_inside_nf_function():
    metric = keras.metrics.MeanSquaredError()
    assert all(isinstance(v, nf.Variable) and not v.trainable for v in metric.variables)

    @nf.function
    def step(y_true, y_pred):
        metric.update_state(y_true, y_pred)
        return metric.result()

    rng = np.random.default_rng(0)
    errors = []
    for _ in range(3):
        y_true = rng.normal(size=(4, 2)).astype(np.float32)
        y_pred = rng.normal(size=(4, 2)).astype(np.float32)
        errors.append((y_true - y_pred) ** 2)
        result = step(nf.constant(y_true), nf.constant(y_pred))
        np.testing.assert_allclose(result.numpy(), np.mean(errors), rtol=1e-6)
    np.testing.assert_allclose(float(metric.result()), np.mean(errors), rtol=1e-6)
    metric.reset_state()
    assert float(step(nf.constant(np.zeros((4, 2), np.float32)),
                      nf.constant(np.ones((4, 2), np.float32)))) == 1.0


def test_custom_metric_subclass():
    class CountPositives(keras.metrics.Metric):
        def __init__(self, name="count_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.count.assign_add(nf.reduce_sum(nf.cast(y_pred > 0.5, "float32")))

        def result(self):
            return self.count.value()

    metric = CountPositives()
    metric.update_state(None, np.array([0.2, 0.7, 0.9]))
    metric.update_state(None, np.array([0.6]))
    assert float(metric.result()) == 3.0
    metric.reset_state()
    assert float(metric.result()) == 0.0
