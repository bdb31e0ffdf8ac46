"""``Normalization`` (fixed or adapted mean and variance) and ``Rescaling``."""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import convert_to_tensor
from neuroflow.core.tensor import Tensor
from neuroflow.core.variable import Variable
from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.ops import array as _array
from neuroflow.ops import math as _math

_EPSILON = 1e-7  # keras.config.epsilon(): the floor of the standard deviation


def as_float(layer, inputs):
    """``inputs`` in the layer's (floating) dtype: preprocessing layers output floats."""
    if not hasattr(inputs, "dtype"):
        inputs = convert_to_tensor(np.asarray(inputs))
    if dtypes.as_dtype(inputs.dtype).name != layer.dtype:
        inputs = _math.cast(inputs, layer.dtype)
    return inputs


def _to_list(value):
    if value is None:
        return None
    if isinstance(value, (Tensor, Variable)):
        value = value.numpy()
    array = np.asarray(value)
    return array.item() if array.ndim == 0 else array.tolist()


class Normalization(Layer):
    """Shifts and scales inputs to zero mean and unit variance per feature:
    ``(x - mean) / sqrt(variance)`` (``keras.layers.Normalization()``).

    Give ``mean`` and ``variance``, or compute them from data with ``adapt(data)`` (a NumPy
    array, a tensor, or an iterable of batches such as a dataset). ``axis`` names the axes
    that keep their own statistics (None: one mean and variance for everything).
    ``invert=True`` maps normalized values back: ``mean + x * sqrt(variance)``.

    >>> norm = keras.layers.Normalization()
    >>> norm.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
    >>> norm(np.array([[1.0, 20.0]])).numpy()
    array([[0., 0.]], dtype=float32)
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(int(a) for a in axis)
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(f"When setting values directly, both `mean` and `variance` must "
                             f"be set. Received: mean={mean} and variance={variance}")
        self.input_mean = _to_list(mean)
        self.input_variance = _to_list(variance)
        self.invert = bool(invert)
        self.adapt_mean = self.adapt_variance = None

    def build(self, input_shape):
        if input_shape is None:
            raise ValueError("Normalization needs the input shape to build; call it on data "
                             "or adapt() it first.")
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"All `axis` values must be in the range [-ndim, ndim). Received "
                             f"inputs with ndim={ndim}, while axis={self.axis}")
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        shape = tuple(input_shape[d] for d in self._keep_axis)
        if any(d is None for d in shape):
            raise ValueError(f"All `axis` values to be kept must have a known shape. "
                             f"Received axis={self.axis}, inputs.shape={tuple(input_shape)}, "
                             f"with unknown axis at index "
                             f"{[d for d in self._keep_axis if input_shape[d] is None]}")
        self._stats_shape = shape
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1
                                 for d in range(ndim)]
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", shape, "zeros", trainable=False)
            self.adapt_variance = self.add_weight("variance", shape, "ones", trainable=False)
        else:
            self._fixed_mean, self._fixed_variance = (
                np.broadcast_to(np.asarray(v, np.float32), shape).reshape(
                    self._broadcast_shape).copy()
                for v in (self.input_mean, self.input_variance))
        # axes as the user named them, no rank: the statistics broadcast against inputs of
        # other ranks too (adapt on a vector, call on a column), as in Keras
        self.input_spec = InputSpec(axes={a: input_shape[a] for a in self.axis})
        self.built = True

    # -- adapt --------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Computes the mean and variance of ``data`` (array, tensor or iterable of batches).

        Statistics are accumulated batch by batch in float64, so an iterable of batches
        gives the same result as one array holding them all.
        """
        if self.input_mean is not None:
            raise ValueError(f"Cannot adapt Normalization layer '{self.name}': it was "
                             "created with fixed `mean` and `variance`.")
        batches = _batches(data, steps)
        count, mean, m2 = 0, None, None
        for batch in batches:
            if not self.built:
                self._maybe_build_from_shape((None,) + batch.shape[1:])
            self._check_adapt_shape(batch)
            n = int(np.prod([batch.shape[d] for d in self._reduce_axis]))
            if n == 0:
                continue
            batch_mean = np.mean(batch, axis=self._reduce_axis)
            batch_m2 = np.sum(np.square(batch - batch_mean.reshape(self._broadcast_shape)),
                              axis=self._reduce_axis)
            if mean is None:
                count, mean, m2 = n, batch_mean, batch_m2
                continue
            # Chan et al.'s pairwise update: exact for any split into batches
            delta = batch_mean - mean
            total = count + n
            mean = mean + delta * (n / total)
            m2 = m2 + batch_m2 + np.square(delta) * (count * n / total)
            count = total
        if mean is None:
            raise ValueError(f"Normalization layer '{self.name}' got no data to adapt on.")
        self.adapt_mean.assign(np.reshape(mean, self._stats_shape).astype(np.float32))
        self.adapt_variance.assign(np.reshape(m2 / count, self._stats_shape).astype(
            np.float32))

    def _maybe_build_from_shape(self, shape):
        self.build(shape)
        self.built = True

    def _check_adapt_shape(self, batch):
        if batch.ndim != len(self._broadcast_shape):
            raise ValueError(f"Normalization layer '{self.name}' was built for inputs of rank "
                             f"{len(self._broadcast_shape)}, but adapt() got a batch of shape "
                             f"{batch.shape}")
        for d in self._keep_axis:
            if batch.shape[d] != self._broadcast_shape[d]:
                raise ValueError(f"Normalization layer '{self.name}' expects axis {d} of size "
                                 f"{self._broadcast_shape[d]}, but adapt() got a batch of "
                                 f"shape {batch.shape}")

    # -- call ---------------------------------------------------------------------------
    def _mean_and_std(self):
        if self.input_mean is not None:
            mean, variance = self._fixed_mean, self._fixed_variance
        else:
            mean = _array.reshape(self.adapt_mean, self._broadcast_shape)
            variance = _array.reshape(self.adapt_variance, self._broadcast_shape)
        return mean, _math.maximum(_math.sqrt(variance), _EPSILON)

    def call(self, inputs):
        inputs = as_float(self, inputs)
        mean, std = self._mean_and_std()
        if self.invert:
            return _math.add(mean, _math.multiply(inputs, std))
        return _math.divide(_math.subtract(inputs, mean), std)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "invert": self.invert, "mean": self.input_mean,
                       "variance": self.input_variance})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("axis") is not None:
            config["axis"] = tuple(config["axis"])
        return cls(**config)


