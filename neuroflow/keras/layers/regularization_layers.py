"""Regularization layers: ``Dropout`` and its spatial and Gaussian kin, ``AlphaDropout``,
``GaussianNoise``, ``ActivityRegularization``.

The random layers act only when called with ``training=True`` (``fit`` does; ``None``, the
default, means inference) and are the identity otherwise. They draw through nf.random's
seeded streams (``nf.nn.dropout``, ``nf.random.normal``/``uniform``), so a layer given
``seed=`` is reproducible and a compiled train step draws fresh values every step.
"""
from __future__ import annotations

import math
import numbers

from neuroflow.core.tensor import TensorShape
from neuroflow.keras.layers.conv_utils import standardize_data_format
from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.keras.regularizers import L1L2
from neuroflow.ops import normalization, random
from neuroflow.ops.array import shape as shape_of
from neuroflow.ops.creation import ones_like, zeros_like
from neuroflow.ops.math import add, cast, greater_equal, multiply
from neuroflow.ops.tiling import slice as slice_


def _dims(x):
    """x's shape as a list: static ints where known, scalar tensors (``nf.shape(x)[i]``)
    where not, the form nf.random accepts for a shape."""
    dims = list(x.shape)
    if all(d is not None for d in dims):
        return dims
    dynamic = shape_of(x)
    return [d if d is not None else dynamic[i] for i, d in enumerate(dims)]


def _check_rate(rate, upper_inclusive=True):
    number = isinstance(rate, numbers.Real) and not isinstance(rate, bool)
    if not number or not (0 <= rate <= 1 if upper_inclusive else 0 <= rate < 1):
        bound = "between 0 and 1" if upper_inclusive else "in [0, 1)"
        raise ValueError(f"Invalid value received for argument `rate`. Expected a float "
                         f"value {bound}. Received: rate={rate}")
    return float(rate)


def _noise_template(layer, x, noise_shape):
    """A tensor of ones shaped like the dropout noise: x's dims, with size 1 where
    ``noise_shape`` has 1 (None entries take x's dim, as in Keras)."""
    shape = TensorShape(x.shape)
    if len(noise_shape) != shape.rank:
        raise ValueError(f"Layer '{layer.name}': noise_shape={tuple(noise_shape)} must have "
                         f"one entry per input axis; received input of shape {tuple(shape)}")
    sizes = []
    for want, have in zip(noise_shape, shape):
        if want is None or want == have:
            sizes.append(-1)
        elif want == 1:
            sizes.append(1)
        elif have is None:
            sizes.append(-1)  # checked when the op runs: x and the noise must broadcast
        else:
            raise ValueError(f"Layer '{layer.name}': noise_shape={tuple(noise_shape)} does "
                             f"not broadcast to the input shape {tuple(shape)}: each entry "
                             "must be 1, None or the input's size on that axis")
    return ones_like(slice_(x, [0] * len(sizes), sizes))


def _apply_dropout(layer, inputs, rate, noise_shape, seed):
    if rate >= 1.0:
        return zeros_like(inputs)
    if noise_shape is None:
        return normalization.dropout(inputs, rate, seed=seed)
    mask = normalization.dropout(_noise_template(layer, inputs, noise_shape), rate, seed=seed)
    return multiply(inputs, mask)


