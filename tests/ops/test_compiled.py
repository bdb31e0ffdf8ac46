"""The compiled kernels (numba, ``backend.jit``) against their NumPy versions: the same
values, and the same winners for max pooling."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.backend import jit, threads

pytest.importorskip("numba", reason="compiled kernels need the 'fast' extra (numba)")

from neuroflow.ops import compiled  # noqa: E402
from neuroflow.ops.im2col import max_tiles, route_tiles, tile_view  # noqa: E402


@pytest.fixture
def numpy_only(monkeypatch):
    def off():
        monkeypatch.setattr(jit, "ENABLED", False)
    return off


@pytest.mark.parametrize("ksize", [(2, 2), (3, 2), (1, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_kernels_match_numpy(ksize, dtype):
    rng = np.random.default_rng(sum(ksize))
    kh, kw = ksize
    x = rng.integers(-3, 4, (5, 4 * kh, 3 * kw, 6)).astype(dtype)  # many ties
    shape = (5, 4, 3, 6)
    want, want_winner = np.empty(shape, dtype), np.empty(shape, np.uint8)
    view, taps = tile_view(x, ksize)
    max_tiles(view, taps, want, want_winner, 0, 5)
    got, got_winner = np.empty(shape, dtype), np.empty(shape, np.uint8)
    compiled.max_tiles_2d(x, got, got_winner, 0, 3, kh, kw)
    compiled.max_tiles_2d(x, got, got_winner, 3, 5, kh, kw)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_winner, want_winner)
    dy = rng.standard_normal(shape).astype(dtype)
    want_dx, got_dx = np.empty_like(x), np.full_like(x, np.nan)
    route_tiles(dy, want_winner, tile_view(want_dx, ksize)[0], taps, 0, 5)
    compiled.route_tiles_2d(dy, got_winner, got_dx, 0, 5, kh, kw)
    np.testing.assert_array_equal(got_dx, want_dx)


def test_a_nan_in_a_window_is_its_maximum():
    x = np.zeros((1, 2, 4, 1), np.float32)
    x[0, 1, 0, 0], x[0, 0, 3, 0] = np.nan, 5.0
    out, winner = np.empty((1, 1, 2, 1), np.float32), np.empty((1, 1, 2, 1), np.uint8)
    compiled.max_tiles_2d(x, out, winner, 0, 1, 2, 2)
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 1, 0] == 5.0
    assert winner[0, 0, 1, 0] == 1


def _adam_after_steps():
    rng = np.random.default_rng(0)
    var = nf.Variable(rng.standard_normal(300_000).astype(np.float32))
    opt = nf.keras.optimizers.Adam(0.01)
    for _ in range(3):
        grad = nf.constant(rng.standard_normal(300_000).astype(np.float32))
        opt.apply_gradients([(grad, var)])
    return var.numpy()


def test_adam_matches_numpy(numpy_only, monkeypatch):
    monkeypatch.setattr(threads, "_intra_op", 2)
    with threads.owned():
        fast = _adam_after_steps()
        numpy_only()
        plain = _adam_after_steps()
    np.testing.assert_allclose(fast, plain, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bilinear_transform_matches_numpy(numpy_only, dtype):
    from neuroflow.keras.layers.image_transform import _transform
    rng = np.random.default_rng(1)
    images = rng.random((6, 9, 7, 2)).astype(dtype)
    transforms = np.tile(np.array([1, 0.2, 1.5, -0.1, 1.1, -2.0, 0, 0], np.float32), (6, 1))
    transforms += rng.normal(0, 0.4, transforms.shape).astype(np.float32)
    transforms[:, 6:] = 0
    transforms[2, 6:] = [0.02, -0.03]  # projective
    results = []
    for use_jit in (True, False):
        jit.ENABLED = use_jit
        for shape, fill in ((None, 0.0), ((5, 11), -1.5)):
            results.append(_transform.kernel(images, transforms, output_shape=shape,
                                             interpolation="bilinear",
                                             fill_mode="constant", fill_value=fill))
    jit.ENABLED = True
    for fast, plain in zip(results[:2], results[2:]):
        np.testing.assert_array_equal(fast, plain)


def test_a_training_step_matches_numpy(numpy_only):
    from tests.core.test_threads import _model_step
    fast = _model_step()
    numpy_only()
    plain = _model_step()
    for a, b in zip(fast[0] + fast[1] + fast[2], plain[0] + plain[1] + plain[2]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_the_environment_switches_compiled_kernels_off():
    code = "from neuroflow.backend import jit; print(jit.available())"
    for value, want in (("0", "False"), ("1", "True")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={"NEUROFLOW_JIT": value, "PATH": ""}, check=True).stdout
        assert out.strip() == want


def test_gelu_kernel_is_within_a_few_ulps_of_exact(numpy_only):
    """The compiled float32 GELU against x Phi(x) in float64 (Phi from erfc, no
    cancellation): relative error below 4.5e-7 (a few float32 ulps) wherever the value is a
    normal float32, values near the underflow included, and infinities and NaN as the
    NumPy version gives them."""
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-14, 12, 260_001, dtype=np.float32),
                        (rng.standard_normal(50_000) * 1e-3).astype(np.float32),
                        np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float32)])
    got = nf.nn.gelu(nf.constant(x)).numpy()
    wide = x[:-3].astype(np.float64)
    series = np.array([math.erfc(-v / math.sqrt(2.0)) for v in wide])
    want = wide * 0.5 * series
    normal = np.abs(want) > np.finfo(np.float32).tiny
    rel = np.abs(got[:-3][normal] - want[normal]) / np.abs(want[normal])
    assert rel.max() < 4.5e-7
    numpy_only()  # the NumPy version (erf) agrees, to float32 rounding
    with np.errstate(invalid="ignore"):  # -inf * 0
        plain = nf.nn.gelu(nf.constant(x)).numpy()
    np.testing.assert_allclose(plain[:-3], got[:-3], rtol=2e-6, atol=1e-7)
    np.testing.assert_array_equal(plain[-3:], got[-3:])  # inf, and NaN from -inf and NaN


@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 130), (2, 1)])
def test_softmax_kernel_matches_numpy(numpy_only, shape):
    """Last-axis float32 softmax, compiled (exp in float32 arithmetic, 8-way sums) against
    NumPy's: within float32 rounding; rows with NaN, +inf or -inf entries alike."""
    rng = np.random.default_rng(len(shape))
    x = (rng.standard_normal(shape) * 20).astype(np.float32)
    flat = x.reshape(-1, shape[-1])
    flat[0, 0] = np.nan
    flat[-1, shape[-1] // 2] = np.nan  # one the running maxima may not see
    if len(flat) > 3:
        flat[1, -1] = np.inf
        flat[2, :] = -np.inf
        flat[2, 0] = 3.0
    with np.errstate(invalid="ignore"):
        got = nf.nn.softmax(nf.constant(x)).numpy()
        numpy_only()
        want = nf.nn.softmax(nf.constant(x)).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=3e-6, atol=1e-30)
    big = (rng.standard_normal((64, 128)) * 3).astype(np.float32)
    wide = np.exp((big - big.max(1, keepdims=True)).astype(np.float64))
    jit.ENABLED = True  # (monkeypatch puts the switch back afterwards)
    np.testing.assert_allclose(nf.nn.softmax(nf.constant(big)).numpy(),
                               wide / wide.sum(1, keepdims=True), rtol=2e-6)


