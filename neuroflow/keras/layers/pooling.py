"""Pooling layers: ``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D`` (``MaxPool2D``,
``AvgPool2D``...) on the nf.nn pooling ops, and the global poolings
(``GlobalAveragePooling2D``, ``GlobalMaxPool2D``...) as reductions over the spatial axes.
"""
from __future__ import annotations

from neuroflow.keras.layers import conv_utils
from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.ops.array import expand_dims
from neuroflow.ops.math import cast
from neuroflow.ops.pooling import avg_pool, max_pool
from neuroflow.ops.reduce import reduce_max, reduce_mean, reduce_sum


class BasePooling(Layer):
    """Windowed pooling over ``rank`` spatial dims; ``strides`` default to ``pool_size``."""

    rank = 2
    _pool = None

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        n = self.rank
        self.pool_size = conv_utils.normalize_tuple(pool_size, n, "pool_size")
        self.strides = conv_utils.normalize_tuple(pool_size if strides is None else strides,
                                                  n, "strides")
        self.padding = conv_utils.standardize_padding(padding)
        self.data_format = conv_utils.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=n + 2)

    def call(self, inputs):
        fmt = conv_utils.nf_data_format(self.data_format, self.rank)
        return self._pool(inputs, self.pool_size, self.strides, self.padding.upper(),
                          data_format=fmt)

    def compute_output_shape(self, input_shape):
        batch, spatial, channels = conv_utils.split_shape(input_shape, self.data_format,
                                                          self.rank)
        out = tuple(conv_utils.conv_output_length(size, k, self.padding, s)
                    for size, k, s in zip(spatial, self.pool_size, self.strides))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(f"Computed output size would be negative in layer '{self.name}': "
                             f"input shape {tuple(input_shape)}, pool_size={self.pool_size}, "
                             f"strides={self.strides}, padding={self.padding!r}.")
        return conv_utils.join_shape(batch, out, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding,
                       "strides": self.strides, "data_format": self.data_format})
        return config


class MaxPooling1D(BasePooling):
    """Max pooling over 1 spatial dim (``keras.layers.MaxPooling1D``).

    >>> keras.layers.MaxPooling1D()(np.zeros((2, 10, 3))).shape
    TensorShape([2, 5, 3])
    """

    rank = 1
    _pool = staticmethod(max_pool)

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling2D(BasePooling):
    """Max pooling over 2 spatial dims (``keras.layers.MaxPooling2D``).

    >>> keras.layers.MaxPooling2D()(np.zeros((1, 28, 28, 8))).shape
    TensorShape([1, 14, 14, 8])
    """

    rank = 2
    _pool = staticmethod(max_pool)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling3D(BasePooling):
    """Max pooling over 3 spatial dims (``keras.layers.MaxPooling3D``).

    >>> keras.layers.MaxPooling3D()(np.zeros((1, 4, 4, 4, 2))).shape
    TensorShape([1, 2, 2, 2, 2])
    """

    rank = 3
    _pool = staticmethod(max_pool)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(BasePooling):
    """Average pooling over 1 spatial dim (``keras.layers.AveragePooling1D``).

    >>> keras.layers.AveragePooling1D(3, 1)(np.zeros((2, 10, 3))).shape
    TensorShape([2, 8, 3])
    """

    rank = 1
    _pool = staticmethod(avg_pool)

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling2D(BasePooling):
    """Average pooling over 2 spatial dims (``keras.layers.AveragePooling2D``).

    >>> keras.layers.AveragePooling2D(padding="same")(np.zeros((1, 5, 5, 8))).shape
    TensorShape([1, 3, 3, 8])
    """

    rank = 2
    _pool = staticmethod(avg_pool)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling3D(BasePooling):
    """Average pooling over 3 spatial dims (``keras.layers.AveragePooling3D``).

    >>> keras.layers.AveragePooling3D()(np.zeros((1, 4, 4, 4, 2))).shape
    TensorShape([1, 2, 2, 2, 2])
    """

    rank = 3
    _pool = staticmethod(avg_pool)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


# -- global pooling ----------------------------------------------------------------------------

class BaseGlobalPooling(Layer):
    """A reduction over every spatial axis; ``keepdims=True`` keeps them with size 1."""

    rank = 2
    _reduce = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = conv_utils.standardize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        axes = list(conv_utils.spatial_axes(self.data_format, self.rank))
        return self._reduce(inputs, axis=axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        batch, _, channels = conv_utils.split_shape(input_shape, self.data_format, self.rank)
        if self.keepdims:
            return conv_utils.join_shape(batch, (1,) * self.rank, channels, self.data_format)
        return (batch, channels)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over the steps (``keras.layers.GlobalAveragePooling1D()``): (batch, channels);
    a ``mask`` (batch, steps) leaves the masked steps out of the mean.

    >>> keras.layers.GlobalAveragePooling1D()(np.ones((2, 5, 3))).shape
    TensorShape([2, 3])
    """

    rank = 1
    _reduce = staticmethod(reduce_mean)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps = 2 if self.data_format == "channels_first" else 1
        weights = expand_dims(cast(mask, inputs.dtype), 1 if steps == 2 else 2)
        total = reduce_sum(inputs * weights, axis=steps, keepdims=self.keepdims)
        return total / reduce_sum(weights, axis=steps, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over the spatial dims (``keras.layers.GlobalAveragePooling2D()``).

    >>> keras.layers.GlobalAveragePooling2D()(np.ones((2, 4, 4, 3))).shape
    TensorShape([2, 3])
    """

    rank = 2
    _reduce = staticmethod(reduce_mean)


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over the spatial dims (``keras.layers.GlobalAveragePooling3D()``).

    >>> keras.layers.GlobalAveragePooling3D()(np.ones((2, 3, 3, 3, 4))).shape
    TensorShape([2, 4])
    """

    rank = 3
    _reduce = staticmethod(reduce_mean)


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Maximum over the spatial dims (``keras.layers.GlobalMaxPooling1D()``).

    >>> keras.layers.GlobalMaxPooling1D()(np.ones((2, 5, 3))).shape
    TensorShape([2, 3])
    """

    rank = 1
    _reduce = staticmethod(reduce_max)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Maximum over the spatial dims (``keras.layers.GlobalMaxPooling2D()``).

    >>> keras.layers.GlobalMaxPooling2D()(np.ones((2, 4, 4, 3))).shape
    TensorShape([2, 3])
    """

    rank = 2
    _reduce = staticmethod(reduce_max)


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Maximum over the spatial dims (``keras.layers.GlobalMaxPooling3D()``).

    >>> keras.layers.GlobalMaxPooling3D()(np.ones((2, 3, 3, 3, 4))).shape
    TensorShape([2, 4])
    """

    rank = 3
    _reduce = staticmethod(reduce_max)


# Keras's short names
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D)
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D)

__all__ = ["MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
           "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
           "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D",
           "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D"]
