"""Tensors: ``EagerTensor`` holds an array, ``SymbolicTensor`` is an edge of a graph.

Both derive from ``Tensor``; Python operators on tensors are installed by
``neuroflow.ops.operators`` (the ops live above this module).
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes


class TensorShape(tuple):
    """A shape whose dims are ints, or None where unknown (``x.shape.as_list()``).

    >>> nf.TensorShape([None, 784]).is_fully_defined()
    False
    """

    __slots__ = ()

    def __new__(cls, dims=()):
        if dims is None or dims is _UNKNOWN_RANK:
            return _UNKNOWN_RANK
        if type(dims) is TensorShape:
            return dims
        if isinstance(dims, int):
            dims = (dims,)
        return tuple.__new__(cls, (None if d is None else int(d) for d in dims))

    @property
    def rank(self):
        return None if self is _UNKNOWN_RANK else len(self)

    ndims = rank

    def as_list(self):
        if self is _UNKNOWN_RANK:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self)

    def is_fully_defined(self) -> bool:
        return self is not _UNKNOWN_RANK and all(d is not None for d in self)

    def num_elements(self):
        return int(np.prod(self)) if self.is_fully_defined() else None

    def is_compatible_with(self, other) -> bool:
        other = TensorShape(other)
        if self.rank is None or other.rank is None:
            return True
        return len(self) == len(other) and all(
            a is None or b is None or a == b for a, b in zip(self, other))

    def __getitem__(self, key):
        result = tuple.__getitem__(self, key)
        return TensorShape(result) if isinstance(key, slice) else result

    def __repr__(self):
        if self is _UNKNOWN_RANK:
            return "TensorShape(None)"
        return f"TensorShape({list(self)})"


class _UnknownRank(TensorShape):
    __slots__ = ()

    def __len__(self):
        raise ValueError("Cannot take the length of a shape with unknown rank.")

    def __iter__(self):
        raise ValueError("Cannot iterate over a shape with unknown rank.")


_UNKNOWN_RANK = tuple.__new__(_UnknownRank, ())


def shape_str(shape) -> str:
    """'(None, 784)' style text for error messages."""
    if shape is None or shape is _UNKNOWN_RANK:
        return "<unknown>"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


class Tensor:
    """Base of eager and symbolic tensors; operators are installed by ``ops.operators``."""

    __slots__ = ()
    __array_priority__ = 100  # make ndarray <op> Tensor call the Tensor's reflected operator

    @property
    def ndim(self) -> int:
        return self.shape.rank

    def get_shape(self) -> TensorShape:
        return self.shape

    def __bool__(self):
        raise TypeError("The truth value of a Tensor is ambiguous: use nf.reduce_any / "
                        "nf.reduce_all, or .numpy() in eager mode.")

    def __len__(self):
        n = self.shape[0] if self.shape.rank else None
        if n is None:
            raise TypeError(f"len() of a tensor of shape {shape_str(self.shape)} is not known")
        return n

    def __iter__(self):
        n = len(self)
        return (self[i] for i in range(n))

    __hash__ = object.__hash__


class EagerTensor(Tensor):
    """A tensor with a value, computed as soon as its op was called."""

    # _keras_mask: the Keras mask of a layer's output (unset on most tensors)
    __slots__ = ("_value", "_keras_mask", "__weakref__")

    def __init__(self, value):
        self._value = value

    @property
    def shape(self) -> TensorShape:
        return tuple.__new__(TensorShape, self._value.shape)

    @property
    def dtype(self) -> dtypes.DType:
        return dtypes.from_numpy(self._value.dtype)

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def numpy(self):
        """The value as a NumPy array (a NumPy scalar for 0-d tensors, as TensorFlow)."""
        value = self._value
        if value.ndim == 0:
            return value[()] if isinstance(value, np.ndarray) else value
        if value.flags.writeable and value.base is None:
            return value
        return np.array(value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._value, dtype=dtype)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __index__(self):
        return int(self._value)

    def __bool__(self):
        return bool(self._value)

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._value.shape[0]

    def __format__(self, spec):
        return format(self._value, spec) if self._value.ndim == 0 else str(self)

    def __repr__(self):
        body = np.array2string(np.asarray(self._value), separator=", ", threshold=200)
        return (f"<nf.Tensor: shape={shape_str(self.shape)}, dtype={self.dtype.name}, "
                f"numpy=\n{body}>" if self._value.ndim > 1 else
                f"<nf.Tensor: shape={shape_str(self.shape)}, dtype={self.dtype.name}, "
                f"numpy={body}>")

    def __str__(self):
        return f"nf.Tensor({np.asarray(self._value)}, shape={shape_str(self.shape)}, " \
               f"dtype={self.dtype.name})"


class SymbolicTensor(Tensor):
    """An output of an operation in a graph: no value until a session or function runs it."""

    __slots__ = ("op", "value_index", "shape", "dtype", "_variable", "_keras_history",
                 "_keras_mask", "__weakref__")

    def __init__(self, op, value_index: int, shape, dtype: dtypes.DType):
        self.op = op
        self.value_index = value_index
        self.shape = TensorShape(shape)
        self.dtype = dtype
        self._variable = None  # set on the outputs of ReadVariableOp
        self._keras_history = None  # (layer, node, index) for Keras functional tensors

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self):
        return self.op.graph

    def set_shape(self, shape):
        shape = TensorShape(shape)
        if not self.shape.is_compatible_with(shape):
            raise ValueError(f"Tensor '{self.name}' has shape {shape_str(self.shape)}, "
                             f"incompatible with {shape_str(shape)}")
        if shape.rank is not None:
            old = self.shape
            self.shape = TensorShape(
                b if b is not None else (a if old.rank is not None else None)
                for a, b in zip(old if old.rank is not None else shape, shape))

    def eval(self, feed_dict=None, session=None):
        from neuroflow.core.session import get_default_session
        session = session or get_default_session()
        return session.run(self, feed_dict=feed_dict)

    def numpy(self):
        raise TypeError(f"Tensor '{self.name}' is symbolic (part of a graph): it has no value "
                        "until a Session runs it or nf.function executes.")

    def __array__(self, dtype=None, copy=None):
        self.numpy()

    def __repr__(self):
        return (f"<nf.Tensor '{self.name}' shape={shape_str(self.shape)} "
                f"dtype={self.dtype.name}>")


def is_tensor(x) -> bool:
    """True for neuroflow tensors (eager or symbolic) and variables."""
    from neuroflow.core.variable import Variable
    return isinstance(x, (Tensor, Variable))