@pytest.mark.parametrize("params", [(True, True), (False, True), (False, False)])
def test_layer_norm_kernel_matches_numpy(numpy_only, params):
    """Float32 layer normalization over trailing axes, compiled (8 running sums per row)
    against the NumPy kernel: the output and both statistics."""
    from neuroflow.ops.layer_norm import _layer_norm
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((3, 5, 4, 6)) * 4 + 2).astype(np.float32)
    gamma, beta = (rng.standard_normal((4, 6)).astype(np.float32) for _ in range(2))
    has_gamma, has_beta = params
    args = [p for p, flag in ((gamma, has_gamma), (beta, has_beta)) if flag]
    attrs = dict(axis=(2, 3), epsilon=1e-3, has_gamma=has_gamma, has_beta=has_beta)
    got = _layer_norm.kernel(x, *args, **attrs)
    numpy_only()
    want = _layer_norm.kernel(x, *args, **attrs)
    for a, b in zip(got, want):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("padding", ["SAME", "VALID", [[0, 0], [2, 0], [1, 3], [0, 0]]])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_one_channel_3x3_convolution_kernels_match_numpy(numpy_only, padding, data_format):
    """A grayscale first layer's convolution (fused with its bias and ReLU), its filter
    gradient and the layer's training step, compiled (direct, no im2col) against the NumPy
    GEMM path: within float32 rounding, NaN kept through the ReLU."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 9, 7, 1)).astype(np.float32)
    x[1, 4, 3, 0] = np.nan
    w = rng.standard_normal((3, 3, 1, 10)).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    if data_format == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        if not isinstance(padding, str):
            padding = [padding[0], padding[3], padding[1], padding[2]]

    @nf.function
    def step(images, kernel, bias):
        with nf.GradientTape() as tape:
            tape.watch(kernel)
            y = nf.nn.relu(nf.nn.bias_add(nf.nn.conv2d(images, kernel, 1, padding,
                                                       data_format=data_format),
                                          bias, data_format=data_format))
            loss = nf.reduce_sum(nf.where(nf.math.is_nan(y), 0.0, y) ** 2)
        return y, tape.gradient(loss, kernel)

    def run():
        y, dw = step(nf.constant(x), nf.constant(w), nf.constant(b))
        plain = nf.nn.conv2d(nf.constant(np.nan_to_num(x)), nf.constant(w), 1, padding,
                             data_format=data_format)
        return y.numpy(), dw.numpy(), plain.numpy()
    got = run()
    numpy_only()
    want = run()
    for a, e in zip(got, want):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(e))
        np.testing.assert_allclose(a, e, rtol=2e-5, atol=2e-5)


def test_one_channel_3x3_kernels_are_the_ones_running(monkeypatch):
    calls = []
    for name in ("conv3x3_one_channel", "conv3x3_one_channel_filter"):
        real = getattr(compiled, name)
        monkeypatch.setattr(compiled, name,
                            lambda *a, real=real, name=name: calls.append(name) or real(*a))
    x = nf.constant(np.ones((2, 5, 5, 1), np.float32))
    w = nf.constant(np.ones((3, 3, 1, 4), np.float32))
    with nf.GradientTape() as tape:
        tape.watch(w)
        y = nf.nn.conv2d(x, w, 1, "SAME")
    assert y.numpy()[0, 2, 2, 0] == 9.0 and y.numpy()[0, 0, 0, 0] == 4.0
    assert tape.gradient(y, w).numpy()[1, 1, 0, 0] == 50.0  # every pixel sees the centre
    assert "conv3x3_one_channel" in calls and "conv3x3_one_channel_filter" in calls
