"""Keras optimizers follow torch.optim (or a NumPy transcription of Keras' formula) step by
step on the same regression problem.

Where Keras and torch place epsilon differently (Adam: Keras adds it to sqrt(v) before the
bias correction of the step size; RMSprop, Adagrad: Keras adds it inside the root), the torch
comparisons use epsilon = 0 in both, and a NumPy reference checks Keras' own placement with
the default epsilon.
"""
from __future__ import annotations

import numpy as np
import pytest

import neuroflow as nf
from tests.optimizers import helpers

torch = pytest.importorskip("torch")

STEPS = 12

TORCH_CASES = {
    "sgd": (lambda: nf.optimizers.SGD(0.125),
            lambda p: torch.optim.SGD(p, lr=0.125)),
    "sgd_momentum": (lambda: nf.optimizers.SGD(0.0625, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.0625, momentum=0.9)),
    "sgd_nesterov": (lambda: nf.optimizers.SGD(0.0625, momentum=0.9, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.0625, momentum=0.9, nesterov=True)),
    "rmsprop": (lambda: nf.optimizers.RMSprop(0.03125, rho=0.9, epsilon=0.0),
                lambda p: torch.optim.RMSprop(p, lr=0.03125, alpha=0.9, eps=0.0)),
    "rmsprop_centered": (lambda: nf.optimizers.RMSprop(0.03125, epsilon=0.0, centered=True),
                         lambda p: torch.optim.RMSprop(p, lr=0.03125, alpha=0.9, eps=0.0,
                                                       centered=True)),
    "rmsprop_momentum": (lambda: nf.optimizers.RMSprop(0.03125, momentum=0.5, epsilon=0.0),
                         lambda p: torch.optim.RMSprop(p, lr=0.03125, alpha=0.9, eps=0.0,
                                                       momentum=0.5)),
    "adagrad": (lambda: nf.optimizers.Adagrad(0.25, initial_accumulator_value=0.1,
                                              epsilon=0.0),
                lambda p: torch.optim.Adagrad(p, lr=0.25, initial_accumulator_value=0.1,
                                              eps=0.0)),
    "adam": (lambda: nf.optimizers.Adam(0.0625, epsilon=0.0),
             lambda p: torch.optim.Adam(p, lr=0.0625, eps=0.0)),
    "adam_amsgrad": (lambda: nf.optimizers.Adam(0.0625, epsilon=0.0, amsgrad=True),
                     lambda p: torch.optim.Adam(p, lr=0.0625, eps=0.0, amsgrad=True)),
    "adamw": (lambda: nf.optimizers.AdamW(0.0625, weight_decay=0.25, epsilon=0.0),
              lambda p: torch.optim.AdamW(p, lr=0.0625, weight_decay=0.25, eps=0.0)),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_matches_torch_float64(case):
    make_nf, make_torch = TORCH_CASES[case]
    helpers.assert_histories_close(helpers.run_eager(make_nf(), STEPS),
                                   helpers.run_torch(make_torch, STEPS))


@pytest.mark.parametrize("case", ["sgd_momentum", "rmsprop_centered", "adam", "adamw"])
def test_matches_torch_float32(case):
    make_nf, make_torch = TORCH_CASES[case]
    nf_history = helpers.run_eager(make_nf(), STEPS, np.float32)
    assert all(p.dtype == np.float32 for params in nf_history for p in params)
    helpers.assert_histories_close(nf_history,
                                   helpers.run_torch(make_torch, STEPS, np.float32),
                                   rtol=1e-4, atol=1e-5)


# -- NumPy transcriptions of Keras' update rules, default epsilons ---------------------------
# (learning rates are powers of two: exact in the optimizer's float32 learning-rate variable)

def _grads(params):
    w, b = params
    d = helpers.X @ w + b - helpers.Y
    scale = 2.0 / d.size
    return [helpers.X.T @ d * scale, d.sum(axis=0) * scale]


def _reference(update, steps, slots):
    params = [helpers.W0.copy(), helpers.B0.copy()]
    state = [{k: np.full_like(p, v) for k, v in slots.items()} for p in params]
    history = []
    for t in range(1, steps + 1):
        for p, g, s in zip(params, _grads(params), state):
            update(p, g, s, t)
        history.append([p.copy() for p in params])
    return history


def test_rmsprop_keras_epsilon_inside_the_root():
    lr, rho, eps, mu = 0.015625, 0.9, 1e-7, 0.3

    def update(p, g, s, t):
        s["v"][...] = rho * s["v"] + (1 - rho) * g * g
        s["mg"][...] = rho * s["mg"] + (1 - rho) * g
        s["m"][...] = mu * s["m"] + lr * g / np.sqrt(s["v"] - s["mg"] ** 2 + eps)
        p -= s["m"]

    expected = _reference(update, STEPS, {"v": 0.0, "mg": 0.0, "m": 0.0})
    opt = nf.optimizers.RMSprop(lr, rho=rho, momentum=mu, epsilon=eps, centered=True)
    helpers.assert_histories_close(helpers.run_eager(opt, STEPS), expected, rtol=1e-6)


def test_adagrad_keras_formula():
    lr, eps = 0.125, 1e-7

    def update(p, g, s, t):
        s["acc"] += g * g
        p -= lr * g / np.sqrt(s["acc"] + eps)

    expected = _reference(update, STEPS, {"acc": 0.1})
    helpers.assert_histories_close(helpers.run_eager(nf.optimizers.Adagrad(lr), STEPS),
                                   expected, rtol=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_keras_epsilon_hat(amsgrad):
    lr, b1, b2, eps = 0.0625, 0.9, 0.999, 1e-7

    def update(p, g, s, t):
        s["m"] += (g - s["m"]) * (1 - b1)
        s["v"] += (g * g - s["v"]) * (1 - b2)
        s["vhat"][...] = np.maximum(s["vhat"], s["v"])
        v = s["vhat"] if amsgrad else s["v"]
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p -= s["m"] * alpha / (np.sqrt(v) + eps)

    expected = _reference(update, STEPS, {"m": 0.0, "v": 0.0, "vhat": 0.0})
    opt = nf.optimizers.Adam(lr, amsgrad=amsgrad)
    helpers.assert_histories_close(helpers.run_eager(opt, STEPS), expected, rtol=1e-6)


def test_sgd_weight_decay_is_decoupled():
    lr, wd = 0.0625, 0.1

    def update(p, g, s, t):
        p -= p * wd * lr
        p -= lr * g

    expected = _reference(update, 4, {})
    opt = nf.optimizers.SGD(lr, weight_decay=wd)
    helpers.assert_histories_close(helpers.run_eager(opt, 4), expected, rtol=1e-6)


def test_adam_with_learning_rate_schedule_matches_torch_lambda_lr():
    schedule = nf.optimizers.schedules.ExponentialDecay(0.125, decay_steps=1, decay_rate=0.5)
    opt = nf.optimizers.SGD(schedule)

    def make_torch(p):
        sgd = torch.optim.SGD(p, lr=0.125)
        sgd.step = _with_lambda_lr(sgd, lambda step: 0.125 * 0.5 ** step)
        return sgd

    helpers.assert_histories_close(helpers.run_eager(opt, 6), helpers.run_torch(make_torch, 6))


def _with_lambda_lr(optimizer, lr_of_step):
    original = optimizer.step
    count = [0]

    def step():
        for group in optimizer.param_groups:
            group["lr"] = lr_of_step(count[0])
        count[0] += 1
        return original()
    return step
