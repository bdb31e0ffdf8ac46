"""Transposed convolutions: ``Conv1DTranspose``, ``Conv2DTranspose``
(``Convolution1DTranspose``, ``Convolution2DTranspose``).

The nf.nn transposed convolutions take the output shape explicitly (as TensorFlow's do): the
layer computes it with Keras's formula, with the dims unknown when the model is built (the
batch, say) read at run time.
"""
from __future__ import annotations

from neuroflow.core.tensor import SymbolicTensor
from neuroflow.keras.layers import conv_utils
from neuroflow.keras.layers.convolutional import BaseConv
from neuroflow.ops.array import shape as shape_of
from neuroflow.ops.conv import conv1d_transpose, conv2d_transpose
from neuroflow.ops.joining import stack


class BaseConvTranspose(BaseConv):
    """The shared part of the transposed convolution layers; kernel shape is
    ``kernel_size + (filters, input_channels)``."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         1, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
        if output_padding is not None:
            output_padding = conv_utils.normalize_tuple(output_padding, self.rank,
                                                        "output_padding", allow_zero=True)
            for p, s in zip(output_padding, self.strides):
                if p >= s:
                    raise ValueError(f"Strides must be greater than output padding. "
                                     f"Received strides={self.strides}, output_padding="
                                     f"{output_padding}.")
        self.output_padding = output_padding

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight("kernel", self.kernel_size + (self.filters, channels),
                                      self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self._add_bias(self.filters)
        self._lock_channels(channels)
        self.built = True

    def _spatial_out(self, spatial):
        padding = self.output_padding or (None,) * self.rank
        return tuple(conv_utils.deconv_output_length(size, k, self.padding, s, p, d)
                     for size, k, s, p, d in zip(spatial, self.kernel_size, self.strides,
                                                 padding, self.dilation_rate))

    def call(self, inputs):
        static = tuple(inputs.shape)
        out = self._spatial_out(conv_utils.split_shape(static, self.data_format, self.rank)[1])
        # unknown dims (the batch, say) are read at run time; the formula works on tensors
        dynamic = shape_of(inputs) if None in static else None
        sizes = [d if d is not None else dynamic[i] for i, d in enumerate(static)]
        batch, spatial, _ = conv_utils.split_shape(sizes, self.data_format, self.rank)
        output_shape = conv_utils.join_shape(batch, self._spatial_out(spatial), self.filters,
                                             self.data_format)
        if dynamic is not None:
            output_shape = stack(list(output_shape))
        fn = conv1d_transpose if self.rank == 1 else conv2d_transpose
        outputs = fn(inputs, self.kernel, output_shape, self.strides,
                     padding=self.padding.upper(),
                     data_format=conv_utils.nf_data_format(self.data_format, self.rank),
                     dilations=self.dilation_rate)
        if isinstance(outputs, SymbolicTensor):  # a run-time output shape hides the static one
            outputs.set_shape(conv_utils.join_shape(None, out, self.filters, self.data_format))
        return self._finish(outputs)

    def compute_output_shape(self, input_shape):
        batch, spatial, _ = conv_utils.split_shape(input_shape, self.data_format, self.rank)
        return conv_utils.join_shape(batch, self._spatial_out(spatial), self.filters,
                                     self.data_format)

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(BaseConvTranspose):
    """1-D transposed convolution (``keras.layers.Conv1DTranspose(8, 3, strides=2)``).

    >>> keras.layers.Conv1DTranspose(4, 3, strides=2, padding="same")(
    ...     np.zeros((1, 5, 2))).shape
    TensorShape([1, 10, 4])
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    """2-D transposed convolution, the upsampling half of an autoencoder or GAN generator
    (``keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same")``).

    >>> keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same")(
    ...     np.zeros((1, 7, 7, 4))).shape
    TensorShape([1, 14, 14, 8])
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose

__all__ = ["Conv1DTranspose", "Conv2DTranspose", "Convolution1DTranspose",
           "Convolution2DTranspose"]
