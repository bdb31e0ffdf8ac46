"""One-hot encoding of class labels and normalisation of arrays along an axis."""
from __future__ import annotations

import numpy as np

from neuroflow.core.tensor import Tensor


def to_categorical(x, num_classes=None, dtype="float32"):
    """Class vector (integers in [0, num_classes)) to a one-hot matrix.

    A trailing axis of size 1 is dropped first, so (n, 1) labels give (n, num_classes).
    ``num_classes`` defaults to max(x) + 1.

    >>> keras.utils.to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    if isinstance(x, Tensor):
        x = x.numpy()
    array = np.asarray(x)
    if array.dtype.kind == "f" and not np.all(np.equal(np.mod(array, 1), 0)):
        raise ValueError("to_categorical expects integer class labels; received non-integer "
                         f"values such as {array[np.mod(array, 1) != 0].reshape(-1)[0]}")
    labels = array.astype("int64")
    input_shape = labels.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = input_shape[:-1]
    labels = labels.reshape(-1)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    num_classes = int(num_classes)
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ValueError(f"to_categorical: label {bad[0]} is outside the valid range "
                         f"[0, {num_classes}) for num_classes={num_classes}")
    categorical = np.zeros((labels.size, num_classes), dtype=dtype)
    categorical[np.arange(labels.size), labels] = 1
    return categorical.reshape(input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """x divided by its ``order``-norm along ``axis`` (zero-norm slices are left as they are).

    >>> keras.utils.normalize(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """
    if isinstance(x, Tensor):
        import neuroflow as nf
        norm = nf.norm(x, ord=order, axis=axis, keepdims=True)
        return x / nf.where(nf.equal(norm, 0.0), nf.ones_like(norm), norm)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    axis = -1 if axis is None else axis
    return x / np.expand_dims(norm, axis)
