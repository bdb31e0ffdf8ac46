"""A small regression problem shared by the optimizer tests, run in neuroflow and in torch."""
from __future__ import annotations

import numpy as np

import neuroflow as nf
from neuroflow.compat import v1

RNG = np.random.default_rng(7)
X = RNG.standard_normal((8, 3))
Y = X @ np.array([[1.0, -1.0], [2.0, 0.5], [-0.5, 1.5]]) + np.array([0.3, -0.2])
W0 = RNG.standard_normal((3, 2)) * 0.5
B0 = RNG.standard_normal(2) * 0.5


def make_params(dtype=np.float64):
    return [nf.Variable(W0.astype(dtype), name="kernel"), nf.Variable(B0.astype(dtype),
                                                                      name="bias")]


def loss_of(params, x, y):
    d = nf.matmul(x, params[0]) + params[1] - y
    return nf.reduce_mean(d * d)


def run_eager(optimizer, steps, dtype=np.float64):
    """Parameter values after each of ``steps`` eager training steps."""
    params = make_params(dtype)
    x, y = nf.constant(X.astype(dtype)), nf.constant(Y.astype(dtype))
    history = []
    for _ in range(steps):
        with nf.GradientTape() as tape:
            loss = loss_of(params, x, y)
        optimizer.apply_gradients(zip(tape.gradient(loss, params), params))
        history.append([p.numpy().copy() for p in params])
    return history


def run_function(optimizer, steps, dtype=np.float64):
    params = make_params(dtype)

    @nf.function
    def step(x, y):
        with nf.GradientTape() as tape:
            loss = loss_of(params, x, y)
        optimizer.apply_gradients(zip(tape.gradient(loss, params), params))
        return loss

    x, y = nf.constant(X.astype(dtype)), nf.constant(Y.astype(dtype))
    history = []
    for _ in range(steps):
        step(x, y)
        history.append([p.numpy().copy() for p in params])
    return history, step


def initializer(graph):
    """The op initialising every variable of ``graph`` (optimizer slots included)."""
    init = getattr(v1, "global_variables_initializer", None)
    if init is not None:
        return init()
    return [v.initializer for v in graph.get_collection("variables")]


def run_session(make_optimizer, steps, dtype=np.float64):
    """The same training in a TF1 graph: the optimizer (and its variables) made in the graph."""
    graph = nf.Graph()
    with graph.as_default():
        params = make_params(dtype)
        optimizer = make_optimizer()
        x = v1.placeholder(nf.as_dtype(dtype), [None, 3])
        y = v1.placeholder(nf.as_dtype(dtype), [None, 2])
        train_op = optimizer.minimize(loss_of(params, x, y), params)
        init = initializer(graph)
        history = []
        with v1.Session() as sess:
            sess.run(init)
            for _ in range(steps):
                sess.run(train_op, {x: X.astype(dtype), y: Y.astype(dtype)})
                history.append(sess.run(params))
    return history, optimizer


def run_torch(make_optimizer, steps, dtype=np.float64):
    import torch
    params = [torch.nn.Parameter(torch.from_numpy(W0.astype(dtype))),
              torch.nn.Parameter(torch.from_numpy(B0.astype(dtype)))]
    x, y = torch.from_numpy(X.astype(dtype)), torch.from_numpy(Y.astype(dtype))
    optimizer = make_optimizer(params)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((x @ params[0] + params[1] - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


def assert_histories_close(actual, expected, rtol=1e-9, atol=1e-12):
    assert len(actual) == len(expected)
    for step, (a_params, e_params) in enumerate(zip(actual, expected)):
        for a, e in zip(a_params, e_params):
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol,
                                       err_msg=f"after step {step + 1}")
