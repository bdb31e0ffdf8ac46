"""Activation layers (neuroflow/keras/layers/activation_layers.py): the one-call layer check,
values against NumPy, PReLU's weight and gradients, Keras 3 defaults and argument errors."""
import warnings

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.layer_helper import check_layer
from tests.keras.layers.helpers_core import SAVE

L = keras.layers
# away from the kinks at 0 (and at the thresholds used below)
X = np.array([[-2.5, -0.7, 0.3, 1.6, 6.5], [0.9, -1.3, 2.2, -0.2, 3.4]], "float32")


LAYER_CASES = [
    (L.Activation, {"activation": "tanh"}, 0),
    (L.Activation, {"activation": "softmax"}, 0),
    (L.ReLU, {}, 0),
    (L.ReLU, {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.5}, 0),
    (L.LeakyReLU, {}, 0),
    (L.ELU, {"alpha": 0.5}, 0),
    (L.PReLU, {}, 1),
    (L.PReLU, {"alpha_initializer": "ones", "shared_axes": [1]}, 1),
    (L.Softmax, {}, 0),
    (L.Softmax, {"axis": (1, 2)}, 0),
]


@pytest.mark.parametrize("cls, kwargs, n_weights", LAYER_CASES,
                         ids=lambda v: getattr(v, "__name__", None))
def test_layer_check(tmp_path, cls, kwargs, n_weights):
    check_layer(cls, kwargs, input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4),
                expected_num_weights=n_weights, save=SAVE, tmp_path=tmp_path)


def _relu_reference(x, max_value=None, negative_slope=0.0, threshold=0.0):
    y = np.where(x > threshold, x, negative_slope * (x - threshold))
    return np.minimum(y, max_value) if max_value is not None else y


@pytest.mark.parametrize("kwargs", [{}, {"max_value": 6.0}, {"negative_slope": 0.2},
                                    {"threshold": 1.0}, {"max_value": 2.0, "threshold": 0.5,
                                                         "negative_slope": 0.1}])
def test_relu_values(kwargs):
    out = L.ReLU(**kwargs)(X).numpy()
    np.testing.assert_allclose(out, _relu_reference(X, **kwargs), rtol=1e-6)


def test_leaky_relu_default_is_keras3_0_3():
    layer = L.LeakyReLU()
    assert layer.negative_slope == 0.3 and layer.get_config()["negative_slope"] == 0.3
    np.testing.assert_allclose(layer(X).numpy(), np.where(X > 0, X, 0.3 * X), rtol=1e-6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = L.LeakyReLU(alpha=0.1)
    assert old.negative_slope == 0.1 and "deprecated" in str(caught[0].message)


def test_elu_values():
    for alpha in (1.0, 0.5, 2.0):
        expected = np.where(X > 0, X, alpha * np.expm1(X))
        np.testing.assert_allclose(L.ELU(alpha=alpha)(X).numpy(), expected, rtol=1e-5,
                                   atol=1e-7)


def test_softmax_values_mask_and_axes():
    e = np.exp(X - X.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(L.Softmax()(X).numpy(), e / e.sum(-1, keepdims=True),
                               rtol=1e-5)
    np.testing.assert_allclose(L.Softmax(axis=0)(X).numpy(),
                               np.exp(X) / np.exp(X).sum(0, keepdims=True), rtol=1e-5)
    x3 = X.reshape(1, 2, 5)
    both = L.Softmax(axis=(1, 2))(x3).numpy()
    np.testing.assert_allclose(both, np.exp(x3) / np.exp(x3).sum(), rtol=1e-5)
    mask = np.array([[True, True, False, True, False], [False] * 5])
    masked = L.Softmax()(X, mask=nf.constant(mask)).numpy()
    keep = np.exp(X[0]) * mask[0]
    np.testing.assert_allclose(masked[0], keep / keep.sum(), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(masked[1], 0.0)  # a fully masked row


def test_prelu_values_weight_shape_and_gradients():
    layer = L.PReLU(alpha_initializer=keras.initializers.Constant(0.25), shared_axes=[1])
    x = nf.constant(np.stack([X, -X]).transpose(1, 0, 2))  # (2, 2, 5)
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = nf.reduce_sum(y * y)
    assert tuple(layer.alpha.shape) == (1, 5)
    xv = x.numpy()
    expected = np.where(xv > 0, xv, 0.25 * xv)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
    grad_alpha, grad_x = tape.gradient(loss, [layer.alpha, x])
    # d/dalpha sum(y^2) = sum over the shared axes of 2 * y * x where x < 0
    want_alpha = np.sum(np.where(xv < 0, 2 * expected * xv, 0.0), axis=(0, 1))[None, :]
    np.testing.assert_allclose(np.asarray(grad_alpha), want_alpha, rtol=1e-5)
    want_x = 2 * expected * np.where(xv > 0, 1.0, 0.25)
    np.testing.assert_allclose(np.asarray(grad_x), want_x, rtol=1e-5)


def test_prelu_regularizer_and_input_spec():
    layer = L.PReLU(alpha_initializer="ones", alpha_regularizer=keras.regularizers.L1(0.1))
    layer(nf.ones([2, 3]))
    np.testing.assert_allclose(float(layer.losses[0]), 0.3, rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected axis 1 of input shape to have value 3"):
        layer(nf.ones([2, 4]))
    with pytest.raises(ValueError, match="shared_axes"):
        L.PReLU(shared_axes=[3])(nf.ones([2, 3]))
    config = L.PReLU(shared_axes=[1, 2]).get_config()
    assert config["shared_axes"] == [1, 2]
    assert config["alpha_initializer"]["class_name"] == "Zeros"


def test_argument_errors():
    with pytest.raises(ValueError, match="max_value of a ReLU layer cannot be a negative"):
        L.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope of a ReLU layer"):
        L.ReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="threshold of a ReLU layer"):
        L.ReLU(threshold=None)
    with pytest.raises(ValueError, match="negative_slope value of a Leaky ReLU"):
        L.LeakyReLU(negative_slope=-1)
    with pytest.raises(ValueError, match=r"Unknown activation: 'rleu'.*'relu'"):
        L.Activation("rleu")


def test_activation_config_names_the_function():
    assert L.Activation("relu").get_config()["activation"] == "relu"
    assert L.Activation(keras.activations.gelu).get_config()["activation"] == "gelu"
