"""Classic TensorFlow 1 programs, written as TF1 code, run through ``neuroflow.compat.v1``.

Each test body is what a TF1 tutorial would have (``tf`` is the compat.v1 module, in graph
mode), and checks the known solution: least squares, a NumPy re-run of the same gradient
descent, or the accuracy the model reaches, with fixed seeds.
"""
import numpy as np


def _blobs(rng, centers, n, scale):
    xs = np.concatenate([rng.normal(c, scale, (n, len(c))) for c in centers])
    labels = np.repeat(np.arange(len(centers)), n)
    return xs.astype(np.float32), labels


def _spirals(rng, n, classes=3, noise=0.2):
    """CS231n's spiral data: ``classes`` arms, not linearly separable."""
    xs, labels = [], []
    for k in range(classes):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n) + rng.normal(0, noise, n)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        labels.append(np.full(n, k))
    return np.concatenate(xs).astype(np.float32), np.concatenate(labels)


def test_linear_regression_reaches_least_squares(tf):
    rng = np.random.RandomState(0)
    train_X = rng.uniform(-1, 1, (100, 1)).astype(np.float32)
    train_Y = (2.0 * train_X - 0.5 + rng.normal(0, 0.1, (100, 1))).astype(np.float32)
    n_samples = train_X.shape[0]

    tf.set_random_seed(1)
    X = tf.placeholder("float", [None, 1])
    Y = tf.placeholder("float", [None, 1])
    W = tf.Variable(tf.random_normal([1, 1]), name="weight")
    b = tf.Variable(tf.zeros([1]), name="bias")
    pred = tf.add(tf.matmul(X, W), b)
    cost = tf.reduce_sum(tf.pow(pred - Y, 2)) / (2 * n_samples)
    optimizer = tf.train.GradientDescentOptimizer(0.5).minimize(cost)
    init = tf.global_variables_initializer()

    with tf.Session() as sess:
        sess.run(init)
        for _ in range(300):
            sess.run(optimizer, feed_dict={X: train_X, Y: train_Y})
        training_cost, w, bias = sess.run([cost, W, b], feed_dict={X: train_X, Y: train_Y})

    design = np.hstack([train_X, np.ones_like(train_X)]).astype(np.float64)
    (w_ls, b_ls), *_ = np.linalg.lstsq(design, train_Y[:, 0].astype(np.float64), rcond=None)
    np.testing.assert_allclose([w[0, 0], bias[0]], [w_ls, b_ls], atol=1e-4)
    residual = design @ [w_ls, b_ls] - train_Y[:, 0]
    np.testing.assert_allclose(training_cost, np.sum(residual ** 2) / (2 * n_samples),
                               rtol=1e-4)


def test_logistic_regression_matches_numpy_gradient_descent(tf):
    rng = np.random.RandomState(1)
    xs, labels = _blobs(rng, [(-1.0, -1.0), (1.0, 1.5)], 100, 0.8)
    ys = labels.reshape(-1, 1).astype(np.float32)

    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    W = tf.Variable(tf.zeros([2, 1]))
    b = tf.Variable(tf.zeros([1]))
    logits = tf.matmul(x, W) + b
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
    train_step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    correct = tf.equal(tf.cast(tf.sigmoid(logits) > 0.5, tf.float32), y)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(100):
            sess.run(train_step, feed_dict={x: xs, y: ys})
        acc, w, bias = sess.run([accuracy, W, b], feed_dict={x: xs, y: ys})

    w_ref, b_ref = np.zeros((2, 1)), np.zeros(1)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(xs @ w_ref + b_ref)))
        w_ref -= 0.5 * xs.T @ (p - ys) / len(xs)
        b_ref -= 0.5 * np.mean(p - ys, axis=0)
    np.testing.assert_allclose(w, w_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bias, b_ref, rtol=1e-4, atol=1e-5)
    assert acc >= 0.9


