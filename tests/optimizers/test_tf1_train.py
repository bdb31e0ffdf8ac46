"""TF1 optimizers (``nf.compat.v1.train``) in graphs and Sessions, with TF1's semantics."""
from __future__ import annotations

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from neuroflow.compat.v1 import train
from tests.optimizers import helpers

RNG = np.random.default_rng(3)
X = RNG.standard_normal((64, 3)).astype(np.float32)
W_TRUE = np.array([[1.5], [-2.0], [0.5]], np.float32)
B_TRUE = np.float32(0.25)
Y = X @ W_TRUE + B_TRUE


def _regression_graph():
    x = v1.placeholder(nf.float32, [None, 3], name="x")
    y = v1.placeholder(nf.float32, [None, 1], name="y")
    w = nf.Variable(np.zeros((3, 1), np.float32), name="w")
    b = nf.Variable(np.float32(0.0), name="b")
    d = nf.matmul(x, w) + b - y
    return x, y, w, b, nf.reduce_mean(d * d)


SOLVERS = {
    "gradient_descent": (lambda: train.GradientDescentOptimizer(0.1), 300),
    "momentum": (lambda: train.MomentumOptimizer(0.05, 0.9), 300),
    "nesterov": (lambda: train.MomentumOptimizer(0.05, 0.9, use_nesterov=True), 300),
    "adam": (lambda: train.AdamOptimizer(0.05), 800),
    "rmsprop": (lambda: train.RMSPropOptimizer(0.01, momentum=0.9), 800),
    "rmsprop_centered": (lambda: train.RMSPropOptimizer(0.005, centered=True), 1500),
    "adagrad": (lambda: train.AdagradOptimizer(0.5), 300),
}


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_minimize_reaches_the_regression_solution(name):
    make, steps = SOLVERS[name]
    graph = nf.Graph()
    with graph.as_default():
        x, y, w, b, loss = _regression_graph()
        step = train.get_or_create_global_step()
        train_op = make().minimize(loss, global_step=step)
        assert isinstance(train_op, nf.Operation)
        with v1.Session() as sess:
            sess.run(helpers.initializer(graph))
            first = sess.run(loss, {x: X, y: Y})
            for _ in range(steps):
                sess.run(train_op, {x: X, y: Y})
            final = sess.run(loss, {x: X, y: Y})
            np.testing.assert_allclose(sess.run(w), W_TRUE, atol=2e-2)
            np.testing.assert_allclose(sess.run(b), B_TRUE, atol=2e-2)
            assert train.global_step(sess, step) == steps
    assert final < 1e-3 * first


def _run_tf1(make_optimizer, steps, learning_rates=None):
    """Trajectory of the shared small regression under a TF1 optimizer in a Session."""
    graph = nf.Graph()
    with graph.as_default():
        params = helpers.make_params()
        x = v1.placeholder(nf.float64, [None, 3])
        y = v1.placeholder(nf.float64, [None, 2])
        lr = v1.placeholder(nf.float32, [])
        opt = make_optimizer(lr)
        train_op = opt.minimize(helpers.loss_of(params, x, y), var_list=params)
        history = []
        with v1.Session() as sess:
            sess.run(helpers.initializer(graph))
            for i in range(steps):
                rate = learning_rates[i] if learning_rates else 0.0625
                sess.run(train_op, {x: helpers.X, y: helpers.Y, lr: rate})
                history.append(sess.run(params))
    return history, opt, graph


def _grads(params):
    w, b = params
    d = helpers.X @ w + b - helpers.Y
    scale = 2.0 / d.size
    return [helpers.X.T @ d * scale, d.sum(axis=0) * scale]


def _reference(update, steps, slots, learning_rates):
    params = [helpers.W0.copy(), helpers.B0.copy()]
    state = [{k: np.full_like(p, v) for k, v in slots.items()} for p in params]
    history = []
    for t in range(1, steps + 1):
        for p, g, s in zip(params, _grads(params), state):
            update(p, g, s, t, learning_rates[t - 1])
        history.append([p.copy() for p in params])
    return history


RATES = [0.125, 0.0625, 0.25, 0.03125, 0.125, 0.5]


def test_momentum_accumulates_raw_gradients():
    # TF1 keeps sum of gradients and scales by the *current* rate (Keras scales when adding)
    def update(p, g, s, t, lr):
        s["a"][...] = 0.5 * s["a"] + g
        p -= lr * (g + 0.5 * s["a"])

    expected = _reference(update, 6, {"a": 0.0}, RATES)
    actual, _, _ = _run_tf1(lambda lr: train.MomentumOptimizer(lr, 0.5, use_nesterov=True), 6,
                         RATES)
    helpers.assert_histories_close(actual, expected)


def test_rmsprop_rms_starts_at_one():
    def update(p, g, s, t, lr):
        s["ms"][...] = 0.9 * s["ms"] + 0.1 * g * g
        s["mom"][...] = 0.25 * s["mom"] + lr * g / np.sqrt(s["ms"] + 1e-10)
        p -= s["mom"]

    expected = _reference(update, 6, {"ms": 1.0, "mom": 0.0}, RATES)
    actual, opt, _ = _run_tf1(lambda lr: train.RMSPropOptimizer(lr, momentum=0.25), 6, RATES)
    helpers.assert_histories_close(actual, expected)
    assert opt.get_slot_names() == ["momentum", "rms"]


