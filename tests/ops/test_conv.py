"""Op-table cases for convolutions (neuroflow/ops/conv.py, conv_depthwise.py); the focused
tests (static shapes, errors, the patch cache) are in test_conv_behaviour.py.

The torch oracle pads the input itself (F.pad) to reproduce TensorFlow's SAME padding, whose
odd cell goes at the end, since torch pads symmetrically.
"""
import numpy as np

import neuroflow as nf
from tests.optable import OpCase, parametrize

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the oracle checks skip without torch
    torch = F = None


def _rng(seed):
    return np.random.default_rng(seed)


def _uniform(shape, seed):
    return _rng(seed).uniform(-1, 1, shape)


# -- torch references -----------------------------------------------------------------------

def _tf_pads(sizes, ksizes, strides, dilations, padding):
    """TensorFlow's (before, after) padding per spatial dim, written out independently."""
    pads = []
    for i, (n, k, s, d) in enumerate(zip(sizes, ksizes, strides, dilations)):
        eff = (k - 1) * d + 1
        if padding == "SAME":
            out = -(-n // s)
            total = max((out - 1) * s + eff - n, 0)
            pads.append((total // 2, total - total // 2))
        elif padding == "VALID":
            pads.append((0, 0))
        else:
            pads.append(tuple(padding[i]))
    return pads


def _flat_pads(pads):
    flat = []
    for lo, hi in reversed(pads):
        flat += [lo, hi]
    return flat


def _first(x, n, channels_last):
    return x.permute(0, n + 1, *range(1, n + 1)) if channels_last else x


def _last(y, n, channels_last):
    return y.permute(0, *range(2, n + 2), 1) if channels_last else y


def _spatial(arg, n, channels_last):
    """TF's int / n / n+2 forms of strides or dilations -> n spatial values."""
    if isinstance(arg, int):
        return (arg,) * n
    if len(arg) == n + 2:
        return tuple(arg[1:-1] if channels_last else arg[2:])
    return tuple(arg)


def torch_conv(n, strides, padding, dilations=1, channels_last=True, groups_of=None):
    """torch.nn.functional.conv{n}d reproducing nf's conv with these attributes."""
    strides = _spatial(strides, n, channels_last)
    dilations = _spatial(dilations, n, channels_last)

    def fn(x, w):
        x = _first(x, n, channels_last)
        ksizes = tuple(w.shape[:n])
        x = F.pad(x, _flat_pads(_tf_pads(x.shape[2:], ksizes, strides, dilations, padding)))
        conv = getattr(F, f"conv{n}d")
        if groups_of:  # depthwise: filter [k, C, M] -> (C*M, 1, k)
            c, m = w.shape[n], w.shape[n + 1]
            weight = w.permute(n, n + 1, *range(n)).reshape(c * m, 1, *ksizes)
            y = conv(x, weight, stride=strides, dilation=dilations, groups=c)
        else:
            y = conv(x, w.permute(n + 1, n, *range(n)), stride=strides, dilation=dilations)
        return _last(y, n, channels_last)
    return fn


def torch_conv_transpose(n, output_shape, strides, padding, dilations=1, channels_last=True):
    """The adjoint of ``torch_conv``: a full transposed convolution, cropped by the pads."""
    strides = _spatial(strides, n, channels_last)
    dilations = _spatial(dilations, n, channels_last)
    sizes = output_shape[1:-1] if channels_last else output_shape[2:]

    def fn(dy, w):
        dy = _first(dy, n, channels_last)
        ksizes = tuple(w.shape[:n])
        full = getattr(F, f"conv_transpose{n}d")(dy, w.permute(n + 1, n, *range(n)),
                                                 stride=strides, dilation=dilations)
        pads = _tf_pads(sizes, ksizes, strides, dilations, padding)
        extra = [max(lo + size - full.shape[2 + i], 0)
                 for i, (size, (lo, _)) in enumerate(zip(sizes, pads))]
        full = F.pad(full, _flat_pads([(0, e) for e in extra]))
        index = (slice(None), slice(None)) + tuple(
            slice(lo, lo + size) for size, (lo, _) in zip(sizes, pads))
        return _last(full[index], n, channels_last)
    return fn


def _bias_ref(value, bias, data_format=None):
    if data_format == "NCHW":
        return value + bias.reshape((-1,) + (1,) * (value.ndim - 2))
    return value + bias


# -- the op table ------------------------------------------------------------------------------

def conv2d_case(name, x_shape, w_shape, strides, padding, dilations=1, fmt="NHWC", seed=0,
                square=False):
    def fn(x, w):
        y = nf.nn.conv2d(x, w, strides, padding, data_format=fmt, dilations=dilations)
        return nf.multiply(y, y) if square else y
    pad = padding if isinstance(padding, str) else (
        padding[1:3] if fmt == "NHWC" else padding[2:4])
    reference = torch_conv(2, strides, pad, dilations, fmt == "NHWC")
    torch_fn = (lambda x, w: reference(x, w) ** 2) if square else reference
    sample = (_uniform(x_shape, seed), _uniform(w_shape, seed + 1))
    return OpCase(name, fn, [sample], torch_fn=torch_fn)


def conv1d_case(name, x_shape, w_shape, stride, padding, dilations=1, fmt="NWC", seed=0):
    fn = lambda x, w: nf.nn.conv1d(x, w, stride, padding, data_format=fmt,
                                   dilations=dilations)
    pad = padding if isinstance(padding, str) else (
        padding[1:2] if fmt == "NWC" else padding[2:3])
    sample = (_uniform(x_shape, seed), _uniform(w_shape, seed + 1))
    return OpCase(name, fn, [sample],
                  torch_fn=torch_conv(1, stride, pad, dilations, fmt == "NWC"))


def transpose_case(name, n, dy_shape, w_shape, output_shape, strides, padding, dilations=1,
                   fmt=None, seed=0):
    fmt = fmt or ("NWC" if n == 1 else "NHWC")
    op = nf.nn.conv1d_transpose if n == 1 else nf.nn.conv2d_transpose
    fn = lambda dy, w: op(dy, w, output_shape, strides, padding, data_format=fmt,
                          dilations=dilations)
    sample = (_uniform(dy_shape, seed), _uniform(w_shape, seed + 1))
    return OpCase(name, fn, [sample], torch_fn=torch_conv_transpose(
        n, output_shape, strides, padding, dilations, fmt.endswith("C")))


def depthwise_case(name, x_shape, w_shape, strides, padding, dilations=1, fmt="NHWC", seed=0):
    fn = lambda x, w: nf.nn.depthwise_conv2d(x, w, strides, padding, data_format=fmt,
                                             dilations=dilations)
    sample = (_uniform(x_shape, seed), _uniform(w_shape, seed + 1))
    return OpCase(name, fn, [sample], torch_fn=torch_conv(
        2, strides, padding, dilations, fmt == "NHWC", groups_of=True))


def _separable(x, dw, pw):
    return nf.nn.separable_conv2d(x, dw, pw, [1, 2, 2, 1], "SAME")


def _torch_separable(x, dw, pw):
    mid = torch_conv(2, 2, "SAME", 1, True, groups_of=True)(x, dw)
    return torch_conv(2, 1, "VALID")(mid, pw)


CASES = [
    conv2d_case("conv2d_same", (2, 5, 5, 2), (3, 3, 2, 3), 1, "SAME"),
    conv2d_case("conv2d_same_stride2_odd_pad", (1, 6, 5, 2), (3, 2, 2, 3), 2, "SAME", seed=2),
    conv2d_case("conv2d_same_stride3", (1, 7, 8, 1), (3, 3, 1, 2), [3, 2], "SAME", seed=3),
    conv2d_case("conv2d_valid_stride_2_1", (2, 6, 5, 2), (3, 2, 2, 2), [1, 2, 1, 1], "VALID",
                seed=4),
    conv2d_case("conv2d_same_dilation2", (1, 7, 6, 2), (3, 3, 2, 2), 1, "SAME", 2, seed=5),
    conv2d_case("conv2d_same_dilation_beyond_input", (1, 3, 3, 2), (3, 2, 2, 2), 1, "SAME", 3,
                seed=16),
    conv2d_case("conv2d_valid_dilation_2_1", (1, 7, 6, 2), (2, 3, 2, 2), 1, "VALID", [2, 1],
                seed=6),
    conv2d_case("conv2d_same_stride2_dilation2", (1, 7, 7, 2), (3, 2, 2, 2), 2, "SAME", 2,
                seed=7),
    conv2d_case("conv2d_explicit", (1, 5, 6, 2), (3, 3, 2, 2), 2,
                [[0, 0], [1, 0], [2, 1], [0, 0]], seed=8),
    conv2d_case("conv2d_nchw_same_stride2", (2, 2, 6, 5), (3, 3, 2, 3), 2, "SAME",
                fmt="NCHW", seed=9),
    conv2d_case("conv2d_nchw_explicit_dilation", (1, 2, 6, 6), (2, 2, 2, 2), 1,
                [[0, 0], [0, 0], [1, 1], [0, 2]], dilations=[1, 1, 2, 2], fmt="NCHW",
                seed=10),
    # more than 4 input channels: the (rows, k*k*C) im2col path (fewer use a tap-major one)
    conv2d_case("conv2d_many_channels_same_stride2", (1, 5, 4, 6), (3, 2, 6, 2), 2, "SAME",
                seed=13),
    conv2d_case("conv2d_many_channels_nchw_dilation2", (1, 5, 5, 5), (2, 2, 5, 2), 1, "SAME",
                dilations=2, fmt="NCHW", seed=14),
    conv1d_case("conv1d_many_channels", (1, 6, 5), (3, 5, 2), 1, "SAME", seed=15),
    conv2d_case("conv2d_pointwise", (2, 3, 4, 3), (1, 1, 3, 2), 1, "VALID", seed=11),
    conv2d_case("conv2d_squared", (1, 5, 4, 2), (3, 3, 2, 2), 2, "SAME", seed=12,
                square=True),
    conv1d_case("conv1d_same_stride2", (2, 7, 2), (3, 2, 3), 2, "SAME"),
    conv1d_case("conv1d_ncw_valid_dilation2", (2, 2, 9), (3, 2, 2), 1, "VALID", 2, "NCW",
                seed=1),
    conv1d_case("conv1d_explicit", (1, 6, 2), (2, 2, 2), 2, [[0, 0], [1, 2], [0, 0]],
                seed=2),
    transpose_case("conv2d_transpose_same_stride2", 2, (1, 3, 3, 3), (3, 3, 2, 3),
                   [1, 6, 5, 2], 2, "SAME"),
    transpose_case("conv2d_transpose_valid_stride2", 2, (1, 2, 3, 2), (3, 2, 2, 2),
                   [1, 6, 7, 2], 2, "VALID", seed=1),
    transpose_case("conv2d_transpose_same_dilation2", 2, (1, 4, 4, 2), (2, 3, 3, 2),
                   [1, 4, 4, 3], 1, "SAME", 2, seed=2),
    transpose_case("conv2d_transpose_nchw", 2, (1, 2, 3, 2), (3, 3, 2, 2), [1, 2, 5, 4],
                   2, "SAME", fmt="NCHW", seed=3),
    transpose_case("conv1d_transpose_same_stride2", 1, (2, 4, 3), (3, 2, 3), [2, 8, 2], 2,
                   "SAME", seed=4),
    transpose_case("conv1d_transpose_valid_stride3", 1, (1, 3, 2), (2, 2, 2), [1, 9, 2], 3,
                   "VALID", seed=5),
    depthwise_case("depthwise_same", (1, 5, 5, 2), (3, 3, 2, 2), 1, "SAME"),
    depthwise_case("depthwise_stride2_odd_pad", (2, 6, 5, 2), (3, 2, 2, 1), [1, 2, 2, 1],
                   "SAME", seed=1),
    depthwise_case("depthwise_valid_dilation2", (1, 7, 6, 3), (2, 2, 3, 1), 1, "VALID", 2,
                   seed=2),
    depthwise_case("depthwise_nchw", (1, 2, 5, 6), (3, 3, 2, 2), [1, 1, 2, 1], "SAME",
                   fmt="NCHW", seed=3),
    OpCase("separable_conv2d", _separable,
           [(_uniform((1, 6, 5, 2), 0), _uniform((3, 3, 2, 2), 1), _uniform((1, 1, 4, 3), 2))],
           torch_fn=_torch_separable),
    OpCase("bias_add", nf.nn.bias_add,
           [(_uniform((3, 4), 0), _uniform((4,), 1)),
            (_uniform((2, 3, 2, 4), 2), _uniform((4,), 3))],
           ref=_bias_ref, torch_fn=lambda v, b: v + b),
    OpCase("bias_add_nchw", lambda v, b: nf.nn.bias_add(v, b, data_format="NCHW"),
           [(_uniform((2, 3, 2, 2), 4), _uniform((3,), 5))],
           ref=lambda v, b: _bias_ref(v, b, "NCHW"),
           torch_fn=lambda v, b: v + b.reshape(-1, 1, 1)),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)
