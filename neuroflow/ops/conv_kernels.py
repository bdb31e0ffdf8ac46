"""NumPy kernels of the convolution primitives in conv.py (arrays in, new arrays out).

Every kernel splits the batch over the threads (``backend.threads``: one part per thread,
a 1-thread BLAS in each), and each part works through its items a few at a time, so that
each piece's scratch arrays stay in the core's cache. Outputs come from
``conv_runtime.outputs`` (recycled).

Forward: per piece, im2col patches (a copy of a strided window view; runs of kw*C values)
then one GEMM into the output rows. When a gradient will follow, the forward pass may keep
the whole patch matrix in ``patch_cache`` (see KEEP_PATCHES_RATIO) and the filter gradient
is one GEMM per thread over it; otherwise the filter gradient gathers the patches again,
piece by piece, and sums one GEMM per piece. The input gradient takes, per piece, one small GEMM
per filter tap (each tap's contribution, contiguous), then adds them onto the result: as
flat offsets when the convolution has stride 1 and keeps the grid (SAME), on strided
slices otherwise. Nothing pads the gradient, crops it, or scatters with np.add.at.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from neuroflow.backend import jit, threads
from neuroflow.core.context import ctx
from neuroflow.core.tensor import shape_str
from neuroflow.ops import compiled, im2col
from neuroflow.ops.conv_runtime import outputs, patch_cache, workspace
from neuroflow.ops.im2col import (
    channel_dim,
    from_channels_last,
    geometry,
    spatial_dims,
    to_channels_last,
)

# Inputs with at most this many channels are gathered tap by tap into a (depth, rows)
# matrix: copying runs along the width beats copying runs of kw*C values when C is tiny
# (an RGB or grayscale first layer), and the GEMMs take the transposed operand for free.
FEW_CHANNELS = 4

# The forward pass and the filter gradient gather the patches of about this many bytes of
# rows at a time: a piece stays in the core's L2 cache between its copy and its GEMM.
PIECE_BYTES = 1 << 20

# The forward pass keeps its patches for the filter gradient, when one will follow, if they
# have at most this many columns per output channel (on one thread, writing a bigger patch
# matrix out of the cache costs the forward pass more than gathering it again costs the
# gradient), or always when the batch is split over threads (measured on 2 cores: a cnn
# step 26 -> 24 ms), up to MAX_KEPT_BYTES.
KEEP_PATCHES_RATIO = 1
MAX_KEPT_BYTES = 1 << 27

# The input gradient's per-tap GEMMs take about this many multiply-adds (rows * out_channels
# * in_channels) per piece: OpenBLAS multiplies matrices up to 100**3 multiply-adds with its
# small-matrix kernels, with no packing, markedly faster on these thin shapes.
GRAD_PIECE_MACS = 10 ** 6


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




def _parts(batch):
    """The batch ranges the threads take (each then goes piece by piece)."""
    return threads.split(batch, always=True)


def _pieces(stop, per_item, budget, start=0):
    """(start, stop) batch ranges of about ``budget`` units each (at least one item)."""
    step = max(1, int(budget // max(per_item, 1)))
    return [(a, min(a + step, stop)) for a in range(start, stop, step)]


class Patches:
    """The im2col matrix of ``xc`` (channels last), gathered a range of batch items at a
    time. Layout: (rows, prod(k)*C) C-ordered, or tap-major (prod(k)*C, rows) for inputs
    with few channels, which ``cols`` turns into the same (rows, depth) matrix. Use it as a
    context manager: entering pads the input once (into a scratch buffer) and builds the
    strided views every piece is sliced from, so a piece costs one copy per view."""

    def __init__(self, xc, ksizes, strides, dilations, pads, out_sizes):
        self.xc, self.ksizes, self.strides = xc, tuple(ksizes), tuple(strides)
        self.dilations, self.pads, self.out_sizes = tuple(dilations), pads, tuple(out_sizes)
        self.channels = xc.shape[-1]
        self.per_item = math.prod(out_sizes)  # rows per batch item
        self.depth = math.prod(ksizes) * self.channels
        self.tap_major = self.channels <= FEW_CHANNELS
        self.padded = any(lo or hi for lo, hi in pads)
        self._scratch = self._views = None

    def __enter__(self):
        xc = self.xc
        if self.padded:
            self._scratch = workspace.empty(im2col.padded_shape(xc.shape, self.pads),
                                            xc.dtype)
        xp = im2col.pad_spatial(xc, self.pads, out=self._scratch)
        if self.tap_major:  # per tap: (C, batch, *out)
            self._views = [np.moveaxis(xp[idx], -1, 0) for _, idx in im2col.tap_slices(
                self.ksizes, self.strides, self.dilations, self.out_sizes)]
            return self
        view = im2col.windows(xp, self.ksizes, self.strides, self.dilations, self.out_sizes)
        if self.dilations[-1] == 1 and xp.strides[-1] == xp.itemsize \
                and xp.strides[-2] == self.channels * xp.itemsize:
            # the last tap dim and the channels are one contiguous run of kw*C values
            view = as_strided(xp, view.shape[:-2] + (view.shape[-2] * self.channels,),
                              view.strides[:-2] + view.strides[-1:], writeable=False)
        self._views = view
        return self

    def __exit__(self, *exc):
        self._views = None
        workspace.release(self._scratch)
        self._scratch = None

    def pieces(self, start, stop):
        """Ranges of batch items start..stop whose patches take about PIECE_BYTES each."""
        return _pieces(stop, self.depth * self.per_item * self.xc.itemsize, PIECE_BYTES,
                       start)

    def shape(self, items):
        rows = items * self.per_item
        return (self.depth, rows) if self.tap_major else (rows, self.depth)

    def rows_of(self, buffer, a, b):
        """The part of a whole-batch buffer holding items a..b."""
        rows = slice(a * self.per_item, b * self.per_item)
        return buffer[:, rows] if self.tap_major else buffer[rows]

    def cols(self, part):
        return part.T if self.tap_major else part

    def fill(self, part, a, b):
        """Copies the patches of batch items a..b into ``part`` (a ``shape(b - a)`` array,
        or ``rows_of`` a whole buffer)."""
        if self.tap_major:
            c, shape = self.channels, (self.channels, b - a) + self.out_sizes
            for t, view in enumerate(self._views):
                np.copyto(part[t * c:(t + 1) * c].reshape(shape), view[:, a:b])
        else:
            view = self._views[a:b]
            np.copyto(part.reshape(view.shape), view)


def _patch_key(x, ksizes, strides, dilations, padding, data_format):
    return (x.shape, x.strides, x.dtype.str, ksizes, strides, dilations, padding, data_format)


class BiasEpilogue:
    """What a fused convolution applies to each piece of its output rows (rows, depth):
    ``+= bias``, then ``max(., 0)`` when ``relu``; the same operations, in the same order,
    as BiasAdd and Relu on the whole output."""

    __slots__ = ("bias", "relu", "_tiled")

    def __init__(self, bias, relu):
        self.bias, self.relu = bias, relu
        self._tiled = np.tile(bias, 16)  # long runs: NumPy adds a row of 16 pixels at a time

    def __call__(self, rows):
        n = len(self.bias)
        group = next(g for g in (16, 8, 4, 2, 1) if len(rows) % g == 0)
        np.add(rows.reshape(-1, group * n), self._tiled[:group * n],
               out=rows.reshape(-1, group * n))
        if self.relu:
            np.maximum(rows, 0, out=rows)



# -- a 3 x 3 filter over one input channel (a grayscale first layer): compiled, direct ------


def _one_channel_3x3(xc, w_shape, strides, dilations, *others):
    """Whether the direct kernels of compiled.py take this convolution: float32, 2-D, a
    3 x 3 filter over one channel, stride and dilation 1."""
    return (jit.available() and len(strides) == 2 and tuple(w_shape[:3]) == (3, 3, 1)
            and all(s == 1 for s in strides) and all(d == 1 for d in dilations)
            and all(a.dtype == np.float32 for a in (xc,) + others))


def _padded(xc, pads):
    """The single channel of ``xc`` [batch, rows, cols, 1], zero-padded by ``pads``."""
    (top, bottom), (left, right) = pads
    batch, height, width = xc.shape[:3]
    xp = np.zeros((batch, height + top + bottom, width + left + right), xc.dtype)
    xp[:, top:top + height, left:left + width] = xc[..., 0]
    return xp


def _direct_forward(xc, w, pads, shape, epilogue):
    xp, w9 = _padded(xc, pads), np.ascontiguousarray(w.reshape(9, -1))
    bias = np.empty(0, np.float32) if epilogue is None else np.ascontiguousarray(
        epilogue.bias, np.float32)
    relu = epilogue is not None and epilogue.relu
    out = outputs.empty(shape, np.float32)
    threads.run(lambda a, b: compiled.conv3x3_one_channel(xp, w9, bias, out, a, b, relu),
                _parts(shape[0]))
    return out


def _direct_filter_grad(xc, dyc, pads, w_shape):
    xp, dyc = _padded(xc, pads), np.ascontiguousarray(dyc)

    def part(a, b):
        dw = np.zeros((9, w_shape[-1]), np.float32)
        compiled.conv3x3_one_channel_filter(xp, dyc, dw, a, b)
        return dw
    return _sum(threads.run(part, _parts(xc.shape[0]))).reshape(w_shape)


def forward(x, w, strides, dilations, padding, data_format, keep_patches=False,
            epilogue=None):
    """The convolution; ``epilogue(rows)``, when given, runs on each piece's output rows
    right after its GEMM, in place (channels last only)."""
    check_conv(x.shape, w.shape, len(strides), data_format)
    ksizes = w.shape[:-2]
    xc = to_channels_last(x, data_format)
    out_sizes, pads = geometry(xc.shape[1:-1], ksizes, strides, dilations, padding)
    batch, depth = xc.shape[0], w.shape[-1]
    shape = (batch,) + tuple(out_sizes) + (depth,)
    if batch and _one_channel_3x3(xc, w.shape, strides, dilations, w) and (
            epilogue is None or isinstance(epilogue, BiasEpilogue)):
        return from_channels_last(_direct_forward(xc, w, pads, shape, epilogue), data_format)
    wm = w.reshape(-1, depth)
    gather = Patches(xc, ksizes, strides, dilations, pads, out_sizes)
    rows = batch * gather.per_item
    pointwise = all(k == 1 for k in ksizes) and all(s == 1 for s in strides)
    if pointwise and not gather.padded and xc.flags.c_contiguous:
        out_rows = xc.reshape(rows, gather.depth) @ wm
        if epilogue is not None:
            epilogue(out_rows)
        return from_channels_last(out_rows.reshape(shape), data_format)
    out = outputs.empty(shape, np.result_type(x.dtype, w.dtype))
    out_rows, per_item = out.reshape(rows, depth), gather.per_item
    parts = _parts(batch)
    keep = (keep_patches or bool(ctx.tapes)) and (
        gather.depth <= KEEP_PATCHES_RATIO * depth or len(parts) > 1) and (
        rows * gather.depth * xc.itemsize <= MAX_KEPT_BYTES)
    with gather:
        whole = workspace.empty(gather.shape(batch), xc.dtype) if keep else None

        def part(start, stop):
            for a, b in gather.pieces(start, stop):
                patches = gather.rows_of(whole, a, b) if keep else workspace.empty(
                    gather.shape(b - a), xc.dtype)
                gather.fill(patches, a, b)
                piece = out_rows[a * per_item:b * per_item]
                np.matmul(gather.cols(patches), wm, out=piece)
                if epilogue is not None:
                    epilogue(piece)
                if not keep:
                    workspace.release(patches)

        threads.run(part, parts)
        if keep:
            patch_cache.put(x, _patch_key(x, ksizes, strides, dilations, padding,
                                          data_format), (gather.cols(whole), whole),
                            whole.nbytes)
    return from_channels_last(out, data_format)


def filter_grad(x, w_shape, dy, strides, dilations, padding, data_format):
    check_conv(x.shape, w_shape, len(strides), data_format)
    ksizes = w_shape[:-2]
    xc = to_channels_last(x, data_format)
    out_sizes, pads = geometry(xc.shape[1:-1], ksizes, strides, dilations, padding)
    dyc = to_channels_last(dy, data_format)
    check_out(dyc.shape[1:-1], out_sizes, dy.shape)
    if dyc.shape[0] != x.shape[0] or dyc.shape[-1] != w_shape[-1]:
        raise ValueError(f"the gradient of shape {shape_str(dy.shape)} does not fit input "
                         f"shape {shape_str(x.shape)} and filter shape {shape_str(w_shape)}")
    dy_rows = np.ascontiguousarray(dyc).reshape(-1, w_shape[-1])
    dtype = np.result_type(x.dtype, dy.dtype)
    cached = patch_cache.get(x, _patch_key(x, ksizes, strides, dilations, padding,
                                           data_format), take=True)
    if cached is not None:
        patches, per_item = cached[0], len(dy_rows) // max(x.shape[0], 1)
        parts = threads.run(lambda a, b: patches[a * per_item:b * per_item].T
                            @ dy_rows[a * per_item:b * per_item], _parts(x.shape[0]))
        workspace.release(cached[1])  # taken from the cache: nothing else holds it now
        return _sum(parts).astype(dtype, copy=False).reshape(w_shape)
    if x.shape[0] and _one_channel_3x3(xc, w_shape, strides, dilations, dyc):
        return _direct_filter_grad(xc, dyc, pads, w_shape)
    gather = Patches(xc, ksizes, strides, dilations, pads, out_sizes)

    def part(start, stop):
        total = None
        for a, b in gather.pieces(start, stop):
            patches = workspace.empty(gather.shape(b - a), xc.dtype)
            gather.fill(patches, a, b)
            product = gather.cols(patches).T @ dy_rows[a * gather.per_item:
                                                       b * gather.per_item]
            workspace.release(patches)
            total = product if total is None else np.add(total, product, out=total)
        return total

    with gather:
        parts = [p for p in threads.run(part, _parts(x.shape[0])) if p is not None]
    if not parts:  # an empty batch
        return np.zeros(w_shape, dtype)
    return _sum(parts).astype(dtype, copy=False).reshape(w_shape)


def _sum(parts):
    """The sum of the threads' partial results (the first one is added into)."""
    total = parts[0]
    for p in parts[1:]:
        total += p
    return total


