"""Convolution layers (neuroflow/keras/layers/convolutional*.py): the one-call layer check,
output shapes against the formulas, kernel shapes, input-spec errors, channels_first vs
channels_last, argument errors, configs, and values against torch where it is installed."""
import math

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.layer_helper import check_layer

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the torch comparisons skip without it
    torch = F = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
L = keras.layers


def _check(tmp_path, cls, kwargs, input_shape, expected_shape, **more):
    return check_layer(cls, kwargs, input_shape=input_shape,
                       expected_output_shape=expected_shape, save=True, tmp_path=tmp_path,
                       **more)


# -- the one-call layer check ------------------------------------------------------------------

LAYER_CASES = [
    (L.Conv1D, {"filters": 3, "kernel_size": 2}, (2, 5, 4), (2, 4, 3), 2),
    (L.Conv1D, {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
     (2, 6, 4), (2, 6, 3), 2),
    (L.Conv1D, {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same",
                "data_format": "channels_first", "use_bias": False}, (2, 3, 7), (2, 2, 4), 1),
    (L.Conv2D, {"filters": 3, "kernel_size": 2, "activation": "relu"}, (2, 5, 5, 4),
     (2, 4, 4, 3), 2),
    (L.Conv2D, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same",
                "data_format": "channels_first"}, (2, 2, 5, 5), (2, 4, 3, 3), 2),
    (L.Conv2D, {"filters": 4, "kernel_size": (3, 2), "dilation_rate": (1, 2), "groups": 2},
     (2, 5, 5, 4), (2, 3, 3, 4), 2),
    (L.Conv1DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
     (2, 3, 2), (2, 6, 3), 2),
    (L.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2}, (2, 3, 3, 2),
     (2, 7, 7, 3), 2),
    (L.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same",
                         "output_padding": 1, "data_format": "channels_first"},
     (2, 2, 3, 3), (2, 3, 6, 6), 2),
    (L.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2}, (2, 5, 5, 3),
     (2, 3, 3, 6), 2),
    (L.DepthwiseConv2D, {"kernel_size": 2, "strides": 2, "padding": "same",
                         "data_format": "channels_first"}, (2, 3, 5, 5), (2, 3, 3, 3), 2),
    (L.SeparableConv2D, {"filters": 4, "kernel_size": 3, "padding": "same"}, (2, 5, 5, 3),
     (2, 5, 5, 4), 3),
    (L.SeparableConv2D, {"filters": 2, "kernel_size": 2, "depth_multiplier": 2,
                         "data_format": "channels_first"}, (2, 3, 4, 4), (2, 2, 3, 3), 3),
]


