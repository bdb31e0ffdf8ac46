"""The Keras optimizer API: variables, learning rate, clipping, None gradients, config."""
from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.keras import optimizers as keras_optimizers


def _var(value, name="w"):
    return nf.Variable(np.asarray(value, np.float32), name=name)


def _step(opt, grads, variables):
    opt.apply_gradients(zip([nf.constant(np.asarray(g, np.float32)) for g in grads],
                            variables))


# -- state ----------------------------------------------------------------------------------

def test_defaults_follow_keras():
    assert float(nf.optimizers.SGD().learning_rate.numpy()) == pytest.approx(0.01)
    adam = nf.optimizers.Adam()
    assert (adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.9, 0.999, 1e-7, False)
    assert nf.optimizers.AdamW().weight_decay == 0.004
    rms = nf.optimizers.RMSprop()
    assert (rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.9, 0.0, 1e-7, False)
    assert nf.optimizers.Adagrad().initial_accumulator_value == 0.1
    assert adam.iterations.dtype == nf.int64 and int(adam.iterations.numpy()) == 0


def test_slots_are_created_once_and_tracked():
    w, b = _var([[1.0, 2.0]]), _var([0.5], "b")
    opt = nf.optimizers.Adam(0.1, amsgrad=True)
    _step(opt, [[[1.0, 1.0]], [1.0]], [w, b])
    count = len(opt.variables)
    assert count == 2 + 3 * 2  # iterations, learning rate; m, v, v_hat per variable
    _step(opt, [[[1.0, 1.0]], [1.0]], [w, b])
    assert len(opt.variables) == count
    assert int(opt.iterations.numpy()) == 2
    slots = opt.variables[2:]
    assert all(not v.trainable for v in slots)
    assert [tuple(v.shape) for v in slots[:2]] == [(1, 2), (1,)]


def test_slots_created_while_tracing_are_eager_and_made_once():
    w = _var([1.0, -1.0])
    opt = nf.optimizers.RMSprop(0.1, momentum=0.5, centered=True)

    @nf.function
    def step(g):
        opt.apply_gradients([(g, w)])

    step(nf.constant([1.0, 1.0]))
    step(nf.constant([1.0, 1.0]))
    assert step.experimental_get_tracing_count() == 1
    assert len(opt.variables) == 2 + 3
    assert all(v._value is not None for v in opt.variables)
    assert int(opt.iterations.numpy()) == 2


def test_unknown_variable_after_build_raises():
    opt = nf.optimizers.SGD(0.1)
    _step(opt, [[1.0]], [_var([1.0])])
    with pytest.raises(ValueError, match="Unknown variable"):
        _step(opt, [[1.0]], [_var([2.0], "other")])


def test_apply_without_variables_uses_built_ones():
    w = _var([1.0])
    opt = nf.optimizers.SGD(0.5)
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([nf.constant([1.0])])
    opt.build([w])
    opt.apply([nf.constant([1.0])])
    np.testing.assert_allclose(w.numpy(), [0.5])


# -- learning rate --------------------------------------------------------------------------

def test_learning_rate_is_a_settable_variable():
    w = _var([1.0])
    opt = nf.optimizers.SGD(0.5)
    opt.learning_rate = 0.25
    assert float(opt.learning_rate.numpy()) == 0.25
    _step(opt, [[1.0]], [w])
    np.testing.assert_allclose(w.numpy(), [0.75])
    opt.learning_rate.assign(0.5)
    _step(opt, [[1.0]], [w])
    np.testing.assert_allclose(w.numpy(), [0.25])


def test_learning_rate_must_be_a_float_schedule_or_callable():
    with pytest.raises(ValueError, match="should be float"):
        nf.optimizers.SGD(learning_rate=1)
    opt = nf.optimizers.SGD(lambda: 0.5)
    w = _var([1.0])
    _step(opt, [[1.0]], [w])
    np.testing.assert_allclose(w.numpy(), [0.5])


def test_schedule_learning_rate_is_not_assignable():
    schedule = nf.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    opt = nf.optimizers.SGD(schedule)
    assert float(opt.learning_rate) == pytest.approx(0.1)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.5


def test_schedule_is_evaluated_at_the_current_iteration():
    schedule = nf.optimizers.schedules.PiecewiseConstantDecay([0, 1], [1.0, 0.5, 0.25])
    w = _var([0.0])
    opt = nf.optimizers.SGD(schedule)
    for _ in range(3):
        _step(opt, [[1.0]], [w])
    np.testing.assert_allclose(w.numpy(), [-(1.0 + 0.5 + 0.25)])


def test_unknown_arguments_are_rejected():
    with pytest.raises(ValueError, match="not recognized"):
        nf.optimizers.Adam(lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        nf.optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="weight_decay"):
        nf.optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="Only one of"):
        nf.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


# -- gradients ------------------------------------------------------------------------------

