"""Activation functions (``nf.nn.relu``, ``nf.nn.softmax``, ...), with TensorFlow's semantics.

The hot ones are primitives whose gradients are primitives too (``ReluGrad``, ``EluGrad``,
``SoftmaxGrad``, ... as in TensorFlow), each with its own gradient rule written in neuroflow
ops, so second and higher order gradients work. The rest are composed from other ops.
Kernels avoid ``np.where`` on data-dependent masks: multiplying by a mask or ``max``/``min``
tricks run several times faster on random signs, and give the same values.
"""
from __future__ import annotations

import math

import numpy as np

from neuroflow.backend import dtypes, jit, threads
from neuroflow.core.op import convert_to_tensor, primitive
from neuroflow.ops import compiled, shapes
from neuroflow.ops.array import zeros_like
from neuroflow.ops.conv_runtime import outputs
from neuroflow.ops.math import abs as math_abs
from neuroflow.ops.math import add, cast, divide, erf, exp, multiply, sigmoid, subtract, tanh
from neuroflow.ops.math_functions import _erf
from neuroflow.ops.softmax import float_input, log_softmax, softmax

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# -- the ReLU family ------------------------------------------------------------------------


def _big(x):
    """A recycled output for a big contiguous float array (split over the threads), or
    None: NumPy allocates as usual."""
    if x.size >= threads.MIN_SPLIT and x.dtype.kind == "f" and x.flags.c_contiguous:
        return outputs.empty(x.shape, x.dtype)
    return None


@primitive("Relu", shape=shapes.same_shape)
def _relu(x):
    out = _big(x)
    if out is None:
        return np.maximum(x, 0)
    return threads.elementwise(lambda o, a: np.maximum(a, 0, out=o), out, x)


@_relu.defgrad
def _relu_grad(op, dy):
    return [_relu_backprop(dy, op.outputs[0])]


@primitive("ReluGrad", shape=shapes.same_shape)
def _relu_backprop(dy, y):
    out = _big(dy) if dy.shape == y.shape else None
    if out is None:
        return dy * (y > 0)
    return threads.elementwise(lambda o, d, a: np.multiply(d, a > 0, out=o), out, dy, y)


@_relu_backprop.defgrad
def _relu_backprop_grad(op, g):
    # linear in dy; the mask is piecewise constant in y, so y gets no gradient
    return [_relu_backprop(g, op.inputs[1]), None]


def _nonpositive_part(g, y):
    """g where y <= 0, else 0 (the complement of ReluGrad's mask)."""
    return subtract(g, _relu_backprop(g, y))


def relu(features, name=None):
    """max(features, 0), elementwise (``nf.nn.relu``).

    >>> nf.nn.relu(nf.constant([-1.0, 2.0])).numpy()
    array([0., 2.], dtype=float32)
    """
    return _relu(features, name=name)


@primitive("Relu6", shape=shapes.same_shape)
def _relu6(x):
    return np.clip(x, 0, 6)


@_relu6.defgrad
def _relu6_grad(op, dy):
    return [_relu6_backprop(dy, op.outputs[0])]


@primitive("Relu6Grad", shape=shapes.same_shape)
def _relu6_backprop(dy, y):
    return dy * ((y > 0) & (y < 6))


@_relu6_backprop.defgrad
def _relu6_backprop_grad(op, g):
    return [_relu6_backprop(g, op.inputs[1]), None]


def relu6(features, name=None):
    """min(max(features, 0), 6), elementwise (``nf.nn.relu6``).

    >>> nf.nn.relu6(nf.constant([-1.0, 3.0, 9.0])).numpy()
    array([0., 3., 6.], dtype=float32)
    """
    return _relu6(features, name=name)


@primitive("LeakyRelu", shape=shapes.same_shape)
def _leaky_relu(x, alpha):
    if 0.0 <= alpha <= 1.0:
        return np.maximum(x, x * alpha)
    return x * _leaky_scale(x, alpha, x.dtype)


def _leaky_scale(x, alpha, dtype):
    """1 where x > 0, else alpha, exactly (never a rounded 1 - alpha + alpha)."""
    if 0.0 <= alpha <= 1.0:
        return np.maximum((x > 0).astype(dtype), dtype.type(alpha))
    return np.where(x > 0, dtype.type(1), dtype.type(alpha))


@_leaky_relu.defgrad
def _leaky_relu_grad(op, dy):
    return [_leaky_relu_backprop(dy, op.inputs[0], alpha=op.attrs["alpha"])]


