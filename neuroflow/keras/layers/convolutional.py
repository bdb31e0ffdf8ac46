"""Convolution layers: ``Conv1D``, ``Conv2D`` (``Convolution1D/2D``).

``BaseConv`` holds what every convolution layer shares (argument checks, the kernel and bias
weights, ``get_config``, output-shape arithmetic); the transposed, depthwise and separable
layers in convolutional_transpose.py and convolutional_depthwise.py extend it. The arithmetic
is done by the nf.nn ops (conv.py): the layers only arrange arguments.
"""
from __future__ import annotations

from neuroflow.keras import activations, constraints, initializers, regularizers
from neuroflow.keras.layers import conv_utils
from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.ops.conv import bias_add, conv1d, conv2d
from neuroflow.ops.joining import concat, split
from neuroflow.ops.tiling import pad


class BaseConv(Layer):
    """The shared part of the N-D convolution layers (``rank`` spatial dims)."""

    rank = 2
    _allow_causal = False
    _has_filters = True  # DepthwiseConv2D has none: its output depth follows the input's

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        n = self.rank
        if self._has_filters:
            if not conv_utils.is_int(filters) or filters <= 0:
                raise ValueError(f"Invalid value for argument `filters`. Expected a strictly "
                                 f"positive value. Received filters={filters}.")
            filters = int(filters)
        self.filters = filters
        self.groups = int(groups or 1)
        if self.groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: "
                             f"groups={groups}.")
        if filters is not None and filters % self.groups:
            raise ValueError(f"The number of filters must be evenly divisible by the number "
                             f"of groups. Received: groups={self.groups}, filters={filters}.")
        self.kernel_size = _kernel_size(kernel_size, n)
        self.strides = conv_utils.normalize_tuple(strides, n, "strides")
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, n, "dilation_rate")
        self.padding = conv_utils.standardize_padding(padding, self._allow_causal)
        self.data_format = conv_utils.standardize_data_format(data_format)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=n + 2)

    # -- building -------------------------------------------------------------------------
    def _input_channels(self, input_shape) -> int:
        channels = tuple(input_shape)[conv_utils.channel_axis(self.data_format)]
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs to {type(self).__name__} "
                             f"layer '{self.name}' should be defined (data_format="
                             f"{self.data_format!r}). Found None in input shape "
                             f"{tuple(input_shape)}.")
        return int(channels)

    def _lock_channels(self, channels):
        self.input_spec = InputSpec(
            ndim=self.rank + 2, axes={conv_utils.channel_axis(self.data_format): channels})

    def _add_bias(self, size):
        if not self.use_bias:
            return None
        return self.add_weight("bias", (size,), self.bias_initializer,
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"The number of input channels must be evenly divisible by the "
                             f"number of groups. Received groups={self.groups}, but the "
                             f"input has {channels} channels (full input shape is "
                             f"{tuple(input_shape)}).")
        shape = self.kernel_size + (channels // self.groups, self.filters)
        self.kernel = self.add_weight("kernel", shape, self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self._add_bias(self.filters)
        self._lock_channels(channels)
        self.built = True

    # -- calling --------------------------------------------------------------------------
    def convolution_op(self, inputs, kernel):
        """The raw convolution (no bias, no activation), on ``self``'s geometry."""
        padding = self.padding
        if padding == "causal":  # pad the start of the time axis, then a VALID convolution
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            pairs = [[0, 0], [left, 0], [0, 0]]
            if self.data_format == "channels_first":
                pairs = [[0, 0], [0, 0], [left, 0]]
            inputs, padding = pad(inputs, pairs), "valid"
        fn = conv1d if self.rank == 1 else conv2d
        fmt = conv_utils.nf_data_format(self.data_format, self.rank)
        if self.groups == 1:
            return fn(inputs, kernel, self.strides, padding.upper(), data_format=fmt,
                      dilations=self.dilation_rate)
        # grouped: one convolution per slice of channels (the op has no groups attribute)
        axis = conv_utils.channel_axis(self.data_format)
        pieces = zip(split(inputs, self.groups, axis=axis), split(kernel, self.groups, -1))
        return concat([fn(x, k, self.strides, padding.upper(), data_format=fmt,
                          dilations=self.dilation_rate) for x, k in pieces], axis=axis)

    def _finish(self, outputs):
        if self.bias is not None:
            fmt = conv_utils.nf_data_format(self.data_format, self.rank)
            outputs = bias_add(outputs, self.bias, data_format=fmt)
        return self.activation(outputs)

    def call(self, inputs):
        return self._finish(self.convolution_op(inputs, self.kernel))

    def compute_output_shape(self, input_shape):
        batch, spatial, _ = conv_utils.split_shape(input_shape, self.data_format, self.rank)
        out = tuple(conv_utils.conv_output_length(size, k, self.padding, s, d)
                    for size, k, s, d in zip(spatial, self.kernel_size, self.strides,
                                             self.dilation_rate))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(f"Computed output size would be negative in layer '{self.name}'. "
                             f"Received inputs shape={tuple(input_shape)}, kernel_size="
                             f"{self.kernel_size}, strides={self.strides}, padding="
                             f"{self.padding!r}, dilation_rate={self.dilation_rate}.")
        return conv_utils.join_shape(batch, out, self._output_channels(input_shape),
                                     self.data_format)

    def _output_channels(self, input_shape):
        return self.filters

    # -- config ---------------------------------------------------------------------------
    def _geometry_config(self):
        return {"kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate}

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, **self._geometry_config(),
                       "groups": self.groups,
                       "activation": activations.serialize(self.activation),
                       "use_bias": self.use_bias,
                       "kernel_initializer": initializers.serialize(self.kernel_initializer),
                       "bias_initializer": initializers.serialize(self.bias_initializer),
                       "kernel_regularizer": serialize(self.kernel_regularizer),
                       "bias_regularizer": serialize(self.bias_regularizer),
                       "activity_regularizer": serialize(self.activity_regularizer),
                       "kernel_constraint": serialize(self.kernel_constraint),
                       "bias_constraint": serialize(self.bias_constraint)})
        return config


def _kernel_size(value, n):
    if not isinstance(value, int):
        try:
            values = tuple(value)
        except TypeError:
            values = None
        if values is not None and len(values) == n and 0 in values:
            raise ValueError(f"The argument `kernel_size` cannot contain 0(s). Received: "
                             f"{value!r}")
    elif value == 0:
        raise ValueError(f"The argument `kernel_size` cannot contain 0(s). Received: {value!r}")
    return conv_utils.normalize_tuple(value, n, "kernel_size")


def serialize(obj):
    """A regularizer or constraint as a config dict (None stays None)."""
    from neuroflow.keras.serialization import serialize_object
    return serialize_object(obj)


class Conv1D(BaseConv):
    """1-D convolution over (batch, steps, channels) (``keras.layers.Conv1D(32, 3)``);
    padding 'valid', 'same' or 'causal'.

    >>> keras.layers.Conv1D(4, 3, padding="same")(np.zeros((2, 10, 3))).shape
    TensorShape([2, 10, 4])
    """

    rank = 1
    _allow_causal = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv2D(BaseConv):
    """2-D convolution over images (``keras.layers.Conv2D(32, 3, activation="relu")``).

    >>> keras.layers.Conv2D(8, 3, strides=2, padding="same")(np.zeros((1, 28, 28, 1))).shape
    TensorShape([1, 14, 14, 8])
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


Convolution1D = Conv1D
Convolution2D = Conv2D

__all__ = ["Conv1D", "Conv2D", "Convolution1D", "Convolution2D"]