def test_none_gradients_are_skipped_with_a_warning():
    w, b = _var([1.0]), _var([1.0], "b")
    opt = nf.optimizers.SGD(0.5)
    with pytest.warns(UserWarning, match="Gradients do not exist for variables"):
        opt.apply_gradients([(nf.constant([1.0]), w), (None, b)])
    np.testing.assert_allclose(w.numpy(), [0.5])
    np.testing.assert_allclose(b.numpy(), [1.0])


def test_all_none_gradients_raise():
    opt = nf.optimizers.SGD(0.5)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, _var([1.0]))])


def test_clipnorm_clips_each_gradient():
    w, b = _var([0.0, 0.0]), _var([0.0], "b")
    opt = nf.optimizers.SGD(1.0, clipnorm=1.0)
    _step(opt, [[3.0, 4.0], [0.5]], [w, b])
    np.testing.assert_allclose(w.numpy(), [-0.6, -0.8], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [-0.5], rtol=1e-6)  # below the norm: unchanged


def test_clipnorm_keeps_zero_gradients_zero():
    w = _var([1.0, 1.0])
    _step(nf.optimizers.SGD(1.0, clipnorm=1.0), [[0.0, 0.0]], [w])
    np.testing.assert_array_equal(w.numpy(), [1.0, 1.0])


def test_clipvalue_clips_elements():
    w = _var([0.0, 0.0, 0.0])
    _step(nf.optimizers.SGD(1.0, clipvalue=0.5), [[2.0, -3.0, 0.25]], [w])
    np.testing.assert_allclose(w.numpy(), [-0.5, 0.5, -0.25])


def test_global_clipnorm_scales_all_gradients_together():
    w, b = _var([0.0, 0.0]), _var([0.0], "b")
    opt = nf.optimizers.SGD(1.0, global_clipnorm=6.5)
    _step(opt, [[3.0, 4.0], [12.0]], [w, b])  # global norm 13
    np.testing.assert_allclose(w.numpy(), [-1.5, -2.0], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [-6.0], rtol=1e-6)
    c, d = _var([0.0]), _var([0.0], "d")
    _step(nf.optimizers.SGD(1.0, global_clipnorm=100.0), [[3.0], [4.0]], [c, d])
    np.testing.assert_allclose([c.numpy()[0], d.numpy()[0]], [-3.0, -4.0], rtol=1e-6)


def test_clipping_in_a_traced_function_matches_eager():
    for kwargs in ({"clipnorm": 1.0}, {"clipvalue": 0.5}, {"global_clipnorm": 2.0}):
        eager_w, traced_w = _var([3.0, -4.0]), _var([3.0, -4.0])
        eager_opt, traced_opt = nf.optimizers.Adam(0.1, **kwargs), nf.optimizers.Adam(0.1,
                                                                                      **kwargs)

        @nf.function
        def step(g, traced_opt=traced_opt, traced_w=traced_w):
            traced_opt.apply_gradients([(g, traced_w)])

        for _ in range(3):
            g = np.array([3.0, -4.0], np.float32) * 2
            _step(eager_opt, [g], [eager_w])
            step(nf.constant(g))
        np.testing.assert_array_equal(eager_w.numpy(), traced_w.numpy())


def test_loss_scale_factor_divides_gradients():
    w = _var([0.0])
    opt = nf.optimizers.SGD(1.0, loss_scale_factor=4.0)
    assert float(opt.scale_loss(nf.constant(2.0))) == 8.0
    _step(opt, [[8.0]], [w])
    np.testing.assert_allclose(w.numpy(), [-2.0])


def test_exclude_from_weight_decay():
    w, bias = _var([1.0], "kernel"), _var([1.0], "bias")
    opt = nf.optimizers.SGD(0.5, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    _step(opt, [[0.0], [0.0]], [w, bias])
    np.testing.assert_allclose(w.numpy(), [0.75])
    np.testing.assert_allclose(bias.numpy(), [1.0])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["kernel"])


def test_constraints_are_applied_after_the_update():
    w = nf.Variable(np.array([1.0, -1.0], np.float32), constraint=lambda v: v * 0.5)
    _step(nf.optimizers.SGD(1.0), [[1.0, 1.0]], [w])
    np.testing.assert_allclose(w.numpy(), [0.0, -1.0])


def test_ema_tracks_and_finalizes():
    w = _var([0.0])
    opt = nf.optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    expected_w, expected_avg = 0.0, None
    for g in (1.0, 2.0, 3.0):
        _step(opt, [[g]], [w])
        expected_w -= g
        expected_avg = expected_w if expected_avg is None else 0.5 * expected_avg + \
            0.5 * expected_w
    average = opt._model_variables_moving_average[0]
    np.testing.assert_allclose(average.numpy(), [expected_avg])
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w.numpy(), [expected_avg])


def test_ema_overwrite_frequency():
    w = _var([0.0])
    opt = nf.optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    _step(opt, [[1.0]], [w])       # w -1, average -1
    _step(opt, [[1.0]], [w])       # w -2, average -1.5, then w := average
    np.testing.assert_allclose(w.numpy(), [-1.5])


# -- minimize -------------------------------------------------------------------------------

