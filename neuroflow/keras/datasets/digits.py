"""``keras.datasets.digits``: scikit-learn's 1,797 8x8 handwritten digits (UCI optdigits).

Read from the file ``sklearn.datasets.load_digits`` reads, ``datasets/data/digits.csv.gz``:
one image per line, 64 pixel values (0-16, row-major 8x8) and the label; the arrays are the
same as ``load_digits()``'s, with the pixels as uint8. The split is stratified and fixed: the
last 20% of each digit's images (in file order) are the test set (1,438 / 359 images), each
set in one fixed shuffled order.
"""
from __future__ import annotations

import numpy as np

from neuroflow.keras.datasets import _shipped

_PACKAGE = "sklearn"
_FILE = ("datasets", "data", "digits.csv.gz")
# SHA-256 of the decompressed CSV text: the same in scikit-learn 1.3.2 and 1.9.1
_SHA256 = "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"
_SIZE = 264_712  # bytes of the decompressed CSV text
_SAMPLES, _TEST_FRACTION, _SEED = 1797, 0.2, 0


def _data_file():
    return _shipped.package_file(_PACKAGE, _FILE, "keras.datasets.digits.load_data()")


def load_data():
    """The 8x8 digits as ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
    (n, 8, 8) with values 0-16 (not 0-255), uint8 labels 0-9; 1,438 training and 359 test.

    >>> (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    >>> x_train.shape, x_train.max()
    ((1438, 8, 8), 16)
    """
    file = _data_file()
    table = _shipped.read_table(file, _SHA256, _SIZE, _PACKAGE, 8 * 8 + 1)
    _shipped.check(table.shape[0] == _SAMPLES, file,
                   f"{table.shape[0]} samples, expected {_SAMPLES}")
    pixels, labels = table[:, :-1], table[:, -1]
    _shipped.check(pixels.min() >= 0 and pixels.max() <= 16, file,
                   f"pixel values span {pixels.min()}..{pixels.max()}, expected 0..16")
    _shipped.check(set(np.unique(labels).tolist()) == set(range(10)), file,
                   f"labels {np.unique(labels).tolist()}, expected the digits 0-9")
    images = pixels.astype(np.uint8).reshape(-1, 8, 8)
    labels = labels.astype(np.uint8)
    train, test = _shipped.stratified_split(labels, _TEST_FRACTION, _SEED)
    return (images[train], labels[train]), (images[test], labels[test])
