"""Element-wise and ordering transformations: map, filter, flat_map, repeat, take, skip,
shard (shuffle is in ``shuffle.py``)."""
from __future__ import annotations

import itertools

import numpy as np

from neuroflow.data import structure
from neuroflow.data.dataset import INFINITE, UNKNOWN, Dataset


def close_iterator(iterator) -> None:
    """Ends an upstream pass now (runs generators' ``finally``, stops prefetch threads)."""
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


class UnaryDataset(Dataset):
    """A dataset made from one input dataset; by default keeps its size and spec."""

    def __init__(self, input_dataset):
        if not isinstance(input_dataset, Dataset):
            raise TypeError(f"expected a Dataset, got {type(input_dataset).__name__}")
        self._input = input_dataset

    def _cardinality(self):
        return self._input._cardinality()

    def _element_spec(self):
        return self._input.element_spec


class MapDataset(UnaryDataset):
    """``dataset.map(fn)``: ``fn`` runs eagerly on each element's tensors."""

    def __init__(self, input_dataset, map_func):
        super().__init__(input_dataset)
        if not callable(map_func):
            raise TypeError(f"`map_func` must be callable, got {type(map_func).__name__}")
        self._fn = map_func

    def _iterator(self):
        source = self._input._iterator()
        fn = self._fn
        try:
            for element in source:
                yield structure.normalize_output(structure.call_eagerly(fn, element),
                                                 "map function output")
        finally:
            close_iterator(source)

    def _element_spec(self):
        try:
            return structure.trace_spec(self._fn, self._input.element_spec)
        except Exception:  # noqa: BLE001  (a function that only runs eagerly: look at one)
            source = self._iterator()
            try:
                return structure.spec_of(next(source))
            except StopIteration:
                raise ValueError("Cannot tell the element_spec of a map over an empty "
                                 "dataset whose function does not trace") from None
            finally:
                close_iterator(source)


class FilterDataset(UnaryDataset):
    """``dataset.filter(predicate)``."""

    def __init__(self, input_dataset, predicate):
        super().__init__(input_dataset)
        if not callable(predicate):
            raise TypeError(f"`predicate` must be callable, got {type(predicate).__name__}")
        self._predicate = predicate

    def _iterator(self):
        source = self._input._iterator()
        try:
            for element in source:
                if self._keep(element):
                    yield element
        finally:
            close_iterator(source)

    def _keep(self, element) -> bool:
        result = structure.call_eagerly(self._predicate, element)
        try:
            value = structure.leaf_to_array(result, "filter predicate result")
        except TypeError:
            value = None
        if value is None or value.ndim != 0 or value.dtype != np.bool_:
            shown = (f"dtype {value.dtype} and shape {value.shape}" if value is not None
                     else repr(result))
            raise ValueError("Invalid `predicate`: it must return a scalar boolean tensor, "
                             f"but it returned {shown}.")
        return bool(value)

    def _cardinality(self):
        return UNKNOWN


class FlatMapDataset(UnaryDataset):
    """``dataset.flat_map(fn)``: ``fn`` returns a dataset per element; they are chained."""

    def __init__(self, input_dataset, map_func):
        super().__init__(input_dataset)
        self._fn = map_func

    def _datasets(self, source):
        for element in source:
            dataset = structure.call_eagerly(self._fn, element)
            if not isinstance(dataset, Dataset):
                raise TypeError("The `map_func` of flat_map must return a Dataset, got "
                                f"{type(dataset).__name__}")
            yield dataset

    def _iterator(self):
        source = self._input._iterator()
        try:
            for dataset in self._datasets(source):
                yield from dataset._iterator()
        finally:
            close_iterator(source)

    def _cardinality(self):
        return UNKNOWN

    def _element_spec(self):
        source = self._input._iterator()
        try:
            for dataset in self._datasets(source):
                return dataset.element_spec
        finally:
            close_iterator(source)
        raise ValueError("Cannot tell the element_spec of flat_map over an empty dataset")


class RepeatDataset(UnaryDataset):
    """``dataset.repeat(count)``; ``count=-1`` repeats forever (an empty input ends)."""

    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = count

    def _iterator(self):
        rounds = itertools.count() if self._count < 0 else range(self._count)
        for _ in rounds:
            source = self._input._iterator()
            produced = False
            try:
                for element in source:
                    produced = True
                    yield element
            finally:
                close_iterator(source)
            if not produced:
                return

    def _cardinality(self):
        n = self._input._cardinality()
        if self._count < 0:
            return 0 if n == 0 else INFINITE
        if self._count == 0:
            return 0
        if n in (INFINITE, UNKNOWN):
            return n
        return n * self._count


class TakeDataset(UnaryDataset):
    """``dataset.take(count)``; ``count=-1`` takes everything."""

    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = count

    def _iterator(self):
        if self._count == 0:
            return
        source = self._input._iterator()
        try:
            for taken, element in enumerate(source, 1):
                yield element
                if taken == self._count:
                    return
        finally:
            close_iterator(source)

    def _cardinality(self):
        n = self._input._cardinality()
        if self._count < 0:
            return n
        if self._count == 0:
            return 0
        if n == INFINITE:
            return self._count
        if n == UNKNOWN:
            return UNKNOWN
        return min(n, self._count)


class SkipDataset(UnaryDataset):
    """``dataset.skip(count)``; ``count=-1`` skips everything."""

    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = count

    def _iterator(self):
        if self._count < 0:
            return
        source = self._input._iterator()
        try:
            yield from itertools.islice(source, self._count, None)
        finally:
            close_iterator(source)

    def _cardinality(self):
        n = self._input._cardinality()
        if n in (INFINITE, UNKNOWN):
            return n
        return 0 if self._count < 0 else max(0, n - self._count)


class ShardDataset(UnaryDataset):
    """``dataset.shard(num_shards, index)``: elements ``index``, ``index + num_shards``, ..."""

    def __init__(self, input_dataset, num_shards, index):
        super().__init__(input_dataset)
        if num_shards <= 0:
            raise ValueError(f"shard: num_shards must be positive, got {num_shards}")
        if not 0 <= index < num_shards:
            raise ValueError(f"shard: index must be in [0, {num_shards}), got {index}")
        self._num, self._index = num_shards, index

    def _iterator(self):
        source = self._input._iterator()
        try:
            yield from itertools.islice(source, self._index, None, self._num)
        finally:
            close_iterator(source)

    def _cardinality(self):
        n = self._input._cardinality()
        if n in (INFINITE, UNKNOWN):
            return n
        return n // self._num + (1 if n % self._num > self._index else 0)


__all__ = ["MapDataset", "FilterDataset", "FlatMapDataset", "RepeatDataset", "TakeDataset",
           "SkipDataset", "ShardDataset"]
