"""Dense (neuroflow/keras/layers/dense.py): the one-call layer check, values, regularizers in
``model.losses`` (and in the trained loss), the input-spec error, argument errors, config."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.layer_helper import check_layer
from tests.keras.layers.helpers_core import SAVE

L = keras.layers


@pytest.mark.parametrize("kwargs, input_shape, expected, n_weights", [
    ({"units": 3}, (2, 4), (2, 3), 2),
    ({"units": 2, "activation": "relu", "use_bias": False}, (2, 4), (2, 2), 1),
    ({"units": 5, "activation": "tanh", "kernel_initializer": "he_normal",
      "bias_initializer": "ones"}, (2, 3, 4), (2, 3, 5), 2),
    ({"units": 3, "kernel_regularizer": "l2", "bias_regularizer": keras.regularizers.L1(0.1),
      "activity_regularizer": "l1"}, (2, 4), (2, 3), 2),
])
def test_layer_check(tmp_path, kwargs, input_shape, expected, n_weights):
    check_layer(L.Dense, kwargs, input_shape=input_shape, expected_output_shape=expected,
                expected_num_weights=n_weights, save=SAVE, tmp_path=tmp_path)


def test_values_and_weight_shapes():
    layer = L.Dense(3, activation="relu", bias_initializer=keras.initializers.Constant(0.5))
    x = np.random.default_rng(0).standard_normal((4, 2)).astype("float32")
    out = layer(x).numpy()
    assert tuple(layer.kernel.shape) == (2, 3) and tuple(layer.bias.shape) == (3,)
    np.testing.assert_allclose(out, np.maximum(x @ layer.kernel.numpy() + 0.5, 0), rtol=1e-5)
    assert L.Dense(3, use_bias=False)(x).shape == (4, 3)


def test_regularizers_show_up_in_model_losses():
    nf.random.set_seed(0)
    layer = L.Dense(3, kernel_regularizer=keras.regularizers.L2(0.1),
                    bias_regularizer=keras.regularizers.L1(0.2),
                    bias_initializer="ones", activity_regularizer=keras.regularizers.L1(0.01))
    model = keras.Sequential([keras.Input((4,)), layer])
    x = np.ones((2, 4), "float32")
    out = model(x).numpy()
    losses = [float(v) for v in model.losses]
    kernel = layer.kernel.numpy()
    expected = sorted([0.1 * np.sum(kernel ** 2), 0.2 * 3.0,
                       0.01 * np.abs(out).sum() / 2])  # activity loss: divided by the batch
    np.testing.assert_allclose(sorted(losses), expected, rtol=1e-5)

    # the regularization losses are added to the compiled loss
    model.compile(optimizer="sgd", loss="mse")
    total = model.evaluate(x, out, verbose=0)
    np.testing.assert_allclose(total, sum(expected), rtol=1e-5)


def test_kernel_regularizer_shrinks_weights_in_fit():
    nf.random.set_seed(1)
    x = np.random.default_rng(1).standard_normal((64, 4)).astype("float32")
    y = x @ np.array([[2.0], [-3.0], [1.0], [0.5]], "float32")
    norms = []
    for reg in (None, keras.regularizers.L2(1.0)):
        nf.random.set_seed(1)
        model = keras.Sequential([keras.Input((4,)), L.Dense(1, kernel_regularizer=reg)])
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        model.fit(x, y, epochs=20, batch_size=16, verbose=0)
        norms.append(np.linalg.norm(model.layers[0].kernel.numpy()))
    assert norms[1] < 0.6 * norms[0]


def test_input_spec_error_message():
    layer = L.Dense(2, name="dense_k1")
    layer(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError) as info:
        layer(np.ones((2, 5), "float32"))
    message = str(info.value)
    assert 'Input 0 of layer "dense_k1" is incompatible with the layer' in message
    assert "expected axis -1 of input shape to have value 4" in message
    assert "(2, 5)" in message
    with pytest.raises(ValueError, match=r"expected min_ndim=2, found ndim=1"):
        L.Dense(2)(np.ones((4,), "float32"))
    with pytest.raises(ValueError, match="last dimension of the inputs to Dense"):
        L.Dense(2)(keras.Input((None,)))


def test_argument_errors():
    with pytest.raises(ValueError, match=r"invalid value for `units`.*units=0"):
        L.Dense(0)
    with pytest.raises(ValueError, match=r"Unknown activation: 'rellu'"):
        L.Dense(2, activation="rellu")
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        L.Dense(2, kernel_init="zeros")


def test_config_keys():
    config = L.Dense(4, activation="softmax", kernel_regularizer="l2").get_config()
    for key in ("units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
                "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                "kernel_constraint", "bias_constraint", "name", "trainable", "dtype"):
        assert key in config
    assert config["activation"] == "softmax" and config["units"] == 4
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert config["kernel_regularizer"]["class_name"] == "L2"
