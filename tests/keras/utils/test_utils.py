"""keras.utils: to_categorical, normalize, pad_sequences, set_random_seed, split_dataset."""
from __future__ import annotations

import random

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras


def test_to_categorical():
    out = keras.utils.to_categorical([0, 2, 1], num_classes=4)
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32)[[0, 2, 1]])
    assert out.dtype == np.float32
    # num_classes defaults to max + 1; a trailing axis of 1 is dropped
    assert keras.utils.to_categorical(np.array([[1], [3]])).shape == (2, 4)
    assert keras.utils.to_categorical(np.zeros((2, 3), int), 5).shape == (2, 3, 5)
    np.testing.assert_array_equal(keras.utils.to_categorical(nf.constant([1, 0]), 2),
                                  [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"label 3 is outside the valid range \[0, 3\)"):
        keras.utils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="label -1"):
        keras.utils.to_categorical([0, -1], num_classes=3)


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(keras.utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(keras.utils.normalize(x, axis=0), [[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(keras.utils.normalize(x, order=1), [[3 / 7, 4 / 7], [0, 0]])
    np.testing.assert_allclose(keras.utils.normalize(nf.constant(x)).numpy(),
                               [[0.6, 0.8], [0.0, 0.0]])


def test_pad_sequences():
    sequences = [[1, 2, 3], [4], [5, 6]]
    np.testing.assert_array_equal(keras.utils.pad_sequences(sequences),
                                  [[1, 2, 3], [0, 0, 4], [0, 5, 6]])
    np.testing.assert_array_equal(keras.utils.pad_sequences(sequences, padding="post"),
                                  [[1, 2, 3], [4, 0, 0], [5, 6, 0]])
    np.testing.assert_array_equal(keras.utils.pad_sequences(sequences, maxlen=2),
                                  [[2, 3], [0, 4], [5, 6]])
    np.testing.assert_array_equal(
        keras.utils.pad_sequences(sequences, maxlen=2, truncating="post", value=-1),
        [[1, 2], [-1, 4], [5, 6]])
    out = keras.utils.pad_sequences([[0.5], [1.5, 2.5]], dtype="float32", value=9.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[9.0, 0.5], [1.5, 2.5]])
    vectors = keras.utils.pad_sequences([np.ones((1, 2)), np.ones((3, 2))], dtype="float32")
    assert vectors.shape == (2, 3, 2) and vectors[0, :2].sum() == 0
    assert keras.utils.pad_sequences([[], [1]]).tolist() == [[0], [1]]
    text = keras.utils.pad_sequences([["a"], ["b", "c"]], dtype=object, value="")
    assert text.tolist() == [["", "a"], ["b", "c"]]


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="Padding type"):
        keras.utils.pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="Truncating type"):
        keras.utils.pad_sequences([[1]], truncating="middle")
    with pytest.raises(ValueError, match="dtype=object"):
        keras.utils.pad_sequences([[1]], value="x")
    with pytest.raises(ValueError, match="position 1"):
        keras.utils.pad_sequences([np.ones((1, 2)), np.ones((1, 3))])


def test_set_random_seed_makes_python_numpy_and_neuroflow_reproducible():
    def draw():
        layer = keras.layers.Dense(3)
        layer.build((None, 2))
        return (random.random(), np.random.rand(), nf.random.uniform([2]).numpy(),
                layer.kernel.numpy())

    keras.utils.set_random_seed(123)
    first = draw()
    keras.utils.set_random_seed(123)
    second = draw()
    assert first[0] == second[0] and first[1] == second[1]
    np.testing.assert_array_equal(first[2], second[2])
    np.testing.assert_array_equal(first[3], second[3])
    keras.utils.set_random_seed(124)
    assert draw()[0] != first[0]
    with pytest.raises(ValueError, match="integer"):
        keras.utils.set_random_seed(1.5)


def test_set_random_seed_makes_fit_reproducible():
    x = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    y = x.sum(1, keepdims=True)

    def train():
        keras.utils.set_random_seed(7)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, "relu"),
                                  keras.layers.Dense(1)])
        model.compile("adam", "mse")
        return model.fit(x, y, batch_size=8, epochs=2, verbose=0).history["loss"]

    assert train() == train()