@pytest.mark.parametrize("cls, kwargs, input_shape, expected, num_weights", LAYER_CASES,
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_check_layer(tmp_path, cls, kwargs, input_shape, expected, num_weights):
    _check(tmp_path, cls, kwargs, input_shape, expected, expected_num_weights=num_weights)


def test_aliases():
    assert L.Convolution1D is L.Conv1D and L.Convolution2D is L.Conv2D
    assert L.Convolution2DTranspose is L.Conv2DTranspose
    assert L.Convolution1DTranspose is L.Conv1DTranspose
    assert L.SeparableConvolution2D is L.SeparableConv2D


def test_default_names_follow_keras():
    assert L.Conv2D(2, 3).name.startswith("conv2d")
    assert L.Conv2DTranspose(2, 3).name.startswith("conv2d_transpose")
    assert L.SeparableConv2D(2, 3).name.startswith("separable_conv2d")


# -- output shapes against the formulas --------------------------------------------------------

def _expected_length(n, k, s, d, padding):
    eff = (k - 1) * d + 1
    return math.ceil(n / s) if padding == "same" else math.floor((n - eff) / s) + 1


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("size, kernel, stride, dilation", [
    ((7, 8), (3, 3), (1, 1), (1, 1)), ((7, 8), (3, 2), (2, 3), (1, 1)),
    ((9, 6), (2, 3), (1, 1), (2, 2)), ((5, 5), (5, 1), (3, 1), (1, 1))])
def test_conv2d_output_shape_formula(padding, size, kernel, stride, dilation):
    layer = L.Conv2D(2, kernel, strides=stride, padding=padding, dilation_rate=dilation)
    want = tuple(_expected_length(n, k, s, d, padding)
                 for n, k, s, d in zip(size, kernel, stride, dilation))
    out = layer(np.zeros((1,) + size + (3,), np.float32))
    assert tuple(out.shape) == (1,) + want + (2,)
    assert layer.compute_output_shape((None,) + size + (3,)) == (None,) + want + (2,)
    symbolic = layer(keras.Input(size + (3,)))
    assert tuple(symbolic.shape) == (None,) + want + (2,)


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("size, kernel, stride", [(9, 3, 2), (8, 4, 3), (5, 1, 1)])
def test_conv1d_output_shape_formula(padding, size, kernel, stride):
    layer = L.Conv1D(2, kernel, strides=stride, padding=padding)
    want = math.ceil(size / stride) if padding in ("same", "causal") else \
        (size - kernel) // stride + 1
    assert tuple(layer(np.zeros((2, size, 3), np.float32)).shape) == (2, want, 2)


@pytest.mark.parametrize("padding, output_padding", [("valid", None), ("same", None),
                                                     ("valid", 1), ("same", 1)])
@pytest.mark.parametrize("size, kernel, stride", [(4, 3, 2), (5, 3, 3), (3, 5, 2)])
def test_conv2d_transpose_output_shape_formula(padding, output_padding, size, kernel, stride):
    # Keras: valid -> (n-1)*s + k + max(s-k, 0) (+ output_padding instead of the max term);
    # same -> n*s, or (n-1)*s + k%2 + output_padding
    if output_padding is None:
        want = (size - 1) * stride + kernel + max(stride - kernel, 0) if padding == "valid" \
            else size * stride
    else:
        want = (size - 1) * stride + (kernel if padding == "valid" else kernel % 2) \
            + output_padding
    layer = L.Conv2DTranspose(2, kernel, strides=stride, padding=padding,
                              output_padding=output_padding)
    out = layer(np.zeros((1, size, size, 3), np.float32))
    assert tuple(out.shape) == (1, want, want, 2)
    assert layer.compute_output_shape((None, size, size, 3)) == (None, want, want, 2)
    assert tuple(layer(keras.Input((size, size, 3))).shape) == (None, want, want, 2)


# -- weights ---------------------------------------------------------------------------------

def test_kernel_shapes():
    x = np.zeros((1, 6, 6, 4), np.float32)
    conv = L.Conv2D(8, (3, 2))
    conv(x)
    assert [tuple(w.shape) for w in conv.weights] == [(3, 2, 4, 8), (8,)]
    grouped = L.Conv2D(6, 3, groups=2, use_bias=False)
    grouped(x)
    assert [tuple(w.shape) for w in grouped.weights] == [(3, 3, 2, 6)]
    transpose = L.Conv2DTranspose(8, 3)
    transpose(x)
    assert [tuple(w.shape) for w in transpose.weights] == [(3, 3, 8, 4), (8,)]
    depthwise = L.DepthwiseConv2D(3, depth_multiplier=2)
    depthwise(x)
    assert [tuple(w.shape) for w in depthwise.weights] == [(3, 3, 4, 2), (8,)]
    separable = L.SeparableConv2D(5, 3, depth_multiplier=3)
    separable(x)
    assert [tuple(w.shape) for w in separable.weights] == [(3, 3, 4, 3), (1, 1, 12, 5), (5,)]
    assert separable.count_params() == 3 * 3 * 4 * 3 + 12 * 5 + 5
    conv1d = L.Conv1D(4, 5, data_format="channels_first")
    conv1d(np.zeros((1, 3, 9), np.float32))
    assert [tuple(w.shape) for w in conv1d.weights] == [(5, 3, 4), (4,)]


def test_initializers_regularizers_constraints():
    layer = L.Conv2D(3, 2, kernel_initializer="ones", bias_initializer="ones",
                     kernel_regularizer=keras.regularizers.L2(0.5),
                     kernel_constraint=keras.constraints.NonNeg())
    layer(np.zeros((1, 3, 3, 2), np.float32))
    np.testing.assert_array_equal(layer.kernel.numpy(), np.ones((2, 2, 2, 3)))
    np.testing.assert_array_equal(layer.bias.numpy(), np.ones(3))
    (loss,) = layer.losses
    np.testing.assert_allclose(float(loss), 0.5 * 24, rtol=1e-6)
    assert isinstance(layer.kernel.constraint, keras.constraints.NonNeg)


# -- input specs -----------------------------------------------------------------------------

def test_wrong_rank_names_layer_and_shape():
    layer = L.Conv2D(2, 3, name="my_conv")
    with pytest.raises(ValueError, match=r'layer "my_conv".*expected ndim=4, found ndim=3.*'
                                         r'\(2, 8, 3\)'):
        layer(np.zeros((2, 8, 3), np.float32))


def test_wrong_channels_after_build_names_layer_and_shape():
    layer = L.Conv1D(2, 3, name="c1")
    layer(np.zeros((2, 8, 3), np.float32))
    with pytest.raises(ValueError, match=r'layer "c1".*axis -1 of input shape to have value '
                                         r'3.*\(2, 8, 5\)'):
        layer(np.zeros((2, 8, 5), np.float32))
    first = L.Conv2D(2, 3, data_format="channels_first", name="cf")
    first(np.zeros((1, 4, 6, 6), np.float32))
    with pytest.raises(ValueError, match=r'"cf".*axis 1 of input shape to have value 4'):
        first(np.zeros((1, 3, 6, 6), np.float32))


def test_unknown_channels_is_an_error():
    with pytest.raises(ValueError, match=r"channel dimension.*'undefined'.*should be defined"):
        L.Conv2D(2, 3, name="undefined")(keras.Input((5, 5, None)))


def test_input_too_small_for_kernel():
    with pytest.raises(ValueError, match="negative"):
        L.Conv2D(2, 5).compute_output_shape((None, 3, 3, 1))


# -- argument errors -------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"filters": 0, "kernel_size": 3}, "filters=0"),
    ({"filters": 2, "kernel_size": (3, 0)}, "kernel_size` cannot contain 0"),
    ({"filters": 2, "kernel_size": (3, 3, 3)}, "kernel_size` argument must be a tuple of 2"),
    ({"filters": 2, "kernel_size": 3, "strides": 0}, "strictly positive"),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2},
     "strides > 1` not supported"),
    ({"filters": 3, "kernel_size": 3, "groups": 2}, "evenly divisible"),
    ({"filters": 2, "kernel_size": 3, "padding": "smae"}, "Did you mean: 'same'"),
    ({"filters": 2, "kernel_size": 3, "padding": "causal"}, "Unknown padding"),
    ({"filters": 2, "kernel_size": 3, "data_format": "NHWC"}, "channels_last"),
])
def test_conv2d_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        L.Conv2D(**kwargs)