@primitive("LeakyReluGrad", shape=shapes.same_shape)
def _leaky_relu_backprop(dy, x, alpha):
    return dy * _leaky_scale(x, alpha, dy.dtype)


@_leaky_relu_backprop.defgrad
def _leaky_relu_backprop_grad(op, g):
    return [_leaky_relu_backprop(g, op.inputs[1], alpha=op.attrs["alpha"]), None]


def leaky_relu(features, alpha=0.2, name=None):
    """features where positive, alpha * features elsewhere (``nf.nn.leaky_relu``).

    >>> nf.nn.leaky_relu(nf.constant([-1.0, 2.0])).numpy()
    array([-0.2,  2. ], dtype=float32)
    """
    if not hasattr(features, "dtype"):
        features = convert_to_tensor(features)
    if not dtypes.as_dtype(features.dtype).is_floating:  # TF computes integers in float32
        features = cast(features, dtypes.float32)
    return _leaky_relu(features, alpha=float(alpha), name=name)


@primitive("Elu", shape=shapes.same_shape)
def _elu(x):
    # max(x, 0) + expm1(min(x, 0)) is x for x > 0 and exp(x) - 1 otherwise, exactly
    out = np.expm1(np.minimum(x, 0))
    out += np.maximum(x, 0)
    return out


@_elu.defgrad
def _elu_grad(op, dy):
    return [_elu_backprop(dy, op.outputs[0])]


@primitive("EluGrad", shape=shapes.same_shape)
def _elu_backprop(dy, y):
    # d elu / dx is 1 where y > 0 and exp(x) = y + 1 elsewhere: min(y, 0) + 1 covers both
    factor = np.minimum(y, 0)
    factor += 1
    return dy * factor


@_elu_backprop.defgrad
def _elu_backprop_grad(op, g):
    dy, y = op.inputs
    return [_elu_backprop(g, y), _nonpositive_part(multiply(g, dy), y)]


def elu(features, name=None):
    """Exponential linear unit: x if x > 0 else exp(x) - 1 (``nf.nn.elu``).

    >>> nf.nn.elu(nf.constant([-1.0, 2.0])).numpy()
    array([-0.63212055,  2.        ], dtype=float32)
    """
    return _elu(float_input(features, "Elu"), name=name)


@primitive("Selu", shape=shapes.same_shape)
def _selu(x):
    out = np.expm1(np.minimum(x, 0))
    out *= _SELU_ALPHA
    out += np.maximum(x, 0)
    out *= _SELU_SCALE
    return out


@_selu.defgrad
def _selu_grad(op, dy):
    return [_selu_backprop(dy, op.outputs[0])]


@primitive("SeluGrad", shape=shapes.same_shape)
def _selu_backprop(dy, y):
    factor = np.where(y > 0, np.asarray(_SELU_SCALE, y.dtype), y + _SELU_SCALE * _SELU_ALPHA)
    return dy * factor.astype(dy.dtype, copy=False)


@_selu_backprop.defgrad
def _selu_backprop_grad(op, g):
    dy, y = op.inputs
    return [_selu_backprop(g, y), _nonpositive_part(multiply(g, dy), y)]


def selu(features, name=None):
    """Scaled ELU: scale * (x if x > 0 else alpha * (exp(x) - 1)) (``nf.nn.selu``).

    >>> nf.nn.selu(nf.constant([1.0])).numpy()
    array([1.050701], dtype=float32)
    """
    return _selu(float_input(features, "Selu"), name=name)


# -- smooth activations ---------------------------------------------------------------------


@primitive("Softplus", shape=shapes.same_shape)
def _softplus(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): never overflows, exact for large |x|
    out = np.abs(x, out=np.empty_like(x))  # an array even for 0-d x, to work in place
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(x, 0)
    return out


@_softplus.defgrad
def _softplus_grad(op, dy):
    return [multiply(dy, sigmoid(op.inputs[0]))]


def softplus(features, name=None):
    """log(exp(features) + 1), stable for any magnitude (``nf.nn.softplus``).

    >>> nf.nn.softplus(nf.constant([0.0, 100.0])).numpy()
    array([  0.6931472, 100.       ], dtype=float32)
    """
    return _softplus(float_input(features, "Softplus"), name=name)


def softsign(features, name=None):
    """features / (abs(features) + 1) (``nf.nn.softsign``).

    >>> nf.nn.softsign(nf.constant([1.0, -3.0])).numpy()
    array([ 0.5 , -0.75], dtype=float32)
    """
    features = float_input(features, "Softsign")
    return divide(features, add(math_abs(features), 1.0), name=name)


