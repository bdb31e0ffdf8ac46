"""Normalization and dropout (``nf.nn``): moments, batch normalization, l2_normalize, local
response normalization, dropout. Layer normalization (fused primitives, layer_norm.py) and
embedding lookup and top-k (lookup.py) are re-exported here, since ``nf.nn`` star-imports
this module.
"""
from __future__ import annotations

import numbers

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import EagerTensor, shape_str
from neuroflow.ops import math as _math
from neuroflow.ops import random as _random
from neuroflow.ops.broadcast import unbroadcast
from neuroflow.ops.layer_norm import layer_normalization
from neuroflow.ops.lookup import embedding_lookup, in_top_k, top_k
from neuroflow.ops.reduce import reduce_mean, reduce_sum
from neuroflow.ops.shapes import broadcast_shapes, normalize_axis


def _as_tensor(x, dtype=None):
    return x if hasattr(x, "dtype") else convert_to_tensor(x, dtype=dtype)


def _axes(axis, rank, what):
    if hasattr(axis, "numpy"):
        axis = axis.numpy()
    if isinstance(axis, np.ndarray):
        axis = axis.reshape(-1).tolist() if axis.ndim else int(axis)
    if rank is None:
        raise ValueError(f"{what} needs an input of known rank")
    return tuple(sorted(normalize_axis(axis, rank)))


# -- moments and batch normalization ------------------------------------------------------


def moments(x, axes, shift=None, keepdims=False, name=None):
    """Mean and variance of ``x`` over ``axes`` (``nf.nn.moments``); ``shift`` is unused.

    float16 inputs are reduced in float32, as TensorFlow.

    >>> mean, variance = nf.nn.moments(nf.constant([[1.0, 2.0], [3.0, 6.0]]), axes=[0])
    >>> mean.numpy(), variance.numpy()
    (array([2., 4.], dtype=float32), array([1., 4.], dtype=float32))
    """
    x = _as_tensor(x)
    axes = _axes(axes, x.shape.rank, "moments")
    y = _math.cast(x, dtypes.float32) if x.dtype == dtypes.float16 else x
    mean = reduce_mean(y, axes, keepdims=True)
    # TF centres on stop_gradient(mean): the first derivative is the same (d var / d mean is
    # zero), but second derivatives then miss the mean's dependence on x. Not here.
    variance = reduce_mean(_math.squared_difference(y, mean), axes, keepdims=True)
    if not keepdims:
        # summing over the kept size-1 axes drops them (a squeeze that needs no shapes)
        mean, variance = reduce_sum(mean, axes), reduce_sum(variance, axes)
    if y is not x:
        mean, variance = _math.cast(mean, x.dtype), _math.cast(variance, x.dtype)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) * scale / sqrt(variance + epsilon) + offset (``nf.nn.batch_normalization``).

    ``offset`` and ``scale`` may be None; all parameters broadcast against ``x``.

    >>> x = nf.constant([[1.0, 2.0], [3.0, 6.0]])
    >>> nf.nn.batch_normalization(x, 2.0, 1.0, None, None, 0.0).numpy()[0]
    array([-1.,  0.], dtype=float32)
    """
    x = _as_tensor(x)
    inv = _math.rsqrt(_math.add(_as_tensor(variance, x.dtype), variance_epsilon))
    if scale is not None:
        inv = _math.multiply(inv, _as_tensor(scale, x.dtype))
    mean = _as_tensor(mean, x.dtype)
    shift = _math.negative(_math.multiply(mean, inv)) if offset is None else \
        _math.subtract(_as_tensor(offset, x.dtype), _math.multiply(mean, inv))
    return _math.add(_math.multiply(x, _math.cast(inv, x.dtype)), _math.cast(shift, x.dtype),
                     name=name)


# -- l2 and local response normalization --------------------------------------------------


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x ** 2, axis), epsilon)) (``nf.math.l2_normalize``, ``nf.nn``).

    >>> nf.nn.l2_normalize(nf.constant([3.0, 4.0])).numpy()
    array([0.6, 0.8], dtype=float32)
    """
    axis = dim if axis is None else axis
    x = _as_tensor(x)
    axis = None if axis is None else _axes(axis, x.shape.rank, "l2_normalize")
    if dtypes.as_dtype(x.dtype).is_complex:
        from neuroflow.ops.complex import complex, imag, real
        re, im = real(x), imag(x)
        square_sum = reduce_sum(_math.add(_math.square(re), _math.square(im)), axis,
                                keepdims=True)
        inv_norm = _math.rsqrt(_math.maximum(square_sum, epsilon))
        return complex(_math.multiply(re, inv_norm), _math.multiply(im, inv_norm), name=name)
    square_sum = reduce_sum(_math.square(x), axis, keepdims=True)
    inv_norm = _math.rsqrt(_math.maximum(square_sum, epsilon))
    return _math.multiply(x, inv_norm, name=name)


def _window_sum_spec(x, depth_radius):
    return Spec(x.shape, x.dtype)


@primitive("LRNWindowSum", shape=_window_sum_spec)
def _window_sum(x, depth_radius):
    """Sums each element's +-depth_radius neighbours along the last axis (zeros beyond)."""
    out = x.copy()
    for k in range(1, min(depth_radius, x.shape[-1] - 1) + 1):
        out[..., k:] += x[..., :-k]
        out[..., :-k] += x[..., k:]
    return out


