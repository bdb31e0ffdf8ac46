"""Depthwise and separable convolutions: ``DepthwiseConv2D``, ``SeparableConv2D``
(``SeparableConvolution2D``), on ``nf.nn.depthwise_conv2d`` / ``nf.nn.separable_conv2d``.
"""
from __future__ import annotations

from neuroflow.keras import activations, constraints, initializers, regularizers
from neuroflow.keras.layers import conv_utils
from neuroflow.keras.layers.convolutional import BaseConv, serialize
from neuroflow.keras.layers.layer import Layer
from neuroflow.ops.conv import depthwise_conv2d, separable_conv2d


def _depth_multiplier(value):
    if not conv_utils.is_int(value) or value <= 0:
        raise ValueError(f"Invalid value for argument `depth_multiplier`. Expected a strictly "
                         f"positive value. Received depth_multiplier={value}.")
    return int(value)


class DepthwiseConv2D(BaseConv):
    """One spatial filter per input channel (times ``depth_multiplier``), channels never
    mixed (``keras.layers.DepthwiseConv2D(3, padding="same")``).

    >>> keras.layers.DepthwiseConv2D(3, depth_multiplier=2)(np.zeros((1, 8, 8, 3))).shape
    TensorShape([1, 6, 6, 6])
    """

    rank = 2
    _has_filters = False

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(None, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = _depth_multiplier(depth_multiplier)

    # Keras names the depthwise kernel's arguments depthwise_*; BaseConv stores kernel_*
    depthwise_initializer = property(lambda self: self.kernel_initializer)
    depthwise_regularizer = property(lambda self: self.kernel_regularizer)
    depthwise_constraint = property(lambda self: self.kernel_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight("kernel",
                                      self.kernel_size + (channels, self.depth_multiplier),
                                      self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self._add_bias(channels * self.depth_multiplier)
        self._lock_channels(channels)
        self.built = True

    def call(self, inputs):
        outputs = depthwise_conv2d(inputs, self.kernel, self.strides, self.padding.upper(),
                                   data_format=conv_utils.nf_data_format(self.data_format, 2),
                                   dilations=self.dilation_rate)
        return self._finish(outputs)

    def _output_channels(self, input_shape):
        channels = tuple(input_shape)[conv_utils.channel_axis(self.data_format)]
        return None if channels is None else channels * self.depth_multiplier

    def get_config(self):
        config = Layer.get_config(self)  # BaseConv's keys do not apply
        config.update({"depth_multiplier": self.depth_multiplier, **self._geometry_config(),
                       "activation": activations.serialize(self.activation),
                       "use_bias": self.use_bias,
                       "depthwise_initializer": initializers.serialize(self.kernel_initializer),
                       "bias_initializer": initializers.serialize(self.bias_initializer),
                       "depthwise_regularizer": serialize(self.kernel_regularizer),
                       "bias_regularizer": serialize(self.bias_regularizer),
                       "activity_regularizer": serialize(self.activity_regularizer),
                       "depthwise_constraint": serialize(self.kernel_constraint),
                       "bias_constraint": serialize(self.bias_constraint)})
        return config


class SeparableConv2D(BaseConv):
    """A depthwise convolution then a 1x1 convolution mixing the channels
    (``keras.layers.SeparableConv2D(32, 3)``): far fewer weights than a ``Conv2D``.

    >>> keras.layers.SeparableConv2D(4, 3, padding="same")(np.zeros((1, 8, 8, 3))).shape
    TensorShape([1, 8, 8, 4])
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = _depth_multiplier(depth_multiplier)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    depthwise_initializer = property(lambda self: self.kernel_initializer)
    depthwise_regularizer = property(lambda self: self.kernel_regularizer)
    depthwise_constraint = property(lambda self: self.kernel_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
            self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1, 1, channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.bias = self._add_bias(self.filters)
        self._lock_channels(channels)
        self.built = True

    def call(self, inputs):
        outputs = separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel,
                                   self.strides, self.padding.upper(),
                                   data_format=conv_utils.nf_data_format(self.data_format, 2),
                                   dilations=self.dilation_rate)
        return self._finish(outputs)

    def get_config(self):
        config = Layer.get_config(self)  # BaseConv's keys do not apply
        config.update({
            "depth_multiplier": self.depth_multiplier, "filters": self.filters,
            **self._geometry_config(), "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.kernel_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": serialize(self.kernel_regularizer),
            "pointwise_regularizer": serialize(self.pointwise_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "activity_regularizer": serialize(self.activity_regularizer),
            "depthwise_constraint": serialize(self.kernel_constraint),
            "pointwise_constraint": serialize(self.pointwise_constraint),
            "bias_constraint": serialize(self.bias_constraint)})
        return config


SeparableConvolution2D = SeparableConv2D

__all__ = ["DepthwiseConv2D", "SeparableConv2D", "SeparableConvolution2D"]
