"""Weight constraints (``keras.constraints``), applied by the optimizer after each update."""
from __future__ import annotations

from neuroflow.keras.serialization import lookup


class Constraint:
    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class NonNeg(Constraint):
    def __call__(self, w):
        from neuroflow.ops.math import maximum
        return maximum(w, 0.0)


class MaxNorm(Constraint):
    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        from neuroflow.ops.math import clip_by_norm
        return clip_by_norm(w, self.max_value, axes=self.axis)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        from neuroflow.ops.normalization import l2_normalize
        return l2_normalize(w, axis=self.axis, epsilon=1e-7)

    def get_config(self):
        return {"axis": self.axis}


_ALIASES = {"non_neg": NonNeg, "nonneg": NonNeg, "max_norm": MaxNorm, "unit_norm": UnitNorm}


def get(identifier):
    if identifier is None:
        return None
    if isinstance(identifier, Constraint) or (callable(identifier)
                                              and not isinstance(identifier, (str, dict))):
        return identifier
    return lookup("constraint", identifier, _ALIASES, globals())
