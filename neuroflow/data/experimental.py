"""``nf.data.experimental``: the TF 2.0-era spellings of tf.data's constants and helpers."""
from __future__ import annotations

from neuroflow.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY


def cardinality(dataset):
    """``dataset.cardinality()`` (``tf.data.experimental.cardinality``).

    >>> nf.data.experimental.cardinality(nf.data.Dataset.range(42)).numpy()
    42
    """
    return dataset.cardinality()


__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "cardinality"]
