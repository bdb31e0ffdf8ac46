"""The ``Loss`` base: a per-sample loss function reduced over the batch, with sample weights."""
from __future__ import annotations

from neuroflow.core.op import convert_to_tensor
from neuroflow.ops.array import expand_dims, size, squeeze
from neuroflow.ops.math import cast, divide, logical_and, maximum, multiply
from neuroflow.ops.reduce import reduce_sum

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight",
              "auto")
EPSILON = 1e-7  # keras.backend.epsilon()


class Reduction:
    """TF2's ``tf.keras.losses.Reduction`` names ("auto" means "sum_over_batch_size")."""

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)


class Loss:
    """Base class: ``call(y_true, y_pred)`` gives per-sample losses; ``__call__`` weights
    and reduces them ("sum_over_batch_size" by default, as Keras).

    >>> class Scaled(keras.losses.Loss):
    ...     def call(self, y_true, y_pred): return nf.reduce_mean(2 * (y_pred - y_true), -1)
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`: {reduction!r}; "
                             f"expected one of {REDUCTIONS}")
        self.name = name or type(self).__name__
        self.reduction = "sum_over_batch_size" if reduction == "auto" else reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def __call__(self, y_true, y_pred, sample_weight=None):
        # a Keras mask on the predictions (a sequence output of masked steps) leaves the
        # masked entries out of the loss, as Keras does
        output_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = convert_to_tensor(y_pred)
        y_true = convert_to_tensor(y_true)
        if self.dtype is not None:
            y_pred = cast(y_pred, self.dtype)
            if y_true.dtype.is_floating:  # integer class labels stay integers
                y_true = cast(y_true, self.dtype)
        losses = self.call(y_true, y_pred)
        mask = self.loss_mask(y_true, y_pred)
        if output_mask is not None and output_mask.shape.rank == losses.shape.rank:
            mask = output_mask if mask is None else logical_and(mask, output_mask)
        return reduce_weighted(losses, sample_weight, self.reduction, mask=mask)

    def loss_mask(self, y_true, y_pred):
        """Entries of the per-sample losses that count (None: all); reductions that average
        divide by the number of valid entries only."""
        return None

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name} reduction={self.reduction}>"


def squeeze_or_expand_to_same_rank(x1, x2):
    """Squeezes or expands the last axis of one of two tensors whose ranks differ by one
    (Keras's rule), so that (batch,) labels and (batch, 1) predictions line up instead of
    broadcasting to (batch, batch)."""
    r1, r2 = x1.shape.rank, x2.shape.rank
    if r1 is None or r2 is None or r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1:
            x2 = expand_dims(x2, -1)
        else:
            x1 = squeeze(x1, axis=-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1:
            x1 = expand_dims(x1, -1)
        else:
            x2 = squeeze(x2, axis=-1)
    return x1, x2


def _align_weight(weight, losses):
    """Sample weights index the leading axes of the losses (TF's rule): trailing size-1
    axes beyond the losses' rank are dropped, missing trailing axes are added."""
    if weight.shape.rank is None or losses.shape.rank is None:
        return weight
    while weight.shape.rank > losses.shape.rank and weight.shape[-1] == 1:
        weight = squeeze(weight, axis=-1)
    if weight.shape.rank > losses.shape.rank:
        raise ValueError(f"sample_weight of shape {tuple(weight.shape)} does not fit losses "
                         f"of shape {tuple(losses.shape)}")
    while 0 < weight.shape.rank < losses.shape.rank:
        weight = expand_dims(weight, -1)
    return weight


def _count(tensor, dtype):
    return maximum(cast(size(tensor), dtype), 1.0)


def reduce_weighted(losses, sample_weight=None, reduction="sum_over_batch_size", mask=None):
    """Applies sample weights (and a mask of valid entries), then the reduction.

    "sum_over_batch_size" / "mean": sum of weighted losses over the number of entries (the
    valid ones, with a mask); "sum": the sum; "mean_with_sample_weight": over the sum of the
    weights; "none": the weighted losses themselves.
    """
    losses = convert_to_tensor(losses)
    weight = None
    if sample_weight is not None:
        weight = _align_weight(cast(convert_to_tensor(sample_weight), losses.dtype), losses)
    if mask is not None:
        mask = cast(mask, losses.dtype)
        if reduction in ("sum_over_batch_size", "mean"):
            # valid entries weigh total / valid, so that the mean counts valid entries only
            mask = multiply(mask, divide(cast(size(mask), losses.dtype),
                                         reduce_sum(mask) + EPSILON))
        weight = mask if weight is None else multiply(weight, mask)
    if weight is not None:
        losses = multiply(losses, weight)
    if reduction in ("none", None) or losses.shape.rank == 0:
        return losses
    total = reduce_sum(losses)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weight is not None:
        from neuroflow.ops.broadcast import broadcast_as
        denominator = reduce_sum(broadcast_as(weight, losses)
                                 if weight.shape != losses.shape else weight)
        return _divide_no_nan(total, denominator)
    return divide(total, _count(losses, losses.dtype))


def _divide_no_nan(x, y):
    from neuroflow.ops.math import equal, where
    safe = where(equal(y, 0.0), 1.0, y)
    return where(equal(y, 0.0), 0.0, divide(x, safe))


class LossFunctionWrapper(Loss):
    """A Loss made of a function ``fn(y_true, y_pred, **kwargs)`` of per-sample losses."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, reduction=reduction, dtype=dtype)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            config["fn"] = getattr(self.fn, "_registered_name", self.fn.__name__)
        config.update(self.fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        if cls is LossFunctionWrapper:
            from neuroflow.keras import losses
            config = dict(config)
            fn = losses.get_function(config.pop("fn"))
            return cls(fn, **config)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__}({self.fn.__name__}) name={self.name}>"


def prepare(y_true, y_pred):
    """Tensors for a loss function: float predictions, labels cast to their dtype, ranks
    lined up (``squeeze_or_expand_to_same_rank``)."""
    y_pred = convert_to_tensor(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = cast(y_pred, "float32")
    y_true = cast(convert_to_tensor(y_true), y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)
