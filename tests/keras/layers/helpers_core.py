"""Shared by the core-layer tests: the save switch, and the one-call check for merging layers
(``check_layer`` feeds one input; merging layers take a list)."""
from __future__ import annotations

import importlib.util

import numpy as np

import neuroflow as nf
from neuroflow import keras

# model.save / load_model round trips need the `saving` extra (safetensors); without it the
# save step of each check is left out (the other checks still run)
SAVE = importlib.util.find_spec("safetensors") is not None


def check_merge_layer(layer_cls, init_kwargs=None, input_shapes=((2, 3), (2, 3)),
                      expected_output_shape=None, save=SAVE, tmp_path=None, seed=0):
    """``check_layer`` for a layer called on a list of inputs: eager call, output shape,
    compute_output_shape with an unknown batch, config round trip, a functional model with
    one Input per tensor (same output), and save/load. Returns the eager output."""
    init_kwargs = dict(init_kwargs or {})
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal(s).astype("float32") for s in input_shapes]
    layer = layer_cls(**init_kwargs)
    output = layer([nf.constant(d) for d in data])
    if expected_output_shape is not None:
        assert tuple(output.shape) == tuple(expected_output_shape), (
            f"{layer_cls.__name__}: output shape {tuple(output.shape)}, expected "
            f"{tuple(expected_output_shape)}")
    assert not layer.weights
    inferred = layer.compute_output_shape([(None,) + tuple(s[1:]) for s in input_shapes])
    assert tuple(inferred)[1:] == tuple(output.shape)[1:], (
        f"{layer_cls.__name__}: compute_output_shape {inferred} vs output {output.shape}")
    config = layer.get_config()
    assert layer_cls.from_config(config).get_config() == config
    inputs = [keras.Input(shape=tuple(s[1:])) for s in input_shapes]
    symbolic = layer_cls.from_config(config)(inputs)
    assert tuple(symbolic.shape)[1:] == tuple(output.shape)[1:]
    model = keras.Model(inputs, symbolic)
    np.testing.assert_allclose(model.predict(data, verbose=0), output.numpy(), rtol=1e-5,
                               atol=1e-6)
    if save and tmp_path is not None:
        path = str(tmp_path / f"{layer_cls.__name__}.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(data, verbose=0), output.numpy(),
                                   rtol=1e-5, atol=1e-6)
    return output
