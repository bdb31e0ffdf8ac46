"""Projective image transforms for the augmentation layers: one vectorised gather per call.

``transform_images(images, transforms)`` resamples a batch of NHWC images. Each row of
``transforms`` is TensorFlow's ``[a0, a1, a2, b0, b1, b2, c0, c1]``: it maps an output
pixel ``(x, y)`` to the input point ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``
with ``k = c0 x + c1 y + 1`` (pixel centres at integer coordinates). Points outside the
image follow ``fill_mode`` ("constant", "nearest", "wrap", "reflect"), as in
``tf.raw_ops.ImageProjectiveTransformV3``, and are read with "nearest" or "bilinear"
interpolation.

The output is linear in the images, so the gradient is the adjoint operator (a scatter-add
of the same weights, ``AffineTransformImagesGrad``), whose own gradient is the forward
transform again: gradients of any order stay exact. Transforms get no gradient.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import jit, threads
from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import Tensor, shape_str
from neuroflow.core.variable import Variable
from neuroflow.keras.serialization import unknown_name_error
from neuroflow.ops import array as _array
from neuroflow.ops import compiled
from neuroflow.ops import math as _math

INTERPOLATIONS = ("nearest", "bilinear")
FILL_MODES = ("constant", "nearest", "wrap", "reflect")


# -- sampling ------------------------------------------------------------------------------


def _map_coordinates(coords, size, fill_mode):
    """Folds coordinates outside [0, size - 1] back in, per ``fill_mode``."""
    if fill_mode == "constant":
        return coords  # reads outside the image take fill_value
    if fill_mode == "reflect":  # d c b a | a b c d | d c b a
        coords = _modulo(coords, 2 * size)
        # the mirror image of the second half; points within half a pixel of the fold
        # clamp to the edge either way
        coords = np.minimum(coords, 2 * size - 1 - coords)
    elif fill_mode == "wrap":  # a b c d | a b c d | a b c d
        coords = _modulo(coords, size)
    # the folds leave at most a half pixel outside; "nearest" clamps everything
    return np.clip(coords, 0, size - 1)


def _modulo(x, period):
    # np.mod on floats costs ~25x floor-and-subtract
    return x - period * np.floor(x / period)


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _axis_reads(coords, size, interpolation, fill_mode, dtype):
    """The pixel indices read along one axis and their weights: [(index, weight)], with
    weight None for a certain read, and zero for reads outside the image ("constant")."""
    if interpolation == "nearest":
        rounded = _round_half_away(coords) if fill_mode == "constant" else \
            np.floor(coords + 0.5)  # folded coordinates are never negative
        reads = [(rounded, None)]
    else:
        low = np.floor(coords)
        frac = coords - low
        reads = [(low, 1 - frac), (low + 1, frac)]
    out = []
    for index, weight in reads:
        index = index.astype(np.intp)
        if fill_mode == "constant":
            inside = (index >= 0) & (index < size)
            weight = inside.astype(dtype) if weight is None else weight * inside
            np.clip(index, 0, size - 1, out=index)
        else:
            # folded coordinates lie in [0, size - 1]: only the upper neighbour of the last
            # pixel falls outside, and its weight is zero
            np.minimum(index, size - 1, out=index)
        out.append((index, weight))
    return out


def _source_points(transforms, batch, out_height, out_width, dtype):
    """The input point (x, y) each output pixel maps to, each (batch, out_height,
    out_width)."""
    t = np.broadcast_to(transforms.astype(dtype, copy=False), (batch, 8))
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, i, None, None] for i in range(8))
    ys = np.arange(out_height, dtype=dtype)[:, None]
    xs = np.arange(out_width, dtype=dtype)[None, :]
    x = a0 * xs + a1 * ys + a2
    y = b0 * xs + b1 * ys + b2
    if np.any(t[:, 6:]):
        k = c0 * xs + c1 * ys + 1
        x, y = x / k, y / k
    return x, y


def _sample_points(transforms, batch, height, width, out_height, out_width, interpolation,
                   fill_mode, dtype):
    """For each output pixel, the input pixels it reads: [(flat index, weight)], one pair
    per interpolation corner, each of shape (batch, out_height, out_width); weight None
    means 1."""
    x, y = _source_points(transforms, batch, out_height, out_width, dtype)
    x = _map_coordinates(x, width, fill_mode)
    y = _map_coordinates(y, height, fill_mode)
    base = (np.arange(batch) * (height * width))[:, None, None]
    rows = [(base + index * width, weight)
            for index, weight in _axis_reads(y, height, interpolation, fill_mode, dtype)]
    cols = _axis_reads(x, width, interpolation, fill_mode, dtype)
    return [(row + col, _product(row_weight, col_weight))
            for row, row_weight in rows for col, col_weight in cols]


def _product(a, b):
    if a is None or b is None:
        return b if a is None else a
    return a * b


def _work_dtype(dtype):
    return np.float64 if dtype == np.float64 else np.float32


def _out_size(image_shape, output_shape):
    return tuple(image_shape[1:3]) if output_shape is None else tuple(output_shape)


# -- the primitives ------------------------------------------------------------------------


def _check_shapes(images, transforms):
    if images.shape.rank not in (None, 4):
        raise ValueError(f"images must be 4-D (batch, height, width, channels), got shape "
                         f"{shape_str(images.shape)}")
    if transforms.shape.rank not in (None, 2) or (
            transforms.shape.rank == 2 and transforms.shape[1] not in (None, 8)):
        raise ValueError(f"transforms must have shape (batch, 8), got "
                         f"{shape_str(transforms.shape)}")


def _transform_spec(images, transforms, output_shape, interpolation, fill_mode, fill_value):
    _check_shapes(images, transforms)
    if images.shape.rank is None:
        return Spec(None, images.dtype)
    n, h, w, c = images.shape
    oh, ow = (h, w) if output_shape is None else output_shape
    return Spec((n, oh, ow, c), images.dtype)


@primitive("AffineTransformImages", shape=_transform_spec, same_dtype=False)
def _transform(images, transforms, output_shape, interpolation, fill_mode, fill_value):
    batch, height, width, channels = images.shape
    out_height, out_width = _out_size(images.shape, output_shape)
    if interpolation == "bilinear" and min(height, width) >= 2 and images.dtype.kind == "f":
        work = transforms.astype(_work_dtype(images.dtype), copy=False).reshape(-1, 8)
        if fill_mode == "constant" and len(work) in (1, batch) and jit.available():
            out = np.empty((batch, out_height, out_width, channels), images.dtype)
            fill = images.dtype.type(fill_value)
            threads.run(lambda a, b: compiled.bilinear_constant(images, work, out, a, b, fill),
                        threads.split(batch, always=True))
            return out
        return _bilinear(images, transforms, out_height, out_width, fill_mode, fill_value)
    points = _sample_points(transforms, batch, height, width, out_height, out_width,
                            interpolation, fill_mode, _work_dtype(images.dtype))
    pixels = images.reshape(-1, channels)
    out = None
    for flat, weight in points:
        term = pixels[flat]  # the one gather per corner: (batch, height, width, channels)
        if weight is not None:
            term *= weight.astype(images.dtype, copy=False)[..., None]
        out = term if out is None else np.add(out, term, out=out)
    if fill_value and fill_mode == "constant":
        # the weights of the reads that fell outside the image go to fill_value
        missing = 1 - sum(weight for _, weight in points)
        out += (fill_value * missing).astype(images.dtype, copy=False)[..., None]
    return out


def _bilinear(images, transforms, out_height, out_width, fill_mode, fill_value):
    """The bilinear transform with one gather per corner from one index array: for
    "constant", the images get a one-pixel border of ``fill_value`` and points outside
    clamp onto it; for the other modes, points fold into the image first. Either way each
    point's top-left corner lies where all four corners are real pixels."""
    batch, height, width, channels = images.shape
    dtype = _work_dtype(images.dtype)
    x, y = _source_points(transforms, batch, out_height, out_width, dtype)
    if fill_mode == "constant":  # corners from -1 (the border) to height or width
        source = np.full((batch, height + 2, width + 2, channels), fill_value, images.dtype)
        source[:, 1:-1, 1:-1] = images
        x, y, shift = np.clip(x, -1, width), np.clip(y, -1, height), 1
    else:
        source = images
        x, y, shift = _map_coordinates(x, width, fill_mode), _map_coordinates(
            y, height, fill_mode), 0
    left = np.minimum(np.floor(x), width - 2 + shift)
    top = np.minimum(np.floor(y), height - 2 + shift)
    fx = (x - left).astype(images.dtype, copy=False)[..., None]
    fy = (y - top).astype(images.dtype, copy=False)[..., None]
    height, width = source.shape[1:3]
    index = top.astype(np.intp)
    index += shift
    index *= width
    index += left.astype(np.intp)
    index += shift + (np.arange(batch) * (height * width))[:, None, None]
    pixels = source.reshape(-1, channels)
    if channels == 1:  # np.take of single values is several times faster than of rows
        pixels, index = source.reshape(-1), index[..., None]

    def gather(at):
        return np.take(pixels, at, axis=0)

    gx, gy = 1 - fx, 1 - fy
    edges = []
    for _ in range(2):  # the top edge, then the bottom one, each interpolated along x
        edge, right = gather(index), gather(index + 1)
        edge *= gx  # weights, not a + (b - a) t: a weight of 1 reads a pixel exactly
        right *= fx
        edge += right
        edges.append(edge)
        index += width
    upper, lower = edges
    upper *= gy
    lower *= fy
    upper += lower
    return upper