def _as_arrays(dataset):
    return [np.stack(column) for column in zip(*dataset.as_numpy_iterator())]


def test_split_dataset_of_arrays():
    data = np.arange(40, dtype=np.float32).reshape(20, 2)
    left, right = keras.utils.split_dataset(data, left_size=0.8)
    assert int(left.cardinality()) == 16 and int(right.cardinality()) == 4
    np.testing.assert_array_equal(np.stack(list(left.as_numpy_iterator())), data[:16])
    np.testing.assert_array_equal(np.stack(list(right.as_numpy_iterator())), data[16:])
    labels = np.arange(20)
    left, right = keras.utils.split_dataset((data, labels), right_size=5, shuffle=True,
                                            seed=3)
    x_left, y_left = _as_arrays(left)
    x_right, y_right = _as_arrays(right)
    assert len(y_left) == 15 and len(y_right) == 5
    np.testing.assert_array_equal(x_left[:, 0], 2 * y_left)  # pairs stay together
    assert sorted(np.concatenate([y_left, y_right]).tolist()) == list(range(20))
    assert y_left.tolist() != list(range(15))  # shuffled
    again = _as_arrays(keras.utils.split_dataset((data, labels), right_size=5, shuffle=True,
                                                 seed=3)[1])[1]
    np.testing.assert_array_equal(again, y_right)
    left, right = keras.utils.split_dataset([data, labels], left_size=3, right_size=4)
    assert _as_arrays(right)[1].tolist() == [3, 4, 5, 6]


def test_split_dataset_of_an_nf_data_dataset():
    dataset = nf.data.Dataset.from_tensor_slices((np.arange(10.0), np.arange(10) * 2))
    left, right = keras.utils.split_dataset(dataset, left_size=0.6)
    x_left, y_left = _as_arrays(left)
    x_right, _ = _as_arrays(right)
    assert x_left.tolist() == [0, 1, 2, 3, 4, 5] and x_right.tolist() == [6, 7, 8, 9]
    np.testing.assert_array_equal(y_left, 2 * x_left)


def test_split_dataset_errors():
    data = np.zeros((10, 2))
    with pytest.raises(ValueError, match="At least one of the `left_size` or `right_size`"):
        keras.utils.split_dataset(data)
    with pytest.raises(ValueError, match="smaller than"):
        keras.utils.split_dataset(data, left_size=6, right_size=5)
    with pytest.raises(ValueError, match="range"):
        keras.utils.split_dataset(data, left_size=1.5)
    with pytest.raises(ValueError, match="empty"):
        keras.utils.split_dataset(data, left_size=0.01)
    with pytest.raises(ValueError, match="same length"):
        keras.utils.split_dataset((data, np.zeros(3)), left_size=0.5)


def test_progbar_update_and_add_average_values_as_keras():
    import io
    stream = io.StringIO()
    bar = keras.utils.Progbar(4, stream=stream, stateful_metrics=["acc"])
    bar.update(1, values=[("loss", 1.0), ("acc", 0.1)])
    bar.add(1, values=[("loss", 3.0), ("acc", 0.2)])
    bar.add(2, values=[("loss", 0.5), ("acc", nf.constant(0.3))])
    output = stream.getvalue()
    assert "4/4" in output
    # loss averaged over steps: (1 + 3 + 2 * 0.5) / 4; acc (stateful) shown as given
    assert "loss: 1.2500" in output and "acc: 0.3000" in output


def test_clear_session_restarts_automatic_names():
    keras.utils.clear_session()
    assert keras.layers.Dense(2).name == "dense"
