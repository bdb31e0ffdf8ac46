"""nf.data buffering: prefetch (background thread, bounded queue, error propagation, thread
shutdown) and cache."""
import gc
import threading
import time

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.core.tensor import EagerTensor

Dataset = nf.data.Dataset


def prefetch_threads():
    return [t for t in threading.enumerate() if t.name.startswith("nf.data.prefetch")]


def wait_until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture(autouse=True)
def no_leftover_threads():
    yield
    gc.collect()
    assert wait_until(lambda: not prefetch_threads()), "a prefetch thread outlived its pass"


def test_prefetch_yields_the_same_elements():
    ds = Dataset.from_tensor_slices((np.arange(10), np.arange(10) * 2.0)).batch(3)
    plain = [(a.tolist(), b.tolist()) for a, b in ds.as_numpy_iterator()]
    fetched = [(a.tolist(), b.tolist()) for a, b in ds.prefetch(2).as_numpy_iterator()]
    assert plain == fetched
    assert [int(x) for x in Dataset.range(5).prefetch(nf.data.AUTOTUNE)] == list(range(5))
    assert [int(x) for x in Dataset.range(5).prefetch(0)] == list(range(5))
    with pytest.raises(ValueError, match="buffer_size"):
        Dataset.range(3).prefetch(-5)


def test_prefetch_runs_on_a_background_thread_ahead_of_the_consumer():
    produced = []

    def gen():
        for i in range(10):
            produced.append(threading.current_thread().name)
            yield i
    ds = Dataset.from_generator(gen, output_signature=nf.TensorSpec((), nf.int64)).prefetch(3)
    it = iter(ds)
    assert int(next(it)) == 0
    # the worker fills the queue (3) and holds one more while waiting: about 5 produced
    assert wait_until(lambda: len(produced) >= 4)
    time.sleep(0.1)
    assert len(produced) <= 5
    assert produced[0].startswith("nf.data.prefetch")
    it.close()


def test_prefetch_propagates_errors_after_the_good_elements():
    def gen():
        yield 1
        yield 2
        raise RuntimeError("corrupt record 3")
    ds = Dataset.from_generator(gen, output_signature=nf.TensorSpec((), nf.int64)).prefetch(8)
    it = iter(ds)
    assert [int(next(it)), int(next(it))] == [1, 2]
    with pytest.raises(RuntimeError, match="corrupt record 3"):
        next(it)
    with pytest.raises(StopIteration):
        next(it)


def test_prefetch_propagates_errors_from_a_map_function():
    def fn(x):
        if int(x) == 2:
            raise ZeroDivisionError("bad element")
        return x
    with pytest.raises(ZeroDivisionError, match="bad element"):
        list(Dataset.range(5).map(fn).prefetch(2))


def test_dropping_an_iterator_stops_its_thread_and_closes_the_source():
    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()
    ds = Dataset.from_generator(endless, output_signature=nf.TensorSpec((), nf.int64))
    it = iter(ds.prefetch(2))
    assert int(next(it)) == 0
    assert len(prefetch_threads()) == 1
    del it
    gc.collect()
    assert wait_until(lambda: not prefetch_threads())
    assert closed.wait(5)


def test_close_exhaustion_and_unstarted_iterators_stop_threads():
    ds = Dataset.range(100).prefetch(1)
    it = iter(ds)
    next(it)
    it.close()
    assert wait_until(lambda: not prefetch_threads())
    assert len(list(Dataset.range(3).prefetch(1))) == 3
    assert wait_until(lambda: not prefetch_threads())
    unstarted = iter(ds)  # its thread starts at once and blocks on the full queue
    assert wait_until(lambda: len(prefetch_threads()) == 1)
    del unstarted
    gc.collect()
    assert wait_until(lambda: not prefetch_threads())


def test_take_after_prefetch_stops_the_thread():
    out = [int(x) for x in Dataset.range(10).repeat().prefetch(2).take(3)]
    assert out == [0, 1, 2]
    assert wait_until(lambda: not prefetch_threads())


def test_worker_maps_eagerly_while_the_consumer_traces_a_graph():
    """The execution context is per thread: a map running on the prefetch thread while the
    main thread builds a graph (as model.fit does when it traces its train step) must still
    compute values, not add nodes to the main thread's graph."""
    main_in_graph, mapped = threading.Event(), threading.Event()
    seen = {}

    def fn(x):
        main_in_graph.wait(5)
        y = x * 2
        seen["eager"] = isinstance(y, EagerTensor)
        mapped.set()
        return y
    it = iter(Dataset.range(1).map(fn).prefetch(1))
    graph = nf.Graph()
    with graph.as_default():
        main_in_graph.set()
        assert mapped.wait(5)
        assert not nf.executing_eagerly()
        ops_before = len(graph.get_operations())
    assert seen["eager"] and int(next(it)) == 0
    assert ops_before == 0


def test_cache_runs_the_pipeline_once():
    calls = []

    def fn(x):
        calls.append(int(x))
        return x * 10
    ds = Dataset.range(4).map(fn).cache()
    first = [int(v) for v in ds]
    second = [int(v) for v in ds]
    assert first == second == [0, 10, 20, 30] and calls == [0, 1, 2, 3]
    assert len(ds) == 4


def test_cache_keeps_nothing_from_an_unfinished_pass():
    calls = []
    ds = Dataset.range(4).map(lambda x: calls.append(int(x)) or x).cache()
    assert [int(v) for v in ds.take(2)] == [0, 1]
    assert [int(v) for v in ds] == [0, 1, 2, 3]
    assert [int(v) for v in ds] == [0, 1, 2, 3]
    assert calls == [0, 1, 0, 1, 2, 3]


def test_cache_then_shuffle_reshuffles_the_cached_elements():
    ds = Dataset.range(20).cache().shuffle(20, seed=4)
    a, b = list(ds.as_numpy_iterator()), list(ds.as_numpy_iterator())
    assert sorted(a) == sorted(b) == list(range(20)) and a != b
    with pytest.raises(NotImplementedError, match="in-memory"):
        Dataset.range(3).cache("/tmp/cache_file")
