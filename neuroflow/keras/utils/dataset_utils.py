"""``split_dataset``: a dataset (arrays, or an ``nf.data.Dataset``) into two, e.g. train and
test."""
from __future__ import annotations

import numpy as np

from neuroflow.core.tensor import Tensor


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Splits a dataset into a left part and a right part.

    ``dataset``: an array, a list/tuple (or dict) of arrays with the same length, or an
    ``nf.data.Dataset`` of unbatched elements. ``left_size`` / ``right_size``: a fraction
    in (0, 1) or a number of samples; either may be omitted (then it is the complement).
    With ``shuffle`` the samples are shuffled first (``seed`` makes it reproducible).
    Returns two ``nf.data.Dataset`` objects whose elements have the input's structure.

    >>> left, right = keras.utils.split_dataset(np.zeros((1000, 4)), left_size=0.8)
    >>> int(left.cardinality()), int(right.cardinality())
    (800, 200)
    """
    columns, structure = _columns(dataset)
    total = len(columns[0]) if columns else 0
    if total == 0:
        raise ValueError("split_dataset got an empty dataset: there is nothing to split.")
    left, right = _split_sizes(left_size, right_size, total)
    order = np.arange(total)
    if shuffle:
        order = np.random.default_rng(seed).permutation(total)
    left_index, right_index = order[:left], order[left:left + right]
    return (_make_dataset([c[left_index] for c in columns], structure),
            _make_dataset([c[right_index] for c in columns], structure))


def _columns(dataset):
    """The dataset's arrays (one per leaf, samples along axis 0) and how to rebuild them."""
    if _is_nf_dataset(dataset):
        return _dataset_columns(dataset)
    if isinstance(dataset, dict):
        keys = list(dataset)
        return [_array(dataset[k]) for k in keys], ("dict", keys)
    if isinstance(dataset, (list, tuple)) and dataset and not np.isscalar(dataset[0]) \
            and all(_is_array_like(d) for d in dataset):
        columns = [_array(d) for d in dataset]
        lengths = {len(c) for c in columns}
        if len(lengths) > 1:
            raise ValueError("split_dataset: the arrays of `dataset` must all have the same "
                             f"length; received lengths {[len(c) for c in columns]}")
        return columns, ("tuple", len(columns))
    array = _array(dataset)
    if array.ndim == 0:
        raise TypeError("split_dataset expects an array, a list/tuple of arrays or an "
                        f"nf.data.Dataset; received {type(dataset).__name__}")
    return [array], ("single", None)


def _is_array_like(x):
    return isinstance(x, (np.ndarray, Tensor, list))


def _array(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def _is_nf_dataset(x):
    return hasattr(x, "_nf_dataset") or (
        hasattr(x, "__iter__") and hasattr(x, "element_spec"))


def _dataset_columns(dataset):
    """Iterates an (unbatched) dataset and stacks its elements leaf by leaf."""
    from neuroflow.util import nest
    elements = list(iter(dataset))
    if not elements:
        raise ValueError("split_dataset got an empty dataset: there is nothing to split.")
    first = elements[0]
    flat = [nest.flatten(e) for e in elements]
    columns = [np.stack([_array(row[i]) for row in flat]) for i in range(len(flat[0]))]
    return columns, ("nest", first)


def _make_dataset(columns, structure):
    kind, info = structure
    if kind == "single":
        value = columns[0]
    elif kind == "tuple":
        value = tuple(columns)
    elif kind == "dict":
        value = dict(zip(info, columns))
    else:
        from neuroflow.util import nest
        value = nest.pack_sequence_as(info, columns)
    from neuroflow.data import Dataset
    return Dataset.from_tensor_slices(value)


def _split_sizes(left_size, right_size, total):
    """Numbers of samples on each side; Keras's rules and messages."""
    if left_size is None and right_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    left = _size("left_size", left_size, total)
    right = _size("right_size", right_size, total)
    if left is None:
        left = total - right
    elif right is None:
        right = total - left
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the "
                         f"dataset's length {total}. Received: left_size + right_size = "
                         f"{left + right}")
    for size, side in ((left, "left"), (right, "right")):
        if size <= 0:
            raise ValueError(f"With `dataset` of length {total}, `left_size`={left_size} and "
                             f"`right_size`={right_size}, the {side} side of the split would "
                             "be empty. Adjust any of these parameters.")
    return left, right


def _size(label, size, total):
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{label}` should be an integer or a float. Received: {label}={size!r}")
    if isinstance(size, (float, np.floating)):
        if not 0.0 < size < 1.0:
            raise ValueError(f"`{label}` should be a float in the range (0, 1) or a positive "
                             f"integer. Received: {label}={size}")
        return int(round(float(size) * total))
    if not 0 < size <= total:
        raise ValueError(f"`{label}` should be a positive integer no larger than the "
                         f"dataset's length {total}. Received: {label}={size}")
    return int(size)
