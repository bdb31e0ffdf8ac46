"""ZeroPadding, Cropping and UpSampling layers (neuroflow/keras/layers/reshaping.py)."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.layer_helper import check_layer

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the torch comparison skips without it
    torch = F = None

L = keras.layers

LAYER_CASES = [
    (L.ZeroPadding1D, {"padding": (1, 2)}, (2, 3, 2), (2, 6, 2)),
    (L.ZeroPadding2D, {}, (2, 3, 3, 2), (2, 5, 5, 2)),
    (L.ZeroPadding2D, {"padding": ((1, 0), (2, 1))}, (2, 3, 3, 2), (2, 4, 6, 2)),
    (L.ZeroPadding2D, {"padding": (1, 2), "data_format": "channels_first"}, (2, 2, 3, 3),
     (2, 2, 5, 7)),
    (L.ZeroPadding3D, {"padding": 1}, (1, 2, 2, 2, 2), (1, 4, 4, 4, 2)),
    (L.Cropping1D, {}, (2, 4, 2), (2, 2, 2)),
    (L.Cropping2D, {"cropping": ((1, 0), (0, 1))}, (2, 3, 3, 2), (2, 2, 2, 2)),
    (L.Cropping2D, {"cropping": 1, "data_format": "channels_first"}, (2, 2, 4, 5),
     (2, 2, 2, 3)),
    (L.Cropping3D, {"cropping": ((1, 0), (0, 1), (1, 1))}, (1, 3, 3, 4, 2), (1, 2, 2, 2, 2)),
    (L.UpSampling1D, {"size": 3}, (2, 3, 2), (2, 9, 2)),
    (L.UpSampling2D, {}, (2, 3, 3, 2), (2, 6, 6, 2)),
    (L.UpSampling2D, {"size": (2, 3), "interpolation": "bilinear"}, (2, 3, 3, 2),
     (2, 6, 9, 2)),
    (L.UpSampling2D, {"size": (1, 2), "data_format": "channels_first"}, (2, 2, 3, 3),
     (2, 2, 3, 6)),
    (L.UpSampling3D, {"size": (1, 2, 2)}, (1, 2, 2, 2, 2), (1, 2, 4, 4, 2)),
]


@pytest.mark.parametrize("cls, kwargs, input_shape, expected", LAYER_CASES,
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_check_layer(tmp_path, cls, kwargs, input_shape, expected):
    check_layer(cls, kwargs, input_shape=input_shape, expected_output_shape=expected,
                expected_num_weights=0, save=True, tmp_path=tmp_path)


def test_zero_padding_values_and_forms():
    x = np.ones((1, 2, 2, 1), np.float32)
    out = L.ZeroPadding2D(((1, 0), (0, 2)))(x).numpy()[0, ..., 0]
    np.testing.assert_array_equal(out, [[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]])
    assert L.ZeroPadding2D(2).padding == ((2, 2), (2, 2))
    assert L.ZeroPadding2D((1, 3)).padding == ((1, 1), (3, 3))
    assert L.ZeroPadding1D(3).get_config()["padding"] == (3, 3)
    with pytest.raises(ValueError, match="padding"):
        L.ZeroPadding2D(((1, 2, 3), (1, 1)))
    with pytest.raises(ValueError, match="non-negative"):
        L.ZeroPadding2D(-1)


def test_cropping_values_and_errors():
    x = np.arange(20, dtype=np.float32).reshape(1, 4, 5, 1)
    out = L.Cropping2D(((1, 2), (1, 1)))(x).numpy()[0, ..., 0]
    np.testing.assert_array_equal(out, [[6, 7, 8]])
    with pytest.raises(ValueError, match=r"'crop'.*smaller than.*\(1, 4, 5, 1\)"):
        L.Cropping2D(((2, 2), (0, 0)), name="crop")(x)
    with pytest.raises(ValueError, match="smaller than"):
        L.Cropping1D((3, 3)).compute_output_shape((None, 5, 2))
    assert L.Cropping1D((1, 2)).get_config()["cropping"] == (1, 2)


def test_upsampling_nearest_values():
    x = np.array([[[[1.0], [2.0]], [[3.0], [4.0]]]], np.float32)
    out = L.UpSampling2D((2, 3))(x).numpy()[0, ..., 0]
    np.testing.assert_array_equal(out, np.repeat(np.repeat([[1, 2], [3, 4]], 2, 0), 3, 1))
    seq = np.array([[[1.0, 10.0], [2.0, 20.0]]], np.float32)
    np.testing.assert_array_equal(L.UpSampling1D(2)(seq).numpy()[0],
                                  [[1, 10], [1, 10], [2, 20], [2, 20]])


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("size", [(2, 2), (3, 2), (1, 4)])
def test_upsampling_bilinear_matches_torch(size):
    # torch's bilinear with align_corners=False uses the same half-pixel centres and edge
    # clamping as tf.image.resize(..., "bilinear"), which Keras's UpSampling2D calls
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 2)).astype(np.float32)
    out = L.UpSampling2D(size, interpolation="bilinear")(x).numpy()
    want = F.interpolate(torch.from_numpy(np.transpose(x, (0, 3, 1, 2)).copy()),
                         scale_factor=size, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(out, np.transpose(want.numpy(), (0, 2, 3, 1)), rtol=1e-5,
                               atol=1e-6)


def test_upsampling_bilinear_gradient_and_unknown_dims():
    layer = L.UpSampling2D(2, interpolation="bilinear")
    x = nf.constant(np.random.default_rng(1).standard_normal((1, 3, 3, 1)).astype(np.float32))
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = nf.reduce_sum(layer(x))
    # each input cell's weights over the output sum to size[0] * size[1]
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.full((1, 3, 3, 1), 4.0),
                               rtol=1e-6)
    symbolic = layer(keras.Input((None, None, 2)))
    assert tuple(symbolic.shape) == (None, None, None, 2)
    inputs = keras.Input((None, None, 2))
    model = keras.Model(inputs, L.UpSampling2D((2, 3), interpolation="bilinear")(inputs))
    out = model.predict(np.ones((3, 2, 5, 2), np.float32), verbose=0)
    np.testing.assert_allclose(out, np.ones((3, 4, 15, 2)))


@pytest.mark.parametrize("cls, kwargs", [
    (L.ZeroPadding2D, {"padding": ((1, 0), (2, 1))}),
    (L.Cropping2D, {"cropping": ((1, 0), (2, 1))}),
    (L.UpSampling2D, {"size": (2, 3)}),
    (L.UpSampling2D, {"size": (3, 2), "interpolation": "bilinear"}),
])
def test_channels_first_matches_channels_last(cls, kwargs):
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 3)).astype(np.float32)
    y_last = cls(**kwargs, data_format="channels_last")(x).numpy()
    y_first = cls(**kwargs, data_format="channels_first")(np.transpose(x, (0, 3, 1, 2)))
    np.testing.assert_allclose(np.transpose(y_first.numpy(), (0, 2, 3, 1)), y_last,
                               rtol=1e-6)


def test_errors_and_configs():
    with pytest.raises(ValueError, match="Did you mean: 'bilinear'"):
        L.UpSampling2D(interpolation="bilinaer")
    with pytest.raises(ValueError, match=r'"up".*expected ndim=4'):
        L.UpSampling2D(name="up")(np.zeros((2, 3, 3), np.float32))
    assert L.UpSampling2D(3, name="u").get_config() == {
        "name": "u", "trainable": True, "dtype": "float32", "data_format": "channels_last",
        "size": (3, 3), "interpolation": "nearest"}
    assert L.UpSampling1D(3).get_config()["size"] == 3
    assert L.Cropping2D(((1, 2), (3, 4))).get_config()["cropping"] == ((1, 2), (3, 4))