@_window_sum.defgrad
def _window_sum_grad(op, dy):
    # the window is symmetric, so the operator is its own adjoint
    return [_window_sum(dy, depth_radius=op.attrs["depth_radius"])]


def local_response_normalization(input, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5,
                                 name=None):
    """x / (bias + alpha * sum of x^2 over +-depth_radius channels) ** beta (``nf.nn.lrn``).

    The input is 4-D (NHWC); the window runs along the last axis.

    >>> nf.nn.local_response_normalization(nf.ones([1, 1, 1, 3]), depth_radius=1).shape
    TensorShape([1, 1, 1, 3])
    """
    x = _as_tensor(input)
    if x.shape.rank is not None and x.shape.rank != 4:
        raise ValueError(f"local_response_normalization expects a 4-D input, got shape "
                         f"{shape_str(x.shape)}")
    if not dtypes.as_dtype(x.dtype).is_floating:
        raise TypeError(f"local_response_normalization expects a floating tensor, got "
                        f"{dtypes.as_dtype(x.dtype).name}")
    radius = int(depth_radius)
    if radius < 0:
        raise ValueError(f"depth_radius must be non-negative, got {radius}")
    base = _math.add(_math.multiply(_window_sum(_math.square(x), depth_radius=radius),
                                    float(alpha)), float(bias))
    scale = _math.rsqrt(base) if beta == 0.5 else _math.pow(base, -float(beta))
    return _math.multiply(x, scale, name=name)


lrn = local_response_normalization


# -- dropout ------------------------------------------------------------------------------


@primitive("Dropout", shape=lambda x, noise, rate: Spec(
    broadcast_shapes(x.shape, noise.shape), x.dtype))
def _dropout(x, noise, rate):
    """Keeps x where noise >= rate, scaled by 1 / (1 - rate); zero elsewhere."""
    keep = (noise >= rate).astype(x.dtype)
    keep *= 1 / (1 - rate)
    return x * keep


@_dropout.defgrad
def _dropout_grad(op, dy):
    # linear in x with the same mask: the gradient is the same op on dy
    x, noise, rate = op.inputs
    return [unbroadcast(_dropout(dy, noise, rate), x), None, None]


def _noise_shape(x, noise_shape):
    if noise_shape is None:
        return None
    if hasattr(noise_shape, "numpy"):
        noise_shape = noise_shape.numpy().tolist()
    dims = list(noise_shape)
    if x.shape.rank is not None and len(dims) == x.shape.rank:
        # TF fills unknown noise dims from x's shape
        dims = [x.shape[i] if d is None else d for i, d in enumerate(dims)]
    if any(d is None for d in dims):
        raise ValueError(f"dropout: noise_shape {noise_shape} has dims that x's shape "
                         f"{shape_str(x.shape)} does not fix")
    return [int(d) for d in dims]


def _known_rate(rate):
    """The rate as a float when it is known now (a number or an eager tensor), else None."""
    if isinstance(rate, EagerTensor):
        rate = rate.numpy()
    if isinstance(rate, (np.ndarray, np.generic)):
        if rate.size != 1:
            raise ValueError(f"rate must be a scalar, got shape {rate.shape}")
        rate = rate.item()
    if isinstance(rate, bool) or not isinstance(rate, (numbers.Real, type(None))):
        if hasattr(rate, "dtype"):
            return None  # symbolic: checked by nobody, as TF
        raise TypeError(f"dropout: rate must be a number or a scalar tensor, got {rate!r}")
    return None if rate is None else float(rate)


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes each element with probability ``rate``, scaling the rest by 1 / (1 - rate).

    ``noise_shape`` (broadcast against x) shares one draw along its size-1 dims. The draws
    come from ``nf.random``'s streams (``random_uniform_like`` / ``uniform``), so ``seed``
    follows TensorFlow's seed rules.

    >>> y = nf.nn.dropout(nf.ones([1000]), rate=0.5, seed=1)
    >>> sorted(set(y.numpy().tolist()))
    [0.0, 2.0]
    """
    x = _as_tensor(x)
    if not dtypes.as_dtype(x.dtype).is_floating:
        raise ValueError(f"x has to be a floating point tensor since it's going to be scaled. "
                         f"Got a {dtypes.as_dtype(x.dtype).name} tensor instead.")
    known = _known_rate(rate)
    if known is not None:
        if not 0 <= known < 1:
            raise ValueError(f"dropout: rate must be a scalar tensor or a float in the range "
                             f"[0, 1), got {known}")
        if known == 0:
            return x
        rate = known
    shape = _noise_shape(x, noise_shape)
    if shape is None:
        noise = _random.random_uniform_like(x, seed=seed)
    else:
        noise = _random.uniform(shape, seed=seed, dtype=x.dtype)
    return _dropout(x, noise, rate, name=name)


__all__ = ["moments", "batch_normalization", "layer_normalization", "l2_normalize",
           "local_response_normalization", "lrn", "dropout", "embedding_lookup", "top_k",
           "in_top_k"]
