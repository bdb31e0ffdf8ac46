"""Normalization and Rescaling (neuroflow/keras/layers/preprocessing.py): the one-call layer
check, adapt() on arrays, tensors and iterables of batches, axis choices, invert, fixed
statistics, and errors."""
import importlib.util

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.layer_helper import check_layer

L = keras.layers
# model.save / load_model round trips need the `saving` extra (safetensors)
SAVE = importlib.util.find_spec("safetensors") is not None
needs_saving = pytest.mark.skipif(not SAVE, reason="model.save needs safetensors (the "
                                  "`saving` extra), not installed")


def _data(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * rng.uniform(0.5, 4, shape[-1]) + 3).astype(np.float32)


@pytest.mark.parametrize("cls, kwargs, input_shape, weights", [
    (L.Normalization, {}, (3, 4), 2),
    (L.Normalization, {"axis": None}, (3, 4), 2),
    (L.Normalization, {"axis": (1, 2)}, (2, 3, 4), 2),
    (L.Normalization, {"mean": [1.0, 2.0, 3.0], "variance": [4.0, 1.0, 0.25]}, (2, 3), 0),
    (L.Normalization, {"mean": 2.0, "variance": 9.0, "invert": True}, (2, 5), 0),
    (L.Rescaling, {"scale": 1.0 / 255}, (2, 4), 0),
    (L.Rescaling, {"scale": [1.0, 2.0, 0.5], "offset": -1.0}, (2, 2, 3), 0),
], ids=lambda v: str(v) if not isinstance(v, type) else v.__name__)
def test_check_layer(tmp_path, cls, kwargs, input_shape, weights):
    check_layer(cls, kwargs, input_shape=input_shape, expected_output_shape=input_shape,
                expected_num_weights=weights, expected_num_trainable_weights=0,
                save=SAVE, tmp_path=tmp_path)


def test_adapt_computes_mean_and_variance_per_feature():
    x = _data(50, 3)
    norm = L.Normalization()
    norm.adapt(x)
    np.testing.assert_allclose(norm.adapt_mean.numpy(), x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.adapt_variance.numpy(), x.var(0), rtol=1e-5)
    y = norm(x).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, rtol=1e-4)
    # a compiled predict reads the adapted statistics
    model = keras.Sequential([keras.Input((3,)), norm])
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=1e-5, atol=1e-6)


def test_adapt_on_batches_equals_adapt_on_all_data():
    x = _data(37, 2, 3, seed=1)
    whole = L.Normalization(axis=(1, 2))
    whole.adapt(x)
    batched = L.Normalization(axis=(1, 2))
    batched.adapt(x[i:i + 8] for i in range(0, 37, 8))  # any iterable of batches
    np.testing.assert_allclose(batched.adapt_mean.numpy(), x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(batched.adapt_variance.numpy(), x.var(0), rtol=1e-4)
    np.testing.assert_allclose(batched.adapt_mean.numpy(), whole.adapt_mean.numpy(),
                               rtol=1e-6)
    tensor = L.Normalization(axis=(1, 2))
    tensor.adapt(nf.constant(x))
    np.testing.assert_allclose(tensor.adapt_variance.numpy(), x.var(0), rtol=1e-5)
    stepped = L.Normalization(axis=(1, 2))
    stepped.adapt(iter([x[:10], x[10:20], x[20:]]), steps=2)
    np.testing.assert_allclose(stepped.adapt_mean.numpy(), x[:20].mean(0), rtol=1e-5)


def test_adapt_axis_none_and_integer_data():
    x = np.arange(12).reshape(4, 3)
    norm = L.Normalization(axis=None)
    norm.adapt(x)
    assert norm.adapt_mean.shape == ()
    np.testing.assert_allclose(float(norm.adapt_mean), x.mean(), rtol=1e-6)
    np.testing.assert_allclose(float(norm.adapt_variance), x.var(), rtol=1e-6)
    y = norm(x)
    assert y.dtype == nf.float32
    np.testing.assert_allclose(y.numpy(), (x - x.mean()) / x.std(), rtol=1e-5)


def test_fixed_statistics_and_invert_round_trip():
    x = _data(6, 3)
    mean, variance = np.array([1.0, -2.0, 0.5]), np.array([4.0, 0.25, 1.0])
    norm = L.Normalization(mean=mean, variance=variance)
    y = norm(x).numpy()
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(variance), rtol=1e-5)
    back = L.Normalization(mean=mean, variance=variance, invert=True)(y).numpy()
    np.testing.assert_allclose(back, x, rtol=1e-5, atol=1e-5)
    # a zero variance divides by the epsilon floor, not by zero
    assert np.all(np.isfinite(L.Normalization(mean=0.0, variance=0.0)(x).numpy()))


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        L.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="fixed `mean` and `variance`"):
        L.Normalization(mean=1.0, variance=1.0).adapt(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"range \[-ndim, ndim\)"):
        L.Normalization(axis=3).adapt(np.ones((2, 3)))
    norm = L.Normalization()
    norm.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="expects axis 1 of size 3"):
        norm.adapt(np.ones((4, 5)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        norm(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match="batches of features only"):
        L.Normalization().adapt(iter([(np.ones((2, 3)), np.ones(2))]))
    with pytest.raises(ValueError, match="no data"):
        L.Normalization().adapt(iter([]))


def test_rescaling():
    x = np.array([[0, 128, 255]], np.uint8)
    y = L.Rescaling(1.0 / 127.5, offset=-1)(x)
    assert y.dtype == nf.float32
    np.testing.assert_allclose(y.numpy(), x / 127.5 - 1, atol=1e-6)
    config = L.Rescaling(np.array([1.0, 2.0]), offset=0.5).get_config()
    assert config["scale"] == [1.0, 2.0] and config["offset"] == 0.5


@needs_saving
def test_adapted_statistics_survive_save_and_load(tmp_path):
    x = _data(20, 3)
    norm = L.Normalization()
    norm.adapt(x)
    model = keras.Sequential([keras.Input((3,)), norm, L.Rescaling(2.0, offset=1.0)])
    path = str(tmp_path / "norm.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.layers[0].adapt_mean.numpy(), x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