def test_other_argument_errors():
    with pytest.raises(ValueError, match="greater than output padding"):
        L.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="depth_multiplier=0"):
        L.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match="input channels must be evenly divisible"):
        L.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(TypeError, match="Unrecognized keyword arguments.*kernel"):
        L.Conv2D(2, 3, kernel=4)


# -- configs ---------------------------------------------------------------------------------

def test_conv2d_config_matches_keras():
    config = L.Conv2D(4, 3, name="c").get_config()
    assert set(config) == {"name", "trainable", "dtype", "filters", "kernel_size", "strides",
                           "padding", "data_format", "dilation_rate", "groups", "activation",
                           "use_bias", "kernel_initializer", "bias_initializer",
                           "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                           "kernel_constraint", "bias_constraint"}
    assert config["kernel_size"] == (3, 3) and config["strides"] == (1, 1)
    assert config["padding"] == "valid" and config["data_format"] == "channels_last"
    assert config["activation"] == "linear"


def test_other_configs():
    transpose = L.Conv2DTranspose(4, 3, strides=2, output_padding=1).get_config()
    assert "groups" not in transpose and transpose["output_padding"] == (1, 1)
    depthwise = L.DepthwiseConv2D(3, depth_multiplier=2).get_config()
    assert "filters" not in depthwise and depthwise["depth_multiplier"] == 2
    assert "depthwise_initializer" in depthwise and "kernel_initializer" not in depthwise
    separable = L.SeparableConv2D(4, 3).get_config()
    assert {"pointwise_initializer", "pointwise_regularizer", "pointwise_constraint",
            "depthwise_initializer", "filters", "depth_multiplier"} <= set(separable)
    # a JSON round trip gives lists back; the layer takes them
    clone = L.Conv2D.from_config({**L.Conv2D(2, [3, 1]).get_config(), "strides": [1, 2]})
    assert clone.kernel_size == (3, 1) and clone.strides == (1, 2)


# -- channels_first == channels_last after transposition ---------------------------------------

FORMAT_CASES = [
    (L.Conv1D, {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 7, 4)),
    (L.Conv1D, {"filters": 2, "kernel_size": 2, "padding": "causal", "dilation_rate": 2},
     (2, 6, 3)),
    (L.Conv2D, {"filters": 3, "kernel_size": (3, 2), "strides": (2, 1), "padding": "same"},
     (2, 5, 6, 4)),
    (L.Conv2D, {"filters": 4, "kernel_size": 2, "groups": 2}, (2, 4, 4, 2)),
    (L.Conv1DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2}, (2, 4, 3)),
    (L.Conv2DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
     (2, 3, 4, 3)),
    (L.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"},
     (2, 4, 5, 3)),
    (L.SeparableConv2D, {"filters": 3, "kernel_size": 2, "dilation_rate": 2}, (2, 5, 5, 2)),
]


