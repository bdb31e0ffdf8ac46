"""Op-table cases for nf.signal (neuroflow/ops/signal.py, neuroflow/ops/framing.py).

Transforms need rank >= 1 (rank >= 2 for the 2-D ones), so the samples have no scalars.
Complex transforms are tested through real -> complex -> real compositions (the
finite-difference checker perturbs real inputs), e.g. (real, imag) of fft(complex(x, y)).
"""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from tests.optable import OpCase, parametrize, torch


def _draw(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-2.0, 2.0, s) for s in shapes)


# complex-input transforms: same-shape pairs of ranks 1-3, and a broadcasting pair
PAIRS_1D = [_draw((5,), (5,)), _draw((3, 4), (3, 4), seed=1), _draw((2, 3, 4), (4,), seed=2)]
PAIRS_2D = [_draw((3, 4), (3, 4)), _draw((2, 3, 2), (3, 2), seed=1)]
REALS = [_draw((6,)), _draw((5,), seed=1), _draw((3, 4), seed=2), _draw((2, 2, 7), seed=3)]


def _parts(z):
    return nf.math.real(z), nf.math.imag(z)


def _np_parts(z):
    return np.real(z), np.imag(z)


def _t_parts(z):
    return z.real, z.imag


def _tc(x, y):
    return torch.complex(*torch.broadcast_tensors(x, y))


def _np_complex(x, y):
    return x + 1j * y


def _complex_case(name, nf_fn, np_fn, torch_name, samples):
    return OpCase(name, lambda x, y: _parts(nf_fn(nf.complex(x, y))), samples,
                  torch_fn=lambda x, y: _t_parts(getattr(torch.fft, torch_name)(_tc(x, y))),
                  ref=lambda x, y: _np_parts(np_fn(_np_complex(x, y))))


