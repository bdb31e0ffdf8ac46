"""Gradient clipping as Keras optimizers apply it (``clipnorm``, ``clipvalue``,
``global_clipnorm``): one op per gradient (one more for the global norm), eager or in graphs.
"""
from __future__ import annotations

import numpy as np

from neuroflow.core.op import Spec, primitive
from neuroflow.ops import math


def _same(g, **attrs):
    return Spec(g.shape, g.dtype)


@primitive("OptimizerClipByNorm", shape=_same, differentiable=False)
def _clip_by_norm(g, clip_norm):
    # Keras: g * c / max(||g||, c), computed in g's dtype; a zero gradient stays zero
    c = g.dtype.type(clip_norm)
    l2sum = np.sum(np.square(g), keepdims=True)
    l2norm = np.sqrt(l2sum) if l2sum.item() > 0 else l2sum
    out = np.multiply(g, c)
    out /= np.maximum(l2norm, c)
    return out


@primitive("OptimizerClipByValue", shape=_same, differentiable=False)
def _clip_by_value(g, clip_value):
    c = g.dtype.type(clip_value)
    return np.clip(g, -c, c)


def _scale_spec(*grads, clip_norm):
    return Spec((), grads[0].dtype)


@primitive("OptimizerGlobalNormScale", shape=_scale_spec, same_dtype=False,
           differentiable=False)
def _global_norm_scale(*grads, clip_norm):
    # Keras: clip_norm * min(1 / norm, 1 / clip_norm), made NaN when the norm is not finite
    dtype = grads[0].dtype.type
    total = dtype(0)
    for g in grads:
        total += dtype(np.sum(np.square(g)))
    norm = np.sqrt(total)
    c = dtype(clip_norm)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = c * np.minimum(dtype(1) / norm, dtype(1) / c) + (norm - norm)
    return np.asarray(scale, dtype=dtype)


def clip_by_norm(grads, clip_norm):
    """Each gradient rescaled to an L2 norm of at most ``clip_norm``."""
    return [g if g is None else _clip_by_norm(g, clip_norm=float(clip_norm)) for g in grads]


def clip_by_value(grads, clip_value):
    """Each gradient element clipped to ``[-clip_value, clip_value]``."""
    return [g if g is None else _clip_by_value(g, clip_value=float(clip_value)) for g in grads]


def clip_by_global_norm(grads, clip_norm):
    """All gradients rescaled together so that their joint L2 norm is at most ``clip_norm``."""
    present = [g for g in grads if g is not None]
    scale = _global_norm_scale(*present, clip_norm=float(clip_norm))
    out = []
    for g in grads:
        if g is None:
            out.append(None)
            continue
        s = scale if g.dtype == scale.dtype else math.cast(scale, g.dtype)
        out.append(math.multiply(g, s))
    return out
