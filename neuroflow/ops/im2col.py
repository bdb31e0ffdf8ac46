"""Machinery shared by convolution and pooling.

TensorFlow's argument forms (an int, or a list of 1, N or N+2 ints), its padding rules
('SAME' puts the odd cell of padding at the end), strided window views of a padded input,
and the per-tap slices that turn a gather into kh*kw strided array operations. The kernels'
runtime (the patch and argmax caches, scratch buffers, recycled outputs) is in
conv_runtime.py and re-exported here.

Kernels work channels-last internally: ``x`` is (batch, *spatial, channels).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from neuroflow.core.tensor import EagerTensor, SymbolicTensor, TensorShape
from neuroflow.ops.conv_runtime import (  # noqa: F401
    GradientCache,
    Recycler,
    Workspace,
    argmax_cache,
    outputs,
    patch_cache,
    workspace,
)

FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}
_ALIASES = {"NHWC": "NWC", "NCHW": "NCW"}  # TF's conv1d also takes the 2-D names


# -- arguments ----------------------------------------------------------------------------

def check_format(data_format, n: int) -> str:
    """The canonical data format of an ``n``-D op (None means channels last)."""
    if n not in FORMATS:
        raise ValueError(f"only 1-D, 2-D and 3-D ops are supported, not {n}-D (an input of "
                         f"rank {n + 2})")
    if data_format is None:
        return FORMATS[n][0]
    fmt = str(data_format).upper()
    if n == 1:
        fmt = _ALIASES.get(fmt, fmt)
    if fmt not in FORMATS[n]:
        raise ValueError(f"data_format must be {' or '.join(map(repr, FORMATS[n]))} for a "
                         f"{n}-D op, got {data_format!r}")
    return fmt


def channels_first(data_format: str) -> bool:
    return data_format.startswith("NC")


def spatial_arg(value, n: int, data_format: str, name: str, default=None) -> tuple:
    """An int or a list of 1, n or n+2 ints -> n spatial ints (TF's ksize/strides forms)."""
    if value is None:
        if default is None:
            raise ValueError(f"{name} is required")
        value = default
    if isinstance(value, EagerTensor):
        value = value.numpy()
    values = [int(v) for v in np.asarray(value).reshape(-1)]
    if len(values) == 1:
        values = values * n
    elif len(values) == n + 2:
        outer = (values[0], values[1]) if channels_first(data_format) else (values[0],
                                                                          values[-1])
        if outer != (1, 1):
            raise ValueError(f"{name} {values} must be 1 in the batch and channel dimensions")
        values = values[2:] if channels_first(data_format) else values[1:-1]
    elif len(values) != n:
        raise ValueError(f"{name} must be an int or a list of 1, {n} or {n + 2} ints, got "
                         f"{list(values)}")
    if any(v < 1 for v in values):
        raise ValueError(f"{name} must be positive, got {values}")
    return tuple(values)


def normalize_padding(padding, n: int, data_format: str, explicit: bool = True):
    """'SAME', 'VALID', or (for ops that allow it) a tuple of n spatial (before, after) pairs
    read from TF's explicit form: one [before, after] pair per dimension of the input."""
    if isinstance(padding, str):
        mode = padding.upper()
        if mode in ("SAME", "VALID"):
            return mode
        raise ValueError(f"padding must be 'SAME' or 'VALID'"
                         f"{' or a list of [before, after] pairs' if explicit else ''}, got "
                         f"{padding!r}")
    if not explicit:
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    try:
        pairs = np.asarray(padding, dtype=np.int64)
    except (TypeError, ValueError):
        pairs = None
    if pairs is None or pairs.shape != (n + 2, 2):
        raise ValueError(f"explicit padding must be a list of {n + 2} [before, after] pairs "
                         f"(one per input dimension), got {padding!r}")
    outer = [0, 1] if channels_first(data_format) else [0, n + 1]
    if pairs[outer].any():
        raise ValueError(f"explicit padding must be [0, 0] in the batch and channel "
                         f"dimensions, got {padding!r}")
    if (pairs < 0).any():
        raise ValueError(f"explicit padding must not be negative, got {padding!r}")
    spatial = pairs[2:] if channels_first(data_format) else pairs[1:-1]
    return tuple((int(a), int(b)) for a, b in spatial)


# -- geometry -----------------------------------------------------------------------------

def window_geometry(size, k, stride, dilation, padding):
    """(output size, pad before, pad after) along one dim; None where ``size`` is unknown.

    SAME: ceil(size / stride) outputs, total padding max((out-1)*stride + eff_k - size, 0)
    with the odd cell at the end, as TensorFlow; VALID: no padding.
    """
    if size is None or k is None:
        return None, None, None
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + eff - size, 0)
        return out, total // 2, total - total // 2
    lo, hi = (0, 0) if padding == "VALID" else padding
    padded = size + lo + hi
    if padded < eff:
        raise ValueError(f"the window (effective size {eff}) is larger than the padded input "
                         f"size {padded}: the output size would be negative")
    return (padded - eff) // stride + 1, lo, hi


