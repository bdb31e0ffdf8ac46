"""Geometric augmentation layers (Keras 3): RandomRotation, RandomTranslation, RandomZoom.

Each draws one transform per image and resamples the whole batch with one projective
transform (``image_transform.transform_images``); see augmentation.py for the shared
training / inference and seeding rules.
"""
from __future__ import annotations

import math

from neuroflow.keras.layers.augmentation import (
    BaseImageAugmentationLayer,
    factor_config,
    factor_range,
    float_dim,
    transform_rows,
)
from neuroflow.keras.layers.augmentation import dim as _dim
from neuroflow.keras.layers.image_transform import (
    check_fill_mode,
    check_interpolation,
    transform_images,
)
from neuroflow.ops import math as _math


class _GeometricLayer(BaseImageAugmentationLayer):
    """A random projective transform per image: fill_mode, interpolation, fill_value."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode = check_fill_mode(fill_mode)
        self.interpolation = check_interpolation(interpolation)
        self.fill_value = float(fill_value)

    def augment(self, images):
        return transform_images(images, self.transforms(images), self.interpolation,
                                self.fill_mode, self.fill_value)

    def transforms(self, images):
        """The (batch, 8) transforms, output pixel -> input point (override)."""
        raise NotImplementedError

    def _draw(self, images, bounds):
        return self._uniform([_dim(images, 0)], *bounds)

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "fill_value": self.fill_value})
        return config


class RandomRotation(_GeometricLayer):
    """Rotates each image by a random angle in training: ``factor`` in fractions of a full
    turn, a number f for [-f, f] or a pair (lower, upper); positive angles turn
    counter-clockwise (``keras.layers.RandomRotation(0.1)``)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = list(factor) if isinstance(factor, (tuple, list)) else factor
        self._bounds = tuple(2 * math.pi * f for f in factor_range(factor, "factor"))

    def transforms(self, images):
        angle = self._draw(images, self._bounds)
        cos, sin = _math.cos(angle), _math.sin(angle)
        w1 = _math.subtract(float_dim(images, 2), 1.0)
        h1 = _math.subtract(float_dim(images, 1), 1.0)
        # rotate about the image centre: the centre maps to itself
        x_offset = _math.multiply(_math.subtract(w1, _math.subtract(
            _math.multiply(cos, w1), _math.multiply(sin, h1))), 0.5)
        y_offset = _math.multiply(_math.subtract(h1, _math.add(
            _math.multiply(sin, w1), _math.multiply(cos, h1))), 0.5)
        return transform_rows(cos, _math.negative(sin), x_offset, sin, cos, y_offset, 0.0, 0.0)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomTranslation(_GeometricLayer):
    """Shifts each image by random fractions of its height and width in training
    (``keras.layers.RandomTranslation(0.1, 0.1)``); positive shifts move it down / right."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = factor_config(height_factor)
        self.width_factor = factor_config(width_factor)
        self._height = factor_range(height_factor, "height_factor")
        self._width = factor_range(width_factor, "width_factor")
        for name, (lower, upper) in (("height_factor", self._height),
                                     ("width_factor", self._width)):
            if lower < -1 or upper > 1:
                raise ValueError(f"`{name}` must have values between [-1, 1]. Received: "
                                 f"{name}={getattr(self, name)}")

    def transforms(self, images):
        dy = _math.multiply(self._draw(images, self._height), float_dim(images, 1))
        dx = _math.multiply(self._draw(images, self._width), float_dim(images, 2))
        return transform_rows(1.0, 0.0, _math.negative(dx), 0.0, 1.0, _math.negative(dy),
                              0.0, 0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor,
                       "width_factor": self.width_factor})
        return config


class RandomZoom(_GeometricLayer):
    """Zooms each image by a random amount in training: positive factors zoom out, negative
    zoom in; ``width_factor=None`` keeps the aspect ratio
    (``keras.layers.RandomZoom(0.2)``)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = factor_config(height_factor)
        self.width_factor = factor_config(width_factor)
        self._height = factor_range(height_factor, "height_factor")
        self._width = None if width_factor is None else factor_range(width_factor,
                                                                  "width_factor")
        for name, bounds in (("height_factor", self._height), ("width_factor", self._width)):
            if bounds is not None and bounds[0] < -1:
                raise ValueError(f"`{name}` argument must have values larger than -1. "
                                 f"Received: {name}={getattr(self, name)}")

    def transforms(self, images):
        zoom_y = _math.add(self._draw(images, self._height), 1.0)
        zoom_x = zoom_y if self._width is None else _math.add(
            self._draw(images, self._width), 1.0)
        # scale about the image centre
        x_offset = _math.multiply(_math.subtract(float_dim(images, 2), 1.0),
                                  _math.multiply(_math.subtract(1.0, zoom_x), 0.5))
        y_offset = _math.multiply(_math.subtract(float_dim(images, 1), 1.0),
                                  _math.multiply(_math.subtract(1.0, zoom_y), 0.5))
        return transform_rows(zoom_x, 0.0, x_offset, 0.0, zoom_y, y_offset, 0.0, 0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor,
                       "width_factor": self.width_factor})
        return config


__all__ = ["RandomRotation", "RandomTranslation", "RandomZoom"]
