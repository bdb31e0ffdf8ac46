"""Pooling (``nf.nn.max_pool2d``, ``avg_pool2d``, their 1-D, 3-D and N-D forms).

Primitives as in TensorFlow: ``MaxPool`` with ``MaxPoolGrad`` (whose gradient is
``MaxPoolGradGrad``, whose gradient is ``MaxPoolGrad`` again), and ``AvgPool`` with
``AvgPoolGrad`` (whose gradient is ``AvgPool``). Kernels take any number of spatial dims and
loop over the kh*kw window taps, each one vectorised array operation over the whole batch;
they work on the unpadded input, so max pooling never sees its padding (as TF: padding
counts as -inf) and average pooling divides by the number of real cells in each window.
Ties in a max-pooling window send the gradient to the first maximum (row-major order).
When a gradient will follow, MaxPool records which tap won each window (in
``conv_runtime.argmax_cache``, keyed by its output) and MaxPoolGrad routes the gradient with
it instead of comparing the input with the output again. Windows that tile the input
(ksize == strides, no padding: the usual 2x2 pooling) take a faster path on reshaped views
(``im2col.max_tiles``, ``route_tiles``), a few batch items at a time; max pooling's outputs
come from ``conv_runtime.outputs`` (recycled).
"""
from __future__ import annotations

import math

import numpy as np

from neuroflow.backend import jit, threads
from neuroflow.core import fusion
from neuroflow.core.context import ctx
from neuroflow.core.graph import Operation
from neuroflow.core.op import Spec, primitive
from neuroflow.core.tensor import Tensor, shape_str
from neuroflow.ops import compiled
from neuroflow.ops.conv_runtime import GradientCache, argmax_cache, outputs
from neuroflow.ops.im2col import (
    assemble,
    channel_dim,
    check_format,
    from_channels_last,
    geometry,
    known_shape,
    max_tiles,
    normalize_padding,
    route_tiles,
    sizes_of,
    spatial_arg,
    spatial_dims,
    static_sizes,
    tap_ranges,
    tile_view,
    to_channels_last,
)

# -- shape rules ---------------------------------------------------------------------------


def _check_rank(shape, n, data_format, what="input"):
    if shape is not None and len(shape) != n + 2:
        raise ValueError(f"{what} must be rank {n + 2} ({data_format}) for a {n}-D pool, got "
                         f"shape {shape_str(shape)}")


def _pool_spec(x, ksize, strides, padding, data_format, keep_argmax=False):
    n = len(ksize)
    xs = known_shape(x.shape)
    _check_rank(xs, n, data_format)
    xs = xs or (None,) * (n + 2)
    out, _ = geometry(spatial_dims(xs, data_format), ksize, strides, (1,) * n, padding)
    return Spec(assemble(xs[0], out, channel_dim(xs, data_format), data_format), x.dtype)


def _like_input(x, *rest, **attrs):
    return Spec(x.shape, x.dtype)


def _like_output(x, y, *rest, **attrs):
    return Spec(y.shape, y.dtype)


def _avg_grad_spec(sizes, dy, ksize, strides, padding, data_format):
    n = len(ksize)
    shape = static_sizes(sizes, n + 2) or (None,) * (n + 2)
    _check_rank(shape, n, data_format, "orig_input_shape")
    dys = known_shape(dy.shape)
    if shape[0] is None and dys is not None:
        shape = (dys[0],) + shape[1:]
    return Spec(shape, dy.dtype)


# -- kernel helpers (channels-last arrays) ---------------------------------------------------


def _layout(in_sizes, ksize, strides, padding):
    n = len(ksize)
    out_sizes, pads = geometry(in_sizes, ksize, strides, (1,) * n, padding)
    taps = list(tap_ranges(ksize, strides, (1,) * n, out_sizes, in_sizes, pads))
    return out_sizes, pads, taps


def _covers(out_idx, out_sizes):
    return all(s.start == 0 and s.stop == o for s, o in zip(out_idx[1:-1], out_sizes))


