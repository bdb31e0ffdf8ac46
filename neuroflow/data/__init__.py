"""``nf.data``: tf.data input pipelines.

>>> ds = nf.data.Dataset.from_tensor_slices((x, y)).shuffle(1024, seed=0).batch(32)
>>> ds = ds.prefetch(nf.data.AUTOTUNE)
"""
from neuroflow.data import experimental  # noqa: F401
from neuroflow.data.dataset import (  # noqa: F401
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    Dataset,
    Iterator,
)

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset", "Iterator",
           "experimental"]
