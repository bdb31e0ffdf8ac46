"""Spatial reshaping layers: ``ZeroPadding1D/2D/3D``, ``Cropping1D/2D/3D`` and
``UpSampling1D/2D/3D`` (nearest, and bilinear for 2-D), composed from nf ops (pad, slicing,
tile, reshape), so their gradients come for free.
"""
from __future__ import annotations

from neuroflow.core.tensor import shape_str
from neuroflow.keras.layers import conv_utils
from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.ops.array import expand_dims, reshape
from neuroflow.ops.array import shape as shape_of
from neuroflow.ops.joining import concat, stack
from neuroflow.ops.tiling import pad, tile


class _Spatial(Layer):
    """A layer acting on the ``rank`` spatial axes of a (batch, *spatial, channels) input."""

    rank = 2

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = conv_utils.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    @property
    def _axes(self):
        return conv_utils.spatial_axes(self.data_format, self.rank)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


# -- zero padding --------------------------------------------------------------------------------

class _ZeroPadding(_Spatial):
    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = conv_utils.normalize_pairs(padding, self.rank, "padding")

    def call(self, inputs):
        pairs = [[0, 0]] * (self.rank + 2)
        for axis, pair in zip(self._axes, self.padding):
            pairs[axis] = list(pair)
        return pad(inputs, pairs)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(self._axes, self.padding):
            shape[axis] = None if shape[axis] is None else shape[axis] + before + after
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding
        return config


class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps (``keras.layers.ZeroPadding1D(padding=2)``).

    >>> keras.layers.ZeroPadding1D((1, 2))(np.ones((2, 5, 3))).shape
    TensorShape([2, 8, 3])
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding[0]  # Keras's 1-D form: (before, after)
        return config


class ZeroPadding2D(_ZeroPadding):
    """Rows and columns of zeros around images (``keras.layers.ZeroPadding2D(((1, 0), (2, 2)))``);
    an int or (rows, cols) pads both sides equally.

    >>> keras.layers.ZeroPadding2D(1)(np.ones((1, 28, 28, 3))).shape
    TensorShape([1, 30, 30, 3])
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Zero padding of volumes (``keras.layers.ZeroPadding3D(1)``).

    >>> keras.layers.ZeroPadding3D(1)(np.ones((1, 4, 4, 4, 2))).shape
    TensorShape([1, 6, 6, 6, 2])
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


# -- cropping ------------------------------------------------------------------------------------

class _Cropping(_Spatial):
    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = conv_utils.normalize_pairs(cropping, self.rank, "cropping")

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))  # checks the crop fits
        index = [slice(None)] * (self.rank + 2)
        for axis, (before, after) in zip(self._axes, self.cropping):
            index[axis] = slice(before, -after if after else None)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(self._axes, self.cropping):
            if shape[axis] is None:
                continue
            if before + after >= shape[axis]:
                raise ValueError(f"Values in `cropping` argument of layer '{self.name}' should "
                                 f"be smaller than the corresponding spatial dimension of the "
                                 f"input. Received: input_shape={shape_str(input_shape)}, "
                                 f"cropping={self.cropping}")
            shape[axis] -= before + after
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


class Cropping1D(_Cropping):
    """Cuts steps off both ends (``keras.layers.Cropping1D((1, 2))``).

    >>> keras.layers.Cropping1D((1, 2))(np.ones((2, 8, 3))).shape
    TensorShape([2, 5, 3])
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]  # Keras's Cropping1D is channels-last only
        config["cropping"] = self.cropping[0]
        return config


