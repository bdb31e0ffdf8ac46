"""Depthwise and separable convolutions (``nf.nn.depthwise_conv2d``, ``separable_conv2d``).

``DepthwiseConv2dNative`` and its gradients ``...BackpropInput`` / ``...BackpropFilter`` are
each other's gradients, as the ``Conv2D`` family in conv.py. With one filter per channel
there is no GEMM to make: the kernels loop over the kh*kw taps, each a vectorised
multiply-add over a strided view of the whole batch.
"""
from __future__ import annotations

import math

import numpy as np

from neuroflow.core.op import Spec, primitive
from neuroflow.core.tensor import Tensor, shape_str
from neuroflow.ops import im2col
from neuroflow.ops.im2col import (
    assemble,
    channel_dim,
    from_channels_last,
    geometry,
    known_shape,
    sizes_of,
    spatial_dims,
    static_sizes,
    to_channels_last,
)


def _check(x_shape, w_shape, data_format, what="input"):
    if x_shape is not None and len(x_shape) != 4:
        raise ValueError(f"{what} must be rank 4 ({data_format}), got shape "
                         f"{shape_str(x_shape)}")
    if w_shape is not None and len(w_shape) != 4:
        raise ValueError(f"filter must be rank 4 [filter_height, filter_width, in_channels, "
                         f"channel_multiplier], got shape {shape_str(w_shape)}")
    if x_shape is None or w_shape is None:
        return
    c, fc = channel_dim(x_shape, data_format), w_shape[2]
    if c is not None and fc is not None and c != fc:
        raise ValueError(f"{what} depth {c} of {what} shape {shape_str(x_shape)} does not "
                         f"match the filter's in_channels {fc} of filter shape "
                         f"{shape_str(w_shape)}")


def _mul(a, b):
    return None if a is None or b is None else a * b


def _depthwise_spec(x, w, strides, dilations, padding, data_format):
    _check(known_shape(x.shape), known_shape(w.shape), data_format)
    xs = known_shape(x.shape) or (None,) * 4
    ws = known_shape(w.shape) or (None,) * 4
    out, _ = geometry(spatial_dims(xs, data_format), ws[:2], strides, dilations, padding)
    return Spec(assemble(xs[0], out, _mul(ws[2], ws[3]), data_format), x.dtype)


def _input_grad_spec(sizes, w, dy, strides, dilations, padding, data_format):
    shape = static_sizes(sizes, 4) or (None,) * 4
    _check(shape, known_shape(w.shape), data_format, what="input_sizes")
    ws = known_shape(w.shape) or (None,) * 4
    dys = known_shape(dy.shape)
    batch = shape[0] if shape[0] is not None else (dys[0] if dys else None)
    channels = channel_dim(shape, data_format)
    channels = channels if channels is not None else ws[2]
    return Spec(assemble(batch, spatial_dims(shape, data_format), channels, data_format),
                w.dtype)


def _filter_grad_spec(x, sizes, dy, strides, dilations, padding, data_format):
    shape = static_sizes(sizes, 4) or (None,) * 4
    _check(known_shape(x.shape), shape, data_format)
    if shape[2] is None and x.shape.rank is not None:
        shape = shape[:2] + (channel_dim(tuple(x.shape), data_format), shape[3])
    return Spec(shape, x.dtype)


def _layout(x_shape, w_shape, strides, dilations, padding, data_format):
    in_sizes = spatial_dims(x_shape, data_format)
    out_sizes, pads = geometry(in_sizes, w_shape[:2], strides, dilations, padding)
    return in_sizes, out_sizes, pads


def _grad_as_5d(dy, x_shape, w_shape, out_sizes, data_format):
    dyc = to_channels_last(dy, data_format)
    channels, multiplier = w_shape[2], w_shape[3]
    expected = (x_shape[0],) + tuple(out_sizes) + (channels * multiplier,)
    if dyc.shape != expected:
        raise ValueError(f"the gradient of shape {shape_str(dy.shape)} does not match the "
                         f"depthwise convolution's output shape (channels last) "
                         f"{shape_str(expected)}")
    return dyc.reshape(dyc.shape[:-1] + (channels, multiplier))


@primitive("DepthwiseConv2dNative", shape=_depthwise_spec)
def _depthwise(x, w, strides, dilations, padding, data_format):
    _check(x.shape, w.shape, data_format)
    _, out_sizes, pads = _layout(x.shape, w.shape, strides, dilations, padding, data_format)
    xp = im2col.pad_spatial(to_channels_last(x, data_format), pads)
    channels, multiplier = w.shape[2], w.shape[3]
    taps = w.reshape(-1, channels, multiplier)
    out = np.zeros((x.shape[0],) + out_sizes + (channels, multiplier), dtype=x.dtype)
    scratch = np.empty_like(out)
    for t, (_, idx) in enumerate(im2col.tap_slices(w.shape[:2], strides, dilations,
                                                   out_sizes)):
        np.multiply(xp[idx][..., None], taps[t], out=scratch)
        np.add(out, scratch, out=out)
    out = out.reshape(out.shape[:-2] + (channels * multiplier,))
    return from_channels_last(out, data_format)


