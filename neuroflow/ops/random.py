"""Random tensors (``nf.random``), drawn by NumPy's PCG64 under TensorFlow's seed rules.

The seed rules and streams live in ``neuroflow.ops.random_seed``. Other modules draw seeded
numbers with ``new_generator(seed)`` (a NumPy generator, for initial values) or
``random_uniform_like(x, seed)`` (an op, eager or graph: dropout masks), both importable here.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.context import ctx, name_scope
from neuroflow.core.op import CONST, Spec, primitive
from neuroflow.core.tensor import EagerTensor, SymbolicTensor, Tensor, TensorShape, shape_str
from neuroflow.ops import math
from neuroflow.ops.random_seed import new_generator, set_seed, stream_for  # noqa: F401


def _graph_of(*values):
    if ctx.graph is not None:
        return ctx.graph
    for v in values:
        if isinstance(v, SymbolicTensor):
            return v.graph
    return None


# -- shapes -------------------------------------------------------------------------------


def _shape_input(shape):
    """The op's shape input (an int array or a symbolic tensor) and its static dims."""
    if isinstance(shape, SymbolicTensor):
        return shape, None
    if isinstance(shape, EagerTensor):
        shape = shape.numpy()
    if isinstance(shape, (int, np.integer)):
        shape = [shape]
    if isinstance(shape, TensorShape) and not shape.is_fully_defined():
        raise ValueError(f"Cannot draw random values of partially known shape "
                         f"{shape_str(shape)}: pass the dims as a tensor, e.g. nf.shape(x)")
    if isinstance(shape, (list, tuple)) and any(isinstance(d, Tensor) for d in shape):
        return _stack_dims(shape)
    array = np.asarray(shape)
    if array.ndim > 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError(f"shape must be a list of ints, got {shape!r}")
    return array.astype(np.int32).reshape(-1), None


def _stack_dims(dims):
    """A list mixing ints and scalar tensors (``[nf.shape(x)[0], 10]``) as one int tensor."""
    from neuroflow.ops import array
    parts = [array.reshape(math.cast(d, dtypes.int32), [1]) if isinstance(d, Tensor)
             else np.array([d], np.int32) for d in dims]
    static = tuple(None if isinstance(d, Tensor) else int(d) for d in dims)
    return array.concat(parts, 0), static


def _dims(shape):
    return tuple(int(d) for d in np.asarray(shape).reshape(-1))


def _shape_of_input(shape, static_shape):
    if static_shape is not None:
        return TensorShape(static_shape)
    if shape.op.op_def is CONST:
        return TensorShape(_dims(shape.op.attrs["value"]))
    if shape.shape.rank != 1:
        if shape.shape.rank is not None:
            raise ValueError(f"shape must be a vector, got a tensor of shape "
                             f"{shape_str(shape.shape)}")
        return TensorShape(None)
    if shape.shape[0] is None:
        return TensorShape(None)
    return TensorShape([None] * shape.shape[0])


def _draw_spec(shape, *rest, dtype, stream, static_shape=None):
    if not shape.dtype.is_integer:
        raise ValueError(f"shape must be an integer tensor, got dtype {shape.dtype.name}")
    return Spec(_shape_of_input(shape, static_shape), dtype)


_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)
_INTS = (dtypes.int32, dtypes.int64)


def _check_dtype(dtype, allowed, op):
    dtype = dtypes.as_dtype(dtype)
    if dtype not in allowed:
        raise TypeError(f"{op}: dtype {dtype.name} is not one of the allowed dtypes "
                        f"{', '.join(d.name for d in allowed)}")
    return dtype


def _native(dtype):
    """NumPy's generators draw float32/64 directly; float16 is drawn as float32 and cast."""
    return np.float64 if dtype.np_dtype == np.float64 else np.float32


# -- primitives ---------------------------------------------------------------------------

_RANDOM = dict(same_dtype=False, stateful=True, differentiable=False)


@primitive("RandomStandardNormal", shape=_draw_spec, **_RANDOM)
def _standard_normal(shape, dtype, stream, static_shape=None):
    out = stream.generator.standard_normal(_dims(shape), dtype=_native(dtype))
    return out.astype(dtype.np_dtype, copy=False)


