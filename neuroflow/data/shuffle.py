"""``dataset.shuffle``: TF's shuffle buffer, with seeds, and a fast path for array slices."""
from __future__ import annotations

import itertools

import numpy as np

from neuroflow.core.context import ctx
from neuroflow.data.sources import TensorSliceDataset
from neuroflow.data.transforms import UnaryDataset, close_iterator

_SHUFFLE_TAG = 0x5348_5546  # keeps shuffle streams apart from random ops with equal seeds
_BLOCK = 1024


def buffer_shuffle(source, buffer_size: int, rng: np.random.Generator):
    """TF's shuffle buffer over any iterator.

    The first ``buffer_size`` items fill the buffer; then for every further input item a
    uniformly drawn slot is emitted and the new item takes its place. When the input ends,
    what is left in the buffer comes out in a uniformly random order (the same distribution
    as drawing slot after slot, in one NumPy call).
    """
    buffer = list(itertools.islice(source, buffer_size))
    if len(buffer) == buffer_size:
        uniforms = iter(())
        for incoming in source:
            try:
                u = next(uniforms)
            except StopIteration:  # draws come in blocks: one NumPy call per _BLOCK items
                uniforms = iter(rng.random(_BLOCK).tolist())
                u = next(uniforms)
            slot = min(int(u * buffer_size), buffer_size - 1)
            yield buffer[slot]
            buffer[slot] = incoming
    for slot in rng.permutation(len(buffer)).tolist():
        yield buffer[slot]


class ShuffleDataset(UnaryDataset):
    """``dataset.shuffle(buffer_size, seed, reshuffle_each_iteration)``.

    Output ``i`` comes from input ``i + buffer_size - 1`` or earlier (``buffer_size=1`` keeps the
    order; a buffer as large as the dataset shuffles it uniformly). The order follows
    (global seed, ``seed``) as TF's does: a pass's order is reproducible, and with
    ``reshuffle_each_iteration`` each new pass (epoch) takes the next order of a reproducible
    sequence. Over ``from_tensor_slices``, indices are shuffled rather than elements, and a
    following ``batch`` gathers each batch with one indexing per array (same order).
    """

    def __init__(self, input_dataset, buffer_size, seed, reshuffle_each_iteration):
        super().__init__(input_dataset)
        if buffer_size <= 0:
            raise ValueError(f"shuffle: buffer_size must be greater than zero, got "
                             f"{buffer_size}")
        from neuroflow.ops.random_seed import get_seed
        saved, ctx.graph = ctx.graph, None  # datasets follow the eager seed, as in TF2
        try:
            global_seed, op_seed = get_seed(None if seed is None else int(seed))
        finally:
            ctx.graph = saved
        if global_seed is None:  # neither seed: a random order per pass, from the OS
            self._entropy = [_SHUFFLE_TAG, np.random.SeedSequence().entropy]
        else:
            mask = 2**64 - 1
            self._entropy = [_SHUFFLE_TAG, global_seed & mask, op_seed & mask]
        self._buffer_size = buffer_size
        self._reshuffle = bool(reshuffle_each_iteration)
        self._passes = 0

    def _next_rng(self) -> np.random.Generator:
        index = 0
        if self._reshuffle:
            index, self._passes = self._passes, self._passes + 1
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(
            [*self._entropy, index])))

    def _iterator(self):
        return self._shuffled(self._next_rng())

    def _shuffled(self, rng):
        source = self._input._iterator()
        try:
            yield from buffer_shuffle(source, self._buffer_size, rng)
        finally:
            close_iterator(source)

    def _batches(self, batch_size, drop_remainder):
        slices = self._input
        if not isinstance(slices, TensorSliceDataset):
            return None
        order = np.fromiter(buffer_shuffle(iter(range(slices._size)), self._buffer_size,
                                           self._next_rng()), np.int64, slices._size)
        stop = len(order) - len(order) % batch_size if drop_remainder else len(order)
        return (slices._gather(order[start:start + batch_size])
                for start in range(0, stop, batch_size))


def _shuffles(dataset):
    """The shuffles in a pipeline, in a fixed order (depth first, inputs in order)."""
    found, stack, seen = [], [dataset], set()
    while stack:
        d = stack.pop()
        if id(d) in seen:
            continue
        seen.add(id(d))
        if isinstance(d, ShuffleDataset):
            found.append(d)
        inputs = [getattr(d, "_input", None), *getattr(d, "_datasets", ()),
                  getattr(d, "_first", None), getattr(d, "_second", None)]
        stack.extend(reversed([i for i in inputs if i is not None]))
    return found


def shuffle_state(dataset) -> list:
    """The state of every shuffle in a pipeline (its seed material and the number of passes
    drawn), JSON-ready: a training run restored from a backup shuffles the next pass as an
    uninterrupted run would (``BackupAndRestore``)."""
    return [{"entropy": [int(e) for e in s._entropy], "passes": s._passes}
            for s in _shuffles(dataset)]


def set_shuffle_state(dataset, state: list) -> None:
    shuffles = _shuffles(dataset)
    if len(shuffles) != len(state):
        raise ValueError(f"The dataset has {len(shuffles)} shuffles, the saved state "
                         f"{len(state)}: is it the same pipeline?")
    for shuffle, saved in zip(shuffles, state):
        shuffle._entropy = list(saved["entropy"])
        shuffle._passes = int(saved["passes"])


__all__ = ["ShuffleDataset", "buffer_shuffle", "shuffle_state", "set_shuffle_state"]
