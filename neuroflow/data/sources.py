"""Datasets that make elements: from tensors, from a Python generator, a range, and the
ones that combine datasets (zip, concatenate)."""
from __future__ import annotations

import itertools

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.function import TensorSpec
from neuroflow.core.tensor import EagerTensor, Tensor, shape_str
from neuroflow.data import structure
from neuroflow.data.dataset import INFINITE, UNKNOWN, Dataset


class TensorSliceDataset(Dataset):
    """``Dataset.from_tensor_slices``: slices along the first dimension of every component.

    NumPy arrays are read in place, not copied (a big training set is not doubled in
    memory): do not write into them while the dataset is in use.
    """

    def __init__(self, tensors):
        try:
            self._element = structure.normalize(tensors, "from_tensor_slices component")
        except ValueError as err:
            raise ValueError(f"from_tensor_slices: cannot make a tensor of {tensors!r} "
                             f"({err}); pass a tuple, not a list, for several "
                             "components") from None
        self._leaves = structure.flatten(self._element)
        sizes = []
        for position, leaf in enumerate(self._leaves):
            if leaf.ndim == 0:
                raise ValueError(f"from_tensor_slices: component {position} is a scalar; "
                                 "every component needs a first dimension to slice "
                                 "(use from_tensors for one element)")
            sizes.append(leaf.shape[0])
        if len(set(sizes)) > 1:
            detail = ", ".join(f"component {i}: {shape_str(leaf.shape)}"
                               for i, leaf in enumerate(self._leaves))
            raise ValueError("from_tensor_slices: all components must have the same size in "
                             f"their first dimension, got {detail}")
        self._size = sizes[0]

    def _iterator(self):
        element, leaves = self._element, self._leaves
        if type(element) is np.ndarray:
            return (element[i, ...] for i in range(self._size))
        if structure.is_plain_tuple(element):
            return (tuple([leaf[i, ...] for leaf in leaves]) for i in range(self._size))
        return (structure.pack(element, [leaf[i, ...] for leaf in leaves])
                for i in range(self._size))

    def _batches(self, batch_size, drop_remainder):
        """Batches as slices of the source arrays, without stacking single elements."""
        stop = self._size - self._size % batch_size if drop_remainder else self._size
        return (self._gather(slice(start, start + batch_size))
                for start in range(0, stop, batch_size))

    def _gather(self, index):
        """The batch of the elements at ``index`` (a slice or an array of positions)."""
        return structure.map_element(lambda a: a[index], self._element)

    def _cardinality(self):
        return self._size

    def _element_spec(self):
        return structure.map_element(
            lambda a: TensorSpec(a.shape[1:], dtypes.from_numpy(a.dtype)), self._element)


class TensorDataset(Dataset):
    """``Dataset.from_tensors``: one element."""

    def __init__(self, tensors):
        self._element = structure.normalize(tensors, "from_tensors component")

    def _iterator(self):
        return iter((self._element,))

    def _cardinality(self):
        return 1

    def _element_spec(self):
        return structure.spec_of(self._element)


def _signature(output_types, output_shapes, output_signature):
    if output_signature is not None:
        if output_types is not None or output_shapes is not None:
            raise TypeError("from_generator: give either `output_signature` or "
                            "`output_types`/`output_shapes`, not both")
        return _as_spec_structure(output_signature)
    if output_types is None:
        raise TypeError("from_generator needs `output_signature`: a (nested) structure of "
                        "nf.TensorSpec describing each element the generator yields")
    types = _tuples(output_types)
    if output_shapes is None:
        return structure.map_element(lambda t: TensorSpec(None, t), types)
    shapes = _tuples(output_shapes, shapes=True)
    flat_types, flat_shapes = structure.flatten(types), _flat_shapes(shapes)
    if len(flat_types) != len(flat_shapes):
        raise ValueError("from_generator: `output_types` and `output_shapes` have different "
                         "structures")
    return structure.pack(types, [TensorSpec(s, t) for t, s in zip(flat_types, flat_shapes)])


