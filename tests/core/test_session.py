"""compat.v1 Session: fetch structures, feeds and their errors, variables, plan caching."""
import collections

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1


@pytest.fixture
def graph():
    g = nf.Graph()
    with g.as_default():
        x = v1.placeholder(nf.float32, [None, 2], name="inputs")
        w = nf.Variable([[1.0], [2.0]], name="w")
        y = nf.matmul(x, w)
        total = nf.reduce_sum(y)
    return g, x, w, y, total


def test_fetch_structures(graph):
    g, x, w, y, total = graph
    Pair = collections.namedtuple("Pair", "y total")
    with v1.Session(graph=g) as sess:
        sess.run(w.initializer)
        feed = {x: [[1.0, 1.0], [2.0, 0.0]]}
        out = sess.run({"pair": Pair(y, total), "list": [total, w]}, feed_dict=feed)
    assert isinstance(out["pair"], Pair)
    np.testing.assert_array_equal(out["pair"].y, [[3.0], [2.0]])
    assert out["pair"].total == 5.0 and isinstance(out["pair"].total, np.float32)
    np.testing.assert_array_equal(out["list"][1], [[1.0], [2.0]])


def test_fetching_an_op_returns_none_and_runs_it(graph):
    g, x, w, y, total = graph
    with g.as_default():
        update = w.assign_add([[1.0], [1.0]])
    with v1.Session(graph=g) as sess:
        sess.run(w.initializer)
        assert sess.run(update.op) is None
        np.testing.assert_array_equal(sess.run(w), [[2.0], [3.0]])


def test_fetched_variable_value_is_a_copy(graph):
    g, x, w, y, total = graph
    with v1.Session(graph=g) as sess:
        sess.run(w.initializer)
        value = sess.run(w)
        value[0, 0] = 100.0
        assert sess.run(w)[0, 0] == 1.0


def test_missing_feed_names_the_placeholder(graph):
    g, x, w, y, total = graph
    with v1.Session(graph=g) as sess:
        sess.run(w.initializer)
        with pytest.raises(nf.errors.InvalidArgumentError,
                           match=r"placeholder 'inputs'.*\(None, 2\)"):
            sess.run(total)


def test_wrong_feed_shape_names_placeholder_and_both_shapes(graph):
    g, x, w, y, total = graph
    with v1.Session(graph=g) as sess:
        sess.run(w.initializer)
        with pytest.raises(ValueError, match=r"\(3, 5\).*'inputs'.*\(None, 2\)"):
            sess.run(total, {x: np.zeros((3, 5))})
        with pytest.raises(nf.errors.InvalidArgumentError, match="inputs"):
            sess.run(total, {x: [["a", "b"]]})


def test_feed_values_are_converted_to_placeholder_dtype(graph):
    g, x, w, y, total = graph
    with v1.Session(graph=g) as sess:
        sess.run(w.initializer)
        assert sess.run(total, {x: np.ones((1, 2), np.float64)}) == 3.0


def test_any_tensor_can_be_fed(graph):
    g, x, w, y, total = graph
    with v1.Session(graph=g) as sess:
        assert sess.run(total, {y: [[10.0], [5.0]]}) == 15.0


def test_fetch_by_name_and_default_session(graph):
    g, x, w, y, total = graph
    with v1.Session(graph=g) as sess:
        sess.run("w/Assign")
        np.testing.assert_array_equal(sess.run("w/read:0"), [[1.0], [2.0]])
        assert total.eval(feed_dict={x: [[1.0, 1.0]]}) == 3.0


def test_closed_session_and_bad_fetch(graph):
    g, x, w, y, total = graph
    sess = v1.Session(graph=g)
    with pytest.raises(TypeError, match="invalid type"):
        sess.run(None)
    sess.close()
    with pytest.raises(RuntimeError, match="closed"):
        sess.run(total)


def test_runtime_error_names_the_op():
    g = nf.Graph()
    with g.as_default():
        a = v1.placeholder(nf.float32, None, name="a")
        b = v1.placeholder(nf.float32, None, name="b")
        c = nf.matmul(a, b, name="product")
    with v1.Session(graph=g) as sess:
        with pytest.raises(nf.errors.InvalidArgumentError, match="product"):
            sess.run(c, {a: np.ones((2, 3)), b: np.ones((2, 3))})


def test_eager_disabled_mode_builds_in_default_graph():
    v1.disable_eager_execution()
    try:
        assert not nf.executing_eagerly()
        x = v1.placeholder(nf.float32, [None])
        y = x * 2.0
        assert y.graph is v1.get_default_graph()
        with v1.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [2.0, 4.0])
    finally:
        v1.enable_eager_execution()
        v1.reset_default_graph()
    assert nf.executing_eagerly()
    with pytest.raises(RuntimeError, match="eager"):
        v1.placeholder(nf.float32, [None])
