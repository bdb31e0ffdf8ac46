"""nf.data batching: batch (remainder, structures, shape errors), padded_batch, unbatch."""
import numpy as np
import pytest

import neuroflow as nf

Dataset = nf.data.Dataset


def test_batch_remainder_and_drop_remainder():
    kept = [b.tolist() for b in Dataset.range(7).batch(3).as_numpy_iterator()]
    assert kept == [[0, 1, 2], [3, 4, 5], [6]]
    dropped = [b.tolist() for b in Dataset.range(7).batch(3, drop_remainder=True)
               .as_numpy_iterator()]
    assert dropped == [[0, 1, 2], [3, 4, 5]]
    assert len(Dataset.range(7).batch(3)) == 3
    assert len(Dataset.range(7).batch(3, drop_remainder=True)) == 2
    assert Dataset.range(7).batch(3).element_spec == nf.TensorSpec((None,), nf.int64)
    assert Dataset.range(7).batch(3, True).element_spec == nf.TensorSpec((3,), nf.int64)


@pytest.mark.parametrize("drop", [False, True])
def test_batch_fast_path_matches_stacking(drop):
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10)
    fast = list(Dataset.from_tensor_slices({"x": x, "y": y}).batch(4, drop).as_numpy_iterator())
    slow = list(Dataset.from_tensor_slices({"x": x, "y": y}).map(lambda d: d)
                .batch(4, drop).as_numpy_iterator())
    assert len(fast) == len(slow) == (2 if drop else 3)
    for a, b in zip(fast, slow):
        assert list(a) == ["x", "y"]
        np.testing.assert_array_equal(a["x"], b["x"])
        np.testing.assert_array_equal(a["y"], b["y"])
    ranged = [b.tolist() for b in Dataset.range(1, 10, 2).batch(2, drop).as_numpy_iterator()]
    stacked = [b.tolist() for b in Dataset.range(1, 10, 2).map(lambda v: v)
               .batch(2, drop).as_numpy_iterator()]
    assert ranged == stacked


def test_batch_of_tuples_keeps_structure_and_dtypes():
    ds = Dataset.from_tensor_slices((np.ones((5, 2), np.float32), np.arange(5))).batch(2)
    x, y = next(iter(ds))
    assert x.shape == (2, 2) and x.dtype == nf.float32 and y.dtype == nf.int64
    assert ds.element_spec == (nf.TensorSpec((None, 2), nf.float32),
                               nf.TensorSpec((None,), nf.int64))


def test_batch_rejects_different_shapes_with_the_positions():
    ds = Dataset.range(1, 4).map(lambda n: nf.zeros([n]))
    with pytest.raises(ValueError, match=r"component 0.*shape \(1,\) and element 1 had "
                                         r"shape \(2,\)"):
        list(ds.batch(3))
    with pytest.raises(ValueError, match="positive"):
        Dataset.range(3).batch(0)


def test_batch_of_an_infinite_dataset_stays_infinite():
    ds = Dataset.range(3).repeat().batch(2)
    assert int(ds.cardinality()) == nf.data.INFINITE_CARDINALITY
    assert [b.tolist() for b in ds.take(2).as_numpy_iterator()] == [[0, 1], [2, 0]]


def test_padded_batch_pads_to_the_longest_or_the_given_shape():
    ds = Dataset.range(1, 4).map(lambda n: (nf.fill([n], n), n))
    (seqs, lens), = ds.padded_batch(3).as_numpy_iterator()
    assert seqs.tolist() == [[1, 0, 0], [2, 2, 0], [3, 3, 3]] and lens.tolist() == [1, 2, 3]
    (seqs, _), = ds.padded_batch(3, padded_shapes=([5], []),
                                 padding_values=(-1, 0)).as_numpy_iterator()
    assert seqs.tolist()[0] == [1, -1, -1, -1, -1]
    assert ds.padded_batch(2, padded_shapes=([5], [])).element_spec[0].shape == (None, 5)
    with pytest.raises(ValueError, match="more than its padded shape"):
        list(ds.padded_batch(3, padded_shapes=([2], [])))


def test_unbatch_round_trip():
    x = np.arange(14).reshape(7, 2)
    ds = Dataset.from_tensor_slices((x, np.arange(7))).batch(3).unbatch()
    out = list(ds.as_numpy_iterator())
    assert [a.tolist() for a, _ in out] == x.tolist() and [int(b) for _, b in out] == list(range(7))
    assert ds.element_spec[0] == nf.TensorSpec((2,), nf.int64)
    assert int(ds.cardinality()) == nf.data.UNKNOWN_CARDINALITY
    bad = Dataset.from_tensors((np.zeros(3), np.zeros(4))).unbatch()
    with pytest.raises(ValueError, match="same first dimension"):
        list(bad)