def geometry(sizes, ksizes, strides, dilations, padding):
    """Output sizes and (before, after) pads of every spatial dim."""
    outs, pads = [], []
    for i, size in enumerate(sizes):
        p = padding if isinstance(padding, str) else padding[i]
        out, lo, hi = window_geometry(size, ksizes[i], strides[i], dilations[i], p)
        outs.append(out)
        pads.append((lo, hi))
    return tuple(outs), tuple(pads)


def known_shape(shape):
    """A shape as a tuple (None dims kept), or None when even the rank is unknown."""
    if shape is None or (isinstance(shape, TensorShape) and shape.rank is None):
        return None
    return tuple(shape)


def spatial_dims(shape, data_format):
    """The spatial dims of a (possibly partly unknown) shape in ``data_format``."""
    return tuple(shape[2:]) if channels_first(data_format) else tuple(shape[1:-1])


def channel_dim(shape, data_format):
    return shape[1] if channels_first(data_format) else shape[-1]


def assemble(batch, spatial, channels, data_format):
    """A full shape from its parts, in ``data_format`` order."""
    if channels_first(data_format):
        return (batch, channels) + tuple(spatial)
    return (batch,) + tuple(spatial) + (channels,)


def static_sizes(t, rank):
    """What a shape-valued input tensor statically holds (None where unknown)."""
    if isinstance(t, SymbolicTensor):
        op = t.op
        if op.type == "Const":
            return tuple(int(v) for v in np.asarray(op.attrs["value"]).reshape(-1))
        if op.type == "Shape" and op.inputs[0].shape.rank is not None:
            return tuple(op.inputs[0].shape)
        n = t.shape[0] if t.shape.rank == 1 else None
        n = n if n is not None else rank
        return None if n is None else (None,) * n
    return tuple(int(v) for v in np.asarray(t).reshape(-1))


def sizes_of(t):
    """A shape-valued input for gradient rules: a constant when the shape is known."""
    if isinstance(t, EagerTensor) or (t.shape.rank is not None and t.shape.is_fully_defined()):
        return np.asarray(tuple(t.shape), dtype=np.int32)
    from neuroflow.ops.array import shape
    return shape(t)


# -- kernel helpers (channels-last arrays) -------------------------------------------------

def to_channels_last(x, data_format):
    return np.moveaxis(x, 1, -1) if channels_first(data_format) else x


def from_channels_last(y, data_format):
    if channels_first(data_format):
        return np.ascontiguousarray(np.moveaxis(y, -1, 1))
    return y


def pad_spatial(x, pads, value=0, out=None):
    """``x`` with its spatial dims padded by ``pads`` (into ``out`` when given, a buffer of
    the padded shape); ``x`` itself when there is no padding. Only the border is filled."""
    if not any(lo or hi for lo, hi in pads):
        return x
    if out is None:
        out = np.empty(padded_shape(x.shape, pads), x.dtype)
    for k, (lo, hi) in enumerate(pads):
        before = (slice(None),) * (k + 1)
        if lo:
            out[before + (slice(0, lo),)] = value
        if hi:
            out[before + (slice(out.shape[k + 1] - hi, None),)] = value
    out[interior(x.shape, pads)] = x
    return out


def padded_shape(shape, pads):
    return (shape[0],) + tuple(s + lo + hi for s, (lo, hi) in zip(shape[1:-1], pads)) \
        + (shape[-1],)


def interior(shape, pads):
    """The index of the unpadded cells inside a padded array."""
    return (slice(None),) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(shape[1:-1], pads)) \
        + (slice(None),)


