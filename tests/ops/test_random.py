"""Random ops (neuroflow/ops/random.py, random_seed.py): seeds, sequences, graphs, distributions.

Random ops are not in the op table: their values are draws, so the table's checks (eager ==
graph == nf.function on the same sample, finite differences) do not apply. The tests below
pin the seed semantics instead, and check the distributions on 10^5 draws.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from neuroflow.ops.random import random_uniform_like
from neuroflow.ops.random_seed import DEFAULT_GRAPH_SEED, get_seed, new_generator

N = 100_000


@pytest.fixture(autouse=True)
def no_global_seed():
    """Every test starts, and leaves the suite, without a global seed."""
    nf.random.set_seed(None)
    yield
    nf.random.set_seed(None)


def _run_fresh(code):
    """Runs ``code`` in a fresh interpreter; returns what it prints."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, check=True, timeout=120)
    return out.stdout.strip()


# -- eager seed semantics -----------------------------------------------------------------


PROGRAM = """
    import neuroflow as nf
    nf.random.set_seed(1234)
    a1 = nf.random.uniform([3]).numpy()
    a2 = nf.random.uniform([3]).numpy()
    b1 = nf.random.normal([2], seed=7).numpy()
    b2 = nf.random.normal([2], seed=7).numpy()
    print(repr([a1.tolist(), a2.tolist(), b1.tolist(), b2.tolist()]))
"""


def test_global_seed_gives_the_same_numbers_in_a_fresh_interpreter():
    first = _run_fresh(PROGRAM)
    assert first == _run_fresh(PROGRAM)
    a1, a2, b1, b2 = eval(first)
    assert a1 != a2 and b1 != b2  # a sequence of different values, not one value repeated
    # and this process, seeded the same way, draws the same sequence
    nf.random.set_seed(1234)
    assert nf.random.uniform([3]).numpy().tolist() == a1
    assert nf.random.uniform([3]).numpy().tolist() == a2


def test_op_seed_alone_is_reproducible_across_interpreters():
    code = """
        import neuroflow as nf
        print(repr([nf.random.uniform([4], seed=5).numpy().tolist() for _ in range(2)]))
    """
    first = _run_fresh(code)
    assert first == _run_fresh(code)
    one, two = eval(first)
    assert one != two


