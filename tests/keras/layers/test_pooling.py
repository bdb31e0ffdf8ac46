"""Pooling layers (neuroflow/keras/layers/pooling.py): the one-call layer check, output shapes
against the formulas, values, input-spec errors, channels_first vs channels_last, configs."""
import math

import numpy as np
import pytest

from neuroflow import keras
from tests.keras.layer_helper import check_layer

L = keras.layers

LAYER_CASES = [
    (L.MaxPooling1D, {}, (2, 5, 3), (2, 2, 3)),
    (L.MaxPooling1D, {"pool_size": 3, "strides": 1, "padding": "same",
                      "data_format": "channels_first"}, (2, 3, 5), (2, 3, 5)),
    (L.MaxPooling2D, {}, (2, 5, 5, 3), (2, 2, 2, 3)),
    (L.MaxPooling2D, {"pool_size": (3, 2), "strides": 2, "padding": "same",
                      "data_format": "channels_first"}, (2, 3, 5, 4), (2, 3, 3, 2)),
    (L.MaxPooling3D, {}, (2, 4, 4, 5, 2), (2, 2, 2, 2, 2)),
    (L.AveragePooling1D, {"data_format": "channels_first"}, (2, 3, 6), (2, 3, 3)),
    (L.AveragePooling1D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 6, 2),
     (2, 3, 2)),
    (L.AveragePooling2D, {"padding": "same"}, (2, 5, 5, 3), (2, 3, 3, 3)),
    (L.AveragePooling2D, {"data_format": "channels_first"}, (2, 3, 4, 5), (2, 3, 2, 2)),
    (L.AveragePooling3D, {"pool_size": 2, "padding": "same"}, (2, 3, 3, 3, 2),
     (2, 2, 2, 2, 2)),
    (L.GlobalAveragePooling1D, {}, (2, 5, 3), (2, 3)),
    (L.GlobalAveragePooling1D, {"data_format": "channels_first", "keepdims": True},
     (2, 3, 5), (2, 3, 1)),
    (L.GlobalAveragePooling2D, {}, (2, 5, 5, 3), (2, 3)),
    (L.GlobalAveragePooling2D, {"data_format": "channels_first", "keepdims": True},
     (2, 3, 4, 5), (2, 3, 1, 1)),
    (L.GlobalAveragePooling3D, {}, (2, 2, 3, 4, 3), (2, 3)),
    (L.GlobalMaxPooling1D, {"keepdims": True}, (2, 5, 3), (2, 1, 3)),
    (L.GlobalMaxPooling2D, {}, (2, 5, 5, 3), (2, 3)),
    (L.GlobalMaxPooling2D, {"data_format": "channels_first"}, (2, 3, 4, 5), (2, 3)),
    (L.GlobalMaxPooling3D, {"keepdims": True}, (2, 2, 3, 4, 3), (2, 1, 1, 1, 3)),
]


