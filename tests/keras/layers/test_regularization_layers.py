"""Regularization layers (neuroflow/keras/layers/regularization_layers.py): the one-call layer
check, training-only behaviour, scaling and noise statistics, shared noise shapes, seeds and
fresh draws in compiled steps, ActivityRegularization's losses, argument errors."""
import math

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.layer_helper import check_layer
from tests.keras.layers.helpers_core import SAVE

L = keras.layers

LAYER_CASES = [
    (L.Dropout, {"rate": 0.5}, (2, 3, 4)),
    (L.Dropout, {"rate": 0.3, "noise_shape": (None, 1, 4), "seed": 3}, (2, 3, 4)),
    (L.SpatialDropout1D, {"rate": 0.5}, (2, 3, 4)),
    (L.SpatialDropout2D, {"rate": 0.5, "data_format": "channels_first"}, (2, 3, 2, 2)),
    (L.SpatialDropout3D, {"rate": 0.5}, (1, 2, 2, 2, 3)),
    (L.GaussianNoise, {"stddev": 0.1, "seed": 1}, (2, 3, 4)),
    (L.GaussianDropout, {"rate": 0.2}, (2, 3, 4)),
    (L.AlphaDropout, {"rate": 0.2}, (2, 3, 4)),
    (L.ActivityRegularization, {"l1": 0.01, "l2": 0.02}, (2, 3, 4)),
]


@pytest.mark.parametrize("cls, kwargs, input_shape", LAYER_CASES,
                         ids=lambda v: getattr(v, "__name__", None))
def test_layer_check(tmp_path, cls, kwargs, input_shape):
    out = check_layer(cls, kwargs, input_shape=input_shape, expected_output_shape=input_shape,
                      expected_num_weights=0, save=SAVE, tmp_path=tmp_path)
    assert out.shape == input_shape


RANDOM_LAYERS = [L.Dropout(0.4), L.SpatialDropout1D(0.4), L.GaussianNoise(0.5),
                 L.GaussianDropout(0.4), L.AlphaDropout(0.4)]