@_transform.defgrad
def _transform_grad(op, dy):
    images, transforms = op.inputs
    a = op.attrs
    return [_transform_adjoint(dy, transforms, images, output_shape=a["output_shape"],
                               interpolation=a["interpolation"], fill_mode=a["fill_mode"]),
            None]


def _adjoint_spec(dy, transforms, images, output_shape, interpolation, fill_mode):
    return Spec(images.shape, dy.dtype)


@primitive("AffineTransformImagesGrad", shape=_adjoint_spec, same_dtype=False,
           shape_inputs=(2,))
def _transform_adjoint(dy, transforms, images, output_shape, interpolation, fill_mode):
    """Scatter-adds each output pixel's gradient onto the input pixels it was read from."""
    batch, height, width, channels = images.shape
    out_height, out_width = dy.shape[1:3]
    points = _sample_points(transforms, batch, height, width, out_height, out_width,
                            interpolation, fill_mode, _work_dtype(dy.dtype))
    flat = np.concatenate([index.ravel() for index, _ in points])
    weights = [None if weight is None else weight.astype(dy.dtype, copy=False)
               for _, weight in points]
    size = batch * height * width
    grad = np.empty((size, channels), dy.dtype)
    for lane in range(channels):  # one scatter-add per channel, over the whole batch
        dy_lane = dy[..., lane]
        values = np.concatenate([(dy_lane if w is None else dy_lane * w).ravel()
                                 for w in weights])
        grad[:, lane] = np.bincount(flat, values, minlength=size)
    return grad.reshape(images.shape)