def _tiles(in_sizes, out_sizes, ksize, strides, pads):
    """True when the windows tile the input exactly: every cell in exactly one window."""
    return all(k == s and o * k == n and lo == hi == 0
               for n, o, k, s, (lo, hi) in zip(in_sizes, out_sizes, ksize, strides, pads))


def _check_grad(dy_shape, out_shape):
    if tuple(dy_shape) != tuple(out_shape):
        raise ValueError(f"the gradient of shape {shape_str(dy_shape)} does not match the "
                         f"pooling output shape {shape_str(out_shape)}")


def _first_max_taps(xc, yc, taps, out_sizes):
    """(out index, in index, mask) per tap; ``mask`` marks the outputs whose first maximum
    (in window order) sits under this tap, so each output picks exactly one input cell."""
    free = None  # outputs whose maximum has not been found yet
    last = len(taps) - 1
    for i, (_, out_idx, in_idx) in enumerate(taps):
        hit = np.equal(xc[in_idx], yc[out_idx])
        if free is None:
            if not _covers(out_idx, out_sizes):
                free = np.ones(yc.shape, dtype=bool)
            else:
                if i != last:
                    free = np.logical_not(hit)
                yield out_idx, in_idx, hit
                continue
        window = free[out_idx]
        np.logical_and(hit, window, out=hit)
        if i != last:
            np.logical_xor(window, hit, out=window)
        yield out_idx, in_idx, hit


def _avg_counts(in_sizes, out_sizes, ksize, strides, pads, dtype):
    """1 / (number of real cells in each window), broadcastable to (*out, 1); a scalar
    when no window touches the padding."""
    if not any(lo or hi for lo, hi in pads):
        return dtype.type(1.0 / math.prod(ksize))
    counts = np.ones((), dtype=np.int64)
    for n, o, k, s, (lo, _) in zip(in_sizes, out_sizes, ksize, strides, pads):
        start = np.arange(o) * s - lo
        per_dim = np.minimum(start + k, n) - np.maximum(start, 0)
        counts = np.multiply.outer(counts, per_dim)
    return (1.0 / counts[..., None]).astype(dtype)


# -- windows that tile the input (k == stride, no padding): reshaped views, no gathers -------

# Kernels over tiling windows (im2col.max_tiles, route_tiles) work through about this many
# input bytes of the batch at a time: a piece's temporaries stay in the core's cache.
PIECE_BYTES = 1 << 20


