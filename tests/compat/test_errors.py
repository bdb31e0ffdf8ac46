"""The errors a TF1 program meets: missing or misshapen feeds, uninitialized variables."""
import numpy as np
import pytest

import neuroflow as nf


@pytest.fixture
def model(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="images")
    labels = tf.placeholder(tf.int32, [None], name="labels")
    w = tf.Variable(tf.ones([3, 2]), name="weights")
    logits = tf.matmul(x, w)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    return tf, x, labels, w, logits, loss


def test_missing_feed_names_the_placeholder(model):
    tf, x, labels, w, logits, loss = model
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(nf.errors.InvalidArgumentError,
                           match=r"You must feed a value for placeholder 'images'.*\(None, 3\)"):
            sess.run(logits)
        with pytest.raises(nf.errors.InvalidArgumentError, match="placeholder 'labels'"):
            sess.run(loss, {x: np.zeros((2, 3), np.float32)})


def test_wrong_feed_shape_names_the_placeholder_and_both_shapes(model):
    tf, x, labels, w, logits, loss = model
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(ValueError, match=r"shape \(2, 4\) for 'images'.*\(None, 3\)"):
            sess.run(logits, {x: np.zeros((2, 4), np.float32)})
        with pytest.raises(ValueError, match=r"shape \(2, 1\) for 'labels'.*\(None,\)"):
            sess.run(loss, {x: np.zeros((2, 3)), labels: [[0], [1]]})


def test_feeding_a_wrong_dtype_names_the_placeholder(model):
    tf, x, labels, w, logits, loss = model
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(nf.errors.InvalidArgumentError, match="'labels' of dtype int32"):
            sess.run(loss, {x: np.zeros((1, 3)), labels: [0.5]})
        value = sess.run(loss, {x: np.zeros((1, 3)), labels: [1]})  # ints fed as lists
        np.testing.assert_allclose(value, np.log(2.0), rtol=1e-6)


def test_uninitialized_variable_is_named(model):
    tf, x, labels, w, logits, loss = model
    with tf.Session() as sess:
        with pytest.raises(nf.errors.FailedPreconditionError,
                           match="uninitialized value weights"):
            sess.run(logits, {x: np.zeros((1, 3))})
        sess.run(tf.variables_initializer([w]))
        assert sess.run(logits, {x: np.ones((1, 3))}).tolist() == [[3.0, 3.0]]


def test_variables_initializer_initializes_only_its_list(tf):
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    with tf.Session() as sess:
        sess.run(tf.variables_initializer([a]))
        assert sess.run(a) == 1.0
        with pytest.raises(nf.errors.FailedPreconditionError, match="uninitialized value b"):
            sess.run(b)
        assert sess.run(tf.initialize_all_variables()) is None
        assert sess.run(b) == 2.0


def test_placeholder_needs_graph_mode():
    import neuroflow.compat.v1 as tf
    with pytest.raises(RuntimeError, match="disable_eager_execution"):
        tf.placeholder(tf.float32, [None])


def test_get_variable_errors_name_the_variable(tf):
    with pytest.raises(ValueError, match=r"Shape of a new variable \(v\) must be fully"):
        tf.get_variable("v")
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape"):
        tf.get_variable("c", shape=[2], initializer=tf.constant([1.0, 2.0]))
