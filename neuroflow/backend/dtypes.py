"""DTypes: TensorFlow's names over NumPy's dtypes, and TensorFlow's conversion rules."""
from __future__ import annotations

import numpy as np


class DType:
    """A tensor element type, e.g. ``nf.float32``; compares equal to its NumPy dtype and name.

    >>> nf.float32.is_floating, nf.as_dtype("int64").as_numpy_dtype
    (True, <class 'numpy.int64'>)
    """

    __slots__ = ("name", "np_dtype")

    def __init__(self, name: str, np_type):
        self.name = name
        self.np_dtype = np.dtype(np_type)

    @property
    def as_numpy_dtype(self):
        return self.np_dtype.type

    @property
    def is_floating(self) -> bool:
        return self.np_dtype.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.np_dtype.kind == "c"

    @property
    def is_integer(self) -> bool:
        return self.np_dtype.kind in "iu"

    @property
    def is_bool(self) -> bool:
        return self.np_dtype.kind == "b"

    @property
    def is_differentiable(self) -> bool:
        return self.np_dtype.kind in "fc"

    @property
    def size(self) -> int:
        return self.np_dtype.itemsize

    @property
    def min(self):
        return np.finfo(self.np_dtype).min if self.is_floating else np.iinfo(self.np_dtype).min

    @property
    def max(self):
        return np.finfo(self.np_dtype).max if self.is_floating else np.iinfo(self.np_dtype).max

    @property
    def real_dtype(self) -> DType:
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def __repr__(self):
        return f"nf.{self.name}"

    def __eq__(self, other):
        try:
            return self.np_dtype == as_dtype(other).np_dtype
        except TypeError:
            return False

    def __hash__(self):
        return hash(self.np_dtype)


float16 = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
bool_ = DType("bool", np.bool_)
complex64 = DType("complex64", np.complex64)
complex128 = DType("complex128", np.complex128)
half, double = float16, float64

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_, complex64, complex128)
_BY_NP = {d.np_dtype: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL} | {"half": float16, "double": float64, "float": float32}


def from_numpy(np_dtype) -> DType:
    """The DType of a NumPy dtype (fast path used by every eager tensor)."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        raise TypeError(f"neuroflow has no dtype for NumPy dtype {np_dtype}") from None


def as_dtype(value) -> DType:
    """Converts a DType, a name ('float32'), a NumPy dtype or a Python type to a DType."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        try:
            return _BY_NAME[value]
        except KeyError:
            raise TypeError(f"Unknown dtype name {value!r}; valid names: "
                            f"{', '.join(sorted(_BY_NAME))}") from None
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    if value is complex:
        return complex128
    try:
        return from_numpy(np.dtype(value))
    except TypeError as err:
        raise TypeError(f"Cannot convert {value!r} to a neuroflow dtype") from err


_PY_DEFAULTS = {np.dtype(np.float64): np.float32, np.dtype(np.int64): np.int32}


def to_array(value, dtype: DType | None = None) -> np.ndarray:
    """Converts a Python value or array to an ndarray with TensorFlow's dtype rules.

    NumPy arrays keep their dtype; Python floats become float32 and ints int32 (int64 when
    they do not fit), as ``tf.constant`` does.
    """
    if dtype is not None:
        np_dtype = as_dtype(dtype).np_dtype
        if isinstance(value, np.ndarray) and value.dtype == np_dtype:
            return value
        arr = np.asarray(value)
        if arr.dtype.kind in "US":
            raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype "
                            f"{from_numpy(np_dtype).name}: it holds strings")
        if np_dtype.kind in "iub" and arr.dtype.kind in "fc" and np.any(arr != np.round(arr.real)):
            raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype "
                            f"{from_numpy(np_dtype).name}: it holds non-integral values")
        if np_dtype.kind in "iu" and arr.dtype.kind in "iu" and arr.size:
            info = np.iinfo(np_dtype)
            if arr.min() < info.min or arr.max() > info.max:
                raise ValueError(f"Value {value!r} does not fit in {from_numpy(np_dtype).name}")
        return arr.astype(np_dtype, copy=False)
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype not in _BY_NP:
            raise TypeError(f"neuroflow has no dtype for NumPy dtype {arr.dtype}")
        return arr
    arr = np.asarray(value)
    if arr.dtype.kind in "US" or arr.dtype == object:
        raise TypeError(f"Cannot convert {value!r} of type {type(value).__name__} to a tensor")
    target = _PY_DEFAULTS.get(arr.dtype)
    if target is np.int32 and arr.size and (arr.max() > 2**31 - 1 or arr.min() < -2**31):
        target = None
    return arr.astype(target) if target is not None else arr