def test_set_seed_restarts_the_sequence():
    nf.random.set_seed(3)
    first = [nf.random.normal([4]).numpy() for _ in range(3)]
    seeded = [nf.random.uniform([2], seed=11).numpy() for _ in range(2)]
    nf.random.set_seed(3)
    again = [nf.random.normal([4]).numpy() for _ in range(3)]
    seeded_again = [nf.random.uniform([2], seed=11).numpy() for _ in range(2)]
    for a, b in zip(first + seeded, again + seeded_again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(seeded[0], seeded[1])


def test_different_global_seeds_give_different_numbers():
    nf.random.set_seed(1)
    a = nf.random.normal([5]).numpy()
    nf.random.set_seed(2)
    assert not np.array_equal(a, nf.random.normal([5]).numpy())


def test_op_seed_without_global_seed_uses_the_default_global_seed():
    assert get_seed(9) == (DEFAULT_GRAPH_SEED, 9)
    assert get_seed(None) == (None, None)
    a = nf.random.normal([3], seed=9).numpy()
    nf.random.set_seed(DEFAULT_GRAPH_SEED)  # restarts the op seed's sequence, same pair
    np.testing.assert_array_equal(a, nf.random.normal([3], seed=9).numpy())


def test_unseeded_draws_differ():
    assert not np.array_equal(nf.random.normal([8]).numpy(), nf.random.normal([8]).numpy())


# -- graphs and functions -----------------------------------------------------------------


def _graph_with_seed(seed):
    g = nf.Graph()
    with g.as_default():
        v1.set_random_seed(seed)
        a = nf.random.normal([3])
        b = nf.random.uniform([2], seed=4)
    return g, a, b


def test_graph_nodes_draw_anew_on_each_run_and_replay_with_the_graph_seed():
    g, a, b = _graph_with_seed(42)
    assert g.seed == 42
    with v1.Session(graph=g) as sess:
        runs = [sess.run([a, b]) for _ in range(3)]
    assert not np.array_equal(runs[0][0], runs[1][0])
    assert not np.array_equal(runs[0][1], runs[1][1])
    g2, a2, b2 = _graph_with_seed(42)
    with v1.Session(graph=g2) as sess:
        replay = [sess.run([a2, b2]) for _ in range(3)]
    for (x, y), (x2, y2) in zip(runs, replay):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
    g3, a3, _ = _graph_with_seed(43)
    with v1.Session(graph=g3) as sess:
        assert not np.array_equal(sess.run(a3), runs[0][0])


def test_graph_and_eager_with_the_same_seed_pair_start_with_the_same_numbers():
    nf.random.set_seed(42)
    eager_b = nf.random.uniform([2], seed=4).numpy()
    g, a, b = _graph_with_seed(42)
    with v1.Session(graph=g) as sess:
        np.testing.assert_array_equal(sess.run(b), eager_b)


def test_a_fetched_random_tensor_is_drawn_once_per_run():
    g = nf.Graph()
    with g.as_default():
        x = nf.random.uniform([4], seed=1)
        y = nf.random.uniform([4], seed=2)
        diff = x - x
    with v1.Session(graph=g) as sess:
        xv, dv, yv = sess.run([x, diff, y])
    np.testing.assert_array_equal(dv, np.zeros(4, np.float32))
    assert not np.array_equal(xv, yv)


def test_graph_seed_is_per_graph_and_eager_seed_does_not_leak_into_graphs():
    nf.random.set_seed(5)
    g = nf.Graph()
    assert g.seed is None
    assert get_seed(None, g) == (None, None)
    assert get_seed(3, g) == (DEFAULT_GRAPH_SEED, 3)


def test_random_ops_in_nf_function_draw_on_every_call_reproducibly():
    def values():
        nf.random.set_seed(8)
        fn = nf.function(lambda x: x + nf.random.normal([3]))
        zero = nf.constant(np.zeros(3, np.float32))
        return [fn(zero).numpy() for _ in range(3)]
    first = values()
    assert not np.array_equal(first[0], first[1])
    for a, b in zip(first, values()):
        np.testing.assert_array_equal(a, b)


def test_dynamic_shape_in_a_graph():
    g = nf.Graph()
    with g.as_default():
        x = v1.placeholder(nf.float32, [None, 3])
        noise = nf.random.uniform(nf.shape(x), seed=1)
        assert noise.shape.rank == 2
        like = random_uniform_like(x, seed=2)
        assert like.shape.as_list() == [None, 3]
        mixed = nf.random.normal([nf.shape(x)[0], 4])  # TF1's [tf.shape(x)[0], n] idiom
        assert mixed.shape.as_list() == [None, 4]
    with v1.Session(graph=g) as sess:
        a, b, c = sess.run([noise, like, mixed], {x: np.zeros((5, 3), np.float32)})
    assert a.shape == b.shape == (5, 3) and c.shape == (5, 4)
    assert a.dtype == b.dtype == np.float32


def test_static_shape_in_a_graph():
    g = nf.Graph()
    with g.as_default():
        assert nf.random.normal([2, 5]).shape.as_list() == [2, 5]
        assert nf.random.uniform([4], maxval=9, dtype=nf.int64).shape.as_list() == [4]
        logits = v1.placeholder(nf.float32, [None, 4])
        assert nf.random.categorical(logits, 7).shape.as_list() == [None, 7]


# -- arguments ----------------------------------------------------------------------------


def test_tensor_mean_and_stddev_broadcast_and_carry_gradients():
    mean = nf.Variable([0.0, 10.0, 20.0])
    stddev = nf.Variable(2.0)
    with nf.GradientTape() as tape:
        x = nf.random.normal([4, 3], mean=mean, stddev=stddev, seed=1)
        loss = nf.reduce_sum(x)
    assert x.shape == (4, 3)
    g_mean, g_std = tape.gradient(loss, [mean, stddev])
    np.testing.assert_allclose(g_mean.numpy(), [4.0, 4.0, 4.0])
    eps = (x.numpy() - np.array([0.0, 10.0, 20.0], np.float32)) / 2.0
    np.testing.assert_allclose(g_std.numpy(), eps.sum(), rtol=1e-5)


def test_graph_gradients_through_a_draw():
    g = nf.Graph()
    with g.as_default():
        mu = v1.placeholder(nf.float32, [])
        x = nf.random.normal([10], mean=mu, seed=3)
        (grad,) = nf.gradients(nf.reduce_sum(x), [mu])
    with v1.Session(graph=g) as sess:
        assert sess.run(grad, {mu: 1.0}) == 10.0


@pytest.mark.parametrize("dtype", [nf.float16, nf.float32, nf.float64])
def test_float_dtypes(dtype):
    for fn in (nf.random.normal, nf.random.uniform, nf.random.truncated_normal):
        x = fn([50], dtype=dtype, seed=1)
        assert x.dtype == dtype
        assert x.numpy().dtype == dtype.np_dtype


def test_errors():
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype int32"):
        nf.random.uniform([2], dtype=nf.int32)
    with pytest.raises(TypeError, match="int32 is not one of the allowed dtypes"):
        nf.random.normal([2], dtype=nf.int32)
    with pytest.raises(ValueError, match="minval < maxval"):
        nf.random.uniform([2], minval=5, maxval=5, dtype=nf.int32)
    with pytest.raises(ValueError, match="2-D"):
        nf.random.categorical(nf.constant([1.0, 2.0]), 3)
    with pytest.raises(ValueError, match="partially known"):
        nf.random.normal(nf.TensorShape([None, 2]))


def test_shape_may_be_a_tensor_or_a_tensorshape():
    assert nf.random.normal(nf.constant([2, 3])).shape == (2, 3)
    assert nf.random.normal(nf.TensorShape([4, 1])).shape == (4, 1)
    assert nf.random.normal([]).shape == ()
    assert nf.random.normal([nf.constant(2), 3]).shape == (2, 3)


# -- distributions ------------------------------------------------------------------------


def test_normal_distribution():
    x = nf.random.normal([N], mean=3.0, stddev=2.0, seed=1).numpy()
    assert abs(x.mean() - 3.0) < 0.03
    assert abs(x.std() - 2.0) < 0.03


def test_truncated_normal_bounds_and_spread():
    x = nf.random.truncated_normal([N], mean=1.0, stddev=0.5, seed=1).numpy()
    assert x.min() >= 0.0 and x.max() <= 2.0
    assert abs(x.mean() - 1.0) < 0.01
    # a unit normal cut at +-2 has stddev 0.8796
    assert abs(x.std() - 0.5 * 0.87962566) < 0.01
    # the tails are kept up to the bound: P(1.8 < |z| <= 2 | |z| <= 2) = 0.0276
    assert abs((np.abs(x - 1.0) > 0.9).mean() - 0.0276) < 0.003


def test_uniform_float_distribution():
    x = nf.random.uniform([N], minval=-2.0, maxval=6.0, seed=1).numpy()
    assert x.min() >= -2.0 and x.max() < 6.0
    assert abs(x.mean() - 2.0) < 0.05
    assert abs(x.std() - 8.0 / np.sqrt(12.0)) < 0.05
    half = nf.random.uniform([N], dtype=nf.float16, seed=2).numpy()
    assert half.min() >= 0.0 and half.max() < 1.0


@pytest.mark.parametrize("dtype", [nf.int32, nf.int64])
def test_uniform_int_distribution(dtype):
    x = nf.random.uniform([N], minval=-3, maxval=4, dtype=dtype, seed=1).numpy()
    assert x.dtype == dtype.np_dtype
    counts = np.bincount(x + 3, minlength=7)
    assert len(counts) == 7  # never maxval
    np.testing.assert_allclose(counts / N, np.full(7, 1 / 7), atol=0.01)


def test_shuffle_permutes_rows_together():
    value = np.arange(20).reshape(10, 2)
    out = nf.random.shuffle(nf.constant(value), seed=1).numpy()
    assert sorted(out[:, 0].tolist()) == list(range(0, 20, 2))
    np.testing.assert_array_equal(out[:, 1], out[:, 0] + 1)
    assert not np.array_equal(out, value)
    firsts = np.array([nf.random.shuffle(nf.range(4), seed=2).numpy()[0] for _ in range(4000)])
    np.testing.assert_allclose(np.bincount(firsts) / 4000, np.full(4, 0.25), atol=0.03)


def test_categorical_frequencies_follow_the_softmax():
    probs = np.array([[0.1, 0.6, 0.3, 0.0], [0.25, 0.25, 0.25, 0.25]])
    with np.errstate(divide="ignore"):
        logits = nf.constant(np.log(probs).astype(np.float32) + 5.0)
    draws = nf.random.categorical(logits, N // 2, seed=1)
    assert draws.dtype == nf.int64 and draws.shape == (2, N // 2)
    for row, p in zip(draws.numpy(), probs):
        np.testing.assert_allclose(np.bincount(row, minlength=4) / len(row), p, atol=0.01)
    as_int32 = nf.random.categorical(logits, 3, dtype=nf.int32, seed=1)
    assert as_int32.dtype == nf.int32


# -- helpers for other modules ------------------------------------------------------------


def test_random_uniform_like_follows_x():
    x = nf.constant(np.zeros((3, 4), np.float64))
    u = random_uniform_like(x, seed=1)
    assert u.dtype == nf.float64 and u.shape == (3, 4)
    assert 0.0 <= u.numpy().min() and u.numpy().max() < 1.0
    assert not np.array_equal(u.numpy(), random_uniform_like(x, seed=1).numpy())


def test_new_generator_seeding():
    a = new_generator(5).standard_normal(3)
    np.testing.assert_array_equal(a, new_generator(5).standard_normal(3))  # int seed repeats
    nf.random.set_seed(7)
    first = [new_generator().standard_normal(3) for _ in range(2)]
    nf.random.set_seed(7)
    again = [new_generator().standard_normal(3) for _ in range(2)]
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1])