class Cropping2D(_Cropping):
    """Cuts rows and columns off the borders (``keras.layers.Cropping2D(((2, 2), (4, 4)))``).

    >>> keras.layers.Cropping2D(((1, 1), (2, 2)))(np.ones((1, 8, 8, 3))).shape
    TensorShape([1, 6, 4, 3])
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Cropping of volumes (``keras.layers.Cropping3D(1)``).

    >>> keras.layers.Cropping3D(1)(np.ones((1, 4, 4, 4, 2))).shape
    TensorShape([1, 2, 2, 2, 2])
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


# -- upsampling ----------------------------------------------------------------------------------

def _merge_with_next(x, axis):
    """``x`` with dims ``axis`` and ``axis + 1`` merged into one."""
    static = list(x.shape)
    merged = None if None in static[axis:axis + 2] else static[axis] * static[axis + 1]
    dims = static[:axis] + [merged] + static[axis + 2:]
    if dims.count(None) > 1:
        # reshape takes one -1 (the merged dim when unknown): read the others at run time
        dynamic = shape_of(x)
        free = axis if merged is None else dims.index(None)
        dims = [d if d is not None or i == free else dynamic[i if i < axis else i + 1]
                for i, d in enumerate(dims)]
    return reshape(x, [-1 if d is None else d for d in dims])


def repeat_axis(x, times: int, axis: int):
    """Each entry of ``x`` along ``axis`` repeated ``times`` times (nearest upsampling)."""
    if times == 1:
        return x
    multiples = [1] * (len(x.shape) + 1)
    multiples[axis + 1] = times
    return _merge_with_next(tile(expand_dims(x, axis + 1), multiples), axis)


def _take(x, axis, start, stop):
    index = [slice(None)] * len(x.shape)
    index[axis] = slice(start, stop)
    return x[tuple(index)]


def bilinear_axis(x, times: int, axis: int):
    """Linear interpolation by an integer factor along ``axis`` with half-pixel centres and
    clamped edges (``tf.image.resize(..., "bilinear")`` along one axis)."""
    if times == 1:
        return x
    # output k * times + r samples the input at k + offset_r: a fixed two-tap blend of
    # neighbours; edge replication makes the clamping at the borders automatic
    padded = concat([_take(x, axis, 0, 1), x, _take(x, axis, -1, None)], axis=axis)
    before, here, after = (_take(padded, axis, 0, -2), _take(padded, axis, 1, -1),
                           _take(padded, axis, 2, None))
    phases = []
    for r in range(times):
        offset = (2 * r + 1 - times) / (2 * times)
        if offset >= 0:
            phases.append(here * (1 - offset) + after * offset if offset else here)
        else:
            phases.append(before * -offset + here * (1 + offset))
    return _merge_with_next(stack(phases, axis=axis + 1), axis)


class _UpSampling(_Spatial):
    _interpolations = ("nearest",)

    def __init__(self, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = conv_utils.normalize_tuple(size, self.rank, "size")
        if interpolation not in self._interpolations:
            from neuroflow.keras.serialization import unknown_name_error
            raise unknown_name_error("interpolation", interpolation, self._interpolations)
        self.interpolation = interpolation

    def call(self, inputs):
        resize = bilinear_axis if self.interpolation == "bilinear" else repeat_axis
        for axis, times in zip(self._axes, self.size):
            inputs = resize(inputs, times, axis)
        return inputs

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, times in zip(self._axes, self.size):
            shape[axis] = None if shape[axis] is None else shape[axis] * times
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


class UpSampling1D(_UpSampling):
    """Repeats each step ``size`` times (``keras.layers.UpSampling1D(2)``).

    >>> keras.layers.UpSampling1D(3)(np.ones((2, 4, 3))).shape
    TensorShape([2, 12, 3])
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]  # Keras's UpSampling1D is channels-last only
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Enlarges images by integer factors (``keras.layers.UpSampling2D((2, 2))``):
    interpolation 'nearest' repeats rows and columns, 'bilinear' interpolates
    (half-pixel centres, as ``tf.image.resize``).

    >>> keras.layers.UpSampling2D(2, interpolation="bilinear")(np.ones((1, 7, 7, 3))).shape
    TensorShape([1, 14, 14, 3])
    """

    rank = 2
    _interpolations = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(_UpSampling):
    """Repeats the voxels of volumes (``keras.layers.UpSampling3D((2, 2, 2))``).

    >>> keras.layers.UpSampling3D(2)(np.ones((1, 2, 2, 2, 3))).shape
    TensorShape([1, 4, 4, 4, 3])
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)


__all__ = ["ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D",
           "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D"]
