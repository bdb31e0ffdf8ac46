"""Layer normalization as fused primitives (``nf.nn.layer_normalization``, re-exported by
normalization.py): Keras's ``LayerNormalization`` calls it.

``LayerNorm`` returns the output, the mean and the reciprocal standard deviation (the last
two for its gradient, which so needs no recomputation). ``LayerNormGrad`` is the fused
first-order backward kernel. Its own gradient (second order and up) differentiates the
same maths composed from ops (``_layer_norm_grad_composed``) under a tape, so higher orders
stay exact without a hand-written second derivative; the tests check the fused kernels
against that composition.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes, jit, threads
from neuroflow.core import fusion
from neuroflow.core.context import ctx
from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tape import GradientTape
from neuroflow.core.tensor import EagerTensor, shape_str
from neuroflow.ops import array as _array
from neuroflow.ops import compiled
from neuroflow.ops import math as _math
from neuroflow.ops.broadcast import unbroadcast
from neuroflow.ops.conv_runtime import outputs as _recycled
from neuroflow.ops.reduce import reduce_mean, reduce_sum
from neuroflow.ops.shapes import broadcast_shapes, normalize_axis


def _sum_to(a, shape):
    """Sums ``a`` over the axes along which ``shape`` was broadcast to a's shape."""
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape)
                                      if d == 1 and a.shape[lead + i] != 1)
    return (np.sum(a, axis=axes, keepdims=True) if axes else a).reshape(shape)


def _split_params(params, has_gamma, has_beta):
    params = list(params)
    gamma = params.pop(0) if has_gamma else None
    beta = params.pop(0) if has_beta else None
    return gamma, beta


# -- forward ------------------------------------------------------------------------------


def _layer_norm_spec(x, *params, axis, epsilon, has_gamma, has_beta):
    if x.shape.rank is None:
        return [Spec(None, x.dtype)] * 3
    out = broadcast_shapes(x.shape, *(p.shape for p in params))
    stats = [1 if i in axis else d for i, d in enumerate(x.shape)]
    return [Spec(out, x.dtype), Spec(stats, x.dtype), Spec(stats, x.dtype)]


@primitive("LayerNorm", shape=_layer_norm_spec, num_outputs=3)
def _layer_norm(x, *params, axis, epsilon, has_gamma, has_beta):
    gamma, beta = _split_params(params, has_gamma, has_beta)
    if x.dtype == np.float32 and x.size and _trailing(axis, x.ndim) and jit.available() \
            and all(_per_row(p, x, len(axis)) for p in (gamma, beta)):
        return _layer_norm_compiled(x, gamma, beta, axis, epsilon)
    work = x.astype(np.float32) if x.dtype == np.float16 else x
    if _trailing(axis, x.ndim):
        # (rows, n) view: einsum reduces without a temporary
        rows = work.reshape(-1, _count(x, axis))
        mean = rows.sum(axis=1, keepdims=True) / rows.shape[1]
        y = rows - mean
        variance = np.einsum("ri,ri->r", y, y)[:, None] / rows.shape[1]  # two-pass: stable
        stats_shape = x.shape[:x.ndim - len(axis)] + (1,) * len(axis)
        y = y.reshape(x.shape)
        mean, variance = mean.reshape(stats_shape), variance.reshape(stats_shape)
    else:
        mean = np.mean(work, axis=axis, keepdims=True)
        y = work - mean
        variance = np.mean(np.square(y), axis=axis, keepdims=True)
    rstd = 1.0 / np.sqrt(variance + np.asarray(epsilon, work.dtype))
    y *= rstd
    for p, fn in ((gamma, np.multiply), (beta, np.add)):
        if p is not None:
            y = fn(y, p, out=y) if np.broadcast_shapes(y.shape, p.shape) == y.shape else fn(y, p)
    return y.astype(x.dtype, copy=False), mean.astype(x.dtype), rstd.astype(x.dtype)