@primitive("TruncatedNormal", shape=_draw_spec, **_RANDOM)
def _truncated_normal(shape, dtype, stream, static_shape=None):
    generator = stream.generator
    native = _native(dtype)
    out = generator.standard_normal(_dims(shape), dtype=native)
    outside = np.abs(out) > 2.0
    while outside.any():  # about 4.6% are redrawn each round
        out[outside] = generator.standard_normal(int(outside.sum()), dtype=native)
        outside = np.abs(out) > 2.0
    return out.astype(dtype.np_dtype, copy=False)


@primitive("RandomUniform", shape=_draw_spec, **_RANDOM)
def _uniform(shape, dtype, stream, static_shape=None):
    out = stream.generator.random(_dims(shape), dtype=_native(dtype))
    if dtype.np_dtype != out.dtype:
        # rounding to a narrower float can reach 1.0: keep the interval half-open
        out = np.minimum(out.astype(dtype.np_dtype), np.nextafter(dtype.np_dtype.type(1), 0))
    return out


def _uniform_int_spec(shape, minval, maxval, stream, static_shape=None):
    for name, v in (("minval", minval), ("maxval", maxval)):
        if v.shape.rank not in (None, 0):
            raise ValueError(f"{name} must be a scalar for integer dtypes, got shape "
                             f"{shape_str(v.shape)}")
    return Spec(_shape_of_input(shape, static_shape), minval.dtype)


@primitive("RandomUniformInt", shape=_uniform_int_spec, same_dtype=(1, 2), stateful=True,
           differentiable=False)
def _uniform_int(shape, minval, maxval, stream, static_shape=None):
    low, high = np.asarray(minval), np.asarray(maxval)
    if low.ndim or high.ndim:
        raise ValueError("minval and maxval must be scalars for integer dtypes")
    if low >= high:
        raise ValueError(f"Need minval < maxval: {low} >= {high}")
    return stream.generator.integers(low, high, size=_dims(shape), dtype=low.dtype)


@primitive("RandomShuffle", shape=lambda x, stream: Spec(x.shape, x.dtype), **_RANDOM)
def _shuffle(x, stream):
    if x.ndim == 0:
        return np.array(x)
    return x[stream.generator.permutation(x.shape[0])]


def _multinomial_spec(logits, stream, num_samples, output_dtype):
    if logits.shape.rank not in (None, 2):
        raise ValueError(f"logits must be 2-D [batch_size, num_classes], got shape "
                         f"{shape_str(logits.shape)}")
    batch = None if logits.shape.rank is None else logits.shape[0]
    return Spec([batch, num_samples], output_dtype)


@primitive("Multinomial", shape=_multinomial_spec, **_RANDOM)
def _multinomial(logits, stream, num_samples, output_dtype):
    if logits.ndim != 2:
        raise ValueError(f"logits must be 2-D [batch_size, num_classes], got shape "
                         f"{shape_str(logits.shape)}")
    batch, classes = logits.shape
    if classes == 0 and num_samples:
        raise ValueError("categorical needs at least one class")
    logits = logits.astype(np.float64)
    weights = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    draws = stream.generator.random((batch, num_samples))
    out = np.empty((batch, num_samples), output_dtype.np_dtype)
    for row in range(batch):  # one binary search per row: O(samples log classes)
        out[row] = np.searchsorted(cdf[row], draws[row], side="right")
    return np.minimum(out, classes - 1, out=out)


def _uniform_like_spec(x, dtype, stream):
    return Spec(x.shape, dtype)


@primitive("RandomUniformLike", shape=_uniform_like_spec, **_RANDOM)
def _uniform_like(x, dtype, stream):
    return _uniform.kernel(np.asarray(x.shape, np.int64), dtype, stream)


# -- public functions ---------------------------------------------------------------------


def _is_value(x, value):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == value


def _draw(kernel, shape, dtype, seed, name):
    shape, static = _shape_input(shape)
    stream = stream_for(seed, _graph_of(shape))
    attrs = {"static_shape": static} if static is not None else {}
    return kernel(shape, dtype=dtype, stream=stream, name=name, **attrs)


def _scale_shift(x, scale, shift):
    if not _is_value(scale, 1):
        x = math.multiply(x, scale)
    if not _is_value(shift, 0):
        x = math.add(x, shift)
    return x


def normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed: int | None = None,
           name: str | None = None) -> Tensor:
    """Samples from a normal distribution (``nf.random.normal``); mean/stddev may be tensors.

    >>> nf.random.normal([2, 3], mean=1.0, stddev=0.1, seed=7).shape
    TensorShape([2, 3])
    """
    dtype = _check_dtype(dtype, _FLOATS, "random.normal")
    with name_scope(name or "random_normal"):
        draws = _draw(_standard_normal, shape, dtype, seed, "RandomStandardNormal")
        return _scale_shift(draws, stddev, mean)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32,
                     seed: int | None = None, name: str | None = None) -> Tensor:
    """Normal samples redrawn beyond 2 stddev of the mean (``nf.random.truncated_normal``).

    >>> x = nf.random.truncated_normal([1000], stddev=0.5, seed=1)
    >>> bool(nf.reduce_max(nf.abs(x)) <= 1.0)
    True
    """
    dtype = _check_dtype(dtype, _FLOATS, "random.truncated_normal")
    with name_scope(name or "truncated_normal"):
        draws = _draw(_truncated_normal, shape, dtype, seed, "TruncatedNormal")
        return _scale_shift(draws, stddev, mean)


def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed: int | None = None,
            name: str | None = None) -> Tensor:
    """Samples uniformly from [minval, maxval) (``nf.random.uniform``); ints need maxval.

    >>> nf.random.uniform([4], minval=0, maxval=10, dtype=nf.int32, seed=3).dtype
    nf.int32
    """
    dtype = _check_dtype(dtype, _FLOATS + _INTS, "random.uniform")
    with name_scope(name or "random_uniform"):
        if dtype.is_integer:
            if maxval is None:
                raise ValueError(f"Must specify maxval for integer dtype {dtype.name}")
            shape, static = _shape_input(shape)
            minval, maxval = (v if isinstance(v, Tensor) or hasattr(v, "_nf_variable")
                              else dtypes.to_array(v, dtype) for v in (minval, maxval))
            stream = stream_for(seed, _graph_of(shape, minval, maxval))
            attrs = {"static_shape": static} if static is not None else {}
            return _uniform_int(shape, minval, maxval, stream=stream, name="RandomUniformInt",
                                **attrs)
        maxval = 1 if maxval is None else maxval
        draws = _draw(_uniform, shape, dtype, seed, "RandomUniform")
        if _is_value(minval, 0) and _is_value(maxval, 1):
            return draws
        if isinstance(minval, (int, float)) and isinstance(maxval, (int, float)):
            return _scale_shift(draws, float(maxval - minval), float(minval))
        return math.add(math.multiply(draws, math.subtract(maxval, minval)), minval)


def shuffle(value, seed: int | None = None, name: str | None = None) -> Tensor:
    """Randomly permutes a tensor along its first axis (``nf.random.shuffle``).

    >>> sorted(nf.random.shuffle(nf.constant([1, 2, 3]), seed=1).numpy().tolist())
    [1, 2, 3]
    """
    stream = stream_for(seed, _graph_of(value))
    return _shuffle(value, stream=stream, name=name or "RandomShuffle")


def categorical(logits, num_samples: int, dtype=None, seed: int | None = None,
                name: str | None = None) -> Tensor:
    """Draws class indices from unnormalised log-probabilities (``nf.random.categorical``).

    >>> nf.random.categorical(nf.math.log([[0.5, 0.5]]), 5, seed=1).shape
    TensorShape([1, 5])
    """
    output_dtype = _check_dtype(dtypes.int64 if dtype is None else dtype, _INTS,
                                "random.categorical")
    if isinstance(num_samples, Tensor):
        num_samples = num_samples.numpy()
    num_samples = int(num_samples)
    if num_samples < 0:
        raise ValueError(f"num_samples must be non-negative, got {num_samples}")
    stream = stream_for(seed, _graph_of(logits))
    return _multinomial(logits, stream=stream, num_samples=num_samples,
                        output_dtype=output_dtype, name=name or "Multinomial")


def random_uniform_like(x, seed: int | None = None, dtype=None, name: str | None = None):
    """Uniform [0, 1) samples shaped like ``x`` (of x's dtype, or ``dtype``), eager or graph.

    For other ops' random masks (dropout): ``keep = random_uniform_like(x, seed) >= rate``.
    """
    dtype = _check_dtype(x.dtype if dtype is None else dtype, _FLOATS, "random_uniform_like")
    stream = stream_for(seed, _graph_of(x))
    return _uniform_like(x, dtype=dtype, stream=stream, name=name or "RandomUniformLike")


__all__ = ["set_seed", "normal", "truncated_normal", "uniform", "shuffle", "categorical"]
