"""NumPy kernels of the convolution primitives in conv.py (arrays in, new arrays out).

Forward: im2col patches (a copy of a strided window view) times the filter, one GEMM. The
filter gradient is one GEMM over the same patches, which the forward pass leaves in
``im2col.patch_cache`` when a gradient will follow. The input gradient is one GEMM giving
each tap's contribution, then kh*kw shifted adds: as flat offsets in a channels-first
layout when the convolution has stride 1 and keeps the grid (SAME), tap by tap on strided
slices otherwise. Nothing pads the gradient, crops it, or scatters with np.add.at.
"""
from __future__ import annotations

import math

import numpy as np

from neuroflow.core.context import ctx
from neuroflow.core.tensor import shape_str
from neuroflow.ops import im2col
from neuroflow.ops.im2col import (
    channel_dim,
    channels_first,
    from_channels_last,
    geometry,
    patch_cache,
    spatial_dims,
    to_channels_last,
    workspace,
)

# Inputs with at most this many channels are gathered tap by tap into a (depth, rows)
# matrix: copying runs along the width beats copying runs of kw*C values when C is tiny
# (an RGB or grayscale first layer), and the GEMMs take the transposed operand for free.
FEW_CHANNELS = 4

# A patch matrix (or per-tap product) above this many bytes is not built whole: the batch is
# processed in chunks, so im2col's k*k-fold copy of a big layer cannot exhaust the memory.
MAX_PATCH_BYTES = 1 << 27