def _tuples(value, shapes=False):
    """Lists in a signature are sequences of components (except a shape's list of dims)."""
    if isinstance(value, dict):
        return {k: _tuples(v, shapes) for k, v in value.items()}
    if isinstance(value, list) and not (shapes and all(
            d is None or isinstance(d, (int, np.integer)) for d in value)):
        return tuple(_tuples(v, shapes) for v in value)
    if isinstance(value, tuple) and not (shapes and all(
            d is None or isinstance(d, (int, np.integer)) for d in value)):
        items = [_tuples(v, shapes) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return value


def _flat_shapes(shapes) -> list:
    if isinstance(shapes, dict):
        return [s for k in sorted(shapes) for s in _flat_shapes(shapes[k])]
    if isinstance(shapes, tuple) and not all(
            d is None or isinstance(d, (int, np.integer)) for d in shapes):
        return [s for item in shapes for s in _flat_shapes(item)]
    return [shapes]


def _as_spec_structure(signature):
    signature = _tuples(signature)
    for leaf in structure.flatten(signature):
        if not isinstance(leaf, TensorSpec):
            raise TypeError("from_generator: `output_signature` must be a (nested) structure "
                            f"of nf.TensorSpec, found {leaf!r}")
    return signature


class GeneratorDataset(Dataset):
    """``Dataset.from_generator``: ``generator(*args)`` is called for every pass."""

    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        if not callable(generator):
            raise TypeError("from_generator: `generator` must be a callable that returns an "
                            f"iterator (a generator function), got {type(generator).__name__}")
        self._generator = generator
        self._args = tuple(np.asarray(a) if isinstance(a, Tensor) else a for a in args or ())
        self._spec = _signature(output_types, output_shapes, output_signature)

    def _iterator(self):
        source = iter(self._generator(*self._args))
        try:
            for value in source:
                yield self._check(value)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def _check(self, value):
        spec = self._spec
        if isinstance(value, list) and isinstance(spec, tuple):
            value = tuple(value)
        if not _fits(spec, value):
            raise TypeError("`generator` yielded an element that did not match the expected "
                            f"structure. The expected structure was {spec!r}, but the "
                            f"yielded element was {value!r}.")
        return _convert_to_spec(spec, value)

    def _cardinality(self):
        return UNKNOWN

    def _element_spec(self):
        return self._spec


def _fits(spec, value) -> bool:
    if isinstance(spec, dict):
        return isinstance(value, dict) and sorted(spec) == sorted(value) and all(
            _fits(spec[k], value[k]) for k in spec)
    if isinstance(spec, tuple):
        if isinstance(value, list):
            value = tuple(value)
        return (isinstance(value, tuple) and len(spec) == len(value)
                and all(_fits(s, v) for s, v in zip(spec, value)))
    return not isinstance(value, dict)


def _convert_to_spec(spec, value):
    if isinstance(spec, dict):
        return type(value)((k, _convert_to_spec(spec[k], value[k])) for k in value)
    if isinstance(spec, tuple):
        items = [_convert_to_spec(s, v) for s, v in zip(spec, value)]
        return type(spec)(*items) if hasattr(spec, "_fields") else tuple(items)
    if isinstance(value, EagerTensor) or hasattr(value, "_nf_variable"):
        value = value.numpy()
    try:
        array = dtypes.to_array(value, spec.dtype)
    except (TypeError, ValueError) as err:
        raise TypeError("`generator` yielded an element that could not be converted to the "
                        f"expected type. The expected type was {spec.dtype.name}, but the "
                        f"yielded element was {value!r} ({err}).") from None
    if isinstance(value, np.ndarray) and np.may_share_memory(array, value):
        array = array.copy()  # generators often refill one buffer: keep what was yielded
    if not spec.shape.is_compatible_with(array.shape):
        raise ValueError(f"`generator` yielded an element of shape {shape_str(array.shape)} "
                         f"where an element of shape {shape_str(spec.shape)} was expected.")
    return array


class RangeDataset(Dataset):
    """``Dataset.range``: the numbers of ``range(start, stop, step)`` as scalars.

    ``stop=None`` (used by ``enumerate``) counts forever.
    """

    def __init__(self, *args, output_type=dtypes.int64):
        if not 1 <= len(args) <= 3:
            raise TypeError(f"Dataset.range takes 1 to 3 arguments, got {len(args)}")
        args = [None if a is None else int(a) for a in args]
        if len(args) == 1:
            args = [0, args[0]]
        self._start, self._stop = args[0], args[1]
        self._step = args[2] if len(args) == 3 else 1
        if self._step == 0:
            raise ValueError("Dataset.range: step must not be 0")
        self._dtype = dtypes.as_dtype(output_type)

    def _range(self):
        if self._stop is None:
            return itertools.count(self._start, self._step)
        return range(self._start, self._stop, self._step)

    def _iterator(self):
        np_type = self._dtype.np_dtype
        return (np.array(v, np_type) for v in self._range())

    def _batches(self, batch_size, drop_remainder):
        if self._stop is None:
            for start in itertools.count(self._start, self._step * batch_size):
                yield np.arange(start, start + batch_size * self._step, self._step,
                                dtype=self._dtype.np_dtype)
            return
        values = self._range()
        stop = len(values) - len(values) % batch_size if drop_remainder else len(values)
        for begin in range(0, stop, batch_size):
            chunk = values[begin:begin + batch_size]
            yield np.arange(chunk.start, chunk.stop, chunk.step, dtype=self._dtype.np_dtype)
    def _cardinality(self):
        return INFINITE if self._stop is None else len(self._range())

    def _element_spec(self):
        return TensorSpec((), self._dtype)


class ZipDataset(Dataset):
    """``Dataset.zip``: a structure (tuple or dict) of datasets, one element of each."""

    def __init__(self, datasets):
        if isinstance(datasets, list):
            datasets = tuple(datasets)
        self._structure = datasets
        self._datasets = structure.flatten(datasets)
        for d in self._datasets:
            if not isinstance(d, Dataset):
                raise TypeError("Dataset.zip expects datasets (or a tuple or dict of them), "
                                f"got {type(d).__name__}")

    def _iterator(self):
        iterators = [d._iterator() for d in self._datasets]
        try:
            while True:
                try:
                    parts = [next(it) for it in iterators]
                except StopIteration:
                    return
                yield structure.pack(self._structure, parts)
        finally:
            for it in iterators:
                close = getattr(it, "close", None)
                if close is not None:
                    close()

    def _cardinality(self):
        result = INFINITE
        for d in self._datasets:
            n = d._cardinality()
            if n == UNKNOWN:
                return UNKNOWN
            if n != INFINITE:
                result = n if result == INFINITE else min(result, n)
        return result

    def _element_spec(self):
        return structure.pack(self._structure, [d.element_spec for d in self._datasets])


class ConcatenateDataset(Dataset):
    """``a.concatenate(b)``: the elements of ``a``, then those of ``b``."""

    def __init__(self, first, second):
        if not isinstance(second, Dataset):
            raise TypeError(f"concatenate expects a Dataset, got {type(second).__name__}")
        spec_a, spec_b = first.element_spec, second.element_spec
        if not structure.same_structure(spec_a, spec_b) or [
                s.dtype for s in structure.flatten(spec_a)] != [
                s.dtype for s in structure.flatten(spec_b)]:
            raise TypeError(f"Incompatible dataset elements: cannot concatenate a dataset of "
                            f"{spec_a!r} and one of {spec_b!r}")
        self._first, self._second = first, second

    def _iterator(self):
        yield from self._first._iterator()
        yield from self._second._iterator()

    def _cardinality(self):
        a, b = self._first._cardinality(), self._second._cardinality()
        if INFINITE in (a, b):
            return INFINITE
        if UNKNOWN in (a, b):
            return UNKNOWN
        return a + b

    def _element_spec(self):
        return structure.relax(self._first.element_spec, self._second.element_spec)


__all__ = ["TensorSliceDataset", "TensorDataset", "GeneratorDataset", "RangeDataset",
           "ZipDataset", "ConcatenateDataset"]
