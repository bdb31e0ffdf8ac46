"""backend.threads: splitting work over threads, and the kernels that do, split == unsplit."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.backend import threads


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setattr(threads, "BLAS_THREADS", 2)
    monkeypatch.setattr(threads, "_intra_op", 0)


def test_split_covers_the_range_evenly(two_threads):
    assert threads.split(10) == [(0, 10)]  # outside a splitting plan: one part
    assert threads.split(10, always=True) == [(0, 5), (5, 10)]
    with threads.owned():
        assert threads.split(11) == [(0, 5), (5, 11)]
        assert threads.split(11, min_part=6) == [(0, 11)]  # parts would be too small
        assert threads.split(0) == [(0, 0)]
    assert threads.split(10) == [(0, 10)]  # owned() has ended


def test_run_returns_results_in_order_and_uses_another_thread(two_threads):
    seen = {}

    def part(a, b):
        seen[a] = threading.get_ident()
        return list(range(a, b))

    assert threads.run(part, [(0, 3), (3, 5), (5, 6)]) == [[0, 1, 2], [3, 4], [5]]
    assert seen[0] == threading.get_ident()  # the caller does the first part
    assert len(set(seen.values())) == 3


def test_run_raises_a_parts_error_after_all_parts_finished(two_threads):
    done = []

    def part(a, b):
        if a == 0:
            raise ValueError("part 0 failed")
        done.append(a)

    with pytest.raises(ValueError, match="part 0 failed"):
        threads.run(part, [(0, 1), (1, 2)])
    assert done == [1]

    def other(a, b):
        if a == 1:
            raise KeyError("worker failed")

    with pytest.raises(KeyError, match="worker failed"):
        threads.run(other, [(0, 1), (1, 2)])
    assert threads.run(lambda a, b: a, [(0, 1), (1, 2)]) == [0, 1]  # workers still work


def test_a_part_does_not_split_again(two_threads):
    inner = []

    def part(a, b):
        inner.append((threads.intra_op_threads(), threads.split(10, always=True)))

    threads.run(part, [(0, 1), (1, 2)])
    assert inner == [(1, [(0, 10)])] * 2


def test_runs_from_two_threads_at_once(two_threads):
    results, errors = [], []

    def caller(k):
        try:
            for _ in range(50):
                results.append(threads.run(lambda a, b: (k, a), [(0, 1), (1, 2)]))
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    callers = [threading.Thread(target=caller, args=(k,)) for k in range(2)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert not errors
    assert sorted(results) == sorted([[(k, 0), (k, 1)] for k in range(2) for _ in range(50)])


def test_the_blas_runs_one_thread_inside_a_part_and_gets_its_count_back():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(2):
        if threads.blas_threads() != 2:
            pytest.skip("the BLAS's thread count cannot be asked here")
        inside = threads.run(lambda a, b: threads._blas_functions()[0](), [(0, 1), (1, 2)])
        assert inside == [1, 1]
        assert threads.blas_threads() == 2
    with threadpoolctl.threadpool_limits(1):
        assert threads.blas_threads() == 1
        assert threads.intra_op_threads() == 1


def test_config_threading_sets_the_count(monkeypatch):
    monkeypatch.setattr(threads, "_intra_op", 0)
    assert nf.config.threading.get_intra_op_parallelism_threads() == 0
    nf.config.threading.set_intra_op_parallelism_threads(3)
    assert threads.intra_op_threads() == 3
    assert threads.split(9, always=True) == [(0, 3), (3, 6), (6, 9)]
    nf.config.threading.set_intra_op_parallelism_threads(0)
    assert threads.intra_op_threads() == threads.blas_threads()
    with pytest.raises(ValueError, match=">= 0"):
        nf.config.threading.set_intra_op_parallelism_threads(-1)


def test_elementwise_splits_flat_parts(two_threads, monkeypatch):
    monkeypatch.setattr(threads, "MIN_SPLIT", 4)
    x = np.arange(24.0).reshape(4, 6) - 10
    out = np.empty_like(x)
    calls = []

    def relu(o, a):
        calls.append(o.size)
        np.maximum(a, 0, out=o)

    with threads.owned():
        threads.elementwise(relu, out, x)
        np.testing.assert_array_equal(out, np.maximum(x, 0))
        assert calls == [12, 12]
        threads.elementwise(relu, out[:, ::2].copy(), x[:, ::2])  # not contiguous: whole
        assert calls[-1] == 12


# -- kernels give the same results split and whole --------------------------------------

def _model_step():
    """Loss, gradients and Adam-updated weights of a small CNN, in a compiled function."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype(np.float32) * 0.2
               for s in [(3, 3, 3, 8), (8,), (3, 3, 8, 16), (16,), (16 * 4 * 4, 32), (32,),
                         (32, 5)]]
    variables = [nf.Variable(w) for w in weights]
    x = nf.constant(rng.standard_normal((32, 16, 16, 3)).astype(np.float32))
    labels = nf.constant(rng.integers(0, 5, 32).astype(np.int64))
    optimizer = nf.keras.optimizers.Adam(0.01)

    @nf.function
    def step():
        with nf.GradientTape() as tape:
            h = x
            for k in (0, 2):
                h = nf.nn.relu(nf.nn.bias_add(nf.nn.conv2d(h, variables[k], 1, "SAME"),
                                              variables[k + 1]))
                h = nf.nn.max_pool2d(h, 2, 2, "VALID")
            h = nf.nn.relu(nf.matmul(nf.reshape(h, [32, -1]), variables[4]) + variables[5])
            loss = nf.reduce_mean(nf.nn.sparse_softmax_cross_entropy_with_logits(
                labels, nf.matmul(h, variables[6])))
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss, grads

    losses, grads = [], None
    for _ in range(3):
        loss, grads = step()
        losses.append(loss.numpy())
    return losses, [g.numpy() for g in grads], [v.numpy() for v in variables]


