"""nf.data transformations: map, filter, shuffle, repeat, take, skip, shard, flat_map,
reduce, and the cardinality each one reports."""
import numpy as np
import pytest

import neuroflow as nf

Dataset = nf.data.Dataset


def values(ds):
    return [np.asarray(v).tolist() if not isinstance(v, (tuple, dict)) else v
            for v in ds.as_numpy_iterator()]


# -- map ---------------------------------------------------------------------------------
def test_map_gets_tensors_and_unpacks_tuples():
    seen = []

    def fn(x, y):
        seen.append((type(x), type(y)))
        return x * 2, {"sum": x + y}
    ds = Dataset.from_tensor_slices((np.arange(3), np.arange(10, 13))).map(fn)
    out = list(ds)
    assert all(t is type(nf.constant(1)) for pair in seen for t in pair)
    assert int(out[1][0]) == 2 and int(out[1][1]["sum"]) == 12


def test_map_on_dict_elements_gets_the_dict():
    ds = Dataset.from_tensor_slices({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    out = values(ds.map(lambda d: d["a"] * d["b"]))
    assert out == [3.0, 8.0]


def test_map_output_conversion_list_to_tuple_and_python_values():
    out = list(Dataset.range(2).map(lambda x: [x, 1.5]))
    assert type(out[0]) is tuple and out[0][1].dtype == nf.float32
    with pytest.raises(TypeError, match="cannot be None"):
        list(Dataset.range(1).map(lambda x: None))


def test_map_element_spec_is_traced_with_unknown_batch_dim():
    ds = Dataset.from_tensor_slices(np.zeros((10, 3), np.float32)).batch(4)
    mapped = ds.map(lambda x: (nf.reduce_sum(x, axis=1), nf.cast(x, nf.int32)))
    assert mapped.element_spec == (nf.TensorSpec((None,), nf.float32),
                                   nf.TensorSpec((None, 3), nf.int32))


def test_map_element_spec_falls_back_for_functions_that_need_values():
    ds = Dataset.range(3).map(lambda x: np.float32(x.numpy()) * 2)
    assert ds.element_spec == nf.TensorSpec((), nf.float32)
    assert values(ds) == [0.0, 2.0, 4.0]


def test_map_runs_eagerly_while_the_consumer_builds_a_graph():
    ds = Dataset.range(3).map(lambda x: x + 1)
    with nf.Graph().as_default():
        out = list(ds)
        assert not nf.executing_eagerly()
    assert [int(t) for t in out] == [1, 2, 3]


def test_map_function_errors_reach_the_caller():
    def bad(x):
        raise KeyError("no such feature")
    with pytest.raises(KeyError, match="no such feature"):
        list(Dataset.range(2).map(bad))


# -- filter ------------------------------------------------------------------------------
def test_filter_keeps_matching_elements_and_has_unknown_size():
    ds = Dataset.range(10).filter(lambda x: x % 3 == 0)
    assert values(ds) == [0, 3, 6, 9]
    assert int(ds.cardinality()) == nf.data.UNKNOWN_CARDINALITY
    pairs = Dataset.from_tensor_slices(([1, 2, 3], [0, 1, 0])).filter(lambda x, y: y > 0)
    assert [int(x) for x, _ in pairs] == [2]


@pytest.mark.parametrize("predicate, message", [
    (lambda x: x, "dtype int64"),
    (lambda x: nf.constant([True, False]), r"shape \(2,\)"),
])
def test_filter_rejects_non_scalar_boolean_predicates(predicate, message):
    with pytest.raises(ValueError, match=message):
        list(Dataset.range(3).filter(predicate))


# -- shuffle -----------------------------------------------------------------------------
def test_shuffle_with_seed_is_reproducible_and_a_permutation():
    a = values(Dataset.range(50).shuffle(50, seed=7))
    b = values(Dataset.range(50).shuffle(50, seed=7))
    c = values(Dataset.range(50).shuffle(50, seed=8))
    assert a == b and a != c and sorted(a) == list(range(50)) and a != list(range(50))


def test_shuffle_buffer_of_one_keeps_the_order():
    assert values(Dataset.range(20).shuffle(1, seed=3)) == list(range(20))


def test_shuffle_buffer_bounds_how_far_ahead_an_element_can_come_from():
    buffer = 4
    firsts = set()
    for seed in range(40):
        out = values(Dataset.range(30).shuffle(buffer, seed=seed))
        assert sorted(out) == list(range(30))
        for position, element in enumerate(out):
            assert element <= position + buffer - 1
        firsts.add(out[0])
    assert firsts == set(range(buffer))  # every buffered element can come out first


def test_shuffle_reshuffles_each_pass_reproducibly():
    ds = Dataset.range(20).shuffle(20, seed=1)
    passes = [values(ds) for _ in range(3)]
    assert passes[0] != passes[1] != passes[2]
    again = Dataset.range(20).shuffle(20, seed=1)
    assert [values(again) for _ in range(3)] == passes
    fixed = Dataset.range(20).shuffle(20, seed=1, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)


def test_shuffle_follows_the_global_seed():
    nf.random.set_seed(123)
    a = values(Dataset.range(20).shuffle(20))
    nf.random.set_seed(123)
    b = values(Dataset.range(20).shuffle(20))
    nf.random.set_seed(None)
    assert a == b and sorted(a) == list(range(20))


def test_shuffle_without_any_seed_varies():
    nf.random.set_seed(None)
    orders = {tuple(values(Dataset.range(20).shuffle(20))) for _ in range(3)}
    assert len(orders) > 1


def test_shuffle_then_repeat_reshuffles_each_round():
    out = values(Dataset.range(10).shuffle(10, seed=2).repeat(2))
    assert sorted(out[:10]) == sorted(out[10:]) == list(range(10)) and out[:10] != out[10:]


def test_shuffle_rejects_bad_buffer_size():
    with pytest.raises(ValueError, match="greater than zero"):
        Dataset.range(3).shuffle(0)


# -- repeat, take, skip, shard -----------------------------------------------------------
def test_repeat_take_skip():
    assert values(Dataset.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert values(Dataset.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert values(Dataset.range(3).repeat(0)) == []
    assert values(Dataset.range(0).repeat()) == []  # an empty input ends, not hangs
    assert values(Dataset.range(5).take(-1)) == list(range(5))
    assert values(Dataset.range(5).take(0)) == []
    assert values(Dataset.range(5).skip(3)) == [3, 4]
    assert values(Dataset.range(5).skip(-1)) == []
    assert values(Dataset.range(5).skip(2).take(2)) == [2, 3]
    assert values(Dataset.range(10).shard(3, 1)) == [1, 4, 7]


def test_take_does_not_pull_more_than_it_needs():
    pulled = []

    def gen():
        for i in range(100):
            pulled.append(i)
            yield i
    ds = Dataset.from_generator(gen, output_signature=nf.TensorSpec((), nf.int64))
    assert values(ds.take(3)) == [0, 1, 2] and pulled == [0, 1, 2]


INF, UNK = nf.data.INFINITE_CARDINALITY, nf.data.UNKNOWN_CARDINALITY


@pytest.mark.parametrize("build, expected", [
    (lambda: Dataset.range(10).repeat(3), 30),
    (lambda: Dataset.range(10).repeat(), INF),
    (lambda: Dataset.range(0).repeat(), 0),
    (lambda: Dataset.range(10).filter(lambda x: True).repeat(), INF),
    (lambda: Dataset.range(10).filter(lambda x: True).repeat(2), UNK),
    (lambda: Dataset.range(10).take(3), 3),
    (lambda: Dataset.range(2).take(5), 2),
    (lambda: Dataset.range(2).repeat().take(5), 5),
    (lambda: Dataset.range(10).filter(lambda x: True).take(5), UNK),
    (lambda: Dataset.range(10).skip(3), 7),
    (lambda: Dataset.range(10).skip(30), 0),
    (lambda: Dataset.range(10).repeat().skip(3), INF),
    (lambda: Dataset.range(10).shard(3, 0), 4),
    (lambda: Dataset.range(10).shard(3, 2), 3),
    (lambda: Dataset.range(10).map(lambda x: x).shuffle(4).cache().prefetch(2), 10),
    (lambda: Dataset.range(3).flat_map(lambda x: Dataset.range(x)), UNK),
])
def test_cardinality(build, expected):
    assert int(build().cardinality()) == expected


def test_flat_map_reduce_single_element_and_apply():
    ds = Dataset.range(4).flat_map(lambda x: Dataset.range(x))
    assert values(ds) == [0, 0, 1, 0, 1, 2]
    assert ds.element_spec == nf.TensorSpec((), nf.int64)
    total = Dataset.range(5).reduce(np.int64(0), lambda state, x: state + x)
    assert int(total) == 10
    assert Dataset.from_tensors([1, 2]).get_single_element().numpy().tolist() == [1, 2]
    with pytest.raises(ValueError, match="more than one"):
        Dataset.range(2).get_single_element()
    assert values(Dataset.range(10).apply(lambda d: d.skip(8))) == [8, 9]
    with pytest.raises(TypeError, match="flat_map"):
        list(Dataset.range(2).flat_map(lambda x: x))
    with pytest.raises(ValueError, match="index"):
        Dataset.range(3).shard(2, 2)


@pytest.mark.parametrize("buffer_size", [1, 7, 64, 1000])
def test_shuffled_slices_batch_in_the_same_order_as_shuffled_elements(buffer_size):
    x = np.arange(200, dtype=np.float32).reshape(100, 2)

    def slices():  # shuffles indices, and batches by gathering
        return Dataset.from_tensor_slices((x, np.arange(100))).shuffle(buffer_size, seed=5)

    def elements():  # the map hides the slices: shuffles elements, batches by stacking
        return Dataset.from_tensor_slices((x, np.arange(100))).map(
            lambda a, b: (a, b)).shuffle(buffer_size, seed=5)
    fast = [b.tolist() for _, b in slices().batch(16).as_numpy_iterator()]
    slow = [b.tolist() for _, b in elements().batch(16).as_numpy_iterator()]
    one_by_one = [int(b) for _, b in slices().as_numpy_iterator()]
    assert fast == slow and sum(fast, []) == one_by_one
    assert sorted(one_by_one) == list(range(100))
    assert (one_by_one == list(range(100))) == (buffer_size == 1)
    (xs, ys), = slices().batch(100).as_numpy_iterator()
    np.testing.assert_array_equal(xs, x[ys])


def test_map_is_not_recorded_on_the_consumers_tape():
    v = nf.Variable(2.0)
    with nf.GradientTape() as tape:
        total = nf.constant(0.0)
        for t in Dataset.range(3).map(lambda x: nf.cast(x, nf.float32) * v):
            total = total + t
    assert float(total) == 6.0 and tape.gradient(total, v) is None


def test_tracing_a_map_with_a_keras_layer_builds_it_eagerly():
    from neuroflow import keras
    layer = keras.layers.Dense(2)
    ds = Dataset.from_tensor_slices(np.ones((5, 3), np.float32)).batch(2).map(layer)
    assert ds.element_spec == nf.TensorSpec((None, 2), nf.float32)
    assert layer.kernel.numpy().shape == (3, 2)  # a real, eager weight
    assert [t.shape for t in ds] == [(2, 2), (2, 2), (1, 2)]
