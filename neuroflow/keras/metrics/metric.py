"""The ``Metric`` base: state in non-trainable variables, updated with ops, so metrics
accumulate inside compiled train steps as well as eagerly.

``update_state`` changes the state only through ``assign``/``assign_add`` (ops in a traced
step); ``result`` reads it. Reads made after the updates in a traced step see the updated
values, since a compiled plan runs stateful ops in program order.
"""
from __future__ import annotations

from neuroflow.backend import dtypes
from neuroflow.core.op import convert_to_tensor
from neuroflow.core.variable import Variable
from neuroflow.keras import naming
from neuroflow.ops.array import expand_dims, ones_like, shape, squeeze
from neuroflow.ops.math import cast, divide, equal, multiply, where
from neuroflow.ops.reduce import reduce_mean, reduce_sum


class Metric:
    """Base class: ``update_state``, ``result``, ``reset_state``; state via ``add_variable``.

    >>> m = keras.metrics.Mean(); m.update_state([1.0, 3.0]); float(m.result())
    2.0
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self.dtype = dtypes.as_dtype(dtype or "float32").name
        self._variables = []

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        from neuroflow.keras import initializers
        from neuroflow.keras.saving import budget
        init = initializers.get(initializer)
        dtype = dtypes.as_dtype(dtype or self.dtype)
        shape = tuple(int(d) for d in shape)
        budget.charge(shape, f"{self.name}/{name or 'state'}")  # a file's config: capped
        variable = Variable(lambda: init(shape, dtype=dtype), trainable=False,
                            name=f"{self.name}/{name or 'state'}", dtype=dtype)
        variable._metric_initializer = init
        self._variables.append(variable)
        return variable

    add_weight = add_variable

    @property
    def variables(self):
        return list(self._variables)

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state()")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result()")

    def reset_state(self):
        for v in self._variables:
            v.assign(v._metric_initializer(tuple(v.shape), dtype=v.dtype))

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def read(variable):
    """A variable's value for ``result()``: a read node in a graph, a snapshot eagerly."""
    from neuroflow.core.context import ctx
    if ctx.graph is not None:
        return variable.value()
    return convert_to_tensor(variable.numpy())


_read = read  # the lead's name, kept for existing callers


def divide_no_nan(x, y):
    """x / y, and 0 where y == 0 (no NaN for a metric that has seen no data)."""
    zero = equal(y, 0.0)
    return where(zero, 0.0, divide(x, where(zero, 1.0, y)))


def _same_rank(values, weight):
    """Keras's last-axis squeeze/expand between values and weights whose ranks differ by 1."""
    rv, rw = values.shape.rank, weight.shape.rank
    if rv is None or rw is None or rv == rw:
        return values, weight
    if rv == rw + 1 and values.shape[-1] == 1:
        if rw == 1:
            weight = expand_dims(weight, -1)
        else:
            values = squeeze(values, axis=-1)
    elif rw == rv + 1 and weight.shape[-1] == 1:
        if rv == 1:
            values = expand_dims(values, -1)
        else:
            weight = squeeze(weight, axis=-1)
    return values, weight


def reduce_to_samplewise(values, sample_weight, reduce_fn, dtype):
    """Per-sample values (axis 0 kept), weighted: values are reduced with ``reduce_fn`` down
    to the weights' rank, weights broadcast over them and reduced the same way (Keras's
    rule, so that (batch,) weights apply to (batch, steps) values row by row)."""
    values = cast(convert_to_tensor(values), dtype)
    if sample_weight is not None:
        weight = cast(convert_to_tensor(sample_weight), dtype)
        values, weight = _same_rank(values, weight)
        if values.shape.rank is not None and weight.shape.rank is not None:
            weight_rank, values_rank = weight.shape.rank, values.shape.rank
            if values_rank > weight_rank:
                values = reduce_fn(values, axis=list(range(weight_rank, values_rank)))
            weight = multiply(weight, ones_like(values))
            values = multiply(values, weight)
            if weight_rank > 1:
                weight = reduce_fn(weight, axis=list(range(1, weight_rank)))
        else:
            weight = multiply(weight, ones_like(values))
            values = multiply(values, weight)
        sample_weight = weight
    if values.shape.rank is not None and values.shape.rank > 1:
        values = reduce_fn(values, axis=list(range(1, values.shape.rank)))
    return values, sample_weight


def _num_samples(values, dtype):
    if values.shape.rank == 0:
        return cast(1.0, dtype)
    return cast(shape(values)[0], dtype)


class Mean(Metric):
    """The (weighted) mean of the values it is given.

    >>> m = keras.metrics.Mean(); m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values, sample_weight=None):
        values, weight = reduce_to_samplewise(values, sample_weight, reduce_mean, self.dtype)
        self.total.assign_add(reduce_sum(values))
        if weight is not None:
            self.count.assign_add(reduce_sum(weight))
        else:
            self.count.assign_add(_num_samples(values, self.dtype))

    def result(self):
        return divide_no_nan(read(self.total), read(self.count))


class Sum(Metric):
    """The (weighted) sum of the values it is given.

    >>> m = keras.metrics.Sum(); m.update_state([1.0, 3.0, 5.0]); float(m.result())
    9.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise(values, sample_weight, reduce_sum, self.dtype)
        self.total.assign_add(reduce_sum(values))

    def result(self):
        return read(self.total)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred)`` over all samples seen (accuracies, MAE, ...).

    >>> m = keras.metrics.MeanMetricWrapper(keras.losses.mean_absolute_error, name="mae")
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name or fn.__name__, dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(convert_to_tensor(y_true), convert_to_tensor(y_pred), **self._fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}
        if type(self) is MeanMetricWrapper:
            config["fn"] = getattr(self._fn, "_registered_name", self._fn.__name__)
        return config

    @classmethod
    def from_config(cls, config):
        if cls is MeanMetricWrapper:
            from neuroflow.keras import metrics
            config = dict(config)
            return cls(metrics.get_function(config.pop("fn")), **config)
        return cls(**config)