def test_softmax_regression_as_the_tf1_mnist_tutorial_wrote_it(tf):
    rng = np.random.RandomState(2)
    xs, labels = _blobs(rng, [(0.0, 3.0), (3.0, -1.0), (-3.0, -1.0)], 60, 0.7)
    onehot = np.eye(3, dtype=np.float32)[labels]

    x = tf.placeholder(tf.float32, [None, 2])
    W = tf.Variable(tf.zeros([2, 3]))
    b = tf.Variable(tf.zeros([3]))
    y = tf.nn.softmax(tf.matmul(x, W) + b)
    y_ = tf.placeholder(tf.float32, [None, 3])
    cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]))
    train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy)
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    sess = tf.InteractiveSession()
    tf.global_variables_initializer().run()
    start = cross_entropy.eval(feed_dict={x: xs, y_: onehot})
    for _ in range(100):
        batch = rng.choice(len(xs), 32, replace=False)
        sess.run(train_step, feed_dict={x: xs[batch], y_: onehot[batch]})
    final = accuracy.eval(feed_dict={x: xs, y_: onehot})
    sess.close()
    np.testing.assert_allclose(start, np.log(3.0), rtol=1e-6)  # zero weights: uniform
    assert final >= 0.97


def _dense(tf, x, size, activation=None):
    """A TF1-style layer helper: variables in a uniquely named scope (dense, dense_1...)."""
    with tf.variable_scope(None, default_name="dense"):
        w = tf.get_variable("kernel", [x.shape[1], size])
        b = tf.get_variable("bias", [size], initializer=tf.zeros_initializer())
        out = tf.matmul(x, w) + b
        return activation(out) if activation is not None else out


def test_mlp_through_placeholders_learns_spirals(tf):
    rng = np.random.RandomState(3)
    train_x, train_labels = _spirals(rng, 100)
    test_x, test_labels = _spirals(rng, 60)
    train_y = np.eye(3, dtype=np.float32)[train_labels]
    test_y = np.eye(3, dtype=np.float32)[test_labels]

    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y_ = tf.placeholder(tf.float32, [None, 3], name="labels")
    keep_prob = tf.placeholder(tf.float32, name="keep_prob")
    with tf.variable_scope("mlp"):
        w1 = tf.get_variable("w1", [2, 64])
        b1 = tf.get_variable("b1", [64], initializer=tf.constant_initializer(0.1))
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
        hidden = tf.nn.dropout(hidden, keep_prob)
        w2 = tf.get_variable("w2", [64, 3])
        b2 = tf.get_variable("b2", [3], initializer=tf.zeros_initializer())
        logits = tf.matmul(hidden, w2) + b2
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))
    train_op = tf.train.AdamOptimizer(0.02).minimize(loss)
    correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

    assert [v.name for v in tf.trainable_variables()] == [
        "mlp/w1:0", "mlp/b1:0", "mlp/w2:0", "mlp/b2:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        start_loss = sess.run(loss, {x: train_x, y_: train_y, keep_prob: 1.0})
        for _ in range(400):
            sess.run(train_op, feed_dict={x: train_x, y_: train_y, keep_prob: 0.9})
        train_acc, end_loss = sess.run([accuracy, loss],
                                       {x: train_x, y_: train_y, keep_prob: 1.0})
        test_acc = sess.run(accuracy, {x: test_x, y_: test_y, keep_prob: 1.0})
    assert end_loss < 0.25 * start_loss
    assert train_acc >= 0.95
    assert test_acc >= 0.9


def test_shared_towers_with_variable_scope_reuse(tf):
    """One set of weights serving a training and an evaluation tower (TF1's sharing idiom)."""
    rng = np.random.RandomState(4)
    xs, labels = _blobs(rng, [(-2.0, 0.0), (2.0, 0.0)], 50, 0.5)
    ys = np.eye(2, dtype=np.float32)[labels]

    def model(x, reuse):
        with tf.variable_scope("model", reuse=reuse):
            w = tf.get_variable("w", [2, 2], initializer=tf.zeros_initializer())
            return tf.matmul(x, w)

    train_x = tf.placeholder(tf.float32, [None, 2])
    eval_x = tf.placeholder(tf.float32, [None, 2])
    y = tf.placeholder(tf.float32, [None, 2])
    train_logits = model(train_x, reuse=False)
    eval_logits = model(eval_x, reuse=True)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y,
                                                                  logits=train_logits))
    step = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
    hidden = _dense(tf, eval_x, 4, tf.nn.relu)
    hidden2 = _dense(tf, hidden, 3)
    assert [v.name for v in tf.global_variables()] == [
        "model/w:0", "dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(20):
            sess.run(step, {train_x: xs, y: ys})
        predictions = sess.run(tf.argmax(eval_logits, 1), {eval_x: xs})
        assert sess.run(hidden2, {eval_x: xs[:3]}).shape == (3, 3)
    assert np.mean(predictions == labels) >= 0.97