def test_split_kernels_give_the_whole_kernels_results(monkeypatch):
    """Every kernel that splits (convolutions, pooling, bias, ReLU, MatMul, Adam), with
    parts small enough that each splits, against the same step on one thread."""
    from neuroflow.ops import linalg
    from neuroflow.optimizers import kernels
    monkeypatch.setattr(threads, "_intra_op", 1)
    whole = _model_step()
    monkeypatch.setattr(threads, "_intra_op", 2)
    monkeypatch.setattr(threads, "MIN_SPLIT", 64)
    monkeypatch.setattr(linalg, "PARALLEL_MACS", 1)
    monkeypatch.setattr(kernels, "CHUNK", 100)  # Adam: chunks of 100 in each thread's part
    real_run, splits = threads.run, []

    def spy(fn, parts):
        splits.append(len(parts))
        return real_run(fn, parts)

    monkeypatch.setattr(threads, "run", spy)
    split = _model_step()
    assert splits.count(2) >= 3 * 15  # each step's convs, pools, bias, relu, matmul, Adam
    for a, b in zip(whole[0] + whole[1] + whole[2], split[0] + split[1] + split[2]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_an_interrupted_run_does_not_reuse_a_busy_worker(two_threads, monkeypatch):
    """Ctrl-C while a worker still runs its part: that worker is dropped, so the next run
    cannot collect the old part's result as its own."""
    release = threading.Event()
    threads.run(lambda a, b: None, [(0, 1), (1, 2)])  # a worker exists
    worker = threads._workers[0]

    def slow(a, b):
        if a == 1:
            release.wait(5)
        return a

    real_finish = type(worker).finish

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(worker), "finish", interrupted)
    with pytest.raises(KeyboardInterrupt):
        threads.run(slow, [(0, 1), (1, 2)])
    monkeypatch.setattr(type(worker), "finish", real_finish)
    assert worker not in threads._workers
    release.set()
    assert threads.run(lambda a, b: a * 10, [(0, 1), (1, 2)]) == [0, 10]


def test_split_transformer_kernels_give_the_whole_kernels_results(monkeypatch):
    """Softmax and layer norm rows, a big dense layer's fused epilogue and a stack of
    attention products, split over two threads (in a split plan), against one thread."""
    from neuroflow.ops import linalg

    def attention_block():
        rng = np.random.default_rng(3)
        x = nf.constant(rng.standard_normal((4, 6, 8)).astype(np.float32))
        w = nf.constant(rng.standard_normal((8, 8)).astype(np.float32))
        b = nf.constant(rng.standard_normal(8).astype(np.float32))

        @nf.function
        def block(h):
            q = nf.nn.gelu(nf.matmul(h, w) + b)
            scores = nf.nn.softmax(nf.matmul(q, h, transpose_b=True))
            return nf.nn.layer_normalization(nf.matmul(scores, h))
        return block(x).numpy()

    monkeypatch.setattr(threads, "_intra_op", 1)
    whole = attention_block()
    monkeypatch.setattr(threads, "_intra_op", 2)
    monkeypatch.setattr(threads, "MIN_SPLIT", 16)
    monkeypatch.setattr(linalg, "PARALLEL_MACS", 1)
    real_run, splits = threads.run, []

    def spy(fn, parts):
        splits.append(len(parts))
        return real_run(fn, parts)
    monkeypatch.setattr(threads, "run", spy)
    split = attention_block()
    assert splits.count(2) >= 3  # the dense layer (product and epilogue), both products
    np.testing.assert_allclose(split, whole, rtol=1e-5, atol=1e-6)