@primitive("DepthwiseConv2dNativeBackpropFilter", shape=_filter_grad_spec,
           same_dtype=(0, 2))
def _depthwise_filter_grad(x, filter_sizes, dy, strides, dilations, padding, data_format):
    w_shape = tuple(int(d) for d in filter_sizes)
    _check(x.shape, w_shape, data_format)
    _, out_sizes, pads = _layout(x.shape, w_shape, strides, dilations, padding, data_format)
    xp = im2col.pad_spatial(to_channels_last(x, data_format), pads)
    dy5 = _grad_as_5d(dy, x.shape, w_shape, out_sizes, data_format)
    dw = np.empty((math.prod(w_shape[:2]),) + w_shape[2:], dtype=x.dtype)
    for t, (_, idx) in enumerate(im2col.tap_slices(w_shape[:2], strides, dilations,
                                                   out_sizes)):
        dw[t] = np.einsum("nhwc,nhwcm->cm", xp[idx], dy5)
    return dw.reshape(w_shape)


@primitive("DepthwiseConv2dNativeBackpropInput", shape=_input_grad_spec, same_dtype=(1, 2))
def _depthwise_input_grad(input_sizes, w, dy, strides, dilations, padding, data_format):
    x_shape = tuple(int(d) for d in input_sizes)
    _check(x_shape, w.shape, data_format, what="input_sizes")
    in_sizes, out_sizes, pads = _layout(x_shape, w.shape, strides, dilations, padding,
                                        data_format)
    dy5 = _grad_as_5d(dy, x_shape, w.shape, out_sizes, data_format)
    taps = w.reshape(-1, w.shape[2], w.shape[3])
    dx = np.zeros((x_shape[0],) + in_sizes + (w.shape[2],), dtype=dy.dtype)
    for t, out_idx, in_idx in im2col.tap_ranges(w.shape[:2], strides, dilations, out_sizes,
                                                in_sizes, pads):
        target = dx[in_idx]
        np.add(target, np.einsum("nhwcm,cm->nhwc", dy5[out_idx], taps[t]), out=target)
    return from_channels_last(dx, data_format)


def _attrs(op):
    return {k: op.attrs[k] for k in ("strides", "dilations", "padding", "data_format")}


@_depthwise.defgrad
def _depthwise_grad(op, dy):
    x, w = op.inputs
    return [_depthwise_input_grad(sizes_of(x), w, dy, **_attrs(op)),
            _depthwise_filter_grad(x, sizes_of(w), dy, **_attrs(op))]


@_depthwise_input_grad.defgrad
def _depthwise_input_grad_grad(op, g):
    _, w, dy = op.inputs
    return [None, _depthwise_filter_grad(g, sizes_of(w), dy, **_attrs(op)),
            _depthwise(g, w, **_attrs(op))]


@_depthwise_filter_grad.defgrad
def _depthwise_filter_grad_grad(op, g):
    x, _, dy = op.inputs
    return [_depthwise_input_grad(sizes_of(x), g, dy, **_attrs(op)), None,
            _depthwise(x, g, **_attrs(op))]


def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None,
                     name: str | None = None) -> Tensor:
    """Depthwise 2-D convolution (``tf.nn.depthwise_conv2d``): filter is [h, w, in_channels,
    channel_multiplier]; output channel ``c * channel_multiplier + m``.

    >>> nf.nn.depthwise_conv2d(nf.ones([1, 8, 8, 3]), nf.ones([3, 3, 3, 2]), [1, 1, 1, 1],
    ...                        "SAME").shape
    TensorShape([1, 8, 8, 6])
    """
    from neuroflow.ops.conv import conv_attrs
    return _depthwise(input, filter, name=name,
                      **conv_attrs(2, data_format, strides, padding, dilations))


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,
                     data_format=None, dilations=None, name: str | None = None) -> Tensor:
    """A depthwise convolution followed by a 1x1 convolution (``tf.nn.separable_conv2d``);
    pointwise_filter is [1, 1, in_channels * channel_multiplier, out_channels].

    >>> nf.nn.separable_conv2d(nf.ones([1, 8, 8, 3]), nf.ones([3, 3, 3, 2]),
    ...                        nf.ones([1, 1, 6, 4]), [1, 1, 1, 1], "SAME").shape
    TensorShape([1, 8, 8, 4])
    """
    from neuroflow.ops.conv import _conv, conv_attrs
    shape = known_shape(getattr(pointwise_filter, "shape", None))
    if shape is not None and (len(shape) != 4 or tuple(shape[:2]) != (1, 1)):
        raise ValueError(f"pointwise_filter must have shape [1, 1, in, out], got "
                         f"{shape_str(shape)}")
    attrs = conv_attrs(2, data_format, strides, padding, dilations)
    depthwise = _depthwise(input, depthwise_filter, **attrs)
    pointwise = dict(attrs, strides=(1, 1), dilations=(1, 1), padding="VALID")
    return _conv(depthwise, pointwise_filter, name=name, **pointwise)


__all__ = ["depthwise_conv2d", "separable_conv2d"]