def input_grad(x_shape, w, dy, strides, dilations, padding, data_format):
    check_conv(x_shape, w.shape, len(strides), data_format, what="output_shape")
    dyc = to_channels_last(dy, data_format)
    in_sizes = spatial_dims(x_shape, data_format)
    ksizes, channels, depth = w.shape[:-2], w.shape[-2], w.shape[-1]
    out_sizes, pads = geometry(in_sizes, ksizes, strides, dilations, padding)
    check_out(dyc.shape[1:-1], out_sizes, dy.shape)
    if dyc.shape[-1] != depth or dyc.shape[0] != x_shape[0]:
        raise ValueError(f"input of shape {shape_str(dy.shape)} does not fit filter shape "
                         f"{shape_str(w.shape)} and output_shape {shape_str(x_shape)}")
    batch, taps = x_shape[0], math.prod(ksizes)
    dyc = np.ascontiguousarray(dyc)
    per_tap = np.ascontiguousarray(w.reshape(taps, channels, depth).transpose(0, 2, 1))
    dtype = np.result_type(dy.dtype, w.dtype)
    dx = outputs.empty((batch,) + tuple(in_sizes) + (channels,), dtype)
    if all(s == 1 for s in strides) and tuple(out_sizes) == tuple(in_sizes):
        add = functools.partial(_add_shifted, _shifts(ksizes, dilations, pads, in_sizes))
    else:
        add = functools.partial(_add_slices, list(im2col.tap_ranges(
            ksizes, strides, dilations, out_sizes, in_sizes, pads)), in_sizes)
    cells = math.prod(out_sizes)

    def piece(a, b):
        rows = (b - a) * cells
        products = workspace.empty((taps, rows, channels), dtype)
        np.matmul(dyc[a:b].reshape(1, rows, depth), per_tap, out=products)
        add(products.reshape((taps, b - a) + tuple(out_sizes) + (channels,)), dx[a:b])
        workspace.release(products)

    def part(start, stop):
        for a, b in _pieces(stop, cells * depth * channels, GRAD_PIECE_MACS, start):
            piece(a, b)

    threads.run(part, _parts(batch))
    return from_channels_last(dx, data_format)


