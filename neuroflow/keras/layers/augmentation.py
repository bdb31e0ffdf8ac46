"""Image augmentation layers (Keras 3): the shared base, RandomFlip, RandomContrast and
RandomCrop here; RandomRotation, RandomTranslation and RandomZoom in augmentation_geometric.py.

They change images only in training (``training=True``, as in ``fit``); at inference they
pass images through as floats, except ``RandomCrop``, which then center-crops to the target
aspect ratio and resizes. Each call draws fresh random values, per image, in one vectorised
op (flips: a ``where`` over the batch; geometric layers: one projective transform of the
whole batch, ``image_transform.transform_images``), so a compiled train step draws new
values every step. A layer given ``seed=`` owns its random stream (as Keras's
``SeedGenerator``): two layers with the same seed make the same draws, whatever the global
seed; without a seed, draws follow ``nf.random``'s global seed.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.tensor import Tensor
from neuroflow.keras.layers.conv_utils import standardize_data_format
from neuroflow.keras.layers.image_transform import transform_images
from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.keras.layers.preprocessing import as_float
from neuroflow.keras.serialization import unknown_name_error
from neuroflow.ops import array as _array
from neuroflow.ops import math as _math
from neuroflow.ops import random as _random
from neuroflow.ops.random_seed import DEFAULT_GRAPH_SEED, RandomStream
from neuroflow.ops.reduce import reduce_mean


def dim(x, axis):
    """A dimension of ``x``: an int when static, else a scalar int32 tensor."""
    d = x.shape[axis]
    return d if d is not None else _array.shape(x)[axis]


def float_dim(x, axis):
    d = x.shape[axis]
    return float(d) if d is not None else _math.cast(_array.shape(x)[axis], "float32")


def factor_range(factor, name):
    """(lower, upper) from a number (-f, f) or a pair, checked as Keras checks it."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"The `{name}` argument should be a number or a tuple of 2 "
                             f"numbers. Received: {name}={factor}")
        lower, upper = float(factor[0]), float(factor[1])
    else:
        lower, upper = -float(factor), float(factor)
    if upper < lower:
        raise ValueError(f"`{name}` cannot have upper bound less than lower bound. "
                         f"Received: {name}={factor}")
    return lower, upper


class BaseImageAugmentationLayer(Layer):
    """Shared plumbing: seeded draws, float NHWC batches (3-D inputs and channels_first
    handled here), and the training / inference switch."""

    changes_at_inference = False

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.data_format = standardize_data_format(data_format)
        self._stream = None if seed is None else RandomStream(DEFAULT_GRAPH_SEED, int(seed))
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)

    def _uniform(self, shape, minval=0.0, maxval=1.0):
        """Uniform [minval, maxval) float32 draws of ``shape`` (ints or scalar tensors)."""
        if self._stream is None:
            draws = _random.uniform(shape)
        else:
            dims, static = _random._shape_input(list(shape))
            attrs = {"static_shape": static} if static is not None else {}
            draws = _random._uniform(dims, dtype=dtypes.float32, stream=self._stream,
                                     name="RandomUniform", **attrs)
        if minval == 0.0 and maxval == 1.0:
            return draws
        return _math.add(_math.multiply(draws, maxval - minval), minval)

    def call(self, inputs, training=None):
        images = as_float(self, inputs)
        if not training and not self.changes_at_inference:
            return images
        unbatched = images.shape.rank == 3
        x = _array.expand_dims(images, 0) if unbatched else images
        if self.data_format == "channels_first":
            x = _array.transpose(x, [0, 2, 3, 1])
        x = self.augment(x) if training else self.infer(x)
        if self.data_format == "channels_first":
            x = _array.transpose(x, [0, 3, 1, 2])
        return _array.squeeze(x, [0]) if unbatched else x

    def augment(self, images):
        """The training transformation of a float NHWC batch (override)."""
        raise NotImplementedError

    def infer(self, images):
        return images

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


class RandomFlip(BaseImageAugmentationLayer):
    """Flips each image left-right and / or up-down with probability 1/2 in training
    (``keras.layers.RandomFlip("horizontal")``)."""

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in self._MODES:
            raise unknown_name_error("RandomFlip mode", mode, self._MODES)
        self.mode = mode

    def augment(self, images):
        batch = dim(images, 0)
        for flag, axis in (("horizontal", 2), ("vertical", 1)):
            if flag in self.mode:
                flip = _array.reshape(_math.less(self._uniform([batch]), 0.5), [-1, 1, 1, 1])
                images = _math.where(flip, _array.reverse(images, [axis]), images)
        return images

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


def transform_rows(*columns):
    """(batch, 8) transforms from eight columns: batch tensors or Python numbers."""
    like = next((c for c in columns if isinstance(c, Tensor)), None)
    if like is None:
        return np.array([columns], np.float32)
    zero = _math.multiply(like, 0.0)
    return _array.stack([c if isinstance(c, Tensor) else _math.add(zero, float(c))
                         for c in columns], axis=1)


def factor_config(factor):
    return list(factor) if isinstance(factor, (tuple, list)) else factor


