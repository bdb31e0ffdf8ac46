"""The ``Metric`` base: state in non-trainable variables, updated with ops, so metrics
accumulate inside compiled train steps as well as eagerly."""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import convert_to_tensor
from neuroflow.core.variable import Variable
from neuroflow.keras import naming
from neuroflow.ops.math import cast, divide, multiply
from neuroflow.ops.reduce import reduce_sum


class Metric:
    """Base class: ``update_state``, ``result``, ``reset_state``; state via ``add_variable``."""

    def __init__(self, name=None, dtype=None):
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self.dtype = dtypes.as_dtype(dtype or "float32").name
        self._variables = []

    def add_variable(self, shape=(), initializer="zeros", dtype=None, name=None):
        from neuroflow.keras import initializers
        init = initializers.get(initializer)
        dtype = dtypes.as_dtype(dtype or self.dtype)
        variable = Variable(lambda: init(tuple(shape), dtype=dtype), trainable=False,
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


class Mean(Metric):
    """The (weighted) mean of the values it is given."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values, sample_weight=None):
        values = cast(convert_to_tensor(values), self.dtype)
        if sample_weight is not None:
            weight = cast(convert_to_tensor(sample_weight), self.dtype)
            from neuroflow.ops.broadcast import broadcast_as
            weight = broadcast_as(weight, values) if weight.shape != values.shape else weight
            self.total.assign_add(reduce_sum(multiply(values, weight)))
            self.count.assign_add(reduce_sum(weight))
        else:
            from neuroflow.ops.array import size
            self.total.assign_add(reduce_sum(values))
            self.count.assign_add(cast(size(values), self.dtype))

    def result(self):
        from neuroflow.ops.math import maximum
        return divide(_read(self.total),
                      maximum(_read(self.count), np.float32(1e-12).astype(self.dtype)))


def _read(variable):
    from neuroflow.core.context import ctx
    if ctx.graph is not None:
        return variable.value()
    return convert_to_tensor(variable.numpy())


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred)`` over all samples seen (accuracies, MAE, ...)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name or fn.__name__, dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(convert_to_tensor(y_true), convert_to_tensor(y_pred), **self._fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}
