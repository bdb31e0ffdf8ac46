"""get_variable and variable_scope: names, reuse, AUTO_REUSE, initializers, regularizers."""
import numpy as np
import pytest


def test_names_and_op_prefixes(tf):
    with tf.variable_scope("foo"):
        with tf.variable_scope("bar"):
            v = tf.get_variable("v", [1])
            x = 1.0 + v
    assert v.name == "foo/bar/v:0"
    assert x.op.name.startswith("foo/bar/")
    assert tf.get_variable_scope().name == ""


def test_reuse_true_returns_the_same_variable(tf):
    with tf.variable_scope("layer"):
        w = tf.get_variable("w", [3, 2])
    with tf.variable_scope("layer", reuse=True):
        assert tf.get_variable("w", [3, 2]) is w
        assert tf.get_variable("w") is w
    with tf.variable_scope("layer") as scope:
        scope.reuse_variables()
        assert tf.get_variable("w") is w
    assert len(tf.global_variables()) == 1


def test_reuse_true_requires_an_existing_variable(tf):
    with tf.variable_scope("layer", reuse=True):
        with pytest.raises(ValueError, match="Variable layer/w does not exist"):
            tf.get_variable("w", [1])


def test_creating_twice_without_reuse_is_an_error(tf):
    with tf.variable_scope("layer"):
        tf.get_variable("w", [1])
    with tf.variable_scope("layer"):
        with pytest.raises(ValueError, match="Variable layer/w already exists, disallowed"):
            tf.get_variable("w", [1])


def test_auto_reuse_creates_once(tf):
    def layer():
        with tf.variable_scope("shared", reuse=tf.AUTO_REUSE):
            return tf.get_variable("w", [2], initializer=tf.ones_initializer())
    a, b = layer(), layer()
    assert a is b and a.name == "shared/w:0"
    assert len(tf.trainable_variables()) == 1


def test_reuse_is_inherited_and_cannot_be_switched_off(tf):
    with tf.variable_scope("outer"):
        with tf.variable_scope("inner"):
            w = tf.get_variable("w", [1])
    with tf.variable_scope("outer", reuse=True):
        with tf.variable_scope("inner", reuse=False):
            assert tf.get_variable_scope().reuse is True
            assert tf.get_variable("w") is w


def test_sharing_checks_shape_and_dtype(tf):
    with tf.variable_scope("s"):
        tf.get_variable("w", [2, 3])
    with tf.variable_scope("s", reuse=True):
        with pytest.raises(ValueError, match=r"specified shape \(3, 2\) and found shape"):
            tf.get_variable("w", [3, 2])
        with pytest.raises(ValueError, match="specified dtype float64 and found dtype float32"):
            tf.get_variable("w", dtype=tf.float64)


def test_reentering_with_a_scope_object(tf):
    with tf.variable_scope("model") as model_scope:
        w = tf.get_variable("w", [1])
    with tf.variable_scope("elsewhere"):
        with tf.variable_scope(model_scope, reuse=True):
            assert tf.get_variable_scope().name == "model"
            assert tf.get_variable("w") is w
            y = w * 2.0
    assert y.op.name.startswith("model/")


def test_default_names_are_made_unique(tf):
    names = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="dense") as scope:
            names.append(scope.name)
            tf.get_variable("kernel", [1])
    assert names == ["dense", "dense_1", "dense_2"]


def test_default_initializer_is_glorot_uniform(tf):
    tf.set_random_seed(0)
    w = tf.get_variable("w", [200, 300])
    count = tf.get_variable("count", [], dtype=tf.int32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value, n = sess.run([w, count])
    limit = np.sqrt(6.0 / (200 + 300))
    assert value.dtype == np.float32
    assert np.abs(value).max() <= limit
    assert np.abs(value).max() > 0.99 * limit
    assert abs(value.std() - limit / np.sqrt(3.0)) < 0.01 * limit
    assert n == 0


def test_initializer_arguments(tf):
    tf.set_random_seed(1)
    with tf.variable_scope("init", initializer=tf.constant_initializer(0.5)):
        inherited = tf.get_variable("inherited", [2])
        const = tf.get_variable("const", initializer=tf.constant([1.0, 2.0, 3.0]))
        listed = tf.get_variable("listed", [2, 2], initializer=tf.constant_initializer(
            [1, 2, 3, 4]))
        normal = tf.get_variable("normal", [4000],
                                 initializer=tf.truncated_normal_initializer(stddev=0.1))
        zeros = tf.get_variable("zeros", [2], dtype=tf.float64, initializer=tf.zeros_initializer)
        frozen = tf.get_variable("frozen", [1], trainable=False)
    assert const.shape.as_list() == [3]
    assert zeros.dtype == tf.float64
    assert all(v is not frozen for v in tf.trainable_variables())
    assert any(v is frozen for v in tf.global_variables())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run([inherited, const, listed, normal, zeros])
    np.testing.assert_array_equal(values[0], [0.5, 0.5])
    np.testing.assert_array_equal(values[1], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(values[2], [[1.0, 2.0], [3.0, 4.0]])
    assert np.abs(values[3]).max() <= 0.2 and abs(values[3].std() - 0.088) < 0.005
    assert values[4].dtype == np.float64


def test_initializers_are_graph_nodes_seeded_by_the_graph(tf):
    """Re-running a random initializer draws again; a graph built with the same seed replays."""
    def build():
        tf.reset_default_graph()
        tf.set_random_seed(7)
        return tf.get_variable("w", [3], initializer=tf.random_normal_initializer())
    w = build()
    with tf.Session() as sess:
        sess.run(w.initializer)
        first = sess.run(w)
        sess.run(w.initializer)
        second = sess.run(w)
    assert not np.array_equal(first, second)
    w = build()
    with tf.Session() as sess:
        sess.run(w.initializer)
        np.testing.assert_array_equal(sess.run(w), first)


def test_regularizer_losses_are_collected(tf):
    def l2(v):
        return 0.5 * tf.reduce_sum(tf.square(v))
    with tf.variable_scope("reg", regularizer=l2):
        w = tf.get_variable("w", [2], initializer=tf.constant_initializer(2.0))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 1
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run(losses[0]) == 4.0
