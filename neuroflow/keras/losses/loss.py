"""The ``Loss`` base: a per-sample loss function reduced over the batch, with sample weights."""
from __future__ import annotations

from neuroflow.core.op import convert_to_tensor
from neuroflow.ops.math import cast, divide, multiply
from neuroflow.ops.reduce import reduce_mean, reduce_sum

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


class Loss:
    """Base class: ``call(y_true, y_pred)`` gives per-sample losses; ``__call__`` weights
    and reduces them ("sum_over_batch_size" by default, as Keras)."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`: {reduction!r}; "
                             f"expected one of {REDUCTIONS}")
        self.name = name or type(self).__name__
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = convert_to_tensor(y_pred)
        y_true = convert_to_tensor(y_true)
        losses = self.call(y_true, y_pred)
        return reduce_weighted(losses, sample_weight, self.reduction)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def reduce_weighted(losses, sample_weight=None, reduction="sum_over_batch_size"):
    """Applies sample weights, then the reduction, to per-sample losses."""
    if sample_weight is not None:
        weight = cast(convert_to_tensor(sample_weight), losses.dtype)
        if weight.shape.rank is not None and losses.shape.rank is not None:
            from neuroflow.ops.array import reshape
            while weight.shape.rank > losses.shape.rank and weight.shape[-1] == 1:
                weight = reshape(weight, list(weight.shape)[:-1])
        losses = multiply(losses, weight)
    if reduction in ("none", None):
        return losses
    if reduction == "sum":
        return reduce_sum(losses)
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide(reduce_sum(losses), reduce_sum(weight))
    return reduce_mean(losses)


class LossFunctionWrapper(Loss):
    """A Loss made of a function ``fn(y_true, y_pred, **kwargs)`` of per-sample losses."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name=name or fn.__name__, reduction=reduction)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self.fn_kwargs)
        return config