class RandomContrast(BaseImageAugmentationLayer):
    """Scales each image's deviation from its per-channel mean by a random factor in
    [1 - lower, 1 + upper] in training, then clips to ``value_range``
    (``keras.layers.RandomContrast(0.2)``)."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        lower, upper = (factor if isinstance(factor, (tuple, list)) else (factor, factor))
        if lower < 0 or upper < 0 or lower > 1:
            raise ValueError(f"`factor` argument cannot have negative values or values "
                             f"greater than 1. Received: factor={factor}")
        self.factor = factor_config(factor)
        self._bounds = (1.0 - float(lower), 1.0 + float(upper))
        self.value_range = list(value_range)

    def augment(self, images):
        factor = _array.reshape(self._uniform([dim(images, 0)], *self._bounds),
                                [-1, 1, 1, 1])
        mean = reduce_mean(images, [1, 2], keepdims=True)
        out = _math.add(_math.multiply(_math.subtract(images, mean), factor), mean)
        return _math.clip_by_value(out, float(self.value_range[0]),
                                   float(self.value_range[1]))

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        del config["data_format"]
        return config


def _resize_scale(size, target):
    """Resizing ``size`` pixels to ``target`` with half-pixel centres reads input
    ``(output + 0.5) * scale - 0.5``: (scale, offset), numbers or shape-[1] tensors."""
    if isinstance(size, Tensor):
        scale = _array.reshape(_math.divide(_math.cast(size, "float32"), float(target)), [1])
        return scale, _math.subtract(_math.multiply(scale, 0.5), 0.5)
    scale = size / target
    return scale, 0.5 * scale - 0.5


class RandomCrop(BaseImageAugmentationLayer):
    """Crops a random ``height`` x ``width`` window (one location for the whole batch) in
    training; at inference, and in training for images smaller than the target, crops the
    centred window of the target aspect ratio and resizes it (bilinear, half-pixel centres)
    (``keras.layers.RandomCrop(24, 24)``)."""

    changes_at_inference = True

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.height, self.width = int(height), int(width)
        if self.height <= 0 or self.width <= 0:
            raise ValueError(f"RandomCrop needs a positive height and width. Received: "
                             f"height={height}, width={width}")

    def augment(self, images):
        h, w = images.shape[1], images.shape[2]
        static = h is not None and w is not None
        if static and (h < self.height or w < self.width):
            return self.infer(images)
        offsets = []
        for axis, size in ((1, self.height), (2, self.width)):
            room = _math.add(_math.subtract(float_dim(images, axis), float(size)), 1.0)
            start = _math.floor(_math.multiply(self._uniform([1]), room))
            offsets.append(_math.maximum(_math.minimum(start, _math.subtract(room, 1.0)),
                                         0.0))
        # whole-pixel shifts: nearest interpolation reads the window exactly
        shift = transform_rows(1.0, 0.0, offsets[1], 0.0, 1.0, offsets[0], 0.0, 0.0)
        crop = transform_images(images, shift, "nearest", "nearest",
                                output_shape=(self.height, self.width))
        if static:
            return crop
        # sizes known only at run time: choose per batch
        fits = _math.logical_and(
            _math.greater_equal(float_dim(images, 1), float(self.height)),
            _math.greater_equal(float_dim(images, 2), float(self.width)))
        return _math.where(fits, crop, self.infer(images))

    def infer(self, images):
        """The centred window of the target aspect ratio, resized (as
        ``keras.ops.image.resize(..., crop_to_aspect_ratio=True)``)."""
        h, w = images.shape[1], images.shape[2]
        if (h, w) == (self.height, self.width):
            return images
        if h is not None and w is not None:
            crop_h = max(min(h, int(w * self.height / self.width)), 1)
            crop_w = max(min(w, int(h * self.width / self.height)), 1)
            top, left = (h - crop_h) // 2, (w - crop_w) // 2
        else:
            hf, wf = float_dim(images, 1), float_dim(images, 2)
            crop_hf = _math.maximum(_math.minimum(
                hf, _math.floor(_math.multiply(wf, self.height / self.width))), 1.0)
            crop_wf = _math.maximum(_math.minimum(
                wf, _math.floor(_math.multiply(hf, self.width / self.height))), 1.0)
            crop_h, crop_w, top, left = (_math.cast(v, "int32") for v in (
                crop_hf, crop_wf, _math.floor(_math.multiply(_math.subtract(hf, crop_hf), 0.5)),
                _math.floor(_math.multiply(_math.subtract(wf, crop_wf), 0.5))))
        window = images[:, top:top + crop_h, left:left + crop_w]
        scale_y, offset_y = _resize_scale(crop_h, self.height)
        scale_x, offset_x = _resize_scale(crop_w, self.width)
        transforms = transform_rows(scale_x, 0.0, offset_x, 0.0, scale_y, offset_y, 0.0, 0.0)
        return transform_images(window, transforms, "bilinear", "nearest",
                                output_shape=(self.height, self.width))

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        rows, cols = (-3, -2) if self.data_format == "channels_last" else (-2, -1)
        shape[rows], shape[cols] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width})
        return config


__all__ = ["RandomFlip", "RandomContrast", "RandomCrop"]
