"""A TF1 convnet (the classic "Deep MNIST for experts" layout, shrunk) runs unchanged with
`import neuroflow.compat.v1 as tf`, and the TF1 spellings agree with TF2's ops."""
import numpy as np
import pytest

import neuroflow as nf


def _images(n, rng):
    """8x8 images: a bright 3x3 square in the left half (class 0) or the right half (1)."""
    x = rng.uniform(0, 0.2, (n, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 2, n)
    for i, label in enumerate(y):
        col = rng.integers(0, 2) + (5 if label else 0)
        row = rng.integers(0, 6)
        x[i, row:row + 3, col:col + 2, 0] += 1.0
    return x, np.eye(2, dtype=np.float32)[y]


def test_tf1_convnet_trains_in_a_session(tf):
    rng = np.random.default_rng(0)
    x_train, y_train = _images(256, rng)
    x_test, y_test = _images(128, rng)
    tf.set_random_seed(1)

    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    y_ = tf.placeholder(tf.float32, [None, 2])
    keep_prob = tf.placeholder(tf.float32)
    W_conv1 = tf.Variable(tf.truncated_normal([3, 3, 1, 8], stddev=0.1))
    b_conv1 = tf.Variable(tf.constant(0.1, shape=[8]))
    h_conv1 = tf.nn.relu(tf.nn.conv2d(x, W_conv1, strides=[1, 1, 1, 1], padding="SAME")
                         + b_conv1)
    h_pool1 = tf.nn.max_pool(h_conv1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                             padding="SAME")
    assert h_pool1.get_shape().as_list() == [None, 4, 4, 8]
    h_flat = tf.reshape(h_pool1, [-1, 4 * 4 * 8])
    W_fc = tf.Variable(tf.random_normal([4 * 4 * 8, 2], stddev=0.1))
    b_fc = tf.Variable(tf.zeros([2]))
    logits = tf.matmul(tf.nn.dropout(h_flat, keep_prob=keep_prob), W_fc) + b_fc
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_,
                                                                     logits=logits))
    train_step = tf.train.AdamOptimizer(1e-2).minimize(loss)
    correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(60):
            batch = slice((step * 32) % 256, (step * 32) % 256 + 32)
            sess.run(train_step, feed_dict={x: x_train[batch], y_: y_train[batch],
                                            keep_prob: 0.8})
        test_accuracy = sess.run(accuracy, feed_dict={x: x_test, y_: y_test, keep_prob: 1.0})
    assert test_accuracy >= 0.9


def test_tf1_pool_and_conv_spellings_match_tf2():
    from neuroflow.compat.v1 import nn as v1nn
    rng = np.random.default_rng(0)
    x = nf.constant(rng.standard_normal((2, 7, 7, 3)).astype(np.float32))
    w = nf.constant(rng.standard_normal((3, 3, 3, 4)).astype(np.float32))
    np.testing.assert_allclose(
        v1nn.conv2d(x, filter=w, strides=[1, 2, 2, 1], padding="SAME").numpy(),
        nf.nn.conv2d(x, w, 2, "SAME").numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        v1nn.max_pool(x, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="VALID").numpy(),
        nf.nn.max_pool2d(x, 3, 2, "VALID").numpy())
    np.testing.assert_allclose(
        v1nn.avg_pool(value=x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                      padding="SAME").numpy(),
        nf.nn.avg_pool2d(x, 2, 2, "SAME").numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="both"):
        v1nn.conv2d(x, filter=w, filters=w, strides=1, padding="SAME")
