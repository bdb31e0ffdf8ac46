"""nf.data sources: from_tensor_slices, from_tensors, from_generator, range, zip,
concatenate, enumerate; iteration, element_spec, cardinality and len()."""
import collections

import numpy as np
import pytest

import neuroflow as nf

Dataset = nf.data.Dataset


def values(ds):
    return list(ds.as_numpy_iterator())


def test_slices_of_one_array_yield_tensors():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    ds = Dataset.from_tensor_slices(x)
    items = list(ds)
    assert all(isinstance(t, nf.Tensor) for t in items)
    np.testing.assert_array_equal(np.stack([t.numpy() for t in items]), x)
    assert ds.element_spec == nf.TensorSpec((3,), nf.float32)
    assert len(ds) == 4 and int(ds.cardinality()) == 4


def test_slices_of_tuple_dict_and_namedtuple_keep_the_structure():
    x, y = np.arange(6.0).reshape(3, 2), np.array([0, 1, 2])
    tup = list(Dataset.from_tensor_slices((x, y)))
    assert type(tup[1]) is tuple and tup[1][1].numpy() == 1
    np.testing.assert_array_equal(tup[2][0].numpy(), [4.0, 5.0])
    dic = list(Dataset.from_tensor_slices({"b": y, "a": x}))
    assert list(dic[0]) == ["b", "a"] and int(dic[2]["b"]) == 2
    Pair = collections.namedtuple("Pair", "image label")
    named = list(Dataset.from_tensor_slices(Pair(x, y)))
    assert isinstance(named[0], Pair) and int(named[1].label) == 1


def test_slices_follow_tf_dtype_rules_and_accept_tensors():
    assert Dataset.from_tensor_slices([1.0, 2.0]).element_spec.dtype == nf.float32
    assert Dataset.from_tensor_slices([1, 2]).element_spec.dtype == nf.int32
    assert Dataset.from_tensor_slices(np.arange(3.0)).element_spec.dtype == nf.float64
    ds = Dataset.from_tensor_slices(nf.constant([[1, 2], [3, 4]]))
    assert values(ds)[1].tolist() == [3, 4]
    # a list of equal-shape rows is one tensor, as in TF
    assert Dataset.from_tensor_slices([[1, 2], [3, 4]]).element_spec.shape == (2,)


def test_slices_errors():
    with pytest.raises(ValueError, match=r"same size in their first dimension.*\(3,\).*\(4,\)"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="component 0 is a scalar"):
        Dataset.from_tensor_slices(np.float32(1.0))
    with pytest.raises(TypeError, match="no strings"):
        Dataset.from_tensor_slices(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="pass a tuple, not a list"):
        Dataset.from_tensor_slices([np.zeros(3), np.zeros(4)])


def test_elements_are_read_only_views_so_the_source_never_changes():
    x = np.arange(6.0).reshape(3, 2)
    first = next(iter(Dataset.from_tensor_slices(x)))
    array = first.numpy()
    array[:] = -1.0  # a copy: the source stays as it was
    np.testing.assert_array_equal(x[0], [0.0, 1.0])


def test_from_tensors_is_one_element():
    ds = Dataset.from_tensors(([1, 2, 3], np.float64(2.5)))
    assert len(ds) == 1
    (a, b), = values(ds)
    assert a.tolist() == [1, 2, 3] and b == 2.5
    assert ds.element_spec[0] == nf.TensorSpec((3,), nf.int32)


def test_from_generator_with_signature_is_reiterable_and_converts():
    calls = []

    def gen():
        calls.append(1)
        for i in range(3):
            yield i, [float(i)] * 2
    sig = (nf.TensorSpec((), nf.int64), nf.TensorSpec((2,), nf.float32))
    ds = Dataset.from_generator(gen, output_signature=sig)
    first, second = values(ds), values(ds)
    assert len(calls) == 2 and len(first) == 3
    for (i1, v1), (i2, v2) in zip(first, second):
        assert i1 == i2 and v1.tolist() == v2.tolist()
    assert first[2][0] == 2 and first[2][0].dtype == np.int64
    assert first[1][1].dtype == np.float32
    assert ds.element_spec == sig
    assert int(ds.cardinality()) == nf.data.UNKNOWN_CARDINALITY
    with pytest.raises(TypeError, match="length is unknown"):
        len(ds)


def test_from_generator_dicts_args_and_legacy_types():
    def gen(n):
        for i in range(int(n)):
            yield {"x": np.full(2, i), "y": i}
    ds = Dataset.from_generator(
        gen, args=(3,), output_signature={"x": nf.TensorSpec((None,), nf.int32),
                                          "y": nf.TensorSpec((), nf.int32)})
    assert [int(e["y"]) for e in ds] == [0, 1, 2]
    legacy = Dataset.from_generator(lambda: iter([[1, 2], [3, 4]]), output_types=nf.int64,
                                    output_shapes=[2])
    assert legacy.element_spec == nf.TensorSpec((2,), nf.int64)
    assert values(legacy)[1].tolist() == [3, 4]