def test_adam_uses_beta_power_variables_and_epsilon_hat():
    def update(p, g, s, t, lr):
        s["m"][...] = 0.9 * s["m"] + 0.1 * g
        s["v"][...] = 0.999 * s["v"] + 0.001 * g * g
        lr_t = lr * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        p -= lr_t * s["m"] / (np.sqrt(s["v"]) + 1e-8)

    expected = _reference(update, 6, {"m": 0.0, "v": 0.0}, RATES)
    actual, opt, graph = _run_tf1(lambda lr: train.AdamOptimizer(lr), 6, RATES)
    helpers.assert_histories_close(actual, expected)
    with graph.as_default():
        names = [v.name for v in opt.variables()]
    assert opt.variables() == []  # none outside their graph
    assert names == ["beta1_power:0", "beta2_power:0", "bias/Adam:0", "bias/Adam_1:0",
                     "kernel/Adam:0", "kernel/Adam_1:0"]


def test_adagrad_has_no_epsilon():
    def update(p, g, s, t, lr):
        s["acc"] += g * g
        p -= lr * g / np.sqrt(s["acc"])

    expected = _reference(update, 6, {"acc": 0.1}, RATES)
    actual, _, _ = _run_tf1(lambda lr: train.AdagradOptimizer(lr), 6, RATES)
    helpers.assert_histories_close(actual, expected)


def test_slots_are_named_after_their_variable():
    graph = nf.Graph()
    with graph.as_default():
        _, _, w, b, loss = _regression_graph()
        opt = train.AdamOptimizer()
        opt.minimize(loss)
        assert opt.get_slot(w, "m").name == "w/Adam:0"
        assert opt.get_slot(w, "v").name == "w/Adam_1:0"
        assert opt.get_slot(b, "m").shape == ()
        assert opt.get_slot(w, "nope") is None
        trainable = graph.get_collection("trainable_variables")
        assert len(trainable) == 2
        assert any(v is opt.get_slot(w, "m") for v in graph.get_collection("variables"))


def test_compute_gradients_and_apply_gradients():
    graph = nf.Graph()
    with graph.as_default():
        x, y, w, b, loss = _regression_graph()
        unused = nf.Variable(np.ones(2, np.float32), name="unused")
        opt = train.GradientDescentOptimizer(0.5)
        pairs = opt.compute_gradients(loss)
        assert [v.name for _, v in pairs] == ["w:0", "b:0", "unused:0"]
        assert pairs[2][0] is None and pairs[0][0] is not None
        train_op = opt.apply_gradients(pairs)
        with v1.Session() as sess:
            sess.run(helpers.initializer(graph))
            g = sess.run(pairs[0][0], {x: X, y: Y})
            sess.run(train_op, {x: X, y: Y})
            np.testing.assert_allclose(sess.run(w), -0.5 * g, rtol=1e-6)
            np.testing.assert_array_equal(sess.run(unused), [1.0, 1.0])
        with pytest.raises(ValueError, match="No gradients provided"):
            opt.minimize(loss, var_list=[unused])
        with pytest.raises(ValueError, match="No variables provided"):
            opt.apply_gradients([])


def test_exponential_decay_follows_the_global_step():
    graph = nf.Graph()
    with graph.as_default():
        step = train.get_or_create_global_step()
        assert train.get_or_create_global_step() is step
        assert step.dtype == nf.int64 and not step.trainable
        w = nf.Variable(np.float32(0.0), name="w")
        lr = train.exponential_decay(1.0, step, decay_steps=1, decay_rate=0.5)
        train_op = train.GradientDescentOptimizer(lr).minimize(w * -1.0, global_step=step)
        with v1.Session() as sess:
            sess.run(helpers.initializer(graph))
            for _ in range(4):
                sess.run(train_op)
            np.testing.assert_allclose(sess.run(w), 1 + 0.5 + 0.25 + 0.125)
            assert sess.run(step) == 4
        with pytest.raises(ValueError, match="already exists"):
            train.create_global_step(graph)
        with pytest.raises(ValueError, match="global_step is required"):
            train.exponential_decay(0.1, None, 10, 0.5)


def test_eager_mode_with_a_callable_loss():
    w = nf.Variable(np.array([0.0, 0.0], np.float32))
    target = nf.constant([1.0, -2.0])
    opt = train.AdamOptimizer(0.1)
    step = nf.Variable(np.int64(0), trainable=False)
    for _ in range(300):
        opt.minimize(lambda: nf.reduce_sum((w - target) * (w - target)), global_step=step)
    np.testing.assert_allclose(w.numpy(), [1.0, -2.0], atol=1e-2)
    assert int(step.numpy()) == 300
    with pytest.raises(RuntimeError, match="should be a function"):
        opt.minimize(nf.reduce_sum(w * w))


def test_eager_decay_function_is_callable():
    step = nf.Variable(np.int64(3))
    lr = train.inverse_time_decay(0.5, step, decay_steps=1, decay_rate=1.0)
    assert callable(lr)
    assert float(lr()) == pytest.approx(0.5 / 4)
    step.assign(np.int64(4))
    assert float(lr()) == pytest.approx(0.5 / 5)
