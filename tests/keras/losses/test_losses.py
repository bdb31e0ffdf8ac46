"""Each Keras loss against torch or NumPy: per-sample values, every reduction with sample
weights, gradients (float64 central differences), eager == nf.function, string names and
config round trips."""
from __future__ import annotations

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.losses.cases import CASES, torch

REDUCTIONS = ["sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight"]


def _needs(case):
    if case.needs_torch and torch is None:
        pytest.skip("the reference for this loss is torch, which is not installed")


def _weighted_reference(per_sample, weight, reduction):
    weighted = per_sample * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean_with_sample_weight":
        return weighted.sum() / np.broadcast_to(weight, weighted.shape).sum()
    return weighted.sum() / weighted.size


@pytest.mark.parametrize("case", CASES, ids=str)
def test_per_sample_values_match_reference(case):
    _needs(case)
    y_true, y_pred = case.make(np.random.default_rng(0))
    want = case.ref(y_true, y_pred)
    got = case.fn(y_true, y_pred, **case.kwargs).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    loss = case.cls(reduction="none", **case.kwargs)
    np.testing.assert_allclose(loss(y_true, y_pred).numpy(), want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_reductions_with_sample_weight(case, reduction):
    _needs(case)
    y_true, y_pred = case.make(np.random.default_rng(1))
    per_sample = case.ref(y_true, y_pred)
    weight = np.random.default_rng(2).uniform(0.0, 2.0, per_sample.shape)
    loss = case.cls(reduction=reduction, **case.kwargs)
    for w in (weight, weight[:, None]):  # (batch,) and (batch, 1) weights
        got = loss(y_true, y_pred, sample_weight=w).numpy()
        np.testing.assert_allclose(got, _weighted_reference(per_sample, weight, reduction),
                                   rtol=1e-6, atol=1e-9)
    unweighted = loss(y_true, y_pred).numpy()
    np.testing.assert_allclose(unweighted, _weighted_reference(per_sample, 1.0, reduction),
                               rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gradient_matches_finite_differences(case):
    y_true, y_pred = case.make(np.random.default_rng(3))
    weight = np.random.default_rng(4).uniform(0.5, 1.5, len(y_pred))
    loss = case.cls(**case.kwargs)

    def value(pred):
        return float(loss(y_true, pred, sample_weight=weight).numpy())

    x = nf.constant(y_pred)
    with nf.GradientTape() as tape:
        tape.watch(x)
        out = loss(y_true, x, sample_weight=weight)
    grad = tape.gradient(out, x).numpy()
    numeric = np.zeros_like(y_pred)
    eps = 1e-6
    for idx in np.ndindex(y_pred.shape):
        plus, minus = y_pred.copy(), y_pred.copy()
        plus[idx] += eps
        minus[idx] -= eps
        numeric[idx] = (value(plus) - value(minus)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_eager_equals_compiled(case):
    y_true, y_pred = case.make(np.random.default_rng(5))
    y_pred = y_pred.astype(np.float32)
    loss = case.cls(**case.kwargs)

    def step(t, p):
        with nf.GradientTape() as tape:
            tape.watch(p)
            value = loss(t, p)
        return value, tape.gradient(value, p)

    eager = step(nf.constant(y_true), nf.constant(y_pred))
    compiled = nf.function(step)(nf.constant(y_true), nf.constant(y_pred))
    for e, c in zip(eager, compiled):
        np.testing.assert_allclose(c.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", [c for c in CASES if c.names], ids=str)
def test_string_names_and_config_round_trip(case):
    for name in case.names:
        assert isinstance(keras.losses.get(name), case.cls), name
    loss = case.cls(reduction="sum", name="custom", **case.kwargs)
    config = loss.get_config()
    assert config["reduction"] == "sum" and config["name"] == "custom"
    for key, value in case.kwargs.items():
        assert config[key] == value
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(clone) is case.cls and clone.get_config() == config
    y_true, y_pred = case.make(np.random.default_rng(6))
    np.testing.assert_allclose(clone(y_true, y_pred).numpy(), loss(y_true, y_pred).numpy())


def test_short_function_aliases():
    y_true, y_pred = np.array([[0.0, 2.0]]), np.array([[1.0, 1.0]])
    np.testing.assert_allclose(keras.losses.mse(y_true, y_pred).numpy(), [1.0])
    np.testing.assert_allclose(keras.losses.MSE(y_true, y_pred).numpy(), [1.0])
    np.testing.assert_allclose(keras.losses.mae(y_true, y_pred).numpy(), [1.0])
    np.testing.assert_allclose(keras.losses.mape([[2.0]], [[1.0]]).numpy(), [50.0])
    assert keras.losses.kld is keras.losses.kl_divergence
    assert keras.losses.msle is keras.losses.mean_squared_logarithmic_error