def _layer_norm_compiled(x, gamma, beta, axis, epsilon, residual=None):
    """Float32 over trailing axes, with per-row parameters: one compiled pass per row,
    rows split over the threads (a transformer's [32, 128, 384]: 2.9 -> 0.8 ms); of
    x + ``residual`` when one is given (same shape)."""
    n = _count(x, axis)
    rows = np.ascontiguousarray(x).reshape(-1, n)
    other = (np.empty((0, n), x.dtype) if residual is None
             else np.ascontiguousarray(residual).reshape(-1, n))
    out = _recycled.empty(x.shape, x.dtype)
    stats_shape = x.shape[:x.ndim - len(axis)] + (1,) * len(axis)
    mean, rstd = np.empty(stats_shape, x.dtype), np.empty(stats_shape, x.dtype)
    none = np.empty(0, x.dtype)
    g = none if gamma is None else np.ascontiguousarray(gamma, x.dtype).reshape(-1)
    b = none if beta is None else np.ascontiguousarray(beta, x.dtype).reshape(-1)
    out_rows, mean_rows, rstd_rows = out.reshape(rows.shape), mean.reshape(-1), rstd.reshape(-1)
    eps = np.float32(epsilon)
    threads.run(lambda lo, hi: compiled.layer_norm_rows(rows, g, b, out_rows, mean_rows,
                                                        rstd_rows, eps, lo, hi, other),
                threads.split(len(rows), threads.MIN_SPLIT // n + 1, always=True))
    return out, mean, rstd


def _add_layer_norm(x, residual, *params, axis, epsilon, has_gamma, has_beta):
    """LayerNorm(x + residual): the sum made row by row in the normalizing pass."""
    gamma, beta = _split_params(params, has_gamma, has_beta)
    if x.dtype == np.float32 and residual.dtype == np.float32 and x.shape == residual.shape \
            and x.size and _trailing(axis, x.ndim) and jit.available() \
            and all(_per_row(p, x, len(axis)) for p in (gamma, beta)):
        return _layer_norm_compiled(x, gamma, beta, axis, epsilon, residual)
    return _layer_norm.kernel(x + residual, *params, axis=axis, epsilon=epsilon,
                              has_gamma=has_gamma, has_beta=has_beta)


_ADD_LAYER_NORM = fusion.FusedDef("_FusedAddLayerNorm", _add_layer_norm, num_outputs=3)


def _fuse_add_layer_norm(op, inputs, chain):
    """LayerNorm of an AddV2 that nothing else reads (a transformer's residual connection
    at inference; training's gradient reads the sum too), in float32."""
    if op.type != "LayerNorm" or op.outputs[0].dtype != dtypes.float32:
        return None
    add = chain(inputs[0], "AddV2")
    if add is None:
        return None
    return fusion.Fused(_ADD_LAYER_NORM, add[1] + tuple(inputs[1:]), dict(op.attrs),
                        [add[0], op])


fusion.RULES.append(_fuse_add_layer_norm)


def _trailing(axis, rank):
    return axis == tuple(range(rank - len(axis), rank))


def _count(x, axis):
    return int(np.prod([x.shape[i] for i in axis]))


def _per_row(p, x, k):
    """Whether parameter ``p`` varies only along x's last ``k`` axes (and spans them)."""
    if p is None:
        return True
    shape = (1,) * (x.ndim - p.ndim) + p.shape
    return all(d == 1 for d in shape[:-k]) and shape[-k:] == x.shape[-k:]


def _is_zero_gradient(g):
    """A gradient the engine filled in for an unused output (cheap to tell; skip its work)."""
    if isinstance(g, EagerTensor):
        # with tapes recording, a zero value may still carry a derivative: keep the terms
        return not ctx.tapes and not np.any(g._value)
    return g.op.type == "ZerosLike"


@_layer_norm.defgrad
def _layer_norm_grad(op, dy, dmean, drstd):
    x, *params = op.inputs
    _, mean, rstd = op.outputs
    a = op.attrs
    axis = a["axis"]
    dx, dgamma, dbeta = _layer_norm_backward(dy, x, mean, rstd, *params, axis=axis,
                                             has_gamma=a["has_gamma"], has_beta=a["has_beta"])
    # the statistics are outputs too: their gradients matter from the second order on
    count = _axis_count(x, axis)
    if not _is_zero_gradient(dmean):
        dx = _math.add(dx, _math.divide(dmean, count))
    if not _is_zero_gradient(drstd):
        # rstd = (var + eps)^-1/2 and dvar/dx = 2 (x - mean) / n give -rstd^2 xhat / n
        xhat = _math.multiply(_math.subtract(x, mean), rstd)
        dx = _math.subtract(dx, _math.multiply(
            xhat, _math.divide(_math.multiply(drstd, _math.multiply(rstd, rstd)), count)))
    grads = [dx]
    if a["has_gamma"]:
        grads.append(dgamma)
    if a["has_beta"]:
        grads.append(dbeta)
    return grads


def _axis_count(x, axis):
    dims = [x.shape[i] for i in axis]
    if all(d is not None for d in dims):
        return float(np.prod(dims))
    sizes = _math.cast(_array.size(x), x.dtype)
    return _math.divide(sizes, _math.cast(_array.size(reduce_sum(x, axis)), x.dtype))


# -- backward -----------------------------------------------------------------------------


def _backward_spec(dy, x, mean, rstd, *params, axis, has_gamma, has_beta):
    gamma, beta = _split_params(params, has_gamma, has_beta)
    return [Spec(x.shape, x.dtype), Spec([] if gamma is None else gamma.shape, x.dtype),
            Spec([] if beta is None else beta.shape, x.dtype)]


@primitive("LayerNormGrad", shape=_backward_spec, num_outputs=3)
def _layer_norm_backward(dy, x, mean, rstd, *params, axis, has_gamma, has_beta):
    """dx, dgamma, dbeta (zeros of shape () for absent parameters)."""
    gamma, beta = _split_params(params, has_gamma, has_beta)
    work = np.float32 if x.dtype == np.float16 else x.dtype
    dy, rstd = dy.astype(work, copy=False), rstd.astype(work, copy=False)
    xhat = x - mean.astype(work, copy=False)
    xhat *= rstd
    g = dy * gamma if gamma is not None else dy.copy()
    n = _count(x, axis)
    if (dy.shape == x.shape and _trailing(axis, x.ndim) and _per_row(gamma, x, len(axis))
            and _per_row(beta, x, len(axis))):
        # (rows, n) views: einsum contracts without temporaries
        dx, xhat_rows, dy_rows = g.reshape(-1, n), xhat.reshape(-1, n), dy.reshape(-1, n)
        g_mean = dx.sum(axis=1, keepdims=True) / n
        gx_mean = np.einsum("ri,ri->r", dx, xhat_rows)[:, None] / n
        dgamma = None if gamma is None else \
            np.einsum("ri,ri->i", dy_rows, xhat_rows).reshape(gamma.shape)
        dbeta = None if beta is None else dy_rows.sum(axis=0).reshape(beta.shape)
        rstd = rstd.reshape(-1, 1)
    else:
        dx = g
        g_mean = np.sum(g, axis=axis, keepdims=True) / n
        gx_mean = np.sum(g * xhat, axis=axis, keepdims=True) / n
        dgamma = None if gamma is None else _sum_to(dy * xhat, gamma.shape)
        dbeta = None if beta is None else _sum_to(dy, beta.shape)
        xhat_rows = xhat
    dx -= g_mean
    xhat_rows *= gx_mean
    dx -= xhat_rows
    dx *= rstd
    dx = dx.reshape(g.shape)
    if dx.shape != x.shape:  # gamma or beta broadcast the output beyond x
        dx = _sum_to(dx, x.shape)
    none = np.zeros((), x.dtype)
    return (dx.astype(x.dtype, copy=False),
            none if dgamma is None else dgamma.astype(x.dtype, copy=False),
            none if dbeta is None else dbeta.astype(x.dtype, copy=False))


def _layer_norm_grad_composed(dy, x, mean, rstd, *params, axis, has_gamma, has_beta):
    """LayerNormGrad's maths from differentiable ops: the reference for higher orders."""
    gamma, beta = _split_params(params, has_gamma, has_beta)
    s, mul = _math.subtract, _math.multiply
    xhat = mul(s(x, mean), rstd)
    g = dy if gamma is None else mul(dy, gamma)
    inner = s(s(g, reduce_mean(g, axis, keepdims=True)),
              mul(xhat, reduce_mean(mul(g, xhat), axis, keepdims=True)))
    dx = unbroadcast(mul(rstd, inner), x)
    dgamma = None if gamma is None else unbroadcast(mul(dy, xhat), gamma)
    dbeta = None if beta is None else unbroadcast(dy, beta)
    return dx, dgamma, dbeta


@_layer_norm_backward.defgrad
def _layer_norm_backward_grad(op, ddx, ddgamma, ddbeta):
    inputs = list(op.inputs)
    with GradientTape() as tape:
        tape.watch(inputs)
        outs = _layer_norm_grad_composed(*inputs, **op.attrs)
    targets, seeds = [], []
    for out, seed in zip(outs, (ddx, ddgamma, ddbeta)):
        if out is not None:
            targets.append(out)
            seeds.append(seed)
    return tape.gradient(targets, inputs, output_gradients=seeds)


# -- public -------------------------------------------------------------------------------


def _axes(axis, rank):
    if hasattr(axis, "numpy"):
        axis = axis.numpy()
    if isinstance(axis, np.ndarray):
        axis = axis.reshape(-1).tolist() if axis.ndim else int(axis)
    if rank is None:
        raise ValueError("layer_normalization needs an input of known rank")
    return tuple(sorted(normalize_axis(axis, rank)))


def _layer_norm_param(p, x, axis, what):
    p = p if hasattr(p, "dtype") else convert_to_tensor(p, dtype=x.dtype)
    rank = x.shape.rank
    trailing = axis == tuple(range(rank - len(axis), rank))
    if not trailing and p.shape.rank == len(axis):
        # weights over the normalized axes only (as Keras keeps them): align them to x
        dims = iter(p.shape)
        shape = [next(dims) if i in axis else 1 for i in range(rank)]
        p = _array.reshape(p, [-1 if d is None else d for d in shape])
    try:
        broadcast_shapes(p.shape, x.shape)
    except ValueError:
        raise ValueError(f"layer_normalization: {what} of shape {shape_str(p.shape)} does not "
                         f"broadcast against the input of shape {shape_str(x.shape)} "
                         f"(normalized axes {list(axis)})") from None
    return p


def layer_normalization(x, axis=-1, gamma=None, beta=None, epsilon=1e-3, name=None):
    """Normalizes ``x`` over ``axis`` to zero mean and unit variance, then * gamma + beta.

    One fused op (Keras's ``LayerNormalization`` calls it). ``gamma`` and ``beta`` either
    broadcast against ``x`` or have the shape of the normalized axes.

    >>> y = nf.nn.layer_normalization(nf.constant([[1.0, 3.0]]), epsilon=0.0)
    >>> y.numpy()
    array([[-1.,  1.]], dtype=float32)
    """
    x = x if hasattr(x, "dtype") else convert_to_tensor(x)
    if not dtypes.as_dtype(x.dtype).is_floating:
        raise TypeError(f"layer_normalization expects a floating tensor, got "
                        f"{dtypes.as_dtype(x.dtype).name}")
    axis = _axes(axis, x.shape.rank)
    params = [_layer_norm_param(p, x, axis, what)
              for p, what in ((gamma, "gamma"), (beta, "beta")) if p is not None]
    y, _, _ = _layer_norm(x, *params, axis=axis, epsilon=float(epsilon),
                          has_gamma=gamma is not None, has_beta=beta is not None, name=name)
    return y


__all__ = ["layer_normalization"]
