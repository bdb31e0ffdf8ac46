"""Learning-rate schedules against their formulas, eagerly, in graphs and in nf.function."""
from __future__ import annotations

import math

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1

schedules = nf.optimizers.schedules
STEPS = [0, 1, 5, 9, 10, 11, 25, 100, 250]


def _cosine(step, initial, decay_steps, alpha):
    step = min(step, decay_steps)
    return initial * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * step / decay_steps)) + alpha)


def _warmup_cosine(step, initial, decay_steps, alpha, target, warmup):
    step = min(step, decay_steps + warmup)
    if step < warmup:
        return (target - initial) * step / warmup + initial
    return _cosine(step - warmup, target, decay_steps, alpha)


def _polynomial(step, initial, decay_steps, end, power, cycle):
    if cycle:
        decay_steps = decay_steps * (1.0 if step == 0 else math.ceil(step / decay_steps))
    else:
        step = min(step, decay_steps)
    return (initial - end) * (1 - step / decay_steps) ** power + end


CASES = {
    "exponential": (schedules.ExponentialDecay(0.1, 10, 0.5),
                    lambda s: 0.1 * 0.5 ** (s / 10)),
    "exponential_staircase": (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
                              lambda s: 0.1 * 0.5 ** (s // 10)),
    "piecewise": (schedules.PiecewiseConstantDecay([10, 100], [1.0, 0.5, 0.1]),
                  lambda s: 1.0 if s <= 10 else 0.5 if s <= 100 else 0.1),
    "inverse_time": (schedules.InverseTimeDecay(0.2, 5, 0.5),
                     lambda s: 0.2 / (1 + 0.5 * s / 5)),
    "inverse_time_staircase": (schedules.InverseTimeDecay(0.2, 5, 0.5, staircase=True),
                               lambda s: 0.2 / (1 + 0.5 * (s // 5))),
    "cosine": (schedules.CosineDecay(0.1, 100, alpha=0.1),
               lambda s: _cosine(s, 0.1, 100, 0.1)),
    "cosine_warmup": (schedules.CosineDecay(0.0, 100, warmup_target=0.2, warmup_steps=10),
                      lambda s: _warmup_cosine(s, 0.0, 100, 0.0, 0.2, 10)),
    "polynomial": (schedules.PolynomialDecay(0.1, 100, 0.01, power=2.0),
                   lambda s: _polynomial(s, 0.1, 100, 0.01, 2.0, False)),
    "polynomial_cycle": (schedules.PolynomialDecay(0.1, 100, 0.01, cycle=True),
                         lambda s: _polynomial(s, 0.1, 100, 0.01, 1.0, True)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_eager_against_formula(name):
    schedule, formula = CASES[name]
    for step in STEPS:
        value = schedule(step)
        assert value.dtype == nf.float32 and value.shape == ()
        np.testing.assert_allclose(float(value), formula(step), rtol=1e-6, atol=1e-9,
                                   err_msg=f"step {step}")
        # the optimizer's int64 step counter gives the same value
        np.testing.assert_array_equal(schedule(nf.Variable(np.int64(step))).numpy(),
                                      value.numpy())


@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_and_function_read_the_step_when_run(name):
    schedule, formula = CASES[name]
    step = nf.Variable(np.int64(0))

    @nf.function
    def traced():
        return schedule(step)

    expected = [schedule(s).numpy() for s in STEPS]
    for s, value in zip(STEPS, expected):
        step.assign(np.int64(s))
        np.testing.assert_array_equal(traced().numpy(), value)
    graph = nf.Graph()
    with graph.as_default():
        placeholder = v1.placeholder(nf.int64, [])
        lr = schedule(placeholder)
        with v1.Session() as sess:
            for s, value in zip(STEPS, expected):
                np.testing.assert_array_equal(sess.run(lr, {placeholder: s}), value)
    assert traced.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_round_trip(name):
    schedule, _ = CASES[name]
    data = schedules.serialize(schedule)
    assert data["class_name"] == type(schedule).__name__
    clone = schedules.deserialize(data)
    assert type(clone) is type(schedule)
    assert clone.get_config() == schedule.get_config()
    for step in (0, 7, 150):
        assert float(clone(step)) == float(schedule(step))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="1 less than"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        schedules.deserialize({"class_name": "Nope", "config": {}})


def test_custom_schedule_subclass():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / (nf.cast(step, nf.float32) + 1.0)

        def get_config(self):
            return {}

    w = nf.Variable(np.zeros(1, np.float32))
    opt = nf.optimizers.SGD(Halving())
    for _ in range(3):
        opt.apply_gradients([(nf.constant([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-(1 + 1 / 2 + 1 / 3)], rtol=1e-6)
    clone = schedules.deserialize(schedules.serialize(Halving()),
                                  custom_objects={"Halving": Halving})
    assert isinstance(clone, Halving)
