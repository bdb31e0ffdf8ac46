"""Fourier transforms over the innermost axes, framing, short-time Fourier transforms, windows.

Every transform is linear, so each gradient is the adjoint transform (TensorFlow's and
PyTorch's convention for complex gradients: the gradient with respect to z = x + iy is
dL/dx + i dL/dy). The adjoints are primitives too, each other's gradient, so gradients of
any order work. Frames and overlap-add are adjoint to each other in the same way.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import Spec, constant, convert_to_tensor, primitive
from neuroflow.core.tensor import TensorShape, shape_str
from neuroflow.ops.framing import fit_last, frame, overlap_and_add
from neuroflow.ops.math import multiply

_COMPLEX_OF = {"float32": dtypes.complex64, "float64": dtypes.complex128}
# the adjoint of a transform with one normalisation is the inverse with the other
_ADJOINT_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _as_tensor(x):
    return x if hasattr(x, "dtype") else convert_to_tensor(x)


def _check_rank(x, ndims, what):
    rank = x.shape.rank
    if rank is not None and rank < ndims:
        raise ValueError(f"{what} needs an input of rank >= {ndims}, got shape "
                         f"{shape_str(x.shape)}")


# -- complex to complex -------------------------------------------------------------------


def _dft_spec(x, inverse, ndims, norm):
    _check_rank(x, ndims, "DFT")
    return Spec(x.shape, x.dtype)


@primitive("DFT", shape=_dft_spec)
def _dft(x, inverse, ndims, norm):
    """The discrete Fourier transform (or its inverse) of the ``ndims`` innermost axes, with
    NumPy's ``norm``: the adjoints of TF's transforms need the "forward" scaling."""
    transform = np.fft.ifftn if inverse else np.fft.fftn
    return transform(x, axes=tuple(range(-ndims, 0)), norm=norm)


@_dft.defgrad
def _dft_grad(op, dy):
    a = op.attrs
    return [_dft(dy, inverse=not a["inverse"], ndims=a["ndims"], norm=_ADJOINT_NORM[a["norm"]])]


def _tf_transform(name, inverse, ndims):
    """TF's op (FFT, IFFT, FFT2D, IFFT2D): DFT with its default scaling, under TF's name."""
    def spec(x):
        _check_rank(x, ndims, name)
        return Spec(x.shape, x.dtype)

    def kernel(x):
        return _dft.kernel(x, inverse=inverse, ndims=ndims, norm="backward")

    op = primitive(name, shape=spec)(kernel)

    @op.defgrad
    def _grad(op, dy):
        return [_dft(dy, inverse=not inverse, ndims=ndims, norm="forward")]
    return op


_fft = _tf_transform("FFT", inverse=False, ndims=1)
_ifft = _tf_transform("IFFT", inverse=True, ndims=1)
_fft2d = _tf_transform("FFT2D", inverse=False, ndims=2)
_ifft2d = _tf_transform("IFFT2D", inverse=True, ndims=2)


def _complex_input(input, what):
    input = _as_tensor(input)
    dtype = dtypes.as_dtype(input.dtype)
    if not dtype.is_complex:
        raise TypeError(f"{what} expects a complex64 or complex128 tensor, got {dtype.name} "
                        f"(use nf.cast(x, nf.complex64), or nf.signal.rfft for real signals)")
    return input


def fft(input, name=None):
    """Fast Fourier transform over the innermost axis (``nf.signal.fft``).

    >>> nf.signal.fft(nf.constant([1, 0, 0, 0], dtype=nf.complex64)).numpy()
    array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j], dtype=complex64)
    """
    x = _complex_input(input, "fft")
    return _fft(x, name=name)


def ifft(input, name=None):
    """Inverse fast Fourier transform over the innermost axis, scaled by 1/n.

    >>> nf.signal.ifft(nf.signal.fft(nf.constant([1 + 2j, 3j], nf.complex64))).numpy()
    array([1.+2.j, 0.+3.j], dtype=complex64)
    """
    x = _complex_input(input, "ifft")
    return _ifft(x, name=name)


def fft2d(input, name=None):
    """2-D fast Fourier transform over the two innermost axes (``nf.signal.fft2d``).

    >>> nf.signal.fft2d(nf.ones([2, 2], nf.complex64)).numpy()
    array([[4.+0.j, 0.+0.j],
           [0.+0.j, 0.+0.j]], dtype=complex64)
    """
    x = _complex_input(input, "fft2d")
    return _fft2d(x, name=name)


def ifft2d(input, name=None):
    """2-D inverse fast Fourier transform over the two innermost axes, scaled by 1/(m n).

    >>> nf.signal.ifft2d(nf.ones([2, 2], nf.complex64)).numpy()
    array([[1.+0.j, 0.+0.j],
           [0.+0.j, 0.+0.j]], dtype=complex64)
    """
    x = _complex_input(input, "ifft2d")
    return _ifft2d(x, name=name)


# -- real to half spectrum and back -------------------------------------------------------
# RFFT: x (last axis cropped or zero-padded to n) -> its n // 2 + 1 lowest frequencies.
# IRFFT: those frequencies (cropped or zero-padded to n // 2 + 1) -> the real signal of length
# n; NumPy's (and TF's) inverse ignores the imaginary parts of the DC and Nyquist terms.


def _with_last(shape, last):
    shape = TensorShape(shape)
    if shape.rank is None:
        return TensorShape(None)
    return TensorShape(list(shape[:-1]) + [last])


def _rfft_spec(x, fft_length=None):
    _check_rank(x, 1, "RFFT")
    n = fft_length if fft_length is not None else (x.shape[-1] if x.shape.rank else None)
    return Spec(_with_last(x.shape, None if n is None else n // 2 + 1),
                _COMPLEX_OF[x.dtype.name])


@primitive("RFFT", shape=_rfft_spec)
def _rfft(x, fft_length=None):
    return np.fft.rfft(x, n=fft_length)


@_rfft.defgrad
def _rfft_grad(op, dy):
    return [_rfft_grad_op(dy, op.inputs[0], fft_length=op.attrs.get("fft_length"))]


def _rfft_grad_spec(g, x_ref, fft_length=None):
    return Spec(x_ref.shape, x_ref.dtype)


@primitive("RFFTGrad", shape=_rfft_grad_spec, same_dtype=False, shape_inputs=(1,))
def _rfft_grad_op(g, x_ref, fft_length=None):
    """The adjoint of RFFT: x_t = Re(sum_k g_k exp(2 pi i k t / n)), back to x's length."""
    length = x_ref.shape[-1]
    n = length if fft_length is None else fft_length
    # n * irfft(w * g) with the doubled bins halved is the plain sum over k above
    w = np.full(g.shape[-1], 0.5, dtype=x_ref.dtype)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    x = np.fft.irfft(g * w, n=n, norm="forward")
    return fit_last(x, length).astype(x_ref.dtype, copy=False)


