"""Convolutions (``nf.nn.conv1d``, ``conv2d``, their transposes, ``bias_add``).

Three primitives carry every convolution, as in TensorFlow: ``Conv2D``, and its two gradients
``Conv2DBackpropInput`` (which is also the transposed convolution) and
``Conv2DBackpropFilter``. Each one's gradient is expressed with the other two, so gradients of
any order work. The kernels take any number of spatial dims (a 1-D convolution is a
``Conv2D`` node here, as it is in a TensorFlow graph).

The NumPy kernels (im2col + GEMM, worked through the batch piece by piece) live in
conv_kernels.py; this module holds the primitives, their shape rules and gradient rules, and
the public functions.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import threads
from neuroflow.core import fusion
from neuroflow.core.graph import Operation
from neuroflow.core.op import Spec, primitive
from neuroflow.core.tensor import Tensor, shape_str
from neuroflow.ops import conv_kernels as kernels
from neuroflow.ops.array import zeros_like
from neuroflow.ops.conv_runtime import outputs
from neuroflow.ops.im2col import (
    assemble,
    channel_dim,
    check_format,
    geometry,
    known_shape,
    normalize_padding,
    sizes_of,
    spatial_arg,
    spatial_dims,
    static_sizes,
)

# -- checks and shape rules ----------------------------------------------------------------


def _conv_spec(x, w, strides, dilations, padding, data_format, keep_patches=False):
    n = len(strides)
    kernels.check_conv(known_shape(x.shape), known_shape(w.shape), n, data_format)
    unknown = (None,) * (n + 2)
    xs = known_shape(x.shape) or unknown
    ws = known_shape(w.shape) or unknown
    out, _ = geometry(spatial_dims(xs, data_format), ws[:-2], strides, dilations, padding)
    return Spec(assemble(xs[0], out, ws[-1], data_format), x.dtype)


def _input_grad_spec(sizes, w, dy, strides, dilations, padding, data_format):
    n = len(strides)
    shape = static_sizes(sizes, n + 2)
    kernels.check_conv(shape, known_shape(w.shape), n, data_format, what="output_shape")
    ws = known_shape(w.shape) or (None,) * (n + 2)
    dys = known_shape(dy.shape)
    if shape is None:
        shape = (None,) * (n + 2)
    if dys is not None:
        if len(dys) != n + 2:
            raise ValueError(f"the gradient (or transposed-conv input) must be rank {n + 2}, "
                             f"got shape {shape_str(dys)}")
        o = channel_dim(dys, data_format)
        if o is not None and ws[-1] is not None and o != ws[-1]:
            raise ValueError(f"input depth {o} of shape {shape_str(dys)} does not match the "
                             f"filter's out_channels {ws[-1]} of filter shape "
                             f"{shape_str(ws)}")
        out, _ = geometry(spatial_dims(shape, data_format), ws[:-2], strides, dilations,
                          padding)
        kernels.check_out(spatial_dims(dys, data_format), out, dys)
    batch = shape[0] if shape[0] is not None else (dys[0] if dys else None)
    channels = channel_dim(shape, data_format)
    channels = channels if channels is not None else ws[-2]
    return Spec(assemble(batch, spatial_dims(shape, data_format), channels, data_format),
                w.dtype)


def _filter_grad_spec(x, sizes, dy, strides, dilations, padding, data_format):
    n = len(strides)
    shape = static_sizes(sizes, n + 2) or (None,) * (n + 2)
    kernels.check_conv(known_shape(x.shape), shape, n, data_format)
    xs, dys = known_shape(x.shape), known_shape(dy.shape)
    if shape[-2] is None and xs is not None:
        shape = shape[:-2] + (channel_dim(xs, data_format), shape[-1])
    if shape[-1] is None and dys is not None:
        shape = shape[:-1] + (channel_dim(dys, data_format),)
    return Spec(shape, x.dtype)


# -- primitives (kernels in conv_kernels.py) -------------------------------------------------


@primitive("Conv2D", shape=_conv_spec)
def _conv(x, w, strides, dilations, padding, data_format, keep_patches=False):
    return kernels.forward(x, w, strides, dilations, padding, data_format, keep_patches)


@primitive("Conv2DBackpropFilter", shape=_filter_grad_spec, same_dtype=(0, 2))
def _conv_filter_grad(x, filter_sizes, dy, strides, dilations, padding, data_format):
    return kernels.filter_grad(x, tuple(int(d) for d in filter_sizes), dy, strides,
                               dilations, padding, data_format)


@primitive("Conv2DBackpropInput", shape=_input_grad_spec, same_dtype=(1, 2))
def _conv_input_grad(input_sizes, w, dy, strides, dilations, padding, data_format):
    return kernels.input_grad(tuple(int(d) for d in input_sizes), w, dy, strides, dilations,
                              padding, data_format)


def _geometry_attrs(op):
    return {k: op.attrs[k] for k in ("strides", "dilations", "padding", "data_format")}


@_conv.defgrad
def _conv_grad(op, dy):
    x, w = op.inputs
    if isinstance(op, Operation):  # graph mode: the forward kernel may keep its patches
        op.attrs["keep_patches"] = True
    attrs = _geometry_attrs(op)
    return [_conv_input_grad(sizes_of(x), w, dy, **attrs),
            _conv_filter_grad(x, sizes_of(w), dy, **attrs)]


@_conv_input_grad.defgrad
def _conv_input_grad_grad(op, g):
    _, w, dy = op.inputs
    attrs = _geometry_attrs(op)
    return [None, _conv_filter_grad(g, sizes_of(w), dy, **attrs), _conv(g, w, **attrs)]


@_conv_filter_grad.defgrad
def _conv_filter_grad_grad(op, g):
    x, _, dy = op.inputs
    attrs = _geometry_attrs(op)
    return [_conv_input_grad(sizes_of(x), g, dy, **attrs), None, _conv(x, g, **attrs)]


# -- public functions ----------------------------------------------------------------------


def conv_attrs(n, data_format, strides, padding, dilations, explicit=True):
    """The normalised attributes of an ``n``-D convolution primitive."""
    fmt = check_format(data_format, n)
    return {"strides": spatial_arg(strides, n, fmt, "strides"),
            "dilations": spatial_arg(dilations, n, fmt, "dilations", default=1),
            "padding": normalize_padding(padding, n, fmt, explicit),
            "data_format": fmt}


def _output_shape(output_shape, n):
    if hasattr(output_shape, "dtype") and not isinstance(output_shape, np.ndarray):
        return output_shape
    sizes = np.asarray(list(output_shape), dtype=np.int32).reshape(-1)
    if sizes.shape[0] != n + 2:
        raise ValueError(f"output_shape must have {n + 2} entries, got {list(sizes)}")
    return sizes


def conv1d(input, filters, stride, padding,
           data_format="NWC", dilations=None, name: str | None = None) -> Tensor:
    """1-D convolution (``tf.nn.conv1d``): filters are [width, in_channels, out_channels].

    >>> nf.nn.conv1d(nf.ones([1, 5, 2]), nf.ones([3, 2, 4]), 1, "SAME").shape
    TensorShape([1, 5, 4])
    """
    return _conv(input, filters, name=name,
                 **conv_attrs(1, data_format, stride, padding, dilations))


def conv2d(input, filters, strides, padding,
           data_format="NHWC", dilations=None, name: str | None = None) -> Tensor:
    """2-D convolution (``tf.nn.conv2d``): filters are [h, w, in_channels, out_channels].

    >>> nf.nn.conv2d(nf.ones([1, 28, 28, 1]), nf.ones([3, 3, 1, 8]), 2, "SAME").shape
    TensorShape([1, 14, 14, 8])
    """
    return _conv(input, filters, name=name,
                 **conv_attrs(2, data_format, strides, padding, dilations))


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME",
                     data_format="NHWC", dilations=None, name: str | None = None) -> Tensor:
    """The gradient of conv2d w.r.t. its input (``tf.nn.conv2d_transpose``); filters are
    [h, w, out_channels, in_channels].

    >>> nf.nn.conv2d_transpose(nf.ones([1, 7, 7, 4]), nf.ones([3, 3, 2, 4]),
    ...                        [1, 14, 14, 2], 2).shape
    TensorShape([1, 14, 14, 2])
    """
    return _conv_input_grad(_output_shape(output_shape, 2), filters, input, name=name,
                            **conv_attrs(2, data_format, strides, padding, dilations))


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",
                     data_format="NWC", dilations=None, name: str | None = None) -> Tensor:
    """The gradient of conv1d w.r.t. its input (``tf.nn.conv1d_transpose``).

    >>> nf.nn.conv1d_transpose(nf.ones([1, 5, 4]), nf.ones([3, 2, 4]), [1, 10, 2], 2).shape
    TensorShape([1, 10, 2])
    """
    return _conv_input_grad(_output_shape(output_shape, 1), filters, input, name=name,
                            **conv_attrs(1, data_format, strides, padding, dilations))


# -- bias_add ------------------------------------------------------------------------------


def _bias_axis(rank, data_format):
    return 1 if data_format is not None and data_format.upper().startswith("NC") else rank - 1


def _bias_add_spec(value, bias, data_format):
    _check_bias(known_shape(value.shape), known_shape(bias.shape), data_format)
    return Spec(value.shape, value.dtype)


def _check_bias(vs, bs, data_format):
    if bs is not None and len(bs) != 1:
        raise ValueError(f"bias must be 1-D, got shape {shape_str(bs)}")
    if vs is not None:
        if len(vs) < 2:
            raise ValueError(f"value must have rank at least 2, got shape {shape_str(vs)}")
        c = vs[_bias_axis(len(vs), data_format)]
        if bs is not None and c is not None and bs[0] is not None and bs[0] != c:
            raise ValueError(f"bias of shape {shape_str(bs)} does not match the channel "
                             f"dimension ({c}) of value shape {shape_str(vs)}")


# -- Conv2D + BiasAdd (+ Relu), fused by the compiler ---------------------------------------


def _channels_last(data_format):
    return data_format is None or not data_format.upper().startswith("NC")


def _fused_conv(x, w, bias, strides, dilations, padding, data_format, keep_patches=False,
                relu=False):
    _check_bias(x.shape[:-1] + (w.shape[-1],), bias.shape, data_format)
    return kernels.forward(x, w, strides, dilations, padding, data_format, keep_patches,
                           epilogue=kernels.BiasEpilogue(bias, relu))


_FUSED_CONV = fusion.FusedDef("_FusedConv2D", _fused_conv)


def _fuse_conv(op, inputs, chain):
    """Conv2D -> BiasAdd (-> Relu), channels last, into one kernel (TensorFlow's remapper
    makes the same _FusedConv2D)."""
    if op.type == "Relu":
        bias_add = chain(inputs[0], "BiasAdd")
        if bias_add is None:
            return None
        ops = [bias_add[0], op]
    elif op.type == "BiasAdd":
        bias_add, ops = (op, inputs), [op]
    else:
        return None
    if not _channels_last(bias_add[0].attrs.get("data_format")):
        return None
    conv = chain(bias_add[1][0], "Conv2D")
    if conv is None or not _channels_last(conv[0].attrs.get("data_format")):
        return None
    attrs = dict(conv[0].attrs, relu=op.type == "Relu")
    return fusion.Fused(_FUSED_CONV, conv[1] + bias_add[1][1:], attrs, [conv[0]] + ops)


fusion.RULES.append(_fuse_conv)
threads.SPLITTING_OPS.update(("Conv2D", "Conv2DBackpropFilter", "Conv2DBackpropInput",
                              "_FusedConv2D"))


@primitive("BiasAdd", shape=_bias_add_spec)
def _bias_add(value, bias, data_format):
    _check_bias(value.shape, bias.shape, data_format)
    axis = _bias_axis(value.ndim, data_format)
    if axis != value.ndim - 1:
        return value + bias.reshape((-1,) + (1,) * (value.ndim - 2))
    if value.ndim > 2 and value.flags.c_contiguous and value.dtype == bias.dtype:
        # a bias tiled along the row lets NumPy add long contiguous runs, not C at a time
        row = value.shape[-2] * value.shape[-1]
        out = outputs.empty(value.shape, value.dtype)
        rows, tiled, out_rows = value.reshape(-1, row), np.tile(bias, value.shape[-2]), \
            out.reshape(-1, row)
        threads.run(lambda a, b: np.add(rows[a:b], tiled, out=out_rows[a:b]),
                    threads.split(len(rows), threads.MIN_SPLIT // row + 1))
        return out
    return value + bias


def _bias_add_grad_spec(dy, data_format):
    if dy.shape.rank is None:
        return Spec([None], dy.dtype)
    return Spec([dy.shape[_bias_axis(dy.shape.rank, data_format)]], dy.dtype)


@primitive("BiasAddGrad", shape=_bias_add_grad_spec)
def _bias_add_grad(dy, data_format):
    axis = _bias_axis(dy.ndim, data_format)
    if axis == dy.ndim - 1 and dy.flags.c_contiguous and dy.dtype.kind in "fc":
        # a GEMV with ones sums the rows several times faster than sum(axis=0)
        rows = dy.reshape(-1, dy.shape[-1])
        ones = np.ones(rows.shape[0], dy.dtype)
        parts = threads.run(lambda a, b: ones[a:b] @ rows[a:b],
                            threads.split(len(rows), threads.MIN_SPLIT // rows.shape[1] + 1))
        return parts[0] if len(parts) == 1 else np.add.reduce(parts)
    return dy.sum(axis=tuple(a for a in range(dy.ndim) if a != axis))


@_bias_add.defgrad
def _bias_add_backward(op, dy):
    return [dy, _bias_add_grad(dy, data_format=op.attrs["data_format"])]


@_bias_add_grad.defgrad
def _bias_add_grad_backward(op, g):
    return [_bias_add(zeros_like(op.inputs[0]), g, data_format=op.attrs["data_format"])]


def bias_add(value, bias, data_format=None, name: str | None = None) -> Tensor:
    """Adds a 1-D bias along the channel dimension (``tf.nn.bias_add``; data_format
    'N...C' (default, channels last) or 'NC...').

    >>> nf.nn.bias_add(nf.zeros([2, 3]), nf.constant([1.0, 2.0, 3.0])).numpy()[0]
    array([1., 2., 3.], dtype=float32)
    """
    if data_format is not None and not str(data_format).upper().startswith("N"):
        raise ValueError(f"data_format must be 'N...C' or 'NC...', got {data_format!r}")
    fmt = None if data_format is None else str(data_format).upper()
    return _bias_add(value, bias, data_format=fmt, name=name)


from neuroflow.ops.conv_depthwise import *  # noqa: E402,F401,F403
from neuroflow.ops.conv_depthwise import __all__ as _depthwise_all  # noqa: E402

__all__ = ["conv1d", "conv2d", "conv1d_transpose", "conv2d_transpose", "bias_add",
           *_depthwise_all]
