"""TF1 initializers (neuroflow/compat/v1/initializers.py), called eagerly on shapes."""
import numpy as np
import pytest

import neuroflow.compat.v1 as tf

SHAPE = [300, 200]


def _values(init, shape=SHAPE, dtype=None):
    return init(shape, dtype=dtype).numpy()


def test_constant_initializers():
    np.testing.assert_array_equal(_values(tf.zeros_initializer(), [2]), [0.0, 0.0])
    np.testing.assert_array_equal(_values(tf.ones_initializer(), [2], tf.int32), [1, 1])
    np.testing.assert_array_equal(_values(tf.constant_initializer(3.0), [2]), [3.0, 3.0])
    np.testing.assert_array_equal(_values(tf.constant_initializer([1, 2, 3, 4]), [2, 2]),
                                  [[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("name, init, limit, std", [
    ("glorot_uniform", tf.glorot_uniform_initializer(seed=1), np.sqrt(6 / 500),
     np.sqrt(2 / 500)),
    ("glorot_normal", tf.glorot_normal_initializer(seed=1), 2 * np.sqrt(1 / 250) / 0.8796,
     np.sqrt(1 / 250)),
    ("he_normal", tf.initializers.he_normal(seed=1), 2 * np.sqrt(2 / 300) / 0.8796,
     np.sqrt(2 / 300)),
    ("lecun_uniform", tf.initializers.lecun_uniform(seed=1), np.sqrt(3 / 300),
     np.sqrt(1 / 300)),
    ("variance_scaling_fan_out", tf.variance_scaling_initializer(2.0, "fan_out", "uniform",
                                                                  seed=1),
     np.sqrt(6 / 200), np.sqrt(2 / 200)),
    ("untruncated", tf.variance_scaling_initializer(distribution="untruncated_normal",
                                                    seed=1), None, np.sqrt(1 / 300)),
])
def test_variance_scaling_family(name, init, limit, std):
    values = _values(init)
    assert values.dtype == np.float32
    if limit is not None:
        assert np.abs(values).max() <= limit * 1.0001
    assert abs(values.std() - std) < 0.02 * std, name


def test_random_initializers_and_seeds():
    a = _values(tf.random_normal_initializer(mean=1.0, stddev=0.5, seed=3))
    b = _values(tf.random_normal_initializer(mean=1.0, stddev=0.5, seed=3))
    assert abs(a.mean() - 1.0) < 0.01 and abs(a.std() - 0.5) < 0.01
    assert not np.array_equal(a, b)  # an op seed gives a sequence, as tf.random ops do
    u = _values(tf.random_uniform_initializer(-0.1, 0.1, seed=3))
    assert u.min() >= -0.1 and u.max() < 0.1
    t = _values(tf.truncated_normal_initializer(stddev=0.1, seed=3))
    assert np.abs(t).max() <= 0.2


def test_conv_kernel_fans():
    # a 3x3 kernel, 16 -> 32 channels: fan_in 144, fan_out 288
    values = _values(tf.glorot_uniform_initializer(seed=2), [3, 3, 16, 32])
    limit = np.sqrt(6 / (144 + 288))
    assert np.abs(values).max() <= limit and np.abs(values).max() > 0.99 * limit


def test_orthogonal():
    q = _values(tf.orthogonal_initializer(gain=2.0, seed=1), [6, 4]).astype(np.float64)
    np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(4), atol=1e-5)
    wide = _values(tf.orthogonal_initializer(seed=1), [3, 5]).astype(np.float64)
    np.testing.assert_allclose(wide @ wide.T, np.eye(3), atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Invalid mode"):
        tf.variance_scaling_initializer(mode="fan_sideways")
    with pytest.raises(ValueError, match="at least two-dimensional"):
        tf.orthogonal_initializer()([3])


def test_initializers_namespace(tf):  # the fixture: tf in graph mode
    assert tf.initializers.zeros is tf.zeros_initializer
    assert tf.initializers.glorot_uniform is tf.glorot_uniform_initializer
    v = tf.Variable(tf.initializers.ones()([2]))
    with tf.Session() as sess:
        sess.run(tf.initializers.global_variables())
        np.testing.assert_array_equal(sess.run(v), [1.0, 1.0])