@_rfft_grad_op.defgrad
def _rfft_grad_op_grad(op, dy):
    return [_rfft(dy, fft_length=op.attrs.get("fft_length")), None]


def _irfft_spec(y, *ref, fft_length=None):
    _check_rank(y, 1, "IRFFT")
    real = y.dtype.real_dtype
    if ref:
        n = ref[0].shape[-1] if ref[0].shape.rank else None
    elif fft_length is not None:
        n = fft_length
    else:
        m = y.shape[-1] if y.shape.rank else None
        n = None if m is None else 2 * (m - 1)
    return Spec(_with_last(y.shape, n), real)


@primitive("IRFFT", shape=_irfft_spec, same_dtype=False, shape_inputs=(1,))
def _irfft(y, *ref, fft_length=None):
    # ``ref``: a tensor of the output's length (the second-order gradient passes one, so no
    # static length is needed)
    n = ref[0].shape[-1] if ref else (fft_length or 2 * (y.shape[-1] - 1))
    return np.fft.irfft(y, n=n)


@_irfft.defgrad
def _irfft_grad(op, dy):
    return [_irfft_grad_op(dy, op.inputs[0])] + [None] * (len(op.inputs) - 1)


@primitive("IRFFTGrad", shape=lambda h, y_ref: Spec(y_ref.shape, y_ref.dtype),
           same_dtype=False, shape_inputs=(1,))
def _irfft_grad_op(h, y_ref):
    """The adjoint of IRFFT: rfft(h) * [1, 2, ..., 2, (1 if n is even)] / n, to y's length."""
    n = h.shape[-1]
    g = np.fft.rfft(h)
    w = np.full(g.shape[-1], 2.0 / n, dtype=h.dtype)
    w[0] = 1.0 / n
    if n % 2 == 0:
        w[-1] = 1.0 / n
    return fit_last(g * w, y_ref.shape[-1]).astype(y_ref.dtype, copy=False)


@_irfft_grad_op.defgrad
def _irfft_grad_op_grad(op, dy):
    return [_irfft(dy, op.inputs[0]), None]