def _chunks(batch, per_item_bytes):
    """Batch ranges whose patch matrices stay under MAX_PATCH_BYTES; None when all fit."""
    if batch <= 1 or batch * per_item_bytes <= MAX_PATCH_BYTES:
        return None
    size = max(1, MAX_PATCH_BYTES // max(per_item_bytes, 1))
    return [(start, min(start + size, batch)) for start in range(0, batch, size)]


def _patch_bytes(x_shape, ksizes, out_sizes, data_format, itemsize):
    """Bytes of one batch item's patch matrix."""
    return math.prod(out_sizes) * math.prod(ksizes) * channel_dim(x_shape, data_format) \
        * itemsize


def check_conv(x_shape, w_shape, n, data_format, what="input"):
    """Ranks and channel counts of an input and a filter; None dims are not checked."""
    rank = n + 2
    if x_shape is not None and len(x_shape) != rank:
        raise ValueError(f"{what} must be rank {rank} ({data_format}), got shape "
                         f"{shape_str(x_shape)}")
    if w_shape is not None and len(w_shape) != rank:
        raise ValueError(f"filter must be rank {rank} ({n} spatial dims, in_channels, "
                         f"out_channels), got shape {shape_str(w_shape)}")
    if x_shape is None or w_shape is None:
        return
    c, fc = channel_dim(x_shape, data_format), w_shape[-2]
    if c is not None and fc is not None and c != fc:
        raise ValueError(f"{what} depth {c} of {what} shape {shape_str(x_shape)} does not "
                         f"match the filter's in_channels {fc} of filter shape "
                         f"{shape_str(w_shape)}")


def check_out(spatial, expected, dy_shape):
    if any(a is not None and b is not None and a != b for a, b in zip(spatial, expected)):
        raise ValueError(f"the gradient's spatial shape {shape_str(spatial)} (of shape "
                         f"{shape_str(dy_shape)}) does not match the convolution's output "
                         f"spatial shape {shape_str(expected)}")


def _patch_key(x, ksizes, strides, dilations, padding, data_format):
    return (x.shape, x.strides, x.dtype.str, ksizes, strides, dilations, padding, data_format)


def patches(x, ksizes, strides, dilations, padding, data_format):
    """The (rows, prod(k)*C) im2col matrix of ``x`` (rows = batch * prod(output sizes)),
    C- or F-ordered; the scratch buffer holding it (None when it is a view of ``x``); and
    the output sizes."""
    xc = to_channels_last(x, data_format)
    out_sizes, pads = geometry(xc.shape[1:-1], ksizes, strides, dilations, padding)
    channels = xc.shape[-1]
    rows = xc.shape[0] * math.prod(out_sizes)
    depth = math.prod(ksizes) * channels
    pointwise = all(k == 1 for k in ksizes) and all(s == 1 for s in strides)
    if pointwise and not any(lo or hi for lo, hi in pads) and xc.flags.c_contiguous:
        return xc.reshape(rows, depth), None, out_sizes
    padded = None
    if any(lo or hi for lo, hi in pads):
        padded = workspace.empty(im2col.padded_shape(xc.shape, pads), xc.dtype)
    xp = im2col.pad_spatial(xc, pads, out=padded)
    if channels <= FEW_CHANNELS:
        buffer = workspace.empty((math.prod(ksizes), channels, xc.shape[0]) + out_sizes,
                                 xc.dtype)
        for t, (_, idx) in enumerate(im2col.tap_slices(ksizes, strides, dilations,
                                                       out_sizes)):
            buffer[t] = np.moveaxis(xp[idx], -1, 0)
        cols = buffer.reshape(depth, rows).T
    else:
        view = im2col.windows(xp, ksizes, strides, dilations, out_sizes)
        buffer = workspace.empty(view.shape, xc.dtype)
        np.copyto(buffer, view)
        cols = buffer.reshape(rows, depth)
    workspace.release(padded)
    return cols, buffer, out_sizes


def forward(x, w, strides, dilations, padding, data_format, keep_patches):
    check_conv(x.shape, w.shape, len(strides), data_format)
    ksizes = w.shape[:-2]
    out_sizes = _out_sizes(x, ksizes, strides, dilations, padding, data_format)
    chunks = _chunks(x.shape[0], _patch_bytes(x.shape, ksizes, out_sizes, data_format,
                                              x.itemsize))
    if chunks:
        return np.concatenate([_forward(x[a:b], w, strides, dilations, padding, data_format,
                                        False) for a, b in chunks])
    return _forward(x, w, strides, dilations, padding, data_format, keep_patches)


def _forward(x, w, strides, dilations, padding, data_format, keep_patches):
    ksizes = w.shape[:-2]
    key = _patch_key(x, ksizes, strides, dilations, padding, data_format)
    cached = patch_cache.get(x, key)
    if cached is None:
        cols, buffer, out_sizes = patches(x, ksizes, strides, dilations, padding, data_format)
    else:
        (cols, buffer), out_sizes = cached, _out_sizes(x, ksizes, strides, dilations,
                                                       padding, data_format)
    out = cols @ w.reshape(-1, w.shape[-1])
    if cached is None:
        if keep_patches or ctx.tapes:  # a filter gradient is likely to follow
            patch_cache.put(x, key, (cols, buffer), cols.nbytes)
        else:
            workspace.release(buffer)
    return from_channels_last(out.reshape((x.shape[0],) + out_sizes + (w.shape[-1],)),
                              data_format)


def _out_sizes(x, ksizes, strides, dilations, padding, data_format):
    return geometry(spatial_dims(x.shape, data_format), ksizes, strides, dilations,
                    padding)[0]


def filter_grad(x, w_shape, dy, strides, dilations, padding, data_format):
    check_conv(x.shape, w_shape, len(strides), data_format)
    ksizes = w_shape[:-2]
    out_sizes = _out_sizes(x, ksizes, strides, dilations, padding, data_format)
    chunks = _chunks(x.shape[0], _patch_bytes(x.shape, ksizes, out_sizes, data_format,
                                              x.itemsize))
    if chunks and dy.shape[0] == x.shape[0]:
        total = None
        for a, b in chunks:
            part = _filter_grad(x[a:b], w_shape, dy[a:b], strides, dilations, padding,
                                data_format)
            total = part if total is None else np.add(total, part, out=total)
        return total
    return _filter_grad(x, w_shape, dy, strides, dilations, padding, data_format)


def _filter_grad(x, w_shape, dy, strides, dilations, padding, data_format):
    ksizes = w_shape[:-2]
    key = _patch_key(x, ksizes, strides, dilations, padding, data_format)
    cached = patch_cache.get(x, key, take=True)
    if cached is None:
        cols, buffer, out_sizes = patches(x, ksizes, strides, dilations, padding, data_format)
    else:
        (cols, buffer), out_sizes = cached, _out_sizes(x, ksizes, strides, dilations,
                                                       padding, data_format)
    dyc = to_channels_last(dy, data_format)
    check_out(dyc.shape[1:-1], out_sizes, dy.shape)
    if dyc.shape[0] != x.shape[0] or dyc.shape[-1] != w_shape[-1]:
        raise ValueError(f"the gradient of shape {shape_str(dy.shape)} does not fit input "
                         f"shape {shape_str(x.shape)} and filter shape {shape_str(w_shape)}")
    dw = cols.T @ dyc.reshape(cols.shape[0], w_shape[-1])
    workspace.release(buffer)  # taken from the cache: nothing else holds it now
    return dw.reshape(w_shape)


def input_grad(x_shape, w, dy, strides, dilations, padding, data_format):
    check_conv(x_shape, w.shape, len(strides), data_format, what="output_shape")
    dyc = to_channels_last(dy, data_format)
    in_sizes = spatial_dims(x_shape, data_format)
    ksizes, depth = w.shape[:-2], w.shape[-1]
    out_sizes, pads = geometry(in_sizes, ksizes, strides, dilations, padding)
    check_out(dyc.shape[1:-1], out_sizes, dy.shape)
    if dyc.shape[-1] != depth or dyc.shape[0] != x_shape[0]:
        raise ValueError(f"input of shape {shape_str(dy.shape)} does not fit filter shape "
                         f"{shape_str(w.shape)} and output_shape {shape_str(x_shape)}")
    chunks = _chunks(x_shape[0], _patch_bytes(x_shape, ksizes, out_sizes, data_format,
                                              dy.itemsize)) or [(0, x_shape[0])]
    parts = []
    for a, b in chunks:
        if all(s == 1 for s in strides) and out_sizes == in_sizes:
            parts.append(_input_grad_same_grid(w, dyc[a:b], dilations, pads, data_format))
        else:
            parts.append(_input_grad_by_taps(w, dyc[a:b], in_sizes, out_sizes, strides,
                                             dilations, pads, data_format))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _input_grad_same_grid(w, dyc, dilations, pads, data_format):
    """Stride 1, output grid == input grid: each tap's contribution is the GEMM result
    shifted by a constant offset in the flattened grid, once the cells that would cross
    a border are zeroed."""
    batch, sizes = dyc.shape[0], dyc.shape[1:-1]
    ksizes, channels, depth = w.shape[:-2], w.shape[-2], w.shape[-1]
    rows = batch * math.prod(sizes)
    buffer = workspace.empty((math.prod(ksizes) * channels, rows), dyc.dtype)
    np.matmul(w.reshape(-1, depth), dyc.reshape(rows, depth).T, out=buffer)
    per_tap = buffer.reshape((math.prod(ksizes), channels, batch) + sizes)
    grid = [math.prod(sizes[k + 1:]) for k in range(len(sizes))]
    total, pending = None, []
    for t, tap in enumerate(np.ndindex(*ksizes)):
        shifts = [i * d - lo for i, d, (lo, _) in zip(tap, dilations, pads)]
        if any(abs(s) >= n for s, n in zip(shifts, sizes)):
            continue  # this tap only ever sees padding
        if not any(shifts):
            total = per_tap[t].reshape(channels, rows)
            continue
        for k, s in enumerate(shifts):  # zero the cells whose target lies outside x
            if s:
                border = slice(0, -s) if s < 0 else slice(sizes[k] - s, None)
                per_tap[t][(slice(None),) * (k + 2) + (border,)] = 0
        pending.append((t, sum(s * g for s, g in zip(shifts, grid))))
    if total is None:
        total = np.zeros((channels, rows), dtype=per_tap.dtype)
    for t, offset in pending:
        source = per_tap[t].reshape(channels, rows)
        if offset > 0:
            target = total[:, offset:]
            np.add(target, source[:, :rows - offset], out=target)
        else:
            target = total[:, :rows + offset]
            np.add(target, source[:, -offset:], out=target)
    total = total.reshape((channels, batch) + sizes)
    dx = np.ascontiguousarray(np.moveaxis(total, 0, 1 if channels_first(data_format) else -1))
    workspace.release(buffer)
    return dx


def _input_grad_by_taps(w, dyc, in_sizes, out_sizes, strides, dilations, pads, data_format):
    """Any geometry: one batched GEMM gives each tap's contribution, contiguous per tap,
    which is added onto the strided slice of the result it lands on."""
    batch = dyc.shape[0]
    ksizes, channels, depth = w.shape[:-2], w.shape[-2], w.shape[-1]
    taps = math.prod(ksizes)
    buffer = workspace.empty((taps, batch * math.prod(out_sizes), channels), dyc.dtype)
    np.matmul(dyc.reshape(1, -1, depth), w.reshape(taps, channels, depth).transpose(0, 2, 1),
              out=buffer)
    per_tap = buffer.reshape((taps, batch) + out_sizes + (channels,))
    dx = None
    ranges = list(im2col.tap_ranges(ksizes, strides, dilations, out_sizes, in_sizes, pads))
    for t, out_idx, in_idx in ranges:  # a tap that covers all of x starts the sum
        if all(s.start == 0 and s.step == 1 and s.stop == size
               for s, size in zip(in_idx[1:-1], in_sizes)):
            dx = np.array(per_tap[t][out_idx])
            ranges.remove((t, out_idx, in_idx))
            break
    if dx is None:
        dx = np.zeros((batch,) + in_sizes + (channels,), dtype=per_tap.dtype)
    for t, out_idx, in_idx in ranges:
        target = dx[in_idx]
        np.add(target, per_tap[t][out_idx], out=target)
    workspace.release(buffer)
    return from_channels_last(dx, data_format)