@pytest.mark.parametrize("cls, kwargs, shape", FORMAT_CASES,
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_channels_first_matches_channels_last(cls, kwargs, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    last = cls(**kwargs, data_format="channels_last", bias_initializer="random_normal")
    y_last = last(x).numpy()
    first = cls(**kwargs, data_format="channels_first")
    to_first = (0, x.ndim - 1) + tuple(range(1, x.ndim - 1))
    first(np.transpose(x, to_first))
    first.set_weights(last.get_weights())
    y_first = first(np.transpose(x, to_first)).numpy()
    to_last = (0,) + tuple(range(2, x.ndim)) + (1,)
    np.testing.assert_allclose(np.transpose(y_first, to_last), y_last, rtol=1e-5, atol=1e-5)


# -- values against torch --------------------------------------------------------------------

def _nchw(x):
    return torch.from_numpy(np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2))))


def _nhwc(t):
    return np.transpose(t.detach().numpy(), (0, 2, 3, 1))


@needs_torch
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_matches_torch(groups):
    x = np.random.default_rng(1).standard_normal((2, 7, 6, 4)).astype(np.float32)
    layer = L.Conv2D(6, (3, 2), strides=(2, 1), dilation_rate=1, groups=groups,
                     bias_initializer="random_normal")
    y = layer(x).numpy()
    kernel = torch.from_numpy(np.transpose(layer.kernel.numpy(), (3, 2, 0, 1)).copy())
    want = F.conv2d(_nchw(x), kernel, torch.from_numpy(layer.bias.numpy()), stride=(2, 1),
                    groups=groups)
    np.testing.assert_allclose(y, _nhwc(want), rtol=1e-5, atol=1e-5)


@needs_torch
def test_conv2d_transpose_matches_torch():
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 3)).astype(np.float32)
    layer = L.Conv2DTranspose(2, 3, strides=2, bias_initializer="random_normal")
    y = layer(x).numpy()
    # Keras kernel (kh, kw, out, in); torch's transposed weight is (in, out, kh, kw)
    kernel = torch.from_numpy(np.transpose(layer.kernel.numpy(), (3, 2, 0, 1)).copy())
    want = F.conv_transpose2d(_nchw(x), kernel, torch.from_numpy(layer.bias.numpy()),
                              stride=2)
    np.testing.assert_allclose(y, _nhwc(want), rtol=1e-5, atol=1e-5)


@needs_torch
def test_separable_conv2d_matches_torch():
    x = np.random.default_rng(3).standard_normal((1, 5, 5, 3)).astype(np.float32)
    layer = L.SeparableConv2D(4, 3, depth_multiplier=2, bias_initializer="random_normal")
    y = layer(x).numpy()
    depthwise = layer.depthwise_kernel.numpy()  # (3, 3, in, multiplier): channel c*m + j
    dw = torch.from_numpy(np.transpose(depthwise.reshape(3, 3, 6), (2, 0, 1))[:, None].copy())
    pw = torch.from_numpy(np.transpose(layer.pointwise_kernel.numpy(), (3, 2, 0, 1)).copy())
    want = F.conv2d(F.conv2d(_nchw(x), dw, groups=3), pw, torch.from_numpy(layer.bias.numpy()))
    np.testing.assert_allclose(y, _nhwc(want), rtol=1e-5, atol=1e-5)


# -- inside models ---------------------------------------------------------------------------

def test_conv_gradients_match_eager_in_compiled_step():
    nf.random.set_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 2)), L.Conv2D(3, 3, groups=1),
                              L.Conv2DTranspose(2, 3, strides=2, padding="same"),
                              L.SeparableConv2D(2, 2), L.DepthwiseConv2D(2)])
    x = np.random.default_rng(4).standard_normal((3, 6, 6, 2)).astype(np.float32)

    def loss_grads(inputs):
        with nf.GradientTape() as tape:
            loss = nf.reduce_sum(nf.square(model(inputs)))
        return tape.gradient(loss, model.trainable_weights)
    eager = loss_grads(nf.constant(x))
    compiled = nf.function(loss_grads)(nf.constant(x))
    assert len(eager) == 9
    for a, b in zip(eager, compiled):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls, kwargs", [
    (L.Conv2D, {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}),
    (L.Conv2DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2}),
    (L.Conv2DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same",
                         "output_padding": 1, "data_format": "channels_first"}),
    (L.SeparableConv2D, {"filters": 2, "kernel_size": 2}),
])
def test_unknown_spatial_dims(cls, kwargs):
    first = kwargs.get("data_format") == "channels_first"
    inputs = keras.Input((3, None, None) if first else (None, None, 3))
    layer = cls(**kwargs)
    outputs = layer(inputs)
    assert tuple(outputs.shape) == ((None, 2, None, None) if first else (None, None, None, 2))
    model = keras.Model(inputs, outputs)
    for size in (5, 6):
        x = np.random.default_rng(size).standard_normal(
            (2, 3, size, size) if first else (2, size, size, 3)).astype(np.float32)
        np.testing.assert_allclose(model.predict(x, verbose=0), layer(x).numpy(), rtol=1e-5,
                                   atol=1e-6)
