"""One call tests a layer: build, output shape, weight count, config round trip, save and
load, and a training step that changes the trainable weights.

    check_layer(keras.layers.Dense, {"units": 3}, input_shape=(2, 4),
                expected_output_shape=(2, 3), expected_num_weights=2)
"""
from __future__ import annotations

import numpy as np

import neuroflow as nf
from neuroflow import keras


def check_layer(layer_cls, init_kwargs=None, input_shape=(2, 4), input_dtype="float32",
                input_data=None, expected_output_shape=None, expected_num_weights=None,
                expected_num_trainable_weights=None, train=True, save=True, tmp_path=None,
                seed=0):
    """Runs the standard layer checks; returns the layer's eager output for more asserts."""
    init_kwargs = dict(init_kwargs or {})
    rng = np.random.default_rng(seed)
    if input_data is None:
        if np.dtype(input_dtype).kind in "iu":
            input_data = rng.integers(0, 5, input_shape).astype(input_dtype)
        else:
            input_data = rng.standard_normal(input_shape).astype(input_dtype)
    nf.random.set_seed(seed)

    # eager call: builds, and gives the reference output
    layer = layer_cls(**init_kwargs)
    output = layer(nf.constant(input_data))
    if expected_output_shape is not None:
        assert tuple(output.shape) == tuple(expected_output_shape), (
            f"{layer_cls.__name__}: output shape {tuple(output.shape)}, expected "
            f"{tuple(expected_output_shape)}")
    if expected_num_weights is not None:
        assert len(layer.weights) == expected_num_weights, (
            f"{layer_cls.__name__}: {len(layer.weights)} weights, expected "
            f"{expected_num_weights}")
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights

    # compute_output_shape agrees with the eager output (batch dim left unknown)
    inferred = layer.compute_output_shape((None,) + tuple(input_shape[1:]))
    assert tuple(inferred)[1:] == tuple(output.shape)[1:], (
        f"{layer_cls.__name__}: compute_output_shape {inferred} vs output {output.shape}")

    # config round trip gives an equivalent layer
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, f"{layer_cls.__name__}: config round trip differs"

    # functional model: symbolic shapes, same output with the same weights
    inputs = keras.Input(shape=tuple(input_shape[1:]), dtype=input_dtype)
    model = keras.Model(inputs, layer_cls.from_config(config)(inputs))
    model.set_weights(layer.get_weights())
    np.testing.assert_allclose(model.predict(input_data, verbose=0), output.numpy(),
                               rtol=1e-5, atol=1e-6)

    if save and tmp_path is not None:
        path = str(tmp_path / f"{layer_cls.__name__}.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(input_data, verbose=0), output.numpy(),
                                   rtol=1e-5, atol=1e-6)

    if train and model.trainable_weights:
        before = [w.numpy().copy() for w in model.trainable_weights]
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        target = np.asarray(model.predict(input_data, verbose=0)) + 1.0
        model.train_on_batch(input_data, target)
        after = [w.numpy() for w in model.trainable_weights]
        assert any(not np.allclose(b, a) for b, a in zip(before, after)), (
            f"{layer_cls.__name__}: a training step left every trainable weight unchanged")
    return output
