"""Turns what ``fit``/``evaluate``/``predict`` accept into batches: NumPy arrays, tensors,
lists and dicts of them (multi-input models), or an ``nf.data.Dataset``."""
from __future__ import annotations

import math

import numpy as np

from neuroflow.core.tensor import Tensor
from neuroflow.util import nest


def _to_numpy(x):
    if x is None:
        return None
    if isinstance(x, Tensor) or hasattr(x, "_nf_variable"):
        return x.numpy()
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple)) and x and all(np.isscalar(v) for v in x):
        return np.asarray(x)
    return np.asarray(x)


def to_arrays(structure):
    """Every leaf of a (possibly nested) input as a NumPy array."""
    if structure is None:
        return None
    if isinstance(structure, dict):
        return {k: to_arrays(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)) and structure and not np.isscalar(structure[0]) \
            and not isinstance(structure[0], (list, tuple)):
        return type(structure)(to_arrays(v) for v in structure)
    return _to_numpy(structure)


def is_dataset(x) -> bool:
    return hasattr(x, "_nf_dataset") or (hasattr(x, "__iter__") and not isinstance(
        x, (np.ndarray, list, tuple, dict, Tensor)) and not hasattr(x, "_nf_variable"))


def num_samples(x, y=None, sample_weight=None) -> int:
    """The common first dimension, or a ValueError naming the mismatching lengths."""
    sizes = {}
    for label, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for leaf in nest.flatten(value) if value is not None else []:
            if leaf is not None:
                sizes.setdefault(label, set()).add(int(np.shape(leaf)[0]))
    flat = {n for s in sizes.values() for n in s}
    if len(flat) > 1:
        detail = ", ".join(f"{k} sizes: {sorted(v)}" for k, v in sizes.items())
        raise ValueError(f"Data cardinality is ambiguous: make sure all arrays contain the "
                         f"same number of samples. {detail}")
    if not flat:
        raise ValueError("No data provided: x is empty or None.")
    n = flat.pop()
    if n == 0:
        shapes = ", ".join(f"{k} {np.shape(leaf)}" for k, v in (("x", x), ("y", y))
                           for leaf in (nest.flatten(v) if v is not None else []))
        raise ValueError(f"The data is empty (0 samples; shapes: {shapes}): fit, evaluate and "
                         "predict need at least one sample.")
    return n


def take(structure, index):
    return nest.map_structure(lambda a: None if a is None else a[index], structure)


def split_validation(x, y, sample_weight, validation_split):
    """The last ``validation_split`` of the samples, before any shuffling, as Keras does."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"`validation_split` must be in [0, 1), got {validation_split}")
    n = num_samples(x, y, sample_weight)
    cut = int(math.floor(n * (1.0 - validation_split)))
    if cut == 0 or cut == n:
        raise ValueError(f"validation_split={validation_split} leaves no training or no "
                         f"validation samples out of {n}")
    train = slice(0, cut)
    val = slice(cut, n)
    return ((take(x, train), take(y, train), take(sample_weight, train)),
            (take(x, val), take(y, val), take(sample_weight, val)))


class ArrayBatches:
    """Batches over in-memory arrays; reshuffled every epoch when ``shuffle``."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                 class_weight=None, steps=None, seed=None):
        self.x, self.y = x, y
        self.n = num_samples(x, y, sample_weight)
        if class_weight is not None:
            if y is None:
                raise ValueError("class_weight needs targets y")
            labels = np.asarray(y)
            labels = labels.argmax(-1) if labels.ndim > 1 and labels.shape[-1] > 1 else \
                labels.reshape(len(labels))
            weights = np.array([class_weight.get(int(c), 1.0) for c in labels], np.float32)
            sample_weight = weights if sample_weight is None else sample_weight * weights
        self.sample_weight = (None if sample_weight is None
                              else np.asarray(sample_weight, np.float32))
        self.batch_size = int(batch_size or 32)
        self.shuffle = shuffle
        self.steps = steps if steps is not None else math.ceil(self.n / self.batch_size)
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        return self.steps

    def get_state(self):
        """The shuffler's state (JSON-ready), for a backup; ``set_state`` restores it."""
        return {"shuffle": self._rng.bit_generator.state}

    def set_state(self, state):
        self._rng.bit_generator.state = state["shuffle"]

    def skip_epochs(self, count):
        """Draws the shuffles of ``count`` epochs without producing them (a resumed fit);
        ``epoch`` draws one order, then one more after every complete pass."""
        if self.shuffle:
            passes = self.steps // math.ceil(self.n / self.batch_size)
            for _ in range(count * (1 + passes)):
                self._rng.permutation(self.n)

    def epoch(self):
        order = self._rng.permutation(self.n) if self.shuffle else None
        produced = 0
        while produced < self.steps:
            for start in range(0, self.n, self.batch_size):
                if produced >= self.steps:
                    return
                index = slice(start, start + self.batch_size)
                if order is not None:
                    index = order[index]
                yield (take(self.x, index), take(self.y, index),
                       None if self.sample_weight is None else self.sample_weight[index])
                produced += 1
            if order is not None:
                order = self._rng.permutation(self.n)


class DatasetBatches:
    """Batches drawn from an iterable dataset yielding ``x``, ``(x, y)`` or ``(x, y, w)``."""

    def __init__(self, dataset, steps=None):
        self.dataset = dataset
        self.steps = steps
        if steps is None:
            try:
                self.steps = len(dataset)
            except TypeError:
                self.steps = None

    def __len__(self):
        return self.steps or 0

    def get_state(self):
        """The pipeline's shuffle state (an ``nf.data`` dataset's), for a backup."""
        if not hasattr(self.dataset, "_nf_dataset"):
            return None
        from neuroflow.data.shuffle import shuffle_state
        return {"shuffles": shuffle_state(self.dataset)}

    def set_state(self, state):
        from neuroflow.data.shuffle import set_shuffle_state
        set_shuffle_state(self.dataset, state["shuffles"])

    def epoch(self):
        for i, element in enumerate(self.dataset):
            if self.steps is not None and i >= self.steps:
                return
            if isinstance(element, tuple):
                x = element[0]
                y = element[1] if len(element) > 1 else None
                w = element[2] if len(element) > 2 else None
            else:
                x, y, w = element, None, None
            yield to_arrays(x), to_arrays(y), to_arrays(w)