def _np_frame(x, length, step, axis=-1, pad_end=False, pad_value=0.0):
    x = np.moveaxis(x, axis, -1)
    n = x.shape[-1]
    count = -(-n // step) if pad_end else max(0, 1 + (n - length) // step)
    need = (count - 1) * step + length
    if need > n:
        x = np.concatenate([x, np.full(x.shape[:-1] + (need - n,), pad_value)], -1)
    frames = np.stack([x[..., i * step:i * step + length] for i in range(count)], -2)
    axis = axis % (x.ndim)
    return np.moveaxis(frames, (-2, -1), (axis, axis + 1))


def _np_overlap_add(frames, step):
    count, length = frames.shape[-2:]
    out = np.zeros(frames.shape[:-2] + ((count - 1) * step + length,))
    for i in range(count):
        out[..., i * step:i * step + length] += frames[..., i, :]
    return out


def _torch_stft(x, n):
    window = torch.hann_window(n, periodic=True, dtype=x.dtype)
    z = torch.stft(x, n_fft=n, hop_length=3, win_length=n, window=window, center=False,
                   return_complex=True)
    return _t_parts(z.transpose(-1, -2))


CASES = [
    _complex_case("fft", nf.signal.fft, np.fft.fft, "fft", PAIRS_1D),
    _complex_case("ifft", nf.signal.ifft, np.fft.ifft, "ifft", PAIRS_1D),
    _complex_case("fft2d", nf.signal.fft2d, np.fft.fft2, "fft2", PAIRS_2D),
    _complex_case("ifft2d", nf.signal.ifft2d, np.fft.ifft2, "ifft2", PAIRS_2D),
    OpCase("rfft", lambda x: _parts(nf.signal.rfft(x)), REALS,
           torch_fn=lambda x: _t_parts(torch.fft.rfft(x)),
           ref=lambda x: _np_parts(np.fft.rfft(x))),
    OpCase("rfft_cropped", lambda x: _parts(nf.signal.rfft(x, [4])), REALS,
           torch_fn=lambda x: _t_parts(torch.fft.rfft(x, n=4)),
           ref=lambda x: _np_parts(np.fft.rfft(x, n=4))),
    OpCase("rfft_padded", lambda x: _parts(nf.signal.rfft(x, [9])), REALS,
           torch_fn=lambda x: _t_parts(torch.fft.rfft(x, n=9)),
           ref=lambda x: _np_parts(np.fft.rfft(x, n=9))),
    OpCase("abs_rfft", lambda x: nf.abs(nf.signal.rfft(x)), REALS,
           torch_fn=lambda x: torch.abs(torch.fft.rfft(x)), ref=lambda x: np.abs(np.fft.rfft(x))),
    OpCase("irfft", lambda x, y: nf.signal.irfft(nf.complex(x, y)), PAIRS_1D,
           torch_fn=lambda x, y: torch.fft.irfft(_tc(x, y)),
           ref=lambda x, y: np.fft.irfft(_np_complex(x, y))),
    OpCase("irfft_odd_length", lambda x, y: nf.signal.irfft(nf.complex(x, y), [7]), PAIRS_1D,
           torch_fn=lambda x, y: torch.fft.irfft(_tc(x, y), n=7),
           ref=lambda x, y: np.fft.irfft(_np_complex(x, y), n=7)),
    OpCase("irfft_cropped", lambda x, y: nf.signal.irfft(nf.complex(x, y), [4]), PAIRS_1D,
           torch_fn=lambda x, y: torch.fft.irfft(_tc(x, y), n=4),
           ref=lambda x, y: np.fft.irfft(_np_complex(x, y), n=4)),
    OpCase("frame", lambda x: nf.signal.frame(x, 3, 2), REALS,
           torch_fn=lambda x: x.unfold(-1, 3, 2), ref=lambda x: _np_frame(x, 3, 2)),
    OpCase("frame_pad_end", lambda x: nf.signal.frame(x, 4, 3, pad_end=True, pad_value=0.5),
           REALS, ref=lambda x: _np_frame(x, 4, 3, pad_end=True, pad_value=0.5)),
    OpCase("frame_axis0", lambda x: nf.signal.frame(x, 2, 1, axis=0), REALS[2:],
           torch_fn=lambda x: x.unfold(0, 2, 1).movedim(-1, 1),
           ref=lambda x: _np_frame(x, 2, 1, axis=0)),
    OpCase("overlap_and_add", lambda x: nf.signal.overlap_and_add(x, 2),
           [_draw((3, 4)), _draw((2, 5), seed=1), _draw((2, 4, 3), seed=2)],
           ref=lambda x: _np_overlap_add(x, 2)),
    OpCase("stft", lambda x: _parts(nf.signal.stft(x, 8, 3, fft_length=8)),
           [_draw((14,)), _draw((2, 11), seed=1)], torch_fn=lambda x: _torch_stft(x, 8)),
    # frames shorter than the FFT: each frame is zero-padded to 8 before its rfft
    OpCase("stft_padded_frames", lambda x: _parts(nf.signal.stft(x, 5, 3)),
           [_draw((14,)), _draw((2, 11), seed=1)],
           ref=lambda x: _np_parts(np.fft.rfft(
               _np_frame(x, 5, 3) * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(5) / 4)), n=8))),
    # nonlinear after the transform, so the second-order check runs the adjoints' gradients
    # (for a linear op alone the first gradient does not depend on the input)
    OpCase("fft_squared", lambda x, y: _parts(nf.signal.fft(nf.complex(x, y)) ** 2), PAIRS_1D,
           torch_fn=lambda x, y: _t_parts(torch.fft.fft(_tc(x, y)) ** 2),
           ref=lambda x, y: _np_parts(np.fft.fft(_np_complex(x, y)) ** 2)),
    OpCase("ifft2d_squared", lambda x, y: _parts(nf.signal.ifft2d(nf.complex(x, y)) ** 2),
           PAIRS_2D, torch_fn=lambda x, y: _t_parts(torch.fft.ifft2(_tc(x, y)) ** 2),
           ref=lambda x, y: _np_parts(np.fft.ifft2(_np_complex(x, y)) ** 2)),
    OpCase("rfft_squared", lambda x: _parts(nf.signal.rfft(x, [5]) ** 2), REALS,
           torch_fn=lambda x: _t_parts(torch.fft.rfft(x, n=5) ** 2),
           ref=lambda x: _np_parts(np.fft.rfft(x, n=5) ** 2)),
    OpCase("irfft_squared", lambda x, y: nf.signal.irfft(nf.complex(x, y), [7]) ** 2, PAIRS_1D,
           torch_fn=lambda x, y: torch.fft.irfft(_tc(x, y), n=7) ** 2,
           ref=lambda x, y: np.fft.irfft(_np_complex(x, y), n=7) ** 2),
    OpCase("frame_squared", lambda x: nf.signal.frame(x, 3, 2, pad_end=True) ** 2, REALS,
           ref=lambda x: _np_frame(x, 3, 2, pad_end=True) ** 2),
    OpCase("overlap_and_add_squared", lambda x: nf.signal.overlap_and_add(x, 3) ** 2,
           [_draw((3, 4)), _draw((2, 2, 5), seed=1)], ref=lambda x: _np_overlap_add(x, 3) ** 2),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


