"""TF1 initializers (``tf.compat.v1.initializers``, ``tf.zeros_initializer``, ...).

An initializer is called as ``init(shape, dtype=None, partition_info=None)`` and returns a
tensor: a graph node when building a graph, so that each run of a variable's initializer
draws afresh (reproducibly, under a graph seed).
"""
from __future__ import annotations

import math

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import constant as _constant
from neuroflow.ops import random as _random


def _shape(shape):
    return tuple(int(d) for d in shape)


def _fans(shape):
    """(fan_in, fan_out) as TF computes them: conv kernels count their receptive field."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None, partition_info=None)``."""

    dtype = dtypes.float32

    def _dtype(self, dtype):
        return dtypes.as_dtype(self.dtype if dtype is None else dtype)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    """All zeros (``tf.zeros_initializer``)."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        return _constant(np.zeros(_shape(shape), dtype.np_dtype))


class Ones(Initializer):
    """All ones (``tf.ones_initializer``)."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        return _constant(np.ones(_shape(shape), dtype.np_dtype))


class Constant(Initializer):
    """A value, broadcast from a scalar or reshaped from a list (``tf.constant_initializer``)."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _constant(self.value, dtype=self._dtype(dtype), shape=_shape(shape))

    def get_config(self):
        return {"value": self.value, "dtype": self.dtype.name}


class RandomNormal(Initializer):
    """Normal samples (``tf.random_normal_initializer``)."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random.normal(_shape(shape), self.mean, self.stddev, self._dtype(dtype),
                              seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed,
                "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """Normal samples redrawn beyond 2 stddev (``tf.truncated_normal_initializer``)."""

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random.truncated_normal(_shape(shape), self.mean, self.stddev,
                                        self._dtype(dtype), seed=self.seed)


class RandomUniform(Initializer):
    """Uniform samples in [minval, maxval) (``tf.random_uniform_initializer``)."""

    def __init__(self, minval=0, maxval=None, seed=None, dtype=dtypes.float32):
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random.uniform(_shape(shape), self.minval, self.maxval, self._dtype(dtype),
                               seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed,
                "dtype": self.dtype.name}


class VarianceScaling(Initializer):
    """Samples scaled to the layer's fan (``tf.variance_scaling_initializer``).

    ``mode``: fan_in, fan_out or fan_avg; ``distribution``: truncated_normal (or its TF1
    alias normal), untruncated_normal, or uniform.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid mode argument: {mode!r}")
        distribution = distribution.lower()
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid distribution argument: {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = _shape(shape)
        dtype = self._dtype(dtype)
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution in ("normal", "truncated_normal"):
            # the stddev of a unit normal truncated to [-2, 2]
            stddev = math.sqrt(scale) / 0.87962566103423978
            return _random.truncated_normal(shape, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return _random.normal(shape, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return _random.uniform(shape, -limit, limit, dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """Uniform in +-sqrt(6 / (fan_in + fan_out)) (``tf.glorot_uniform_initializer``)."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Truncated normal, stddev sqrt(2 / (fan_in + fan_out)) (``tf.glorot_normal_initializer``)."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix, reshaped to ``shape`` (``tf.orthogonal_initializer``)."""

    def __init__(self, gain=1.0, seed=None, dtype=dtypes.float32):
        self.gain, self.seed = gain, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = _random.new_generator(self.seed).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        value = (self.gain * q).reshape(shape).astype(self._dtype(dtype).np_dtype)
        return _constant(value)


def he_normal(seed=None):
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None):
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def global_variables():
    from neuroflow.compat.v1.variables import global_variables_initializer
    return global_variables_initializer()


def local_variables():
    from neuroflow.compat.v1.variables import local_variables_initializer
    return local_variables_initializer()


def variables(var_list, name="init"):
    from neuroflow.compat.v1.variables import variables_initializer
    return variables_initializer(var_list, name)


# tf.compat.v1.initializers.<name> and the top-level tf.<name>_initializer spellings
zeros = zeros_initializer = Zeros
ones = ones_initializer = Ones
constant = constant_initializer = Constant
random_normal = random_normal_initializer = RandomNormal
truncated_normal = truncated_normal_initializer = TruncatedNormal
random_uniform = random_uniform_initializer = RandomUniform
variance_scaling = variance_scaling_initializer = VarianceScaling
glorot_uniform = glorot_uniform_initializer = GlorotUniform
glorot_normal = glorot_normal_initializer = GlorotNormal
orthogonal = orthogonal_initializer = Orthogonal

TOP_LEVEL = ["zeros_initializer", "ones_initializer", "constant_initializer",
             "random_normal_initializer", "truncated_normal_initializer",
             "random_uniform_initializer", "variance_scaling_initializer",
             "glorot_uniform_initializer", "glorot_normal_initializer", "orthogonal_initializer"]
