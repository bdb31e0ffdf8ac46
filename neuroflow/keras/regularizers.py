"""Weight regularizers (``keras.regularizers``): L1, L2, L1L2, by class or name."""
from __future__ import annotations

from neuroflow.keras.serialization import lookup


class Regularizer:
    def __call__(self, x):
        return 0.0

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        from neuroflow.ops.math import abs as abs_
        from neuroflow.ops.math import square
        from neuroflow.ops.reduce import reduce_sum
        total = 0.0
        if self.l1:
            total = total + self.l1 * reduce_sum(abs_(x))
        if self.l2:
            total = total + self.l2 * reduce_sum(square(x))
        return total

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1, l2)


_ALIASES = {"l1": L1, "l2": L2, "l1_l2": lambda: L1L2(0.01, 0.01), "l1l2": L1L2}


def get(identifier):
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer) or (callable(identifier)
                                               and not isinstance(identifier, (str, dict))):
        return identifier
    result = lookup("regularizer", identifier, _ALIASES, globals())
    return result() if callable(result) and not isinstance(result, Regularizer) else result
