"""Complex numbers: real and imaginary parts, angle, building complex tensors, conjugation.

Gradients follow TensorFlow's (and PyTorch's) convention for complex tensors: the gradient of
a real loss L with respect to z = x + iy is dL/dx + i dL/dy (the conjugate Wirtinger
derivative, doubled). So ``real``'s gradient is ``complex(dy, 0)``, ``imag``'s is
``complex(0, dy)``, and a holomorphic op's gradient is ``dy * conj(f'(z))`` (see ``Mul``).
``conj`` lives in math.py (the arithmetic gradients need it) and is re-exported here.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.ops import shapes
from neuroflow.ops.array import zeros_like
from neuroflow.ops.broadcast import unbroadcast
from neuroflow.ops.math import cast, conj, divide, negative

_COMPLEX_OF = {"float32": dtypes.complex64, "float64": dtypes.complex128}


def _as_tensor(x):
    return x if hasattr(x, "dtype") else convert_to_tensor(x)


def _is_complex(x) -> bool:
    return dtypes.as_dtype(x.dtype).is_complex


@primitive("Real", shape=shapes.real_of)
def _real(x):
    return np.array(np.real(x))


@_real.defgrad
def _real_grad(op, dy):
    # complex(dy, 0): a cast, whose own gradient (the real part) keeps second order right
    return [cast(dy, op.inputs[0].dtype)]


def real(input, name=None):
    """The real part of a complex tensor; a real tensor is returned as is (``nf.math.real``).

    >>> nf.math.real(nf.constant([1 + 2j, 3 - 1j], dtype=nf.complex64)).numpy()
    array([1., 3.], dtype=float32)
    """
    input = _as_tensor(input)
    if not _is_complex(input):
        return input
    return _real(input, name=name)


@primitive("Imag", shape=shapes.real_of)
def _imag(x):
    return np.array(np.imag(x))


@_imag.defgrad
def _imag_grad(op, dy):
    return [_complex(zeros_like(dy), dy)]


def imag(input, name=None):
    """The imaginary part of a complex tensor; zeros for a real one (``nf.math.imag``).

    >>> nf.math.imag(nf.constant([1 + 2j, 3 - 1j], dtype=nf.complex64)).numpy()
    array([ 2., -1.], dtype=float32)
    """
    input = _as_tensor(input)
    if not _is_complex(input):
        return zeros_like(input, name=name)
    return _imag(input, name=name)


@primitive("Angle", shape=shapes.real_of)
def _angle(x):
    if np.iscomplexobj(x):
        return np.array(np.angle(x))
    # TF: pi where the input is negative, else 0 (so -0.0 gives 0, unlike np.angle)
    return np.where(x < 0, np.asarray(np.pi, x.dtype), np.asarray(0, x.dtype))


@_angle.defgrad
def _angle_grad(op, dy):
    z = op.inputs[0]
    if not _is_complex(z):
        return [None]  # piecewise constant: no gradient, as TF
    # d angle = (x dy - y dx) / |z|^2, so the gradient is dy * (-y + ix) / |z|^2 = -dy / (y + ix)
    return [divide(negative(cast(dy, z.dtype)), _complex(_imag(z), _real(z)))]


def angle(input, name=None):
    """The argument of each complex element, in (-pi, pi] (``nf.math.angle``).

    A real tensor gives pi where it is negative and 0 elsewhere, as TensorFlow.

    >>> nf.math.angle(nf.constant([1j, -1 + 0j], dtype=nf.complex64)).numpy()
    array([1.5707964, 3.1415927], dtype=float32)
    """
    input = _as_tensor(input)
    if not (_is_complex(input) or dtypes.as_dtype(input.dtype).is_floating):
        raise TypeError(f"angle expects a floating or complex tensor, got dtype "
                        f"{dtypes.as_dtype(input.dtype).name}")
    return _angle(input, name=name)


def _complex_spec(re, im):
    return Spec(shapes.broadcast_shapes(re.shape, im.shape), _COMPLEX_OF[re.dtype.name])


@primitive("Complex", shape=_complex_spec)
def _complex(re, im):
    out = np.empty(np.broadcast_shapes(np.shape(re), np.shape(im)),
                   _COMPLEX_OF[re.dtype.name].np_dtype)
    out.real = re
    out.imag = im
    return out


@_complex.defgrad
def _complex_grad(op, dy):
    re, im = op.inputs
    return [unbroadcast(_real(dy), re), unbroadcast(_imag(dy), im)]


def complex(real, imag, name=None):
    """Builds ``real + 1j * imag`` from two float tensors, broadcasting (``nf.complex``).

    float32 parts give complex64, float64 parts complex128, as TensorFlow.

    >>> nf.complex(nf.constant([1.0, 2.0]), nf.constant([0.5, -1.0])).numpy()
    array([1.+0.5j, 2.-1.j ], dtype=complex64)
    """
    if hasattr(real, "dtype") and not hasattr(imag, "dtype"):
        imag = convert_to_tensor(imag, dtype=real.dtype)
    elif hasattr(imag, "dtype") and not hasattr(real, "dtype"):
        real = convert_to_tensor(real, dtype=imag.dtype)
    real, imag = _as_tensor(real), _as_tensor(imag)
    for part in (real, imag):
        if dtypes.as_dtype(part.dtype).name not in _COMPLEX_OF:
            raise TypeError(f"complex expects float32 or float64 parts, got dtypes "
                            f"{dtypes.as_dtype(real.dtype).name} and "
                            f"{dtypes.as_dtype(imag.dtype).name}")
    return _complex(real, imag, name=name)


__all__ = ["real", "imag", "angle", "complex", "conj"]