@_transform_adjoint.defgrad
def _transform_adjoint_grad(op, ddx):
    dy, transforms, images = op.inputs
    a = op.attrs
    # the adjoint of the adjoint: the forward transform, without the (constant) fill
    return [_transform(ddx, transforms, output_shape=a["output_shape"],
                       interpolation=a["interpolation"], fill_mode=a["fill_mode"],
                       fill_value=0.0), None, None]


# -- public helpers ------------------------------------------------------------------------


def check_interpolation(interpolation) -> str:
    if interpolation not in INTERPOLATIONS:
        raise unknown_name_error("interpolation", interpolation, INTERPOLATIONS)
    return interpolation


def check_fill_mode(fill_mode) -> str:
    if fill_mode not in FILL_MODES:
        raise unknown_name_error("fill_mode", fill_mode, FILL_MODES)
    return fill_mode


def transform_images(images, transforms, interpolation="bilinear", fill_mode="constant",
                     fill_value=0.0, output_shape=None):
    """Resamples NHWC ``images`` through projective ``transforms`` ((batch or 1, 8) or (8,)).

    ``output_shape`` is the (height, width) of the output (default: the input's).

    >>> shift_right = [1.0, 0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    >>> transform_images(nf.ones([1, 2, 3, 1]), shift_right).numpy()[0, :, :, 0]
    array([[0., 1., 1.], [0., 1., 1.]], dtype=float32)
    """
    check_interpolation(interpolation)
    check_fill_mode(fill_mode)
    if not isinstance(images, (Tensor, Variable)):
        images = convert_to_tensor(images)
    if not isinstance(transforms, (Tensor, Variable)):
        transforms = convert_to_tensor(np.asarray(transforms, np.float32))
    if transforms.dtype.name != "float32":
        transforms = _math.cast(transforms, "float32")
    if transforms.shape.rank == 1:
        transforms = _array.reshape(transforms, [1, 8])
    _check_shapes(images, transforms)
    if output_shape is not None:
        output_shape = tuple(int(d) for d in output_shape)
    return _transform(images, transforms, output_shape=output_shape,
                      interpolation=interpolation, fill_mode=fill_mode,
                      fill_value=float(fill_value))


__all__ = ["transform_images", "check_interpolation", "check_fill_mode"]