def _fft_length(fft_length, what):
    if fft_length is None:
        return None
    if hasattr(fft_length, "numpy"):
        fft_length = fft_length.numpy()
    values = np.asarray(fft_length).reshape(-1)
    if values.size != 1:
        raise ValueError(f"{what}: fft_length must hold one length, got {fft_length!r}")
    n = int(values[0])
    if n < 1:
        raise ValueError(f"{what}: fft_length must be positive, got {n}")
    return n


def rfft(input_tensor, fft_length=None, name=None):
    """FFT of a real signal over the innermost axis: its n // 2 + 1 non-negative frequencies.

    ``fft_length`` ([n]) crops or zero-pads the signal; float32 gives complex64 and float64
    complex128, as TensorFlow.

    >>> nf.signal.rfft(nf.constant([1.0, 2.0, 3.0, 4.0])).numpy()
    array([10.+0.j, -2.+2.j, -2.+0.j], dtype=complex64)
    """
    x = _as_tensor(input_tensor)
    dtype = dtypes.as_dtype(x.dtype)
    if dtype.name not in _COMPLEX_OF:
        raise TypeError(f"rfft expects a float32 or float64 tensor, got {dtype.name}")
    return _rfft(x, fft_length=_fft_length(fft_length, "rfft"), name=name)


def irfft(input_tensor, fft_length=None, name=None):
    """Inverse of ``rfft``: a real signal of length n (default 2 * (inner dim - 1)).

    >>> nf.signal.irfft(nf.signal.rfft(nf.constant([1.0, 2.0, 3.0, 4.0]))).numpy()
    array([1., 2., 3., 4.], dtype=float32)
    """
    y = _as_tensor(input_tensor)
    dtype = dtypes.as_dtype(y.dtype)
    if not dtype.is_complex:
        raise TypeError(f"irfft expects a complex64 or complex128 tensor, got {dtype.name}")
    n = _fft_length(fft_length, "irfft")
    attrs = {} if n is None else {"fft_length": n}
    return _irfft(y, name=name, **attrs)


# -- windows and the short-time Fourier transform -----------------------------------------


def _raised_cosine_window(window_length, periodic, dtype, a, b):
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"dtype must be a floating point type. Found {dtype.name}")
    if hasattr(window_length, "numpy"):
        window_length = window_length.numpy()
    length = int(window_length)
    if length == 1:
        return constant(np.ones([1], dtype.np_dtype))
    # TF's rule: `periodic` only changes even lengths (n = length for those, else length - 1)
    even = 1 - length % 2
    n = length + int(bool(periodic)) * even - 1
    values = a - b * np.cos(2 * np.pi * np.arange(length) / n)
    return constant(values.astype(dtype.np_dtype))


def hann_window(window_length, periodic=True, dtype=dtypes.float32, name=None):
    """A Hann window, 0.5 - 0.5 cos(2 pi t / n) (``nf.signal.hann_window``).

    >>> nf.signal.hann_window(4).numpy()
    array([0. , 0.5, 1. , 0.5], dtype=float32)
    """
    return _raised_cosine_window(window_length, periodic, dtype, 0.5, 0.5)


def hamming_window(window_length, periodic=True, dtype=dtypes.float32, name=None):
    """A Hamming window, 0.54 - 0.46 cos(2 pi t / n) (``nf.signal.hamming_window``).

    >>> nf.signal.hamming_window(4).numpy()
    array([0.08, 0.54, 1.  , 0.54], dtype=float32)
    """
    return _raised_cosine_window(window_length, periodic, dtype, 0.54, 0.46)


def _enclosing_power_of_two(n):
    return 1 << max(0, int(n) - 1).bit_length()


def stft(signals, frame_length, frame_step, fft_length=None, window_fn=hann_window,
         pad_end=False, name=None):
    """Short-time Fourier transform: windowed frames of the innermost axis, each rfft'd.

    Output shape ``[..., frames, fft_length // 2 + 1]``; ``fft_length`` defaults to the
    smallest power of 2 enclosing ``frame_length``, as TensorFlow.

    >>> nf.signal.stft(nf.zeros([1000]), frame_length=256, frame_step=128).shape
    TensorShape([6, 129])
    """
    signals = _as_tensor(signals)
    frame_length, frame_step = int(frame_length), int(frame_step)
    n = _enclosing_power_of_two(frame_length) if fft_length is None else int(fft_length)
    frames = frame(signals, frame_length, frame_step, pad_end=pad_end, axis=-1)
    if window_fn is not None:
        frames = multiply(frames, window_fn(frame_length, dtype=signals.dtype))
    return rfft(frames, [n], name=name)


__all__ = ["fft", "ifft", "fft2d", "ifft2d", "rfft", "irfft", "frame", "overlap_and_add",
           "stft", "hann_window", "hamming_window"]