def test_minimize_with_a_callable_loss_reaches_the_minimum():
    w = _var([0.0, 0.0])
    target = nf.constant([3.0, -1.0])
    opt = nf.optimizers.Adam(0.1)
    for _ in range(300):
        opt.minimize(lambda: nf.reduce_sum((w - target) * (w - target)), [w])
    np.testing.assert_allclose(w.numpy(), [3.0, -1.0], atol=1e-2)


def test_minimize_with_a_tensor_needs_its_tape():
    w = _var([1.0])
    opt = nf.optimizers.SGD(0.25)
    with nf.GradientTape() as tape:
        loss = nf.reduce_sum(w * w)
    opt.minimize(loss, [w], tape=tape)
    np.testing.assert_allclose(w.numpy(), [0.5])
    with pytest.raises(ValueError, match="`tape` is required"):
        opt.minimize(nf.reduce_sum(w * w), [w])


# -- config and lookup ----------------------------------------------------------------------

@pytest.mark.parametrize("cls", [nf.optimizers.SGD, nf.optimizers.RMSprop,
                                 nf.optimizers.Adagrad, nf.optimizers.Adam,
                                 nf.optimizers.AdamW])
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.25, clipnorm=2.0)
    config = opt.get_config()
    assert config["learning_rate"] == 0.25 and config["clipnorm"] == 2.0
    clone = cls.from_config(config)
    assert clone.get_config() == config


def test_config_round_trip_with_a_schedule():
    schedule = nf.optimizers.schedules.CosineDecay(0.1, 100, warmup_target=0.5,
                                                   warmup_steps=10)
    opt = nf.optimizers.Adam(schedule, beta_1=0.8)
    data = nf.optimizers.serialize(opt)
    assert data["class_name"] == "Adam"
    assert data["config"]["learning_rate"]["class_name"] == "CosineDecay"
    clone = nf.optimizers.deserialize(data)
    assert isinstance(clone._learning_rate, nf.optimizers.schedules.CosineDecay)
    assert clone._learning_rate.get_config() == schedule.get_config()
    assert clone.beta_1 == 0.8


def test_get_by_name_dict_and_instance():
    assert isinstance(nf.optimizers.get("adam"), nf.optimizers.Adam)
    assert isinstance(nf.optimizers.get("RMSprop"), nf.optimizers.RMSprop)
    assert isinstance(nf.optimizers.get({"class_name": "SGD", "config": {"momentum": 0.5}}),
                      nf.optimizers.SGD)
    opt = nf.optimizers.AdamW()
    assert nf.optimizers.get(opt) is opt
    assert nf.optimizers.get(None) is None


def test_get_unknown_name_suggests_close_names():
    with pytest.raises(ValueError, match="adam") as info:
        nf.optimizers.get("adma")
    assert "Did you mean" in str(info.value)
    with pytest.raises(ValueError, match="Could not interpret"):
        nf.optimizers.get(3)


def test_keras_namespace_reexports():
    from neuroflow.keras.optimizers import Adam
    assert Adam is nf.optimizers.Adam
    # `from neuroflow.keras.optimizers.schedules import ExponentialDecay` works too
    module = importlib.import_module("neuroflow.keras.optimizers.schedules")
    assert nf.keras.optimizers.schedules.ExponentialDecay is module.ExponentialDecay
    assert keras_optimizers.get("sgd").name == "SGD"


def test_custom_optimizer_with_update_step_and_weight_decay():
    class DoubleStepSGD(nf.optimizers.Optimizer):
        def build(self, variables):
            super().build(variables)
            self.counts = self.add_optimizer_variables(variables, "count")

        def update_step(self, gradient, variable, learning_rate):
            self.assign_sub(variable, gradient * learning_rate * 2.0)
            self.assign_add(self.counts[self._get_variable_index(variable)],
                            nf.ones_like(variable))

    w = _var([1.0, 1.0])
    opt = DoubleStepSGD(0.5, weight_decay=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _step(opt, [[3.0, -0.1]], [w])
    # weight decay (w * (1 - 0.5 * 0.5)) by ops first, then the custom rule
    np.testing.assert_allclose(w.numpy(), [0.75 - 3.0, 0.75 + 0.1], rtol=1e-6)
    np.testing.assert_array_equal(opt.counts[0].numpy(), [1.0, 1.0])


def test_gradient_of_the_wrong_shape_names_the_variable():
    w = _var([1.0, 2.0], "weights")
    with pytest.raises(nf.errors.InvalidArgumentError, match="variable 'weights:0'"):
        nf.optimizers.Adam().apply_gradients([(nf.constant([1.0, 2.0, 3.0]), w)])
    graph = nf.Graph()
    with graph.as_default():
        v = nf.Variable(np.zeros((2, 3), np.float32), name="kernel")
        g = nf.compat.v1.placeholder(nf.float32, [None, 2])
        with pytest.raises(nf.errors.InvalidArgumentError, match="variable 'kernel:0'"):
            nf.optimizers.SGD(0.1).apply_gradients([(g, v)])
