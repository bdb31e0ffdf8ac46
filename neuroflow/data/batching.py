"""Batching: batch, padded_batch and unbatch."""
from __future__ import annotations

import itertools

import numpy as np

from neuroflow.core.function import TensorSpec
from neuroflow.core.tensor import shape_str
from neuroflow.data import structure
from neuroflow.data.dataset import INFINITE, UNKNOWN
from neuroflow.data.transforms import UnaryDataset, close_iterator


def _chunks(source, batch_size, drop_remainder):
    while True:
        chunk = list(itertools.islice(source, batch_size))
        if not chunk or (drop_remainder and len(chunk) < batch_size):
            return
        yield chunk


def _components(chunk, what: str) -> tuple[object, list[list[np.ndarray]]]:
    """The first element (for its structure) and, per component, the arrays of the chunk."""
    first = chunk[0]
    kind = type(first)
    if kind is np.ndarray and all(type(e) is np.ndarray for e in chunk):
        return first, [chunk]
    if kind is tuple and all(type(e) is tuple and len(e) == len(first) for e in chunk) and all(
            type(leaf) is np.ndarray for leaf in first):
        return first, [list(column) for column in zip(*chunk)]
    columns = [[leaf] for leaf in structure.flatten(first)]
    for position, element in enumerate(chunk[1:], 1):
        leaves = structure.flatten(element)
        # elements of one pipeline share a structure unless a map function varies it: a
        # cheap check (type and leaf count) catches that without walking every element
        if len(leaves) != len(columns) or type(element) is not kind:
            raise ValueError(f"Cannot {what} elements of different structures: the first "
                             f"element is {structure.describe(first)} and element {position} "
                             f"is {structure.describe(element)}")
        for column, leaf in zip(columns, leaves):
            column.append(leaf)
    return first, columns


def _check_column(component, arrays, what: str, same_shape: bool) -> None:
    """Raises a message naming the component and the first element that does not fit."""
    first = arrays[0]
    for position, array in enumerate(arrays):
        if type(array) is not np.ndarray:
            raise ValueError(f"Cannot {what} elements of different structures: component "
                             f"{component} of element {position} is {array!r}")
        if array.dtype != first.dtype:
            raise TypeError(f"Cannot {what} tensors of different dtypes in component "
                            f"{component}: the first element has {first.dtype} and element "
                            f"{position} has {array.dtype}")
        if same_shape and array.shape != first.shape:
            raise ValueError(
                f"Cannot batch tensors with different shapes in component {component}. First "
                f"element had shape {shape_str(first.shape)} and element {position} had "
                f"shape {shape_str(array.shape)}. (padded_batch pads them to a common shape.)")


def _batched_size(n, batch_size, drop_remainder):
    if n in (INFINITE, UNKNOWN):
        return n
    return n // batch_size if drop_remainder else -(-n // batch_size)


class BatchDataset(UnaryDataset):
    """``dataset.batch(batch_size, drop_remainder)``."""

    def __init__(self, input_dataset, batch_size, drop_remainder):
        super().__init__(input_dataset)
        if batch_size <= 0:
            raise ValueError(f"batch: batch_size must be positive, got {batch_size}")
        self._batch_size, self._drop = batch_size, drop_remainder

    def _iterator(self):
        batches = self._input._batches(self._batch_size, self._drop)
        return batches if batches is not None else self._stacked()

    def _stacked(self):
        source = self._input._iterator()
        try:
            for chunk in _chunks(source, self._batch_size, self._drop):
                first, columns = _components(chunk, "batch")
                yield structure.pack(first, [_stack(k, column)
                                             for k, column in enumerate(columns)])
        finally:
            close_iterator(source)

    def _cardinality(self):
        return _batched_size(self._input._cardinality(), self._batch_size, self._drop)

    def _element_spec(self):
        return structure.batched_spec(self._input.element_spec,
                                      self._batch_size if self._drop else None)


def _stack(component, arrays):
    try:
        return np.stack(arrays, dtype=arrays[0].dtype, casting="no")
    except (ValueError, TypeError, AttributeError):
        _check_column(component, arrays, "batch", same_shape=True)
        raise


