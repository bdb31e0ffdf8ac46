"""Python operators on tensors and variables: ``x + y``, ``a @ b``, ``x[1:, None]``, ``-x``."""
from __future__ import annotations

from neuroflow.core.tensor import Tensor
from neuroflow.core.variable import Variable
from neuroflow.ops import array, indexing, linalg, math


def _binary(fn):
    def forward(self, other):
        return fn(self, other)

    def reflected(self, other):
        return fn(other, self)
    return forward, reflected


_BINARY = {
    "add": math.add, "sub": math.subtract, "mul": math.multiply, "truediv": math.divide,
    "floordiv": lambda x, y: math.floordiv(x, y), "mod": lambda x, y: math.floormod(x, y),
    "pow": lambda x, y: math.pow(x, y), "matmul": linalg.matmul,
    "and": lambda x, y: math.logical_and(x, y), "or": lambda x, y: math.logical_or(x, y),
    "xor": lambda x, y: math.logical_xor(x, y),
}
_COMPARE = {
    "lt": lambda x, y: math.less(x, y), "le": lambda x, y: math.less_equal(x, y),
    "gt": lambda x, y: math.greater(x, y), "ge": lambda x, y: math.greater_equal(x, y),
}


def install(cls):
    for name, fn in _BINARY.items():
        forward, reflected = _binary(fn)
        setattr(cls, f"__{name}__", forward)
        setattr(cls, f"__r{name}__", reflected)
    for name, fn in _COMPARE.items():
        setattr(cls, f"__{name}__", (lambda f: lambda self, other: f(self, other))(fn))
    # elementwise, as TF2; hashing stays by identity, since the engine keys dicts by tensor
    cls.__eq__ = lambda self, other: False if other is None else math.equal(self, other)
    cls.__ne__ = lambda self, other: True if other is None else math.not_equal(self, other)
    cls.__hash__ = object.__hash__
    cls.__neg__ = lambda self: math.negative(self)
    cls.__pos__ = lambda self: self
    cls.__abs__ = lambda self: math.abs(self)
    cls.__invert__ = lambda self: math.logical_not(self)
    cls.__getitem__ = lambda self, key: indexing.getitem(self, key)
    cls.T = property(lambda self: array.transpose(self))


install(Tensor)
install(Variable)