def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit (``nf.nn.gelu``): x * P(X <= x) for X ~ N(0, 1).

    ``approximate=False`` uses erf: 0.5 * x * (1 + erf(x / sqrt(2))); ``approximate=True``
    the tanh form 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3))).

    >>> nf.nn.gelu(nf.constant([1.0])).numpy()
    array([0.8413447], dtype=float32)
    """
    x = float_input(features, "Gelu")
    if not approximate:
        return _gelu(x, name=name)
    cubic = multiply(multiply(multiply(x, x), x), 0.044715)
    inner = tanh(multiply(add(x, cubic), math.sqrt(2.0 / math.pi)))
    return multiply(multiply(x, 0.5), add(inner, 1.0), name=name)


@primitive("Gelu", shape=shapes.same_shape)
def _gelu(x):
    """Exact GELU: one compiled pass for float32 (numba; 2-3 ulps), else
    0.5 x (1 + erf(x / sqrt(2))) with NumPy."""
    if x.dtype == np.float32 and jit.available():
        out = _big(x)
        if out is None:
            x = np.ascontiguousarray(x)
            out = np.empty_like(x)
            compiled.gelu(x.reshape(-1), out.reshape(-1), 0, x.size)
            return out
        return threads.elementwise(lambda o, a: compiled.gelu(a, o, 0, a.size), out, x)
    half = np.asarray(0.5, x.dtype)
    inner = _erf.kernel(x * np.asarray(1.0 / math.sqrt(2.0), x.dtype))
    return half * x * (inner + np.asarray(1.0, x.dtype))


threads.SPLITTING_WHEN_BIG.add("Gelu")


@_gelu.defgrad
def _gelu_grad(op, dy):
    # d/dx x Phi(x) = Phi(x) + x phi(x), written with ops (higher orders follow)
    x = op.inputs[0]
    cdf = multiply(add(erf(multiply(x, 1.0 / math.sqrt(2.0))), 1.0), 0.5)
    pdf = multiply(exp(multiply(multiply(x, x), -0.5)), 1.0 / math.sqrt(2.0 * math.pi))
    return [multiply(dy, add(cdf, multiply(x, pdf)))]


def silu(features, beta=1.0, name=None):
    """SiLU, also called swish: features * sigmoid(beta * features) (``nf.nn.silu``).

    >>> nf.nn.silu(nf.constant([0.0, 1.0])).numpy()
    array([0.       , 0.7310586], dtype=float32)
    """
    x = float_input(features, "Silu")
    scaled = x if _is_one(beta) else multiply(x, beta)
    return multiply(x, sigmoid(scaled), name=name)


swish = silu


def _is_one(value):
    return isinstance(value, (int, float)) and value == 1


def hard_sigmoid(x, name=None):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between (Keras 3's definition).

    >>> nf.nn.hard_sigmoid(nf.constant([-4.0, 0.0, 1.5])).numpy()
    array([0.  , 0.5 , 0.75], dtype=float32)
    """
    x = float_input(x, "HardSigmoid")
    return divide(relu6(add(x, 3.0)), 6.0, name=name)


# -- the step function ----------------------------------------------------------------------


@primitive("Heaviside", shape=shapes.same_shape)
def _step(x):
    return (x > 0).astype(x.dtype)


@_step.defgrad
def _step_grad(op, dy):
    return [zeros_like(op.inputs[0])]


def step(x, name=None):
    """Heaviside step: 1 where x > 0, else 0 (``nf.nn.step``), the perceptron's activation.

    Its gradient is zero everywhere (a connected zero, not None): the step is flat on both
    sides of 0, so backpropagation cannot train through it. A perceptron learns instead with
    the perceptron rule, w += learning_rate * (target - step(w . x)) * x, which needs no
    derivative.

    >>> nf.nn.step(nf.constant([-0.5, 0.0, 2.0])).numpy()
    array([0., 0., 1.], dtype=float32)
    """
    if not hasattr(x, "dtype"):
        x = convert_to_tensor(x)
    return _step(x, name=name)


# sigmoid and tanh are the elementwise math ops (neuroflow/ops/math.py), re-exported
__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "softplus", "softsign", "gelu", "silu",
           "swish", "hard_sigmoid", "step", "softmax", "log_softmax", "sigmoid", "tanh"]