def _shifts(ksizes, dilations, pads, sizes):
    """Stride 1 on an unchanged grid: tap t's contribution lands on the input ``offset``
    cells further along the flattened grid, once the cells whose target lies outside the
    input (``borders``: (spatial dim, slice) pairs) are zeroed; taps that only ever see
    padding are left out. [(t, offset, borders)]"""
    grid = [math.prod(sizes[k + 1:]) for k in range(len(sizes))]
    plan = []
    for t, tap in enumerate(np.ndindex(*ksizes)):
        shifts = [i * d - lo for i, d, (lo, _) in zip(tap, dilations, pads)]
        if any(abs(s) >= n for s, n in zip(shifts, sizes)):
            continue
        borders = [(k, slice(0, -s) if s < 0 else slice(n - s, None))
                   for k, (s, n) in enumerate(zip(shifts, sizes)) if s]
        plan.append((t, sum(s * g for s, g in zip(shifts, grid)), borders))
    return plan


def _add_shifted(plan, products, dx):
    """dx = the sum of the per-tap products (taps, n, *sizes, C), each shifted by its flat
    offset (see ``_shifts``)."""
    rows = math.prod(dx.shape[:-1])
    flat = dx.reshape(rows, dx.shape[-1])
    start = next((p for p in plan if not p[2]), None)  # the tap that needs no shifting
    if start is None:
        flat[...] = 0
    else:
        np.copyto(flat, products[start[0]].reshape(flat.shape))
    for t, offset, borders in plan:
        if borders:
            for k, cut in borders:
                products[t][(slice(None),) * (k + 1) + (cut,)] = 0
        elif t == start[0]:
            continue
        source = products[t].reshape(flat.shape)
        if offset >= 0:
            target = flat[offset:]
            np.add(target, source[:rows - offset], out=target)
        else:
            target = flat[:rows + offset]
            np.add(target, source[-offset:], out=target)


def _add_slices(ranges, in_sizes, products, dx):
    """dx = the sum of the per-tap products, each added onto the strided slice of the input
    its tap lands on (``im2col.tap_ranges``)."""
    start = None
    for t, out_idx, in_idx in ranges:  # a tap that covers all of x starts the sum
        if all(s.start == 0 and s.step == 1 and s.stop == size
               for s, size in zip(in_idx[1:-1], in_sizes)):
            start = t
            np.copyto(dx, products[t][out_idx])
            break
    if start is None:
        dx[...] = 0
    for t, out_idx, in_idx in ranges:
        if t != start:
            target = dx[in_idx]
            np.add(target, products[t][out_idx], out=target)