def windows(xp, ksizes, strides, dilations, out_sizes):
    """A read-only (batch, *out, *k, channels) strided view of the windows of ``xp``."""
    s = xp.strides
    spatial = s[1:-1]
    shape = (xp.shape[0],) + tuple(out_sizes) + tuple(ksizes) + (xp.shape[-1],)
    steps = ((s[0],) + tuple(a * b for a, b in zip(spatial, strides))
             + tuple(a * b for a, b in zip(spatial, dilations)) + (s[-1],))
    return as_strided(xp, shape, steps, writeable=False)


def tap_slices(ksizes, strides, dilations, out_sizes):
    """(tap, index) pairs: ``xp[index]`` holds what window tap ``tap`` sees at every output
    position, a strided (batch, *out, channels) view."""
    for tap in np.ndindex(*ksizes):
        yield tap, (slice(None),) + tuple(
            slice(t * d, t * d + (o - 1) * s + 1, s)
            for t, d, o, s in zip(tap, dilations, out_sizes, strides)) + (slice(None),)


def tap_ranges(ksizes, strides, dilations, out_sizes, in_sizes, pads):
    """Like ``tap_slices`` but in unpadded input coordinates: (flat tap number, out index,
    in index), where ``out[out index]`` lands on ``x[in index]``; taps that see only padding
    are left out. Lets gradients scatter into an unpadded result (no pad, no crop)."""
    for number, tap in enumerate(np.ndindex(*ksizes)):
        out_idx, in_idx = [slice(None)], [slice(None)]
        for t, d, o, s, n, (lo, _) in zip(tap, dilations, out_sizes, strides, in_sizes, pads):
            offset = t * d - lo  # the input cell that output 0 sees through this tap
            first = 0 if offset >= 0 else (-offset + s - 1) // s
            last = min(o - 1, (n - 1 - offset) // s) if n - 1 - offset >= 0 else -1
            if last < first:
                break
            out_idx.append(slice(first, last + 1))
            start = offset + first * s
            in_idx.append(slice(start, start + (last - first) * s + 1, s))
        else:
            yield number, tuple(out_idx) + (slice(None),), tuple(in_idx) + (slice(None),)


# -- windows that tile the input (max pooling with k == stride, no padding) --------------

def tile_view(a, ksize):
    """A channels-last array whose windows tile it, as a (batch, o1, k1, o2, k2, ..., C)
    view (a copy only if ``a`` is not contiguous), and the index of each window tap in it,
    in row-major tap order."""
    shape = (a.shape[0],) + tuple(d for n, k in zip(a.shape[1:-1], ksize)
                                  for d in (n // k, k)) + (a.shape[-1],)
    taps = [(slice(None),) + tuple(i for t in tap for i in (slice(None), t)) + (slice(None),)
            for tap in np.ndindex(*ksize)]
    return a.reshape(shape), taps


def _pick_later(first, then, later, index_type, out=None):
    """Tap numbers: ``first`` where ``later`` is 0, ``then`` where it is 1 (ints or arrays;
    every number in ``then`` is greater than every one in ``first``)."""
    if isinstance(first, int) and isinstance(then, int):
        result = np.multiply(later, index_type.type(then - first), out=out, dtype=index_type)
    else:
        result = np.subtract(then, first, out=out, dtype=index_type)
        np.multiply(result, later, out=result)
    if not isinstance(first, int) or first:
        np.add(result, first, out=result, dtype=index_type)
    return result


def max_tiles(xt, taps, out, winner, a, b):
    """Max pooling of batch items a..b over tiling windows, and (into ``winner``, unless
    None) the tap number of each window's first maximum in row-major order: a tree of
    pairwise maxima over the taps in order, where a later half wins only if strictly
    greater."""
    def reduce(lo, hi, top=False):
        if hi - lo == 1:
            return xt[taps[lo]][a:b], lo
        mid = (lo + hi) // 2
        (lv, li), (rv, ri) = reduce(lo, mid), reduce(mid, hi)
        index = None
        if winner is not None:
            later = np.greater(rv, lv).view(np.uint8)
            index = _pick_later(li, ri, later, winner.dtype, winner[a:b] if top else None)
        return np.maximum(lv, rv, out=out[a:b] if top else None), index

    if len(taps) == 1:
        np.copyto(out[a:b], xt[taps[0]][a:b])
        if winner is not None:
            winner[a:b] = 0
    else:
        reduce(0, len(taps), top=True)


def route_tiles(dyc, winner, dxt, taps, a, b):
    """The gradient of batch items a..b, routed to each window's winning tap."""
    for number, tap in enumerate(taps):
        np.multiply(dyc[a:b], np.equal(winner[a:b], number), out=dxt[tap][a:b])
