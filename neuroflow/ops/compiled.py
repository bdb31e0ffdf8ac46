"""The compiled kernels (``backend.jit``; numba): single passes over the data that NumPy
can only write as several. Each takes and fills preallocated arrays, works on a range of
batch items (or elements) so that ``backend.threads`` can split it, and matches its NumPy
counterpart value for value (``tests/ops/test_compiled.py``).
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend.jit import kernel


@kernel
def max_tiles_2d(x, out, winner, a, b, kh, kw):
    """Max pooling of items a..b of channels-last ``x`` over kh x kw windows that tile it,
    and the tap number (row-major) of each window's first maximum into ``winner``. A NaN
    in a window wins (NumPy's maximum propagates NaN)."""
    channels = x.shape[3]
    for i in range(a, b):
        for oy in range(out.shape[1]):
            for ox in range(out.shape[2]):
                best = out[i, oy, ox]
                won = winner[i, oy, ox]
                first = x[i, oy * kh, ox * kw]
                for c in range(channels):
                    best[c] = first[c]
                    won[c] = 0
                for t in range(1, kh * kw):
                    row = x[i, oy * kh + t // kw, ox * kw + t % kw]
                    for c in range(channels):
                        v = row[c]
                        if v > best[c] or (v != v and best[c] == best[c]):
                            best[c] = v
                            won[c] = t


@kernel
def route_tiles_2d(dy, winner, dx, a, b, kh, kw):
    """The max pool gradient of items a..b over tiling kh x kw windows: each window's
    gradient to the tap that won it, zero elsewhere."""
    channels = dy.shape[3]
    zero = dx.dtype.type(0)
    for i in range(a, b):
        for oy in range(dy.shape[1]):
            for ox in range(dy.shape[2]):
                g = dy[i, oy, ox]
                won = winner[i, oy, ox]
                for t in range(kh * kw):
                    cell = dx[i, oy * kh + t // kw, ox * kw + t % kw]
                    for c in range(channels):
                        cell[c] = g[c] if won[c] == t else zero


@kernel
def adam(var, grad, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha):
    """Adam's update of flat arrays, in the NumPy rule's order of operations::

        m += (g - m) * (1 - beta_1);  v += (g * g - v) * (1 - beta_2)
        var -= m / (sqrt(v) + epsilon) * alpha
    """
    for k in range(var.shape[0]):
        g = grad[k]
        mk = m[k] + (g - m[k]) * one_minus_beta_1
        vk = v[k] + (g * g - v[k]) * one_minus_beta_2
        m[k] = mk
        v[k] = vk
        var[k] -= mk / (np.sqrt(vk) + epsilon) * alpha


__all__ = []


@kernel
def bilinear_constant(images, transforms, out, a, b, fill_value):
    """``image_transform._bilinear`` in "constant" fill mode, for items a..b: each output
    pixel maps to the input point (x, y) (projectively), clamped to one pixel outside the
    image, and reads its four neighbours (``fill_value`` outside), in the NumPy kernel's
    order of operations."""
    height, width, channels = images.shape[1], images.shape[2], images.shape[3]
    one = transforms.dtype.type(1)
    for i in range(a, b):
        t = transforms[i if transforms.shape[0] > 1 else 0]
        projective = t[6] != 0 or t[7] != 0
        for oy in range(out.shape[1]):
            ys = transforms.dtype.type(oy)
            for ox in range(out.shape[2]):
                xs = transforms.dtype.type(ox)
                x = t[0] * xs + t[1] * ys + t[2]
                y = t[3] * xs + t[4] * ys + t[5]
                if projective:
                    k = t[6] * xs + t[7] * ys + one
                    x, y = x / k, y / k
                x = min(max(x, -one), transforms.dtype.type(width))
                y = min(max(y, -one), transforms.dtype.type(height))
                left = min(np.floor(x), transforms.dtype.type(width - 1))
                top = min(np.floor(y), transforms.dtype.type(height - 1))
                fx, fy = x - left, y - top
                gx, gy = one - fx, one - fy
                col, row = int(left), int(top)
                for c in range(channels):
                    p00 = p01 = p10 = p11 = fill_value
                    if 0 <= row < height:
                        if 0 <= col < width:
                            p00 = images[i, row, col, c]
                        if col + 1 < width:
                            p01 = images[i, row, col + 1, c]
                    if row + 1 < height:
                        if 0 <= col < width:
                            p10 = images[i, row + 1, col, c]
                        if col + 1 < width:
                            p11 = images[i, row + 1, col + 1, c]
                    upper = p00 * gx + p01 * fx
                    lower = p10 * gx + p11 * fx
                    out[i, oy, ox, c] = upper * gy + lower * fy
