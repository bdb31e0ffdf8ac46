"""The same training run gives identical results eagerly, inside nf.function and in a TF1
Session: the update rules are the same fused ops in all three."""
from __future__ import annotations

import numpy as np
import pytest

import neuroflow as nf
from tests.optimizers import helpers

STEPS = 6

MAKERS = {
    "sgd": lambda: nf.optimizers.SGD(0.1),
    "sgd_nesterov": lambda: nf.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop_centered_momentum": lambda: nf.optimizers.RMSprop(0.01, momentum=0.5,
                                                               centered=True),
    "adagrad": lambda: nf.optimizers.Adagrad(0.1),
    "adam_amsgrad": lambda: nf.optimizers.Adam(0.05, amsgrad=True),
    "adamw_clipped": lambda: nf.optimizers.AdamW(0.05, weight_decay=0.1, global_clipnorm=0.5),
    "sgd_schedule": lambda: nf.optimizers.SGD(
        nf.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5)),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eager_function_and_session_agree(name, dtype):
    make = MAKERS[name]
    eager = helpers.run_eager(make(), STEPS, dtype)
    traced_opt = make()
    traced, step = helpers.run_function(traced_opt, STEPS, dtype)
    session, session_opt = helpers.run_session(make, STEPS, dtype)
    assert step.experimental_get_tracing_count() == 1
    for e, t, s in zip(eager, traced, session):
        for a, b, c in zip(e, t, s):
            assert a.dtype == b.dtype == c.dtype == dtype
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, c)
    assert int(traced_opt.iterations.numpy()) == STEPS
    # the run changed the parameters: the comparison is not between untouched values
    assert not np.allclose(eager[-1][0], helpers.W0)


def test_session_slot_variables_need_the_initializer():
    graph = nf.Graph()
    with graph.as_default():
        params = helpers.make_params()
        opt = nf.optimizers.Adam(0.1)
        x = nf.compat.v1.placeholder(nf.float64, [None, 3])
        y = nf.compat.v1.placeholder(nf.float64, [None, 2])
        train_op = opt.minimize(helpers.loss_of(params, x, y), params)
        collection = graph.get_collection("variables")
        for v in opt.variables:
            assert any(v is c for c in collection)
            assert not any(v is c for c in graph.get_collection("trainable_variables"))
        with nf.compat.v1.Session() as sess:
            with pytest.raises(nf.errors.FailedPreconditionError, match="uninitialized"):
                sess.run(train_op, {x: helpers.X, y: helpers.Y})
            sess.run(helpers.initializer(graph))
            sess.run(train_op, {x: helpers.X, y: helpers.Y})
            assert sess.run(opt.iterations) == 1
