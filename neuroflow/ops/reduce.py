"""Reductions over axes: sums, means, extrema, products, logical reductions, arg-extrema
and cumulative sums (variance, std, Euclidean norm and logsumexp are in ``reduce_stats``,
re-exported here).

Every reduction takes TensorFlow's ``axis`` (None for all axes, an int, or a list of ints,
negative ones counting from the end) and ``keepdims``. Kernels pass ``dtype=x.dtype`` to
NumPy so that integer sums stay int32 (NumPy would widen them to int64) and float32 stays
float32.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import SymbolicTensor
from neuroflow.ops import shapes
from neuroflow.ops.broadcast import expand_reduced, reduction_grad


def _axis(axis):
    """Normalises the ``axis`` argument: None, an int, or a tuple of ints."""
    if axis is None:
        return None
    if isinstance(axis, SymbolicTensor):
        if axis.op.type != "Const":
            raise TypeError(f"axis must be known when the graph is built; got the computed "
                            f"tensor '{axis.name}' (pass a Python int or list)")
        axis = axis.op.attrs["value"]
    elif hasattr(axis, "numpy"):
        axis = axis.numpy()
    if np.ndim(axis) == 0:
        return int(axis)
    return tuple(int(a) for a in np.asarray(axis).reshape(-1))


def _np_axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _dtype(x) -> dtypes.DType:
    if hasattr(x, "dtype"):
        return dtypes.as_dtype(x.dtype)
    return convert_to_tensor(x).dtype


def _no_bool(x, what):
    """Rejects bool inputs (arrays in kernels, symbolic tensors in shape rules)."""
    kind = x.dtype.kind if isinstance(x, (np.ndarray, np.generic)) else x.dtype.np_dtype.kind
    if kind == "b":
        raise ValueError(f"{what} does not take bool tensors, as TensorFlow (nf.cast to a "
                         "number first)")


def _numeric_reduction(x, axis=None, keepdims=False):
    _no_bool(x, "this reduction")
    return shapes.reduction(x, axis, keepdims)


def _bool_reduction(x, axis=None, keepdims=False):
    return Spec(shapes.reduced_shape(x.shape, axis, keepdims), dtypes.bool_)


def _expand(t, x, axis, keepdims):
    """A reduction's output (or its gradient) with the reduced axes back as size-1 dims."""
    return t if keepdims else expand_reduced(t, x, axis=axis)


def _group_count(x, y):
    """How many input elements fed each output element, in x's dtype."""
    from neuroflow.ops.array import size
    from neuroflow.ops.math import cast, divide
    return divide(cast(size(x), x.dtype), cast(size(y), x.dtype))


# -- sum and mean -------------------------------------------------------------------------


@primitive("Sum", shape=_numeric_reduction)
def _reduce_sum(x, axis, keepdims):
    _no_bool(x, "reduce_sum")
    return np.sum(x, axis=_np_axis(axis), keepdims=keepdims, dtype=x.dtype)


@_reduce_sum.defgrad
def _reduce_sum_grad(op, dy):
    return [reduction_grad(dy, op.inputs[0], op.attrs["axis"], op.attrs["keepdims"])]


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """Sum over ``axis`` (all axes when None) (``nf.reduce_sum``).

    >>> nf.reduce_sum(nf.ones([2, 3]), axis=1).numpy()
    array([3., 3.], dtype=float32)
    """
    return _reduce_sum(input_tensor, axis=_axis(axis), keepdims=bool(keepdims), name=name)


@primitive("Mean", shape=_numeric_reduction)
def _reduce_mean(x, axis, keepdims):
    _no_bool(x, "reduce_mean")
    return np.mean(x, axis=_np_axis(axis), keepdims=keepdims, dtype=x.dtype)


