"""TensorFlow 1 spellings of TF2 ops: old argument names (keep_dims, reduction_indices, dim),
old function names (to_float, div, random_normal, multinomial) and TF1-only helpers."""
from __future__ import annotations

import contextlib
import logging as _logging
import types

from neuroflow.backend import dtypes
from neuroflow.core.context import name_scope as _name_scope
from neuroflow.ops import random as _random
from neuroflow.ops.random_seed import get_seed, set_seed


def _nf():
    import neuroflow
    return neuroflow


def _one(new, old, new_name, old_name):
    if old is not None:
        if new is not None:
            raise ValueError(f"Cannot specify both '{new_name}' and '{old_name}'")
        return old
    return new


# -- reductions with keep_dims / reduction_indices ----------------------------------------


def _v1_reduction(op_name):
    def reduction(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                  keep_dims=None):
        axis = _one(axis, reduction_indices, "axis", "reduction_indices")
        keepdims = bool(_one(keepdims, keep_dims, "keepdims", "keep_dims"))
        return getattr(_nf(), op_name)(input_tensor, axis=axis, keepdims=keepdims, name=name)
    reduction.__name__ = op_name
    reduction.__doc__ = (f"``tf.compat.v1.{op_name}``: ``nf.{op_name}`` that also takes TF1's "
                         "``reduction_indices=`` and ``keep_dims=``.")
    return reduction


reduce_sum = _v1_reduction("reduce_sum")
reduce_mean = _v1_reduction("reduce_mean")
reduce_max = _v1_reduction("reduce_max")
reduce_min = _v1_reduction("reduce_min")
reduce_prod = _v1_reduction("reduce_prod")
reduce_all = _v1_reduction("reduce_all")
reduce_any = _v1_reduction("reduce_any")
reduce_logsumexp = _v1_reduction("reduce_logsumexp")


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None):
    axis = _one(axis, reduction_indices, "axis", "reduction_indices")
    keepdims = bool(_one(keepdims, keep_dims, "keepdims", "keep_dims"))
    x = _one(input_tensor, input, "input_tensor", "input")
    return _nf().math.count_nonzero(x, axis=axis, keepdims=keepdims, dtype=dtype, name=name)


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):
    """``tf.compat.v1.argmax``: also takes ``dimension=``; axis defaults to 0."""
    axis = _one(axis, dimension, "axis", "dimension")
    return _nf().argmax(input, axis=0 if axis is None else axis, output_type=output_type,
                        name=name)


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):
    axis = _one(axis, dimension, "axis", "dimension")
    return _nf().argmin(input, axis=0 if axis is None else axis, output_type=output_type,
                        name=name)


arg_max, arg_min = argmax, argmin


def expand_dims(input, axis=None, name=None, dim=None):
    axis = _one(axis, dim, "axis", "dim")
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return _nf().expand_dims(input, axis, name=name)


def squeeze(input, axis=None, name=None, squeeze_dims=None):
    axis = _one(axis, squeeze_dims, "axis", "squeeze_dims")
    return _nf().squeeze(input, axis, name=name)


# -- casts and division -------------------------------------------------------------------


def _caster(dtype, default_name):
    def cast(x, name=default_name):
        return _nf().cast(x, dtype, name=name)
    cast.__name__ = f"to_{dtype.name}"
    cast.__doc__ = f"``tf.compat.v1.to_...``: casts to {dtype.name}."
    return cast


to_float = _caster(dtypes.float32, "ToFloat")
to_double = _caster(dtypes.float64, "ToDouble")
to_int32 = _caster(dtypes.int32, "ToInt32")
to_int64 = _caster(dtypes.int64, "ToInt64")


def div(x, y, name=None):
    """``tf.compat.v1.div``: floor division for integers, true division otherwise (Python 2)."""
    nf = _nf()
    x_dtype = getattr(x, "dtype", None)
    if x_dtype is None:
        x = nf.convert_to_tensor(x)
        x_dtype = x.dtype
    if dtypes.as_dtype(x_dtype).is_integer:
        return nf.math.floordiv(x, y, name=name)
    return nf.divide(x, y, name=name)


# -- random -------------------------------------------------------------------------------


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """``tf.compat.v1.random_normal`` (= ``nf.random.normal``)."""
    return _random.normal(shape, mean, stddev, dtype, seed, name)


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """``tf.compat.v1.random_uniform`` (= ``nf.random.uniform``)."""
    return _random.uniform(shape, minval, maxval, dtype, seed, name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None,
                     name=None):
    """``tf.compat.v1.truncated_normal`` (= ``nf.random.truncated_normal``)."""
    return _random.truncated_normal(shape, mean, stddev, dtype, seed, name)


def random_shuffle(value, seed=None, name=None):
    """``tf.compat.v1.random_shuffle`` (= ``nf.random.shuffle``)."""
    return _random.shuffle(value, seed, name)


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """``tf.compat.v1.multinomial`` (= ``nf.random.categorical``)."""
    return _random.categorical(logits, num_samples, output_dtype, seed, name)


def set_random_seed(seed):
    """Sets the graph-level seed (``tf.compat.v1.set_random_seed``); eagerly, the global one.

    >>> tf.set_random_seed(0)
    """
    set_seed(seed)


# -- scopes, session config, logging ------------------------------------------------------


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """``tf.compat.v1.name_scope(name, default_name=None, values=None)``."""
    with _name_scope(name if name is not None else default_name) as scope:
        yield (scope + "/") if scope else ""


class _Options:
    """Accepts and keeps any option (``ConfigProto``, ``GPUOptions``...): NumPy ignores them."""

    def __init__(self, **options):
        self.__dict__.update(options)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _Options()
        setattr(self, name, value)
        return value


class ConfigProto(_Options):
    """``tf.compat.v1.ConfigProto``: accepted for compatibility; has no effect."""


class GPUOptions(_Options):
    """``tf.compat.v1.GPUOptions``: accepted for compatibility; has no effect."""


class RunOptions(_Options):
    pass


class RunMetadata(_Options):
    pass


_log = _logging.getLogger("neuroflow")
logging = types.SimpleNamespace(
    DEBUG=_logging.DEBUG, INFO=_logging.INFO, WARN=_logging.WARNING,
    WARNING=_logging.WARNING, ERROR=_logging.ERROR, FATAL=_logging.FATAL,
    set_verbosity=_log.setLevel, get_verbosity=_log.getEffectiveLevel,
    debug=_log.debug, info=_log.info, warn=_log.warning, warning=_log.warning,
    error=_log.error, fatal=_log.critical)


__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
           "reduce_all", "reduce_any", "reduce_logsumexp", "count_nonzero", "argmax", "argmin",
           "arg_max", "arg_min", "expand_dims", "squeeze", "to_float", "to_double",
           "to_int32", "to_int64", "div", "random_normal", "random_uniform",
           "truncated_normal", "random_shuffle", "multinomial", "set_random_seed", "get_seed",
           "name_scope", "ConfigProto", "GPUOptions", "RunOptions", "RunMetadata", "logging"]