@pytest.mark.parametrize("layer", RANDOM_LAYERS, ids=lambda v: type(v).__name__)
def test_random_layers_act_only_in_training(layer):
    x = np.random.default_rng(0).standard_normal((4, 6, 5)).astype("float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    assert not np.allclose(layer(x, training=True).numpy(), x)
    model = keras.Sequential([keras.Input((6, 5)), layer])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    assert not np.allclose(model(x, training=True).numpy(), x)


def test_dropout_scales_kept_values_and_drops_about_rate():
    x = np.full((200, 50), 3.0, "float32")
    y = L.Dropout(0.25, seed=7)(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(3.0 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    assert L.Dropout(1.0)(x, training=True).numpy().max() == 0.0


def test_dropout_seeds_and_fresh_draws():
    x = np.ones((8, 16), "float32")
    nf.random.set_seed(5)
    a = L.Dropout(0.5, seed=11)
    first, second = a(x, training=True).numpy(), a(x, training=True).numpy()
    assert not np.array_equal(first, second), "each call draws a new mask"
    nf.random.set_seed(5)
    b = L.Dropout(0.5, seed=11)
    np.testing.assert_array_equal(b(x, training=True).numpy(), first)

    layer = L.Dropout(0.5)

    @nf.function
    def step(t):
        return layer(t, training=True)

    masks = [step(nf.constant(x)).numpy() for _ in range(3)]
    assert step.experimental_get_tracing_count() == 1
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])


def test_dropout_gradient_uses_the_same_mask():
    x = nf.constant(np.ones((6, 7), "float32"))
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = L.Dropout(0.5, seed=2)(x, training=True)
    grad = tape.gradient(y, x).numpy()
    np.testing.assert_array_equal(grad, y.numpy())  # d(x * mask)/dx = mask, and x = 1


def test_noise_shape_shares_draws():
    x = np.ones((3, 20, 4), "float32")
    y = L.Dropout(0.5, noise_shape=(None, 1, 4), seed=1)(x, training=True).numpy()
    assert (y == y[:, :1, :]).all(), "one draw per (sample, feature), shared over steps"
    assert 0 < (y == 0).mean() < 1
    with pytest.raises(ValueError, match="noise_shape=.*does not broadcast"):
        L.Dropout(0.5, noise_shape=(3, 2, 4))(x, training=True)
    with pytest.raises(ValueError, match="one entry per input axis"):
        L.Dropout(0.5, noise_shape=(None, 4))(x, training=True)


@pytest.mark.parametrize("cls, shape, data_format, channel_axis", [
    (L.SpatialDropout1D, (4, 10, 6), None, -1),
    (L.SpatialDropout2D, (4, 5, 5, 6), "channels_last", -1),
    (L.SpatialDropout2D, (4, 6, 5, 5), "channels_first", 1),
    (L.SpatialDropout3D, (2, 3, 3, 3, 6), None, -1),
])
def test_spatial_dropout_drops_whole_channels(cls, shape, data_format, channel_axis):
    kwargs = {} if data_format is None else {"data_format": data_format}
    y = cls(0.5, seed=4, **kwargs)(np.ones(shape, "float32"), training=True).numpy()
    y = np.moveaxis(y, channel_axis, -1).reshape(shape[0], -1, shape[channel_axis])
    assert (y == y[:, :1, :]).all(), "a channel is kept or dropped as a whole"
    assert set(np.unique(y)) == {0.0, 2.0}


def test_spatial_dropout_input_rank_and_config():
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=3"):
        L.SpatialDropout2D(0.5)(np.ones((2, 3, 4), "float32"), training=True)
    assert "data_format" not in L.SpatialDropout1D(0.1).get_config()
    assert L.SpatialDropout2D(0.1).get_config()["data_format"] == "channels_last"


def test_random_layers_with_unknown_batch_in_a_trace():
    layers = [L.SpatialDropout1D(0.5, seed=1), L.Dropout(0.5, noise_shape=(None, 1, 3)),
              L.GaussianNoise(0.3), L.GaussianDropout(0.3), L.AlphaDropout(0.3)]

    @nf.function(input_signature=[nf.TensorSpec([None, 4, 3])])
    def run(t):
        return [layer(t, training=True) for layer in layers]

    for batch in (2, 5):
        outs = run(nf.constant(np.ones((batch, 4, 3), "float32")))
        assert all(tuple(o.shape) == (batch, 4, 3) for o in outs)
        spatial = outs[0].numpy()
        assert (spatial == spatial[:, :1, :]).all()


def test_gaussian_noise_and_dropout_statistics():
    x = np.ones((400, 250), "float32")
    noisy = L.GaussianNoise(0.5, seed=3)(x, training=True).numpy()
    assert abs(noisy.mean() - 1.0) < 0.01 and abs(noisy.std() - 0.5) < 0.01
    dropped = L.GaussianDropout(0.2, seed=3)(x, training=True).numpy()
    assert abs(dropped.mean() - 1.0) < 0.01
    assert abs(dropped.std() - math.sqrt(0.2 / 0.8)) < 0.01


def test_alpha_dropout_keeps_selu_statistics():
    x = np.random.default_rng(0).standard_normal((500, 200)).astype("float32")
    y = L.AlphaDropout(0.2, seed=9)(x, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02
    assert len(np.unique(y[np.abs(y - x) > 1e-3])) > 1  # affine-transformed, not masked


def test_activity_regularization_losses():
    layer = L.ActivityRegularization(l1=0.1, l2=0.01)
    x = np.array([[1.0, -2.0], [3.0, 0.5]], "float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    expected = (0.1 * np.abs(x).sum() + 0.01 * (x ** 2).sum()) / 2  # Keras divides by batch
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-6)
    config = layer.get_config()
    assert config["l1"] == 0.1 and config["l2"] == 0.01 and "activity_regularizer" not in config

    model = keras.Sequential([keras.Input((2,)), layer])
    model.compile(optimizer="sgd", loss="mse")
    loss = model.evaluate(x, x, verbose=0)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_argument_errors():
    for bad in (-0.1, 1.5, "half"):
        with pytest.raises(ValueError, match="Invalid value received for argument `rate`"):
            L.Dropout(bad)
    with pytest.raises(ValueError, match=r"rate`.*\[0, 1\)"):
        L.GaussianDropout(1.0)
    with pytest.raises(ValueError, match="argument `stddev`"):
        L.GaussianNoise(-1.0)
    with pytest.raises(ValueError, match="data_format"):
        L.SpatialDropout2D(0.5, data_format="nchw")


def test_configs():
    assert L.Dropout(0.2, noise_shape=(None, 1), seed=4).get_config()["noise_shape"] == [None, 1]
    config = L.Dropout(0.2).get_config()
    assert {k: config[k] for k in ("rate", "seed", "noise_shape")} == {
        "rate": 0.2, "seed": None, "noise_shape": None}
    assert L.GaussianNoise(0.3, seed=2).get_config()["stddev"] == 0.3