@_reduce_mean.defgrad
def _reduce_mean_grad(op, dy):
    from neuroflow.ops.math import divide
    x = op.inputs[0]
    g = reduction_grad(dy, x, op.attrs["axis"], op.attrs["keepdims"])
    return [divide(g, _group_count(x, op.outputs[0]))]


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean over ``axis`` (``nf.reduce_mean``; integer inputs give an integer mean, as TF).

    >>> nf.reduce_mean(nf.constant([[1.0, 2.0], [3.0, 4.0]]), axis=0).numpy()
    array([2., 3.], dtype=float32)
    """
    return _reduce_mean(input_tensor, axis=_axis(axis), keepdims=bool(keepdims), name=name)


# -- extrema ------------------------------------------------------------------------------


def _extremum_grad(op, dy):
    """The gradient goes to the elements equal to the extremum, split equally among ties."""
    from neuroflow.ops.math import cast, divide, equal, multiply
    x, y = op.inputs[0], op.outputs[0]
    axis, keepdims = op.attrs["axis"], op.attrs["keepdims"]
    mask = cast(equal(x, _expand(y, x, axis, keepdims)), x.dtype)
    share = divide(mask, reduce_sum(mask, axis, keepdims=True))
    return [multiply(share, _expand(dy, x, axis, keepdims))]


@primitive("Max", shape=shapes.reduction)
def _reduce_max(x, axis, keepdims):
    if x.size == 0:  # TensorFlow's max of nothing is the lowest value of the dtype
        return np.max(x, axis=_np_axis(axis), keepdims=keepdims, initial=_limits(x.dtype)[0])
    return np.max(x, axis=_np_axis(axis), keepdims=keepdims)


@primitive("Min", shape=shapes.reduction)
def _reduce_min(x, axis, keepdims):
    if x.size == 0:
        return np.min(x, axis=_np_axis(axis), keepdims=keepdims, initial=_limits(x.dtype)[1])
    return np.min(x, axis=_np_axis(axis), keepdims=keepdims)


def _limits(dtype):
    if dtype.kind == "f":
        return -np.inf, np.inf
    if dtype.kind == "b":
        return False, True
    return np.iinfo(dtype).min, np.iinfo(dtype).max


_reduce_max.defgrad(_extremum_grad)
_reduce_min.defgrad(_extremum_grad)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    """Maximum over ``axis``; the gradient is shared equally among tied maxima.

    >>> nf.reduce_max(nf.constant([[1.0, 5.0], [3.0, 2.0]]), axis=1).numpy()
    array([5., 3.], dtype=float32)
    """
    return _reduce_max(input_tensor, axis=_axis(axis), keepdims=bool(keepdims), name=name)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    """Minimum over ``axis``; the gradient is shared equally among tied minima.

    >>> nf.reduce_min(nf.constant([[1.0, 5.0], [3.0, 2.0]]), axis=1).numpy()
    array([1., 2.], dtype=float32)
    """
    return _reduce_min(input_tensor, axis=_axis(axis), keepdims=bool(keepdims), name=name)


# -- product ------------------------------------------------------------------------------


@primitive("Prod", shape=_numeric_reduction)
def _reduce_prod(x, axis, keepdims):
    _no_bool(x, "reduce_prod")
    return np.prod(x, axis=_np_axis(axis), keepdims=keepdims, dtype=x.dtype)


@_reduce_prod.defgrad
def _reduce_prod_grad(op, dy):
    """d prod / d x_i = product of the others, computed without dividing by a zero.

    With no zero in a group it is prod / x_i; with exactly one zero, the zero's entry is the
    product of the rest and every other entry is 0; with two or more zeros all are 0.
    """
    from neuroflow.ops.math import add, cast, conj, divide, equal, multiply
    x = op.inputs[0]
    axis, keepdims = op.attrs["axis"], op.attrs["keepdims"]
    is_zero = cast(equal(x, 0), x.dtype)
    safe = add(x, is_zero)  # zeros replaced by ones
    rest = reduce_prod(safe, axis, keepdims=True)
    zeros = reduce_sum(is_zero, axis, keepdims=True)
    no_zero = cast(equal(zeros, 0), x.dtype)
    one_zero = cast(equal(zeros, 1), x.dtype)
    partial = multiply(rest, add(divide(no_zero, safe), multiply(one_zero, is_zero)))
    return [multiply(conj(partial), _expand(dy, x, axis, keepdims))]


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    """Product over ``axis`` (``nf.reduce_prod``); its gradient is exact with zeros inside.

    >>> nf.reduce_prod(nf.constant([[1.0, 2.0], [3.0, 4.0]]), axis=1).numpy()
    array([ 2., 12.], dtype=float32)
    """
    return _reduce_prod(input_tensor, axis=_axis(axis), keepdims=bool(keepdims), name=name)


# -- logical ------------------------------------------------------------------------------


def _check_bool(x, what):
    if not hasattr(x, "dtype"):
        return convert_to_tensor(x, dtype=dtypes.bool_)
    if not dtypes.as_dtype(x.dtype).is_bool:
        raise TypeError(f"{what} needs a bool input, got dtype {dtypes.as_dtype(x.dtype).name}"
                        " (compare first, or nf.cast to nf.bool)")
    return x


@primitive("All", shape=_bool_reduction, differentiable=False)
def _reduce_all(x, axis, keepdims):
    return np.all(x, axis=_np_axis(axis), keepdims=keepdims)


@primitive("Any", shape=_bool_reduction, differentiable=False)
def _reduce_any(x, axis, keepdims):
    return np.any(x, axis=_np_axis(axis), keepdims=keepdims)


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    """Logical and over ``axis`` of a bool tensor (``nf.reduce_all``).

    >>> nf.reduce_all(nf.constant([[True, False], [True, True]]), axis=1).numpy()
    array([False,  True])
    """
    x = _check_bool(input_tensor, "reduce_all")
    return _reduce_all(x, axis=_axis(axis), keepdims=bool(keepdims), name=name)


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    """Logical or over ``axis`` of a bool tensor (``nf.reduce_any``).

    >>> nf.reduce_any(nf.constant([[True, False], [False, False]]), axis=1).numpy()
    array([ True, False])
    """
    x = _check_bool(input_tensor, "reduce_any")
    return _reduce_any(x, axis=_axis(axis), keepdims=bool(keepdims), name=name)


def count_nonzero(input, axis=None, keepdims=None, dtype=dtypes.int64, name=None):
    """How many elements along ``axis`` are not zero (``nf.math.count_nonzero``).

    >>> nf.math.count_nonzero(nf.constant([[0, 1], [2, 3]]), axis=1).numpy()
    array([1, 2])
    """
    from neuroflow.ops.math import cast, not_equal
    x = input if hasattr(input, "dtype") else convert_to_tensor(input)
    nonzero = cast(not_equal(x, 0), dtype)
    return reduce_sum(nonzero, axis, keepdims=bool(keepdims), name=name)


# -- arg-extrema --------------------------------------------------------------------------


def _arg_spec(x, axis, output_type):
    if x.shape.rank is None:
        return Spec(None, output_type)
    (axis,) = shapes.normalize_axis(axis, x.shape.rank)
    return Spec([d for i, d in enumerate(x.shape) if i != axis], output_type)


@primitive("ArgMax", shape=_arg_spec, differentiable=False)
def _argmax(x, axis, output_type):
    return np.argmax(x, axis=axis).astype(output_type.np_dtype, copy=False)


@primitive("ArgMin", shape=_arg_spec, differentiable=False)
def _argmin(x, axis, output_type):
    return np.argmin(x, axis=axis).astype(output_type.np_dtype, copy=False)


def _arg_axis(axis):
    axis = 0 if axis is None else _axis(axis)
    if isinstance(axis, tuple):
        if len(axis) != 1:
            raise ValueError(f"argmax/argmin take one axis, got {list(axis)}")
        axis = axis[0]
    return axis


def _arg_output_type(output_type):
    output_type = dtypes.as_dtype(output_type)
    if output_type not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"output_type must be int32 or int64, got {output_type.name}")
    return output_type


def argmax(input, axis=None, output_type=dtypes.int64, name=None):
    """Index of the largest value along ``axis`` (0 when None); ties give the first.

    >>> nf.argmax(nf.constant([[1.0, 5.0], [3.0, 2.0]]), axis=1).numpy()
    array([1, 0])
    """
    return _argmax(input, axis=_arg_axis(axis), output_type=_arg_output_type(output_type),
                   name=name)


def argmin(input, axis=None, output_type=dtypes.int64, name=None):
    """Index of the smallest value along ``axis`` (0 when None); ties give the first.

    >>> nf.argmin(nf.constant([[1.0, 5.0], [3.0, 2.0]]), axis=1).numpy()
    array([0, 1])
    """
    return _argmin(input, axis=_arg_axis(axis), output_type=_arg_output_type(output_type),
                   name=name)


# -- cumulative sum -----------------------------------------------------------------------


def _cumsum_spec(x, axis, exclusive, reverse):
    _no_bool(x, "cumsum")
    shapes.normalize_axis(axis, x.shape.rank)
    if x.shape.rank == 0:
        raise ValueError("cumsum needs an input of rank >= 1, got a scalar")
    return Spec(x.shape, x.dtype)


@primitive("Cumsum", shape=_cumsum_spec)
def _cumsum(x, axis, exclusive, reverse):
    _no_bool(x, "cumsum")
    if x.ndim == 0:
        raise ValueError("cumsum needs an input of rank >= 1, got a scalar")
    if reverse:
        x = np.flip(x, axis)
    out = np.cumsum(x, axis=axis, dtype=x.dtype)
    if exclusive:
        shifted = np.zeros_like(out)
        n = out.shape[axis]
        dst = np.moveaxis(shifted, axis, 0)
        dst[1:] = np.moveaxis(out, axis, 0)[:n - 1]
        out = shifted
    return np.flip(out, axis) if reverse else out


@_cumsum.defgrad
def _cumsum_grad(op, dy):
    a = op.attrs
    return [_cumsum(dy, axis=a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"])]


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative sum along ``axis``; ``exclusive`` leaves out the element itself,
    ``reverse`` sums from the end (``nf.cumsum``).

    >>> nf.cumsum(nf.constant([1, 2, 3]), exclusive=True).numpy()
    array([0, 1, 3], dtype=int32)
    """
    axis = _arg_axis(axis)
    return _cumsum(x, axis=axis, exclusive=bool(exclusive), reverse=bool(reverse), name=name)


# The statistical reductions live in their own module (imported last: it builds on the
# reductions above).
from neuroflow.ops.reduce_stats import (  # noqa: E402
    reduce_euclidean_norm,
    reduce_logsumexp,
    reduce_std,
    reduce_variance,
)

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
           "reduce_variance", "reduce_std", "reduce_euclidean_norm", "reduce_logsumexp",
           "reduce_all", "reduce_any", "count_nonzero", "argmax", "argmin", "cumsum"]
