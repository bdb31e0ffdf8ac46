"""``nf.data.Dataset``: tf.data's input pipelines (sources, transformations, iteration).

A dataset is a recipe: every ``iter(dataset)`` starts a fresh pass over it (so ``model.fit``
gets a reshuffled epoch each time). Subclasses implement ``_iterator()`` (a fresh Python
iterator of elements with NumPy leaves), ``_cardinality()`` and ``_element_spec()``.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.tensor import EagerTensor
from neuroflow.data import structure

AUTOTUNE = -1
INFINITE = INFINITE_CARDINALITY = -1
UNKNOWN = UNKNOWN_CARDINALITY = -2


def _count(value, what: str) -> int:
    """An int from an int, NumPy integer or scalar tensor (counts, sizes, seeds)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{what}` must be an integer, got {value!r}") from None
    if number != value and not isinstance(value, EagerTensor):
        raise TypeError(f"`{what}` must be an integer, got {value!r}")
    return number


class Dataset:
    """A sequence of elements (tensors, or tuples/dicts of them), built and transformed lazily.

    >>> ds = nf.data.Dataset.from_tensor_slices((x, y)).shuffle(1000, seed=1).batch(32)
    >>> model.fit(ds, epochs=5)
    """

    _nf_dataset = True  # what keras' data adapter looks for

    # -- what subclasses provide ---------------------------------------------------------
    def _iterator(self):
        raise NotImplementedError

    def _cardinality(self) -> int:
        return UNKNOWN

    def _element_spec(self):
        raise NotImplementedError

    def _batches(self, batch_size: int, drop_remainder: bool):
        """Batches made faster than by stacking single elements (slices of arrays), or None
        where this dataset has no such shortcut."""
        return None

    # -- iteration -----------------------------------------------------------------------
    def __iter__(self):
        """A fresh pass over the dataset, yielding nf tensors (tuples and dicts kept)."""
        return Iterator(self)

    def as_numpy_iterator(self):
        """The elements as NumPy arrays (NumPy scalars for scalars).

        >>> list(nf.data.Dataset.range(3).as_numpy_iterator())
        [0, 1, 2]
        """
        return NumpyIterator(self)

    def __bool__(self):
        return True  # never fall back on __len__, which raises for infinite datasets

    def __len__(self):
        n = self._cardinality()
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def cardinality(self):
        """The number of elements as a scalar int64 tensor, or ``nf.data.INFINITE_CARDINALITY``
        (-1) / ``nf.data.UNKNOWN_CARDINALITY`` (-2).

        >>> nf.data.Dataset.range(10).batch(3).cardinality().numpy()
        4
        """
        return EagerTensor(np.array(self._cardinality(), np.int64))

    @property
    def element_spec(self):
        """The ``nf.TensorSpec`` structure of one element.

        >>> nf.data.Dataset.range(3).batch(2).element_spec
        TensorSpec(shape=(None,), dtype=nf.int64, name=None)
        """
        spec = self.__dict__.get("_spec_cache")
        if spec is None:
            spec = self.__dict__["_spec_cache"] = self._element_spec()
        return spec

    def __repr__(self):
        return f"<{type(self).__name__} element_spec={self.element_spec!r}>"

    # -- sources -------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None) -> Dataset:
        """One element per slice along the first dimension of every component.

        >>> ds = nf.data.Dataset.from_tensor_slices({"a": [1, 2], "b": [[1.0], [2.0]]})
        >>> [int(e["a"]) for e in ds]
        [1, 2]
        """
        return _sources.TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors, name=None) -> Dataset:
        """A dataset of exactly one element, ``tensors``.

        >>> nf.data.Dataset.from_tensors([1, 2, 3]).cardinality().numpy()
        1
        """
        return _sources.TensorDataset(tensors)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None,
                       output_signature=None, name=None) -> Dataset:
        """Elements yielded by ``generator()`` (called anew for every pass), checked against
        ``output_signature`` (a structure of ``nf.TensorSpec``).

        >>> ds = nf.data.Dataset.from_generator(
        ...     lambda: iter(range(3)), output_signature=nf.TensorSpec((), nf.int32))
        """
        return _sources.GeneratorDataset(generator, output_types, output_shapes, args,
                                         output_signature)

    @staticmethod
    def range(*args, output_type=dtypes.int64, name=None) -> Dataset:
        """Like Python's ``range`` (``range(stop)``, ``range(start, stop[, step])``), int64.

        >>> list(nf.data.Dataset.range(1, 8, 3).as_numpy_iterator())
        [1, 4, 7]
        """
        return _sources.RangeDataset(*args, output_type=output_type)

    @staticmethod
    def zip(*datasets, name=None) -> Dataset:
        """Elements of several datasets side by side, as a tuple (or the structure given);
        ends with the shortest.

        >>> ds = nf.data.Dataset.zip(nf.data.Dataset.range(3), nf.data.Dataset.range(3, 6))
        """
        if len(datasets) == 1 and not isinstance(datasets[0], Dataset):
            datasets = datasets[0]
        return _sources.ZipDataset(datasets)

    def concatenate(self, dataset, name=None) -> Dataset:
        """This dataset's elements, then ``dataset``'s (their element types must match).

        >>> nf.data.Dataset.range(2).concatenate(nf.data.Dataset.range(5, 7))
        """
        return _sources.ConcatenateDataset(self, dataset)

    # -- transformations -----------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None) -> Dataset:
        """``map_func`` applied to every element (tuple elements are unpacked into arguments).

        ``num_parallel_calls`` and ``deterministic`` are accepted; elements are mapped in
        order (run ``prefetch`` to map them on a background thread).

        >>> ds = nf.data.Dataset.range(3).map(lambda x: x * 2)
        """
        return _transforms.MapDataset(self, map_func)

    def filter(self, predicate, name=None) -> Dataset:
        """The elements for which ``predicate`` returns a scalar boolean True.

        >>> ds = nf.data.Dataset.range(6).filter(lambda x: x % 2 == 0)
        """
        return _transforms.FilterDataset(self, predicate)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True,
                name=None) -> Dataset:
        """Elements drawn at random from a buffer of ``buffer_size`` upcoming elements (a
        full shuffle when ``buffer_size`` >= the dataset's size).

        >>> ds = nf.data.Dataset.range(10).shuffle(10, seed=42)
        """
        return _shuffle.ShuffleDataset(self, _count(buffer_size, "buffer_size"), seed,
                                          reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None) -> Dataset:
        """Consecutive elements stacked into batches (the last one smaller unless
        ``drop_remainder``).

        >>> [b.shape for b in nf.data.Dataset.range(5).batch(2)]
        [TensorShape([2]), TensorShape([2]), TensorShape([1])]
        """
        return _batching.BatchDataset(self, _count(batch_size, "batch_size"),
                                        bool(drop_remainder))

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None,
                     drop_remainder=False, name=None) -> Dataset:
        """Batches of elements padded to common shapes (the longest in the batch where a
        dimension of ``padded_shapes`` is None or not given).

        >>> ds = nf.data.Dataset.range(1, 4).map(lambda n: nf.fill([n], n)).padded_batch(3)
        >>> next(iter(ds)).numpy().tolist()  # [[1, 0, 0], [2, 2, 0], [3, 3, 3]]
        """
        return _batching.PaddedBatchDataset(self, _count(batch_size, "batch_size"),
                                              padded_shapes, padding_values,
                                              bool(drop_remainder))

    def unbatch(self, name=None) -> Dataset:
        """Splits every element along its first dimension into elements.

        >>> nf.data.Dataset.range(6).batch(4).unbatch().cardinality().numpy()  # unknown
        -2
        """
        return _batching.UnbatchDataset(self)

    def repeat(self, count=None, name=None) -> Dataset:
        """The dataset ``count`` times over (forever when ``count`` is None or -1).

        >>> nf.data.Dataset.range(2).repeat(3).cardinality().numpy()
        6
        """
        count = -1 if count is None else _count(count, "count")
        return _transforms.RepeatDataset(self, count)

    def take(self, count, name=None) -> Dataset:
        """The first ``count`` elements (all of them when ``count`` is -1).

        >>> nf.data.Dataset.range(10).repeat().take(4).cardinality().numpy()
        4
        """
        return _transforms.TakeDataset(self, _count(count, "count"))

    def skip(self, count, name=None) -> Dataset:
        """All but the first ``count`` elements (none when ``count`` is -1).

        >>> list(nf.data.Dataset.range(5).skip(3).as_numpy_iterator())
        [3, 4]
        """
        return _transforms.SkipDataset(self, _count(count, "count"))

    def enumerate(self, start=0, name=None) -> Dataset:
        """``(index, element)`` pairs, the index an int64 counting from ``start``.

        >>> list(nf.data.Dataset.range(5, 7).enumerate().as_numpy_iterator())
        [(0, 5), (1, 6)]
        """
        return Dataset.zip((_sources.RangeDataset(_count(start, "start"), None), self))

    def flat_map(self, map_func, name=None) -> Dataset:
        """``map_func`` maps each element to a dataset; their elements are chained.

        >>> ds = nf.data.Dataset.range(3).flat_map(lambda x: nf.data.Dataset.range(x))
        """
        return _transforms.FlatMapDataset(self, map_func)

    def shard(self, num_shards, index, name=None) -> Dataset:
        """Every ``num_shards``-th element, starting at ``index``.

        >>> list(nf.data.Dataset.range(10).shard(3, 1).as_numpy_iterator())
        [1, 4, 7]
        """
        return _transforms.ShardDataset(self, _count(num_shards, "num_shards"),
                                        _count(index, "index"))

    def cache(self, filename="", name=None) -> Dataset:
        """Keeps the elements of the first complete pass in memory; later passes replay them.

        >>> ds = nf.data.Dataset.range(5).map(lambda x: x * x).cache()
        >>> list(ds.as_numpy_iterator()) == list(ds.as_numpy_iterator())  # mapped once
        """
        return _buffering.CacheDataset(self, filename)

    def prefetch(self, buffer_size, name=None) -> Dataset:
        """Produces up to ``buffer_size`` elements ahead on a background thread, so the
        pipeline runs while the consumer (a training step) works. ``nf.data.AUTOTUNE`` picks
        the buffer size.

        >>> ds = ds.batch(32).prefetch(nf.data.AUTOTUNE)
        """
        return _buffering.PrefetchDataset(self, _count(buffer_size, "buffer_size"))

    def apply(self, transformation_func) -> Dataset:
        """``transformation_func(self)``: a way to chain reusable transformations.

        >>> ds = nf.data.Dataset.range(10).apply(lambda d: d.take(3))
        """
        result = transformation_func(self)
        if not isinstance(result, Dataset):
            raise TypeError("`transformation_func` must return a Dataset, got "
                            f"{type(result).__name__}")
        return result

    def reduce(self, initial_state, reduce_func):
        """Folds the elements into a state: ``state = reduce_func(state, element)``.

        >>> nf.data.Dataset.range(5).reduce(np.int64(0), lambda s, x: s + x).numpy()
        10
        """
        state = structure.to_tensors(structure.normalize(initial_state, "reduce state"))
        for element in self:
            state = reduce_func(state, element)
        return state

    def get_single_element(self, name=None):
        """The one element of a dataset that has exactly one.

        >>> nf.data.Dataset.from_tensors([1, 2]).get_single_element().numpy()
        array([1, 2], dtype=int32)
        """
        iterator = iter(self)
        try:
            element = next(iterator)
        except StopIteration:
            raise ValueError("Dataset.get_single_element(): the dataset is empty.") from None
        for _ in iterator:
            raise ValueError("Dataset.get_single_element(): the dataset has more than one "
                             "element.")
        return element

    def with_options(self, options, name=None) -> Dataset:
        """Accepted for compatibility: tf.data's performance options change nothing here."""
        return self

    def options(self):
        return None


class Iterator:
    """One pass over a dataset (``iter(dataset)``): ``next(it)`` or ``it.get_next()``."""

    def __init__(self, dataset: Dataset):
        self._dataset = dataset
        self._source = dataset._iterator()

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        return self

    def __next__(self):
        return structure.to_tensors(next(self._source))

    def get_next(self):
        return next(self)

    def close(self):
        """Ends the pass now (stops prefetch threads); dropping the iterator does the same."""
        close = getattr(self._source, "close", None)
        if close is not None:
            close()


class NumpyIterator(Iterator):
    """A pass yielding NumPy values (``dataset.as_numpy_iterator()``)."""

    def __next__(self):
        return structure.to_numpy(next(self._source))


from neuroflow.data import batching as _batching  # noqa: E402  (they subclass Dataset)
from neuroflow.data import buffering as _buffering  # noqa: E402
from neuroflow.data import shuffle as _shuffle  # noqa: E402
from neuroflow.data import sources as _sources  # noqa: E402
from neuroflow.data import transforms as _transforms  # noqa: E402