def test_fft_convolution_equals_direct_convolution():
    """Linear convolution as a product of zero-padded spectra, and its gradient."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=9), rng.normal(size=4)
    n = len(a) + len(b) - 1

    def fft_conv(x, y):
        return nf.signal.irfft(nf.signal.rfft(x, [n]) * nf.signal.rfft(y, [n]), [n])

    ta, tb = nf.constant(a), nf.constant(b)
    np.testing.assert_allclose(fft_conv(ta, tb).numpy(), np.convolve(a, b), atol=1e-12)
    w = rng.normal(size=n)
    with nf.GradientTape() as tape:
        tape.watch([ta, tb])
        loss = nf.reduce_sum(fft_conv(ta, tb) * w)
    ga, gb = tape.gradient(loss, [ta, tb])
    # d/da sum(w * conv(a, b)) is the correlation of w with b, and vice versa
    np.testing.assert_allclose(ga.numpy(), np.correlate(w, b, mode="valid"), atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), np.correlate(w, a, mode="valid"), atol=1e-12)
    # float32: complex64 spectra, float32 result
    got = fft_conv(nf.constant(a, nf.float32), nf.constant(b, nf.float32))
    assert got.dtype == nf.float32
    np.testing.assert_allclose(got.numpy(), np.convolve(a, b), atol=1e-5)


@pytest.mark.parametrize("real,complex_", [(nf.float32, nf.complex64),
                                           (nf.float64, nf.complex128)])
def test_dtypes_follow_tensorflow(real, complex_):
    x = nf.cast(nf.constant([1.0, 2.0, 3.0, 4.0]), real)
    spectrum = nf.signal.rfft(x)
    assert spectrum.dtype == complex_ and spectrum.shape == (3,)
    assert nf.signal.irfft(spectrum).dtype == real
    z = nf.cast(x, complex_)
    for fn in (nf.signal.fft, nf.signal.ifft):
        assert fn(z).dtype == complex_
    for fn in (nf.signal.fft2d, nf.signal.ifft2d):
        assert fn(nf.reshape(z, [2, 2])).dtype == complex_
    with nf.GradientTape() as tape:
        tape.watch(x)
        loss = nf.reduce_sum(nf.abs(nf.signal.rfft(x)))
    assert tape.gradient(loss, x).dtype == real


def test_complex_transforms_reject_real_input():
    with pytest.raises(TypeError, match="complex64 or complex128"):
        nf.signal.fft(nf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="complex"):
        nf.signal.irfft(nf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="float32 or float64"):
        nf.signal.rfft(nf.constant([1, 2]))


def test_fft_gradient_on_complex_source_matches_torch():
    if torch is None:
        pytest.skip("torch is not installed")
    rng = np.random.default_rng(1)
    zv = rng.normal(size=(2, 6)) + 1j * rng.normal(size=(2, 6))
    wv = rng.normal(size=(2, 6)) + 1j * rng.normal(size=(2, 6))
    z = nf.constant(zv)
    with nf.GradientTape() as tape:
        tape.watch(z)
        loss = nf.reduce_sum(nf.math.real(nf.signal.fft(z) * wv))
    tz = torch.tensor(zv, requires_grad=True)
    (torch.fft.fft(tz) * torch.tensor(wv)).real.sum().backward()
    np.testing.assert_allclose(tape.gradient(loss, z).numpy(), tz.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("length", [1, 4, 5, 8])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_tensorflows_formula(length, periodic):
    # TF's rule: periodic only changes even lengths (n = length, else length - 1)
    n = length if (periodic and length % 2 == 0) else length - 1
    t = np.arange(length)
    with np.errstate(divide="ignore", invalid="ignore"):
        hann = np.ones(1) if length == 1 else 0.5 - 0.5 * np.cos(2 * np.pi * t / n)
        hamming = np.ones(1) if length == 1 else 0.54 - 0.46 * np.cos(2 * np.pi * t / n)
    got = nf.signal.hann_window(length, periodic=periodic)
    assert got.dtype == nf.float32
    np.testing.assert_allclose(got.numpy(), hann, atol=1e-7)
    np.testing.assert_allclose(
        nf.signal.hamming_window(length, periodic, dtype=nf.float64).numpy(), hamming)
    if not periodic and length > 1:
        np.testing.assert_allclose(got.numpy(), np.hanning(length), atol=1e-7)


def test_periodic_hann_matches_torch_for_even_lengths():
    if torch is None:
        pytest.skip("torch is not installed")
    np.testing.assert_allclose(nf.signal.hann_window(8).numpy(),
                               torch.hann_window(8, periodic=True).numpy(), atol=1e-6)


def test_window_dtype_must_be_floating():
    with pytest.raises(ValueError, match="floating"):
        nf.signal.hann_window(4, dtype=nf.int32)


def test_frame_counts_and_padding():
    x = nf.constant(np.arange(10, dtype=np.float32))
    assert nf.signal.frame(x, 4, 3).shape == (3, 4)
    padded = nf.signal.frame(x, 4, 3, pad_end=True, pad_value=-1.0)
    assert padded.shape == (4, 4)
    np.testing.assert_array_equal(padded.numpy()[-1], [9, -1, -1, -1])
    assert nf.signal.frame(x, 12, 3).shape == (0, 12)
    assert nf.signal.frame(nf.zeros([2, 7, 3]), 3, 2, axis=1).shape == (2, 3, 3, 3)
    ints = nf.signal.frame(nf.constant([1, 2, 3, 4]), 2, 2)
    assert ints.dtype == nf.int32
    with pytest.raises(ValueError, match="frame_step"):
        nf.signal.frame(x, 4, 0)
    with pytest.raises(ValueError, match="axis"):
        nf.signal.frame(x, 4, 1, axis=1)


def test_frame_result_is_not_a_view():
    x = nf.constant(np.arange(8, dtype=np.float32))
    frames = nf.signal.frame(x, 4, 4)
    assert not np.shares_memory(frames.numpy(), x.numpy())


def test_stft_default_fft_length_is_enclosing_power_of_two():
    assert nf.signal.stft(nf.zeros([1000]), 256, 128).shape == (6, 129)
    assert nf.signal.stft(nf.zeros([1000]), 200, 100).shape == (9, 129)
    assert nf.signal.stft(nf.zeros([3, 50]), 10, 5, pad_end=True).shape == (3, 10, 9)


def test_unknown_dims_in_graph_mode():
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, None])
        spectrum = nf.signal.rfft(x)
        assert spectrum.shape.as_list() == [None, None]
        fixed = nf.signal.rfft(x, [8])
        assert fixed.shape.as_list() == [None, 5]
        back = nf.signal.irfft(fixed, [8])
        assert back.shape.as_list() == [None, 8]
        frames = nf.signal.frame(x, 4, 2)
        assert frames.shape.as_list() == [None, None, 4]
        grads = nf.gradients(nf.reduce_sum(nf.abs(spectrum)) + nf.reduce_sum(frames), [x])
    value = np.random.default_rng(0).normal(size=(2, 6)).astype(np.float32)
    with v1.Session(graph=graph) as sess:
        got, g = sess.run([spectrum, grads[0]], {x: value})
    np.testing.assert_allclose(got, np.fft.rfft(value), rtol=1e-5, atol=1e-5)
    assert g.shape == (2, 6)
    # 2nd order through the adjoint ops, with no static lengths
    eager = nf.constant(value.astype(np.float64))
    with nf.GradientTape() as outer:
        outer.watch(eager)
        with nf.GradientTape() as inner:
            inner.watch(eager)
            loss = nf.reduce_sum(nf.signal.irfft(nf.signal.rfft(eager) * nf.signal.rfft(eager),
                                                 [6]) * 1.5)
        first = inner.gradient(loss, eager)
        dot = nf.reduce_sum(first * first)
    assert outer.gradient(dot, eager).shape == (2, 6)
