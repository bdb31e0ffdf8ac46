"""Lambda (neuroflow/keras/layers/lambda_layer.py): calls, arguments, training, and
serialization by name only -- unregistered functions and configs carrying code are refused."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from neuroflow.keras.serialization import register_keras_serializable
from tests.keras.layer_helper import check_layer
from tests.keras.layers.helpers_core import SAVE

L = keras.layers


@register_keras_serializable(package="K1Tests")
def scale_and_shift(x, scale=2.0, shift=0.0):
    return x * scale + shift


def test_lambda_layer_check_with_a_registered_function(tmp_path):
    out = check_layer(L.Lambda, {"function": scale_and_shift, "arguments": {"scale": 3.0}},
                      input_shape=(2, 4), expected_output_shape=(2, 4), expected_num_weights=0,
                      save=SAVE, tmp_path=tmp_path)
    config = L.Lambda(scale_and_shift).get_config()
    assert config["function"]["registered_name"] == "K1Tests>scale_and_shift"
    assert out.shape == (2, 4)


def test_lambda_with_a_keras_activation_round_trips():
    layer = L.Lambda(keras.activations.relu)
    clone = L.Lambda.from_config(layer.get_config())
    assert clone.function is keras.activations.relu
    np.testing.assert_array_equal(clone(nf.constant([-1.0, 2.0])).numpy(), [0.0, 2.0])


def test_lambda_calls_and_shapes():
    layer = L.Lambda(lambda x: nf.concat([x, -x], axis=-1))
    assert layer(nf.ones([2, 3])).shape == (2, 6)
    assert layer.compute_output_shape((None, 3)) == (None, 6)
    assert tuple(layer(keras.Input((5,))).shape) == (None, 10)
    fixed = L.Lambda(lambda x: x, output_shape=(7,))
    assert fixed.compute_output_shape((None, 7)) == (None, 7)
    pair = L.Lambda(lambda xs: xs[0] - xs[1])
    np.testing.assert_array_equal(pair([nf.ones([1, 2]), nf.ones([1, 2])]).numpy(), [[0, 0]])


def test_lambda_passes_training_when_the_function_takes_it():
    seen = []

    def fn(x, training=None):
        seen.append(training)
        return x

    inputs = keras.Input((2,))
    model = keras.Model(inputs, L.Lambda(fn)(inputs))
    model(np.ones((1, 2), "float32"), training=True)
    assert seen[-1] is True


def test_lambda_in_a_compiled_fit():
    nf.random.set_seed(0)
    model = keras.Sequential([keras.Input((3,)), L.Dense(4), L.Lambda(lambda x: x * 0.5),
                              L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 3)).astype("float32")
    history = model.fit(x, x.sum(axis=1, keepdims=True), epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_unregistered_lambda_cannot_be_serialized():
    layer = L.Lambda(lambda x: x + 1.0, name="plus_one")
    with pytest.raises(ValueError, match=r"Lambda layer 'plus_one' cannot be serialized.*"
                                         r"register_keras_serializable"):
        layer.get_config()

    def local_function(x):
        return x

    with pytest.raises(ValueError, match="local_function"):
        L.Lambda(local_function).get_config()
    with pytest.raises(ValueError, match="not plain JSON"):
        L.Lambda(scale_and_shift, arguments={"scale": nf.constant(1.0)}).get_config()


def test_model_with_a_lambda_cannot_be_saved(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, L.Lambda(lambda x: x * 2, name="doubler")(inputs))
    if not SAVE:
        pytest.skip("model.save needs safetensors (the `saving` extra), not installed")
    with pytest.raises(ValueError, match="'doubler' cannot be serialized"):
        model.save(str(tmp_path / "m.keras"))


def test_configs_with_code_are_refused():
    keras3 = {"name": "lam", "function": {"class_name": "__lambda__",
                                          "config": {"code": "4wEAAAAA", "defaults": None,
                                                     "closure": None}},
              "output_shape": None, "arguments": {}}
    with pytest.raises(ValueError, match="saved as Python bytecode, which neuroflow never runs"):
        L.Lambda.from_config(keras3)
    keras2 = {"name": "lam", "function": ["4wEAAAAA", None, None], "function_type": "lambda",
              "arguments": {}}
    with pytest.raises(ValueError, match="bytecode"):
        L.Lambda.from_config(keras2)
    unknown = {"name": "lam", "function": {"class_name": "function", "config": "nope",
                                           "registered_name": "Nobody>nope"}}
    with pytest.raises(ValueError, match="not a registered function"):
        L.Lambda.from_config(unknown)


def test_lambda_rejects_non_callables():
    with pytest.raises(TypeError, match="must be callable"):
        L.Lambda(3)