@pytest.mark.parametrize("cls, kwargs, input_shape, expected", LAYER_CASES,
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_check_layer(tmp_path, cls, kwargs, input_shape, expected):
    check_layer(cls, kwargs, input_shape=input_shape, expected_output_shape=expected,
                expected_num_weights=0, save=True, tmp_path=tmp_path)


def test_aliases():
    assert L.MaxPool1D is L.MaxPooling1D and L.MaxPool2D is L.MaxPooling2D
    assert L.MaxPool3D is L.MaxPooling3D
    assert L.AvgPool1D is L.AveragePooling1D and L.AvgPool2D is L.AveragePooling2D
    assert L.AvgPool3D is L.AveragePooling3D
    assert L.GlobalAvgPool1D is L.GlobalAveragePooling1D
    assert L.GlobalAvgPool2D is L.GlobalAveragePooling2D
    assert L.GlobalMaxPool1D is L.GlobalMaxPooling1D
    assert L.GlobalMaxPool2D is L.GlobalMaxPooling2D


@pytest.mark.parametrize("cls", [L.MaxPooling2D, L.AveragePooling2D])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("size, pool, strides", [((7, 8), (2, 2), None), ((7, 8), (3, 2), (2, 3)),
                                                 ((5, 6), (1, 3), (1, 1))])
def test_output_shape_formula(cls, padding, size, pool, strides):
    s = pool if strides is None else strides
    want = tuple(math.ceil(n / st) if padding == "same" else (n - k) // st + 1
                 for n, k, st in zip(size, pool, s))
    layer = cls(pool, strides, padding)
    assert tuple(layer(np.zeros((2,) + size + (3,), np.float32)).shape) == (2,) + want + (3,)
    assert layer.compute_output_shape((None,) + size + (3,)) == (None,) + want + (3,)
    assert tuple(layer(keras.Input(size + (3,))).shape) == (None,) + want + (3,)


def test_values():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(L.MaxPooling2D()(x).numpy()[0, ..., 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(L.AveragePooling2D()(x).numpy()[0, ..., 0],
                                  [[2.5, 4.5], [10.5, 12.5]])
    # SAME average pooling divides by the real cells in each window (TensorFlow's rule)
    same = L.AveragePooling2D(3, 2, "same")(x).numpy()[0, ..., 0]
    np.testing.assert_allclose(same, [[5, 6.5], [11, 12.5]])
    np.testing.assert_array_equal(L.GlobalMaxPooling2D()(x).numpy(), [[15]])
    np.testing.assert_allclose(L.GlobalAveragePooling2D()(x).numpy(), [[7.5]])
    seq = np.array([[[1.0], [5.0], [2.0]]], np.float32)
    np.testing.assert_array_equal(L.MaxPooling1D(2, 1)(seq).numpy().ravel(), [5, 5])


def test_global_average_pooling_1d_mask():
    x = np.array([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]], np.float32)
    mask = np.array([[True, True, False]])
    out = L.GlobalAveragePooling1D()(x, mask=mask).numpy()
    np.testing.assert_allclose(out, [[2.0, 3.0]])
    first = L.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)
    out = first(np.transpose(x, (0, 2, 1)), mask=mask).numpy()
    np.testing.assert_allclose(out, [[[2.0], [3.0]]])


FORMAT_CASES = [
    (L.MaxPooling1D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 3)),
    (L.AveragePooling1D, {"pool_size": 2}, (2, 7, 3)),
    (L.MaxPooling2D, {"pool_size": (3, 2), "padding": "same"}, (2, 5, 7, 3)),
    (L.AveragePooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 5, 7, 3)),
    (L.MaxPooling3D, {"pool_size": 2, "padding": "same"}, (1, 3, 4, 5, 2)),
    (L.GlobalAveragePooling2D, {}, (2, 3, 4, 5)),
    (L.GlobalMaxPooling1D, {"keepdims": True}, (2, 3, 4)),
]


@pytest.mark.parametrize("cls, kwargs, shape", FORMAT_CASES,
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_channels_first_matches_channels_last(cls, kwargs, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    y_last = cls(**kwargs, data_format="channels_last")(x).numpy()
    to_first = (0, x.ndim - 1) + tuple(range(1, x.ndim - 1))
    y_first = cls(**kwargs, data_format="channels_first")(np.transpose(x, to_first)).numpy()
    if y_first.ndim > 2:
        y_first = np.transpose(y_first, (0,) + tuple(range(2, y_first.ndim)) + (1,))
    np.testing.assert_allclose(y_first, y_last, rtol=1e-6)


def test_input_spec_errors():
    with pytest.raises(ValueError, match=r'"pool".*expected ndim=4, found ndim=3.*\(2, 5, 3\)'):
        L.MaxPooling2D(name="pool")(np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r'"gap".*expected ndim=3, found ndim=4'):
        L.GlobalAveragePooling1D(name="gap")(np.zeros((2, 5, 3, 1), np.float32))
    with pytest.raises(ValueError, match="negative"):
        L.MaxPooling2D(3).compute_output_shape((None, 2, 2, 1))


def test_argument_errors():
    with pytest.raises(ValueError, match="pool_size"):
        L.MaxPooling2D(pool_size=(2, 2, 2))
    with pytest.raises(ValueError, match="strictly positive"):
        L.AveragePooling1D(strides=0)
    with pytest.raises(ValueError, match="Did you mean: 'valid'"):
        L.MaxPooling2D(padding="vaild")
    with pytest.raises(ValueError, match="data_format"):
        L.GlobalMaxPooling2D(data_format="NCHW")


def test_configs():
    config = L.MaxPooling2D(3, name="p").get_config()
    assert config == {"name": "p", "trainable": True, "dtype": "float32", "pool_size": (3, 3),
                      "padding": "valid", "strides": (3, 3), "data_format": "channels_last"}
    config = L.GlobalAveragePooling2D(keepdims=True, name="g").get_config()
    assert config == {"name": "g", "trainable": True, "dtype": "float32",
                      "data_format": "channels_last", "keepdims": True}