def _batches(data, steps):
    """The data as a list of float64 NumPy batches."""
    if isinstance(data, (Tensor, Variable)):
        return [np.asarray(data.numpy(), np.float64)]
    if isinstance(data, (np.ndarray, list, tuple, float, int)):
        return [np.asarray(data, np.float64)]
    try:
        iterator = iter(data)
    except TypeError:
        raise TypeError(f"adapt() expects a NumPy array, a tensor or an iterable of batches; "
                        f"got {type(data).__name__}") from None
    out = []
    for i, batch in enumerate(iterator):
        if steps is not None and i >= steps:
            break
        if isinstance(batch, tuple):
            raise ValueError("adapt() expects batches of features only; got a tuple (did the "
                             "dataset include labels? map it to the features first)")
        out.append(np.asarray(batch.numpy() if hasattr(batch, "numpy") else batch,
                              np.float64))
    return out


class Rescaling(Layer):
    """``inputs * scale + offset``, as floats (``keras.layers.Rescaling(1.0 / 255)``).

    >>> keras.layers.Rescaling(1.0 / 255)(np.array([[0, 255]])).numpy()
    array([[0., 1.]], dtype=float32)
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _to_list(scale)
        self.offset = _to_list(offset)

    def call(self, inputs):
        inputs = as_float(self, inputs)
        dtype = dtypes.as_dtype(self.dtype).np_dtype
        scale = np.asarray(self.scale, dtype)
        offset = np.asarray(self.offset, dtype)
        outputs = _math.multiply(inputs, scale) if not np.all(scale == 1) else inputs
        return _math.add(outputs, offset) if np.any(offset != 0) else outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config


__all__ = ["Normalization", "Rescaling"]