def _shapes_up_to(element, shapes):
    """``padded_shapes`` flattened in the order of the element's components."""
    if shapes is None:
        return [None] * len(structure.flatten(element))
    if isinstance(element, dict):
        if not isinstance(shapes, dict) or sorted(shapes) != sorted(element):
            raise ValueError(f"padded_shapes {shapes!r} does not match the element "
                             f"structure {structure.describe(element)}")
        return [flat for k in sorted(element) for flat in _shapes_up_to(element[k], shapes[k])]
    if isinstance(element, tuple):
        if not isinstance(shapes, (tuple, list)) or len(shapes) != len(element):
            raise ValueError(f"padded_shapes {shapes!r} does not match the element "
                             f"structure {structure.describe(element)}")
        return [flat for part, shape in zip(element, shapes)
                for flat in _shapes_up_to(part, shape)]
    dims = [shapes] if isinstance(shapes, int) else list(shapes)
    return [[None if d is None or int(d) == -1 else int(d) for d in dims]]


def _values_up_to(element, values):
    """``padding_values`` flattened like the element (a single value pads every component)."""
    if values is None or not structure.is_structure(values):
        return [values] * len(structure.flatten(element))
    if not structure.same_structure(element, values):
        raise ValueError(f"padding_values {values!r} does not match the element structure "
                         f"{structure.describe(element)}")
    return structure.flatten(values)


class PaddedBatchDataset(BatchDataset):
    """``dataset.padded_batch``: components padded (at the end of each dimension)."""

    def __init__(self, input_dataset, batch_size, padded_shapes, padding_values,
                 drop_remainder):
        super().__init__(input_dataset, batch_size, drop_remainder)
        self._shapes, self._values = padded_shapes, padding_values

    def _iterator(self):
        source = self._input._iterator()
        try:
            for chunk in _chunks(source, self._batch_size, self._drop):
                first, columns = _components(chunk, "padded_batch")
                shapes = _shapes_up_to(first, self._shapes)
                values = _values_up_to(first, self._values)
                yield structure.pack(first, [_pad(k, column, shape, value) for k, (
                    column, shape, value) in enumerate(zip(columns, shapes, values))])
        finally:
            close_iterator(source)

    def _element_spec(self):
        spec = self._input.element_spec
        flat = structure.flatten(spec)
        shapes = _shapes_up_to(spec, self._shapes)
        batch = self._batch_size if self._drop else None
        padded = []
        for s, target in zip(flat, shapes):
            if s.shape.rank is None:
                padded.append(TensorSpec(None, s.dtype))
                continue
            target = [None] * s.shape.rank if target is None else target
            dims = [d if t is None else t for t, d in zip(target, s.shape)]
            padded.append(TensorSpec([batch, *dims], s.dtype))
        return structure.pack(spec, padded)


def _pad(component, arrays, target, value):
    _check_column(component, arrays, "padded_batch", same_shape=False)
    rank = arrays[0].ndim
    if any(a.ndim != rank for a in arrays):
        raise ValueError(f"padded_batch: component {component} has elements of different "
                         f"ranks: {[shape_str(a.shape) for a in arrays]}")
    longest = [max(a.shape[d] for a in arrays) for d in range(rank)]
    if target is None:
        target = longest
    if len(target) != rank:
        raise ValueError(f"padded_batch: padded shape {target} of component {component} has "
                         f"rank {len(target)}, but its elements have rank {rank}")
    shape = [longest[d] if t is None else t for d, t in enumerate(target)]
    for d in range(rank):
        if longest[d] > shape[d]:
            raise ValueError(f"padded_batch: an element of component {component} has "
                             f"{longest[d]} entries in dimension {d}, more than its padded "
                             f"shape {shape_str(tuple(shape))} allows")
    fill = 0 if value is None else structure.leaf_to_array(value, "padding value")
    out = np.full([len(arrays), *shape], fill, dtype=arrays[0].dtype)
    for i, array in enumerate(arrays):
        out[(i, *(slice(0, n) for n in array.shape))] = array
    return out


class UnbatchDataset(UnaryDataset):
    """``dataset.unbatch()``: every element split along its first dimension."""

    def _iterator(self):
        source = self._input._iterator()
        try:
            for element in source:
                leaves = structure.flatten(element)
                sizes = {leaf.shape[0] if leaf.ndim else None for leaf in leaves}
                if None in sizes or len(sizes) != 1:
                    raise ValueError("unbatch: every component needs the same first "
                                     "dimension, got an element "
                                     f"{structure.describe(element)}")
                for i in range(sizes.pop()):
                    yield structure.pack(element, [leaf[i, ...] for leaf in leaves])
        finally:
            close_iterator(source)

    def _cardinality(self):
        n = self._input._cardinality()
        return n if n == INFINITE else UNKNOWN

    def _element_spec(self):
        return structure.unbatched_spec(self._input.element_spec)


__all__ = ["BatchDataset", "PaddedBatchDataset", "UnbatchDataset"]