class Dropout(Layer):
    """Zeroes each input element with probability ``rate`` during training, scaling the rest
    by ``1 / (1 - rate)``; the identity at inference.

    >>> layer = keras.layers.Dropout(0.5, seed=1)
    >>> sorted(set(layer(nf.ones([100]), training=True).numpy().tolist()))
    [0.0, 2.0]
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate(rate)
        self.noise_shape = None if noise_shape is None else tuple(
            None if d is None else int(d) for d in noise_shape)
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            return _apply_dropout(self, inputs, self.rate, self._noise_shape(inputs), self.seed)
        return inputs

    def _noise_shape(self, inputs):
        return self.noise_shape

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed,
                       "noise_shape": None if self.noise_shape is None
                       else list(self.noise_shape)})
        return config


class _SpatialDropout(Dropout):
    """Drops whole feature maps: one draw per (sample, channel), shared over the other axes."""

    _rank = None

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self._rank)

    def _noise_shape(self, inputs):
        spatial = [1] * (self._rank - 2)
        if self.data_format == "channels_first":
            return [None, None] + spatial
        return [None] + spatial + [None]

    def get_config(self):
        config = Layer.get_config(self)
        config.update({"rate": self.rate, "seed": self.seed, "data_format": self.data_format})
        return config


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of ``(batch, steps, channels)`` sequences.

    >>> keras.layers.SpatialDropout1D(0.2)(nf.ones([2, 5, 3]), training=True).shape
    TensorShape([2, 5, 3])
    """

    _rank = 3

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, data_format="channels_last", seed=seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps of images (``data_format`` as Conv2D's).

    >>> keras.layers.SpatialDropout2D(0.2)(nf.ones([2, 4, 4, 3]), training=True).shape
    TensorShape([2, 4, 4, 3])
    """

    _rank = 4


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole feature maps of volumes (``data_format`` as Conv3D's).

    >>> keras.layers.SpatialDropout3D(0.2)(nf.ones([1, 2, 2, 2, 3]), training=True).shape
    TensorShape([1, 2, 2, 2, 3])
    """

    _rank = 5


class GaussianDropout(Layer):
    """Multiplies inputs by ``N(1, rate / (1 - rate))`` noise during training.

    >>> keras.layers.GaussianDropout(0.2)(nf.ones([3])).numpy()  # inference: identity
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate(rate, upper_inclusive=False)
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            noise = random.normal(_dims(inputs), mean=1.0, stddev=stddev, dtype=inputs.dtype,
                                  seed=self.seed)
            return multiply(inputs, noise)
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` during training.

    >>> keras.layers.GaussianNoise(0.1)(nf.ones([3])).numpy()  # inference: identity
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or \
                not 0 <= stddev <= 1:
            raise ValueError("Invalid value received for argument `stddev`. Expected a float "
                             f"value between 0 and 1. Received: stddev={stddev}")
        self.stddev = float(stddev)
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if training and self.stddev > 0:
            noise = random.normal(_dims(inputs), stddev=self.stddev, dtype=inputs.dtype,
                                  seed=self.seed)
            return add(inputs, noise)
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(Layer):
    """Dropout that keeps SELU activations' mean and variance: dropped units are set to
    SELU's negative saturation, then all are rescaled (training only).

    >>> keras.layers.AlphaDropout(0.1)(nf.ones([3])).numpy()  # inference: identity
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate(rate)
        self.noise_shape = None if noise_shape is None else tuple(
            None if d is None else int(d) for d in noise_shape)
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate <= 0:
            return inputs
        if self.rate >= 1:
            return zeros_like(inputs)
        template = inputs if self.noise_shape is None else \
            _noise_template(self, inputs, self.noise_shape)
        draws = random.uniform(_dims(template), dtype=inputs.dtype, seed=self.seed)
        keep = cast(greater_equal(draws, self.rate), inputs.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        # keep * x + (1 - keep) * alpha_p, rescaled by a and shifted by b
        dropped = add(multiply(inputs, keep), multiply(1.0 - keep, alpha_p))
        return add(multiply(dropped, a), b)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed,
                       "noise_shape": None if self.noise_shape is None
                       else list(self.noise_shape)})
        return config


class ActivityRegularization(Layer):
    """The identity, adding ``l1 * sum(|x|) + l2 * sum(x^2)`` of its input (divided by the
    batch size, as Keras does) to ``layer.losses``.

    >>> layer = keras.layers.ActivityRegularization(l1=0.01)
    >>> _ = layer(nf.ones([2, 3])); float(layer.losses[0])  # 0.01 * 6 / 2
    0.03
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1, self.l2 = float(l1), float(l2)

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config


__all__ = ["Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
           "GaussianDropout", "GaussianNoise", "AlphaDropout", "ActivityRegularization"]
