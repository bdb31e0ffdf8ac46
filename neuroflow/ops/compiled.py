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


# erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2), z >= 0: the Chebyshev fit of Numerical
# Recipes (fractional error below 1.2e-7 for all z); P's coefficients, lowest order first
_ERFC_FIT = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
             -1.13520398, 1.48851587, -0.82215223, 0.17087277)
_SQRT_HALF = 0.7071067811865476


@kernel
def gelu(x, out, a, b):
    """Exact GELU, x * Phi(x), of flat float32 elements a..b, computed in float64: Phi from
    the erfc fit above (so no cancellation for negative x), exp(w) as (Taylor(w / 256))^256,
    which the compiler vectorises (libm's exp it does not). Measured against the float64
    erfc formula over [-12, 12]: relative error at most 1.7e-7 (2-3 float32 ulps)."""
    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 = _ERFC_FIT
    for i in range(a, b):
        v = np.float64(x[i])
        z = abs(v) * _SQRT_HALF
        t = 1.0 / (1.0 + 0.5 * z)
        p = c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * (
            c6 + t * (c7 + t * (c8 + t * c9))))))))
        w = max(p - z * z, -100.0) * (1.0 / 256.0)
        e = 1.0 + w * (1.0 + w * (1 / 2 + w * (1 / 6 + w * (1 / 24 + w * (1 / 120 + w * (
            1 / 720 + w * (1 / 5040 + w * (1 / 40320 + w / 362880))))))))
        for _ in range(8):
            e = e * e
        half_erfc = 0.5 * t * e
        out[i] = v * (half_erfc if v < 0 else 1.0 - half_erfc)


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
