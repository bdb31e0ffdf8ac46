"""Learning-rate schedules (``nf.keras.optimizers.schedules``): Keras 3's formulas.

A schedule is called with the optimizer's step (an integer tensor: the optimizer passes its
``iterations`` variable) and returns a float32 scalar tensor. Each built-in schedule is one op
computing its formula from the step, so it costs one op per training step, eagerly and in
graphs alike (where the step is read when the graph runs).

>>> lr = nf.keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> float(lr(10))
0.05
"""
from __future__ import annotations

import math as _math

import numpy as np

from neuroflow.core.op import Spec, primitive

_f32 = np.float32


def _scalar_spec(step, **attrs):
    return Spec((), "float32")


def _schedule_op(name):
    return primitive(name, shape=_scalar_spec, same_dtype=False, differentiable=False)


def _step(step):
    return _f32(step)


@_schedule_op("ExponentialDecay")
def _exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase):
    p = _step(step) / _f32(decay_steps)
    if staircase:
        p = np.floor(p)
    return np.asarray(_f32(initial_learning_rate) * np.power(_f32(decay_rate), p))


@_schedule_op("PiecewiseConstantDecay")
def _piecewise_constant(step, boundaries, values):
    step = np.asarray(step)
    # Keras casts the boundaries to the step's dtype: values[i] on (b[i-1], b[i]]
    bounds = np.asarray(boundaries).astype(step.dtype)
    index = int(np.searchsorted(bounds, step, side="left"))
    return np.asarray(_f32(values[index]))


@_schedule_op("PolynomialDecay")
def _polynomial_decay(step, initial_learning_rate, decay_steps, end_learning_rate, power,
                      cycle):
    step = _step(step)
    steps = _f32(decay_steps)
    if cycle:
        multiplier = _f32(1.0) if step == 0 else np.ceil(step / _f32(decay_steps))
        steps = steps * multiplier
    else:
        step = np.minimum(step, steps)
    p = step / steps
    end = _f32(end_learning_rate)
    return np.asarray((_f32(initial_learning_rate) - end) * np.power(_f32(1) - p, _f32(power))
                      + end)


@_schedule_op("InverseTimeDecay")
def _inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase):
    p = _step(step) / _f32(decay_steps)
    if staircase:
        p = np.floor(p)
    return np.asarray(_f32(initial_learning_rate) / (_f32(1) + _f32(decay_rate) * p))


@_schedule_op("CosineDecay")
def _cosine_decay(step, initial_learning_rate, decay_steps, alpha, warmup_target,
                  warmup_steps):
    step = _step(step)
    initial = _f32(initial_learning_rate)
    steps = _f32(decay_steps)
    if warmup_target is None:
        return np.asarray(_cosine(np.minimum(step, steps), steps, initial, alpha))
    target, warmup = _f32(warmup_target), _f32(warmup_steps)
    step = np.minimum(step, steps + warmup)
    if step < warmup:
        return np.asarray((target - initial) * (step / warmup) + initial)
    return np.asarray(_cosine(step - warmup, steps, target, alpha))


def _cosine(step, steps, decay_from, alpha):
    cosine = _f32(0.5) * (_f32(1) + np.cos(_f32(_math.pi) * (step / steps)))
    return decay_from * ((_f32(1) - _f32(alpha)) * cosine + _f32(alpha))


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``.

    >>> class Halving(nf.keras.optimizers.schedules.LearningRateSchedule):
    ...     def __call__(self, step): return 0.1 / (nf.cast(step, nf.float32) + 1.0)
    """

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `__call__(self, step)`.")

    def get_config(self) -> dict:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_decay_steps(value, argument="decay_steps"):
    if value <= 0:
        raise ValueError(f"Argument `{argument}` must be > 0. Received: {argument}={value}")


class _RateDecay(LearningRateSchedule):
    """Shared by the decays of ``initial_learning_rate`` with ``decay_steps``, ``decay_rate``
    and ``staircase``; subclasses name the op computing the rate from the step."""

    _decay = None  # the primitive: (step, **attributes) -> learning rate

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def __call__(self, step):
        return self._decay(step, initial_learning_rate=float(self.initial_learning_rate),
                           decay_steps=float(self.decay_steps),
                           decay_rate=float(self.decay_rate),
                           staircase=bool(self.staircase), name=self.name)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored with staircase).

    >>> ExponentialDecay(0.1, decay_steps=100, decay_rate=0.96, staircase=True)
    """

    _decay = _exponential_decay

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` on
    ``(boundaries[i-1], boundaries[i]]``, ``values[-1]`` after the last boundary.

    >>> PiecewiseConstantDecay(boundaries=[1000, 2000], values=[0.1, 0.01, 0.001])
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        return _piecewise_constant(step, boundaries=tuple(self.boundaries),
                                   values=tuple(float(v) for v in self.values), name=self.name)

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``, the step capped at
    ``decay_steps`` (or ``decay_steps`` stretched to the next multiple with ``cycle``)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        return _polynomial_decay(step, initial_learning_rate=float(self.initial_learning_rate),
                                 decay_steps=float(self.decay_steps),
                                 end_learning_rate=float(self.end_learning_rate),
                                 power=float(self.power), cycle=bool(self.cycle),
                                 name=self.name)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored with
    staircase)."""

    _decay = _inverse_time_decay

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` (or, after a linear warmup of
    ``warmup_steps`` to ``warmup_target``, from ``warmup_target``) down to ``alpha`` times it
    over ``decay_steps``.

    >>> CosineDecay(0.0, decay_steps=1000, warmup_target=0.1, warmup_steps=100)
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def __call__(self, step):
        target = None if self.warmup_target is None else float(self.warmup_target)
        return _cosine_decay(step, initial_learning_rate=float(self.initial_learning_rate),
                             decay_steps=float(self.decay_steps), alpha=float(self.alpha),
                             warmup_target=target, warmup_steps=float(self.warmup_steps),
                             name=self.name)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


_BUILTIN = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay,
                                          PolynomialDecay, InverseTimeDecay, CosineDecay)}


def serialize(learning_rate_schedule) -> dict:
    """The schedule as a JSON-compatible dict (``{"class_name": ..., "config": ...}``)."""
    return {"module": "keras.optimizers.schedules",
            "class_name": type(learning_rate_schedule).__name__,
            "config": learning_rate_schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """Rebuilds a schedule from ``serialize``'s dict.

    >>> deserialize({"class_name": "ExponentialDecay", "config": {...}})
    """
    name = config["class_name"]
    classes = dict(_BUILTIN, **(custom_objects or {}))
    if name not in classes:
        raise ValueError(f"Unknown learning rate schedule {name!r}; known: "
                         f"{', '.join(sorted(classes))} (pass custom_objects for your own).")
    return classes[name].from_config(dict(config.get("config", {})))


__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "InverseTimeDecay", "CosineDecay", "serialize", "deserialize"]
