"""The compiled kernels (``backend.jit``; numba): single passes over the data that NumPy
can only write as several. Each takes and fills preallocated arrays, works on a range of
batch items (or elements) so that ``backend.threads`` can split it, and matches its NumPy
counterpart value for value (``tests/ops/test_compiled.py``).
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend.jit import helper, kernel


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


_LOG2E = 1.4426950408889634
_LN2_HI, _LN2_LO = 0.693359375, -2.1219444005469057e-4  # ln 2 = HI + LO, HI short: k HI exact


@helper
def pow2(k):
    """2.0 ** k as a float32, for an int32 k in [-126, 127], built from its bits."""
    return np.int32((k + 127) << 23).view(np.float32)


@helper
def exp_parts(hi, lo):
    """exp(hi + lo) = m 2^k for float32 ``hi`` + ``lo`` (``hi`` may be the exact head of a
    value whose tail is ``lo``): hi + lo = k ln 2 + r with |r| <= ln 2 / 2 (``hi - k ln2_hi``
    is exact), m = exp(r) by its Taylor polynomial to r^7; k an int32."""
    k = np.floor((hi + lo) * np.float32(_LOG2E) + np.float32(0.5))
    r = ((hi - k * np.float32(_LN2_HI)) + lo) - k * np.float32(_LN2_LO)
    m = np.float32(1) + r * (np.float32(1) + r * (np.float32(1 / 2) + r * (
        np.float32(1 / 6) + r * (np.float32(1 / 24) + r * (np.float32(1 / 120) + r * (
            np.float32(1 / 720) + r * np.float32(1 / 5040)))))))
    return m, np.int32(k)


@helper
def exp32(w):
    """exp(w) for a float32 w in [-87.3, 88.7], in float32 arithmetic the compiler
    vectorises (``exp_parts``). About 2 ulps."""
    m, k = exp_parts(w, np.float32(0))
    return m * pow2(k)


# erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2), z >= 0: the Chebyshev fit of Numerical
# Recipes (fractional error below 1.2e-7 for all z); P's coefficients, lowest order first
_ERFC_FIT = tuple(np.float32(c) for c in (
    -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
    1.48851587, -0.82215223, 0.17087277))
_HALF_SQRT_HALF = np.float32(0.5 * 0.7071067811865476)


@helper
def gelu_value(v):
    """Exact GELU of a float32, x Phi(x) = x erfc(-x / sqrt 2) / 2, in float32 arithmetic
    the compiler vectorises: erfc from the fit above (no cancellation for negative x);
    x^2 / 2 as an exact head (x cut to 12 bits: its square is exact) plus a small tail, so
    that exp(-x^2 / 2 + P) keeps its relative accuracy far out (``exp_parts``); the second
    half of the power of 2 applied after the multiply by x, so that results near float32's
    underflow keep theirs too. Against x Phi(x) in float64, with FMAs (``fastmath`` "contract"):
    relative error at most 4.3e-7 (99.9% within 3.1e-7) where the value is a normal float32.
    (TensorFlow's and PyTorch's 0.5 x (1 + erf(x / sqrt 2)) lose all relative accuracy as x
    goes negative: 1 + erf cancels.)"""
    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 = _ERFC_FIT
    a = min(abs(v), np.float32(18))  # erfc(18 / sqrt 2) / 2 is below float32's least
    t = np.float32(1) / (np.float32(1) + a * _HALF_SQRT_HALF)
    p = c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * (
        c6 + t * (c7 + t * (c8 + t * c9))))))))
    head = np.int32(np.float32(a).view(np.int32) & np.int32(-4096)).view(np.float32)
    tail = a - head
    m, k = exp_parts(np.float32(-0.5) * (head * head),
                     p - np.float32(0.5) * (tail * (head + head + tail)))
    k1 = k >> 1  # k >= -252: 2^k in two normal halves
    half_erfc = np.float32(0.5) * t * m * pow2(k1)
    if v < np.float32(0):  # beyond -18: -0.0 (NaN for -inf, as x (1 + erf) / 2 gives)
        return (v * half_erfc) * pow2(k - k1) if a < np.float32(18) else v * np.float32(0)
    return v * (np.float32(1) - half_erfc * pow2(k - k1))


@kernel(fastmath={"contract"})
def gelu(x, out, a, b):
    """Exact GELU of flat float32 elements a..b (``gelu_value``)."""
    for i in range(a, b):
        out[i] = gelu_value(x[i])


@kernel(fastmath={"contract"})
def bias_activation(rows, bias, a, b, activation):
    """Rows a..b of a 2-D ``rows`` plus ``bias`` (one per column), in place, then the
    activation: 0 none, 1 ReLU (NumPy's maximum: NaN stays, -0.0 becomes 0.0), 2 exact
    GELU (float32 rows; ``gelu_value``)."""
    zero = rows.dtype.type(0)
    for i in range(a, b):
        row = rows[i]
        for j in range(row.shape[0]):
            value = row[j] + bias[j]
            if activation == 1:
                if value <= zero:
                    value = zero
            elif activation == 2:
                value = gelu_value(np.float32(value))
            row[j] = value


@helper
def row_max(row, n):
    """The max of a float32 row (8 running maxima, so that the compiler vectorises); with a
    NaN in the row, some value of the row or NaN."""
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = row[0]
    j = 0
    while j + 8 <= n:
        m0, m1 = max(m0, row[j]), max(m1, row[j + 1])
        m2, m3 = max(m2, row[j + 2]), max(m3, row[j + 3])
        m4, m5 = max(m4, row[j + 4]), max(m5, row[j + 5])
        m6, m7 = max(m6, row[j + 6]), max(m7, row[j + 7])
        j += 8
    m = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    while j < n:
        m = max(m, row[j])
        j += 1
    return m


@helper
def row_sum(row, n):
    """The sum of a float32 row, in 8 running sums (vectorised, and closer to pairwise
    summation than one running sum)."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = np.float32(0)
    j = 0
    while j + 8 <= n:
        s0, s1, s2, s3 = s0 + row[j], s1 + row[j + 1], s2 + row[j + 2], s3 + row[j + 3]
        s4, s5, s6, s7 = s4 + row[j + 4], s5 + row[j + 5], s6 + row[j + 6], s7 + row[j + 7]
        j += 8
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while j < n:
        total += row[j]
        j += 1
    return total


@kernel(fastmath={"contract"})
def softmax_rows(x, out, a, b):
    """Softmax of rows a..b of a 2-D float32 ``x`` into ``out``, the exp by ``exp32``
    (values below e^-87.3 become 0). A row holding a NaN or +inf becomes NaN, as NumPy's
    max-subtracted softmax gives: its x - max has a NaN, whose exp32 is NaN, and so is the
    row's sum."""
    n = x.shape[1]
    low = np.float32(-87.3)
    for i in range(a, b):
        row, o = x[i], out[i]
        m = row_max(row, n)
        for j in range(n):
            w = row[j] - m
            o[j] = np.float32(0) if w < low else exp32(w)
        inverse = np.float32(1) / row_sum(o, n)
        for j in range(n):
            o[j] *= inverse


@kernel(fastmath={"contract", "reassoc"})
def layer_norm_rows(x, gamma, beta, out, mean, rstd, epsilon, a, b, residual):
    """Layer normalization of rows a..b of a 2-D float32 ``x`` (the NumPy kernel's
    two-pass mean and variance; the sums vectorised: "reassoc"), times ``gamma`` plus
    ``beta`` (each one per column, or of size 0 for none); the row means and reciprocal
    standard deviations into ``mean`` and ``rstd``. With a ``residual`` of x's shape (else
    of size 0), the rows of x + residual are normalized (a transformer's residual
    connection)."""
    n = x.shape[1]
    scale, shift, add = gamma.shape[0] > 0, beta.shape[0] > 0, residual.shape[0] > 0
    for i in range(a, b):
        row, o = x[i], out[i]
        total = squares = np.float32(0)
        if add:  # its own loops: in place on o, which the compiler vectorises
            other = residual[i]
            for j in range(n):
                v = row[j] + other[j]
                o[j] = v
                total += v
            mu = total / np.float32(n)
            for j in range(n):
                d = o[j] - mu
                o[j] = d
                squares += d * d
        else:
            for j in range(n):
                total += row[j]
            mu = total / np.float32(n)
            for j in range(n):
                d = row[j] - mu
                o[j] = d
                squares += d * d
        r = np.float32(1) / np.sqrt(squares / np.float32(n) + epsilon)
        for j in range(n):
            v = o[j] * r
            if scale:
                v *= gamma[j]
            if shift:
                v += beta[j]
            o[j] = v
        mean[i] = mu
        rstd[i] = r


@helper
def window3x3(top, mid, bot, x):
    """The nine values of the 3 x 3 window at column x of three consecutive rows."""
    return (top[x], top[x + 1], top[x + 2], mid[x], mid[x + 1], mid[x + 2],
            bot[x], bot[x + 1], bot[x + 2])


@kernel(fastmath={"contract"})
def conv3x3_one_channel(xp, w, bias, out, a, b, relu):
    """A 3 x 3, stride-1 convolution of items a..b of a one-channel image (``xp``: padded,
    [batch, rows, cols]) with ``w`` [9, depth] (taps row-major), plus ``bias`` (or of size
    0), then ReLU when ``relu`` (NumPy's maximum: NaN stays, -0.0 becomes 0.0): each output
    pixel's depth values in one vectorised pass over the filter, the nine input values in
    registers. (The im2col GEMM of a grayscale first layer has only 9 columns: 3.5x
    slower.)"""
    height, width, depth = out.shape[1], out.shape[2], out.shape[3]
    zero = out.dtype.type(0)
    has_bias = bias.shape[0] > 0
    w0, w1, w2, w3, w4, w5, w6, w7, w8 = w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
    for i in range(a, b):
        for y in range(height):
            top, mid, bot = xp[i, y], xp[i, y + 1], xp[i, y + 2]
            for x in range(width):
                x0, x1, x2, x3, x4, x5, x6, x7, x8 = window3x3(top, mid, bot, x)
                o = out[i, y, x]
                for c in range(depth):
                    v = (x0 * w0[c] + x1 * w1[c] + x2 * w2[c] + x3 * w3[c] + x4 * w4[c]
                         + x5 * w5[c] + x6 * w6[c] + x7 * w7[c] + x8 * w8[c])
                    if has_bias:
                        v += bias[c]
                    if relu and v <= zero:
                        v = zero
                    o[c] = v


@kernel(fastmath={"contract"})
def conv3x3_one_channel_filter(xp, dy, dw, a, b):
    """The filter gradient of ``conv3x3_one_channel`` over items a..b, added into ``dw``
    [9, depth]: each item's sum made apart (a short float32 sum), then added."""
    height, width, depth = dy.shape[1], dy.shape[2], dy.shape[3]
    item = np.zeros_like(dw)
    d0, d1, d2, d3, d4 = item[0], item[1], item[2], item[3], item[4]
    d5, d6, d7, d8 = item[5], item[6], item[7], item[8]
    for i in range(a, b):
        item[...] = 0
        for y in range(height):
            top, mid, bot = xp[i, y], xp[i, y + 1], xp[i, y + 2]
            for x in range(width):
                x0, x1, x2, x3, x4, x5, x6, x7, x8 = window3x3(top, mid, bot, x)
                g = dy[i, y, x]
                for c in range(depth):
                    v = g[c]
                    d0[c] += x0 * v
                    d1[c] += x1 * v
                    d2[c] += x2 * v
                    d3[c] += x3 * v
                    d4[c] += x4 * v
                    d5[c] += x5 * v
                    d6[c] += x6 * v
                    d7[c] += x7 * v
                    d8[c] += x8 * v
        for t in range(9):
            for c in range(depth):
                dw[t, c] += item[t, c]


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