def test_from_generator_errors():
    sig = nf.TensorSpec((2,), nf.int32)
    with pytest.raises(ValueError, match=r"shape \(3,\) where an element of shape \(2,\)"):
        values(Dataset.from_generator(lambda: iter([[1, 2, 3]]), output_signature=sig))
    with pytest.raises(TypeError, match="could not be converted.*int32"):
        values(Dataset.from_generator(lambda: iter([[1.5, 2.0]]), output_signature=sig))
    pair = (sig, sig)
    with pytest.raises(TypeError, match="did not match the expected structure"):
        values(Dataset.from_generator(lambda: iter([5]), output_signature=pair))
    with pytest.raises(TypeError, match="did not match the expected structure"):
        values(Dataset.from_generator(lambda: iter([{"a": 1}]), output_signature=sig))
    with pytest.raises(TypeError, match="output_signature"):
        Dataset.from_generator(lambda: iter([]))
    with pytest.raises(TypeError, match="callable"):
        Dataset.from_generator(iter([1, 2]), output_signature=sig)

    def failing():
        yield [1, 2]
        raise RuntimeError("disk on fire")
    with pytest.raises(RuntimeError, match="disk on fire"):
        values(Dataset.from_generator(failing, output_signature=sig))


def test_generator_is_closed_when_a_pass_stops_early():
    closed = []

    def gen():
        try:
            yield from range(100)
        finally:
            closed.append(True)
    ds = Dataset.from_generator(gen, output_signature=nf.TensorSpec((), nf.int32)).take(2)
    assert values(ds) == [0, 1] and closed == [True]


def test_range_forms_dtype_and_errors():
    assert values(Dataset.range(4)) == [0, 1, 2, 3]
    assert values(Dataset.range(2, 5)) == [2, 3, 4]
    assert values(Dataset.range(5, 0, -2)) == [5, 3, 1]
    assert values(Dataset.range(3, 3)) == [] and len(Dataset.range(3, 3)) == 0
    assert Dataset.range(3).element_spec == nf.TensorSpec((), nf.int64)
    assert values(Dataset.range(2, output_type=nf.int32))[1].dtype == np.int32
    with pytest.raises(ValueError, match="step"):
        Dataset.range(0, 5, 0)
    assert len(Dataset.range(1, 10, 4)) == 3


def test_zip_tuple_dict_varargs_and_shortest():
    a, b = Dataset.range(3), Dataset.range(10, 15)
    assert values(Dataset.zip((a, b))) == [(0, 10), (1, 11), (2, 12)]
    assert values(Dataset.zip(a, b)) == values(Dataset.zip((a, b)))
    zipped = values(Dataset.zip({"x": a, "y": b}))
    assert zipped[2] == {"x": 2, "y": 12}
    assert len(Dataset.zip(a, b)) == 3
    assert len(Dataset.zip(a, b.repeat())) == 3
    assert int(Dataset.zip(a.repeat(), b.repeat()).cardinality()) == -1
    unknown = a.filter(lambda x: True)
    assert int(Dataset.zip(unknown, b).cardinality()) == -2
    with pytest.raises(TypeError, match="expects datasets"):
        Dataset.zip((a, [1, 2]))


def test_concatenate_and_enumerate():
    ds = Dataset.range(2).concatenate(Dataset.range(5, 7))
    assert values(ds) == [0, 1, 5, 6] and len(ds) == 4
    assert int(Dataset.range(2).concatenate(Dataset.range(1).repeat()).cardinality()) == -1
    with pytest.raises(TypeError, match="cannot concatenate"):
        Dataset.range(2).concatenate(Dataset.from_tensor_slices(np.zeros(2, np.float32)))
    pairs = values(Dataset.range(5, 7).enumerate(start=1))
    assert pairs == [(1, 5), (2, 6)] and pairs[0][0].dtype == np.int64


def test_len_bool_and_cardinality_constants():
    infinite = Dataset.range(3).repeat()
    with pytest.raises(TypeError, match="infinite"):
        len(infinite)
    assert bool(infinite) and bool(Dataset.range(0))
    assert nf.data.INFINITE_CARDINALITY == -1 and nf.data.UNKNOWN_CARDINALITY == -2
    assert nf.data.experimental.cardinality(infinite).numpy() == -1
    assert nf.data.AUTOTUNE == nf.data.experimental.AUTOTUNE == -1
    assert Dataset.range(3).cardinality().dtype == nf.int64


def test_iterator_get_next_and_spec():
    it = iter(Dataset.range(2))
    assert int(it.get_next()) == 0 and int(next(it)) == 1
    with pytest.raises(StopIteration):
        next(it)
    assert it.element_spec == nf.TensorSpec((), nf.int64)
    assert "RangeDataset" in repr(Dataset.range(2))


def test_dataset_marked_for_the_keras_adapter():
    from neuroflow.keras.models import data_adapter
    ds = Dataset.range(5).batch(2)
    assert Dataset._nf_dataset is True and data_adapter.is_dataset(ds)
    assert data_adapter.DatasetBatches(ds).steps == 3
    assert data_adapter.DatasetBatches(ds.repeat()).steps is None


def test_from_generator_copies_a_reused_buffer():
    def gen():
        buffer = np.zeros(2, np.float32)
        for i in range(3):
            buffer[:] = i
            yield buffer
    ds = Dataset.from_generator(gen, output_signature=nf.TensorSpec((2,), nf.float32))
    assert [b.tolist() for b in ds.batch(3).as_numpy_iterator()] == [[[0, 0], [1, 1], [2, 2]]]
    assert [v.tolist() for v in ds.cache().as_numpy_iterator()] == [[0, 0], [1, 1], [2, 2]]