def _run_pieces(fn, a):
    """``fn(start, stop)`` over the batch of ``a``: split over the threads, and each
    thread's part a piece of about PIECE_BYTES at a time."""
    step = max(1, PIECE_BYTES // max(a[:1].nbytes, 1))

    def part(start, stop):
        for i in range(start, stop, step):
            fn(i, min(i + step, stop))

    threads.run(part, threads.split(a.shape[0], always=True))


# -- max pooling -----------------------------------------------------------------------------


def _compiled(xc, ksize):
    """Whether the compiled 2-D kernels take this pool (``backend.jit``)."""
    return xc.ndim == 4 and xc.dtype.kind == "f" and jit.available()


def _argmax_key(x, ksize, strides, padding, data_format):
    return (id(x), x.shape, x.dtype.str, ksize, strides, padding, data_format)


@primitive("MaxPool", shape=_pool_spec)
def _max_pool(x, ksize, strides, padding, data_format, keep_argmax=False):
    _check_rank(x.shape, len(ksize), data_format)
    xc = to_channels_last(x, data_format)
    out_sizes, pads, taps = _layout(xc.shape[1:-1], ksize, strides, padding)
    keep = keep_argmax or bool(ctx.tapes)  # a gradient is likely to follow
    index_type = np.dtype(np.uint8 if math.prod(ksize) <= 255 else np.int32)
    out = winner = None
    if _tiles(xc.shape[1:-1], out_sizes, ksize, strides, pads):
        shape = (xc.shape[0],) + out_sizes + (xc.shape[-1],)
        out = outputs.empty(shape, x.dtype)
        winner = outputs.empty(shape, index_type) if keep else None
        if _compiled(xc, ksize) and winner is not None and index_type == np.uint8:
            threads.run(lambda a, b: compiled.max_tiles_2d(xc, out, winner, a, b, *ksize),
                        threads.split(xc.shape[0], always=True))
        else:
            xt, tile_taps = tile_view(xc, ksize)
            _run_pieces(lambda a, b: max_tiles(xt, tile_taps, out, winner, a, b), xc)
        taps = ()
    for number, out_idx, in_idx in taps:
        window = xc[in_idx]
        if out is None:
            shape = (xc.shape[0],) + out_sizes + (xc.shape[-1],)
            if _covers(out_idx, out_sizes):
                out = np.array(window)
                winner = np.full(shape, number, index_type) if keep else None
                continue
            lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
            out = np.full(shape, lowest, x.dtype)
            winner = np.zeros(shape, index_type) if keep else None
        target = out[out_idx]
        if keep:  # taps come in increasing order, and only a strictly greater value wins
            won = np.multiply(np.greater(window, target), index_type.type(number),
                              dtype=index_type)
            slot = winner[out_idx]
            np.maximum(slot, won, out=slot)
        np.maximum(target, window, out=target)
    y = from_channels_last(out, data_format)
    if keep:
        argmax_cache.put(y, _argmax_key(x, ksize, strides, padding, data_format), winner,
                         winner.nbytes)
    return y


def _winner_taps(winner, taps):
    """Like ``_first_max_taps``, from the window taps the forward pass saw win."""
    for number, out_idx, in_idx in taps:
        yield out_idx, in_idx, np.equal(winner[out_idx], number)


@primitive("MaxPoolGrad", shape=_like_input)
def _max_pool_grad(x, y, dy, ksize, strides, padding, data_format):
    xc, yc = to_channels_last(x, data_format), to_channels_last(y, data_format)
    dyc = to_channels_last(dy, data_format)
    _check_grad(dy.shape, y.shape)
    in_sizes = xc.shape[1:-1]
    out_sizes, pads, taps = _layout(in_sizes, ksize, strides, padding)
    tiles = _tiles(in_sizes, out_sizes, ksize, strides, pads)
    winner = argmax_cache.get(y, _argmax_key(x, ksize, strides, padding, data_format),
                              take=True)
    dx = outputs.empty(xc.shape, dy.dtype)
    if tiles and winner is not None and winner.shape == yc.shape:
        if _compiled(dx, ksize) and dyc.dtype == dx.dtype:
            threads.run(lambda a, b: compiled.route_tiles_2d(dyc, winner, dx, a, b, *ksize),
                        threads.split(dx.shape[0], always=True))
        else:
            dxt, tile_taps = tile_view(dx, ksize)
            _run_pieces(lambda a, b: route_tiles(dyc, winner, dxt, tile_taps, a, b), dx)
        return from_channels_last(dx, data_format)
    if not tiles:
        dx[...] = 0
    if winner is not None and winner.shape == yc.shape:
        masks = _winner_taps(winner, taps)
    else:
        masks = _first_max_taps(xc, yc, taps, out_sizes)
    for out_idx, in_idx, mask in masks:
        target = dx[in_idx]
        if tiles:  # windows do not overlap: each cell is written once
            np.multiply(dyc[out_idx], mask, out=target)
        else:
            np.add(target, dyc[out_idx] * mask, out=target)
    return from_channels_last(dx, data_format)


# -- ReluGrad(MaxPoolGrad(x, y, dy), x), fused by the compiler -------------------------------


def _fused_max_pool_relu_grad(x, y, dy, ksize, strides, padding, data_format):
    """ReluGrad(MaxPoolGrad(x, y, dy), x) as MaxPoolGrad(x, y, ReluGrad(dy, y)): the
    gradient reaches only each window's winner, whose value is the window's maximum y, so
    the ReLU mask is taken on the pooled values, a quarter of the cells for 2x2 windows
    (the same values, except where a window holds a NaN). The masked gradient is left in
    ``masked_cache`` for a _PooledBiasAddGrad of the same (y, dy) to sum."""
    from neuroflow.ops.activations import _relu_backprop
    masked = _relu_backprop.kernel(dy, y)
    masked_cache.put(dy, id(y), masked, masked.nbytes)
    return _max_pool_grad.kernel(x, y, masked, ksize, strides, padding, data_format)


masked_cache = GradientCache(max_entries=8, max_bytes=1 << 27)


_FUSED_POOL_GRAD = fusion.FusedDef("_FusedMaxPoolReluGrad", _fused_max_pool_relu_grad)


def _pooled_bias_grad(y, dy, data_format):
    """BiasAddGrad(ReluGrad(MaxPoolGrad(x, y, dy), x)) as BiasAddGrad(ReluGrad(dy, y)):
    routing each window's gradient to its winner moves it without changing the sum."""
    from neuroflow.ops.activations import _relu_backprop
    from neuroflow.ops.conv import _bias_add_grad
    masked = masked_cache.get(dy, id(y), take=True)
    if masked is None or masked.shape != dy.shape:
        masked = _relu_backprop.kernel(dy, y)
    return _bias_add_grad.kernel(masked, data_format)


_POOLED_BIAS_GRAD = fusion.FusedDef("_PooledBiasAddGrad", _pooled_bias_grad)


def _fuse_pool_grad(op, inputs, chain):
    if op.type == "BiasAddGrad":
        relu_grad = chain(inputs[0], "ReluGrad", shared=True)
        if relu_grad is None:
            return None
        pool_grad = chain(relu_grad[1][0], "MaxPoolGrad", shared=True)
        if pool_grad is None or pool_grad[1][0] is not relu_grad[1][1] or not _same_layout(
                op.attrs.get("data_format"), pool_grad[0].attrs.get("data_format")):
            return None
        return fusion.Fused(_POOLED_BIAS_GRAD, pool_grad[1][1:],
                            {"data_format": op.attrs.get("data_format")}, [op])
    if op.type != "ReluGrad":
        return None
    pool_grad = chain(inputs[0], "MaxPoolGrad")
    if pool_grad is None or pool_grad[1][0] is not inputs[1]:
        return None
    return fusion.Fused(_FUSED_POOL_GRAD, pool_grad[1], dict(pool_grad[0].attrs),
                        [pool_grad[0], op])


def _same_layout(bias_format, pool_format):
    """Both channels last, or both channels first."""
    first = [f is not None and f.upper().startswith("NC") for f in (bias_format, pool_format)]
    return first[0] == first[1]


fusion.RULES.append(_fuse_pool_grad)
threads.SPLITTING_OPS.update(("MaxPool", "MaxPoolGrad", "_FusedMaxPoolReluGrad"))


@primitive("MaxPoolGradGrad", shape=_like_output)
def _max_pool_grad_grad(x, y, g, ksize, strides, padding, data_format):
    xc, yc = to_channels_last(x, data_format), to_channels_last(y, data_format)
    gc = to_channels_last(g, data_format)
    _check_grad(g.shape, x.shape)
    out_sizes, _, taps = _layout(xc.shape[1:-1], ksize, strides, padding)
    out = np.zeros(yc.shape, g.dtype)
    for out_idx, in_idx, mask in _first_max_taps(xc, yc, taps, out_sizes):
        target = out[out_idx]
        np.add(target, gc[in_idx] * mask, out=target)
    return from_channels_last(out, data_format)


def _pool_attrs(op):
    return {k: op.attrs[k] for k in ("ksize", "strides", "padding", "data_format")}


@_max_pool.defgrad
def _max_pool_backward(op, dy):
    if isinstance(op, Operation):  # graph mode: let the forward kernel keep its argmax
        op.attrs["keep_argmax"] = True
    return [_max_pool_grad(op.inputs[0], op.outputs[0], dy, **_pool_attrs(op))]


@_max_pool_grad.defgrad
def _max_pool_grad_backward(op, g):
    x, y, _ = op.inputs  # piecewise linear: no gradient w.r.t. the input or output values
    return [None, None, _max_pool_grad_grad(x, y, g, **_pool_attrs(op))]


@_max_pool_grad_grad.defgrad
def _max_pool_grad_grad_backward(op, g):
    x, y, _ = op.inputs
    return [None, None, _max_pool_grad(x, y, g, **_pool_attrs(op))]


# -- average pooling -----------------------------------------------------------------------


@primitive("AvgPool", shape=_pool_spec)
def _avg_pool(x, ksize, strides, padding, data_format):
    _check_rank(x.shape, len(ksize), data_format)
    xc = to_channels_last(x, data_format)
    in_sizes = xc.shape[1:-1]
    out_sizes, pads, taps = _layout(in_sizes, ksize, strides, padding)
    total = None
    for _, out_idx, in_idx in taps:
        if total is None:
            if _covers(out_idx, out_sizes):
                total = np.array(xc[in_idx])
                continue
            total = np.zeros((xc.shape[0],) + out_sizes + (xc.shape[-1],), x.dtype)
        target = total[out_idx]
        np.add(target, xc[in_idx], out=target)
    total *= _avg_counts(in_sizes, out_sizes, ksize, strides, pads, x.dtype)
    return from_channels_last(total, data_format)


@primitive("AvgPoolGrad", shape=_avg_grad_spec, same_dtype=False)
def _avg_pool_grad(orig_input_shape, dy, ksize, strides, padding, data_format):
    x_shape = tuple(int(d) for d in orig_input_shape)
    _check_rank(x_shape, len(ksize), data_format, "orig_input_shape")
    dyc = to_channels_last(dy, data_format)
    in_sizes = spatial_dims(x_shape, data_format)
    out_sizes, pads, taps = _layout(in_sizes, ksize, strides, padding)
    x_cl = (x_shape[0],) + in_sizes + (channel_dim(x_shape, data_format),)
    _check_grad(dyc.shape, (x_cl[0],) + out_sizes + (x_cl[-1],))
    share = dyc * _avg_counts(in_sizes, out_sizes, ksize, strides, pads, dy.dtype)
    tiles = _tiles(in_sizes, out_sizes, ksize, strides, pads)
    dx = np.empty(x_cl, dy.dtype) if tiles else np.zeros(x_cl, dy.dtype)
    for _, out_idx, in_idx in taps:
        target = dx[in_idx]
        if tiles:
            target[...] = share
        else:
            np.add(target, share[out_idx], out=target)
    return from_channels_last(dx, data_format)


@_avg_pool.defgrad
def _avg_pool_backward(op, dy):
    return [_avg_pool_grad(sizes_of(op.inputs[0]), dy, **_pool_attrs(op))]


@_avg_pool_grad.defgrad
def _avg_pool_grad_backward(op, g):
    return [None, _avg_pool(g, **_pool_attrs(op))]


# -- public functions ----------------------------------------------------------------------


def _attrs(n, input, ksize, strides, padding, data_format, explicit):
    if n is None:  # nf.nn.max_pool / avg_pool: N from the input's rank (or ksize's length)
        rank = known_shape(np.shape(input))
        n = len(rank) - 2 if rank is not None else None
        if n is None and data_format is not None:
            n = len(data_format) - 2
        if n is None or n < 1:
            raise ValueError(f"pooling needs an input of rank 3 to 5, got "
                             f"{shape_str(rank) if rank is not None else 'unknown rank'}")
    fmt = check_format(data_format, n)
    attrs = {"ksize": spatial_arg(ksize, n, fmt, "ksize"),
             "strides": spatial_arg(strides, n, fmt, "strides"),
             "padding": normalize_padding(padding, n, fmt, explicit), "data_format": fmt}
    if not isinstance(attrs["padding"], str) and any(
            max(pair) > k for pair, k in zip(attrs["padding"], attrs["ksize"])):
        raise ValueError(f"explicit paddings {list(attrs['padding'])} cannot be greater than "
                         f"the window size {list(attrs['ksize'])}")
    return attrs


def max_pool(input, ksize, strides, padding, data_format=None, name: str | None = None) -> Tensor:
    """N-D max pooling (``tf.nn.max_pool``), N from the input's rank; padding 'SAME',
    'VALID' or explicit [before, after] pairs (padded cells never win).

    >>> nf.nn.max_pool(nf.ones([1, 4, 4, 3]), 2, 2, "VALID").shape
    TensorShape([1, 2, 2, 3])
    """
    return _max_pool(input, name=name, **_attrs(None, input, ksize, strides, padding,
                                                data_format, True))


def max_pool1d(input, ksize, strides, padding,
               data_format="NWC", name: str | None = None) -> Tensor:
    """1-D max pooling (``tf.nn.max_pool1d``)."""
    return _max_pool(input, name=name, **_attrs(1, input, ksize, strides, padding,
                                                data_format, True))


def max_pool2d(input, ksize, strides, padding,
               data_format="NHWC", name: str | None = None) -> Tensor:
    """2-D max pooling (``tf.nn.max_pool2d``).

    >>> nf.nn.max_pool2d(nf.ones([1, 5, 5, 1]), 2, 2, "SAME").shape
    TensorShape([1, 3, 3, 1])
    """
    return _max_pool(input, name=name, **_attrs(2, input, ksize, strides, padding,
                                                data_format, True))


def max_pool3d(input, ksize, strides, padding,
               data_format="NDHWC", name: str | None = None) -> Tensor:
    """3-D max pooling (``tf.nn.max_pool3d``)."""
    return _max_pool(input, name=name, **_attrs(3, input, ksize, strides, padding,
                                                data_format, True))


def avg_pool(input, ksize, strides, padding, data_format=None, name: str | None = None) -> Tensor:
    """N-D average pooling (``tf.nn.avg_pool``); with 'SAME' padding each window averages
    only its real (unpadded) cells.

    >>> nf.nn.avg_pool(nf.ones([1, 4, 4, 3]), 2, 2, "VALID").shape
    TensorShape([1, 2, 2, 3])
    """
    return _avg_pool(input, name=name, **_attrs(None, input, ksize, strides, padding,
                                                data_format, False))


def avg_pool1d(input, ksize, strides, padding,
               data_format="NWC", name: str | None = None) -> Tensor:
    """1-D average pooling (``tf.nn.avg_pool1d``)."""
    return _avg_pool(input, name=name, **_attrs(1, input, ksize, strides, padding,
                                                data_format, False))


def avg_pool2d(input, ksize, strides, padding,
               data_format="NHWC", name: str | None = None) -> Tensor:
    """2-D average pooling (``tf.nn.avg_pool2d``).

    >>> nf.nn.avg_pool2d(nf.ones([1, 5, 5, 1]), 2, 2, "SAME").numpy().ravel()
    array([1., 1., 1., 1., 1., 1., 1., 1., 1.], dtype=float32)
    """
    return _avg_pool(input, name=name, **_attrs(2, input, ksize, strides, padding,
                                                data_format, False))


def avg_pool3d(input, ksize, strides, padding,
               data_format="NDHWC", name: str | None = None) -> Tensor:
    """3-D average pooling (``tf.nn.avg_pool3d``)."""
    return _avg_pool(input, name=name, **_attrs(3, input, ksize, strides, padding,
                                                data_format, False))


__all__ = ["max_pool", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool", "avg_pool1d",
           "avg_pool2d", "avg_pool3d"]
