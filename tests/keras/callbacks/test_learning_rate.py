import numpy as np
import pytest

from neuroflow import keras
from tests.keras.callbacks.helpers import dense_model, regression_data, set_logs


def _linear_model(learning_rate=0.1):
    model = keras.Sequential([keras.Input(shape=(3,)),
                              keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model


def _rates_during_epochs(store):
    callback = keras.callbacks.LambdaCallback()
    callback.on_epoch_begin = lambda epoch, logs: store.append(
        float(callback.model.optimizer.learning_rate))
    return callback


def test_scheduler_sets_rate_each_epoch_and_logs_it():
    x, y = regression_data()
    model = dense_model(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    calls, during = [], []

    def schedule(epoch, lr):
        calls.append((epoch, lr))
        return 0.1 * 0.5 ** epoch

    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0,
                        callbacks=[keras.callbacks.LearningRateScheduler(schedule),
                                   _rates_during_epochs(during)])
    expected = [0.1, 0.05, 0.025, 0.0125]
    assert during == pytest.approx(expected, rel=1e-6)
    assert history.history["learning_rate"] == pytest.approx(expected, rel=1e-6)
    # schedule sees the epoch (from 0) and the current rate
    assert [e for e, _ in calls] == [0, 1, 2, 3]
    assert [lr for _, lr in calls] == pytest.approx([0.1, 0.1, 0.05, 0.025], rel=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0125, rel=1e-6)


def test_scheduled_rate_is_used_by_the_compiled_train_step():
    # a rate of 0 from epoch 1 on freezes the weights: the compiled step reads the new rate
    x, y = regression_data()
    model = _linear_model()
    weights = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: weights.append(model.get_weights()[0].copy()))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False,
              callbacks=[keras.callbacks.LearningRateScheduler(
                  lambda epoch, lr: 0.1 if epoch == 0 else 0.0), record])
    assert np.abs(weights[0]).sum() > 0
    np.testing.assert_array_equal(weights[1], weights[0])
    np.testing.assert_array_equal(weights[2], weights[0])


def test_one_argument_schedule_and_verbose(capsys):
    x, y = regression_data()
    model = dense_model()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1),
                                                               verbose=1)])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02, rel=1e-6)
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.02" in capsys.readouterr().out


def test_schedule_must_return_a_float():
    x, y = regression_data()
    model = dense_model()
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch, lr: "fast")])


def _plateau_fit(curve, key="val_loss", learning_rate=0.1, **kwargs):
    x, y = regression_data()
    model = dense_model(optimizer=keras.optimizers.SGD(learning_rate=learning_rate))
    reducer = keras.callbacks.ReduceLROnPlateau(monitor=key, **kwargs)
    history = model.fit(x, y, epochs=len(curve), batch_size=8, verbose=0,
                        callbacks=[set_logs(key, curve), reducer])
    return model, history


def test_reduce_on_plateau_after_patience():
    curve = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    model, history = _plateau_fit(curve, factor=0.5, patience=2)
    # each epoch logs the rate it trained with; reductions after epochs 2 and 5
    assert history.history["learning_rate"] == pytest.approx(
        [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025], rel=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.025, rel=1e-6)


def test_reduce_on_plateau_cooldown_and_min_lr():
    flat = [1.0] * 8
    model, _ = _plateau_fit(flat, factor=0.5, patience=1)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1 * 0.5 ** 7, rel=1e-5)
    model, history = _plateau_fit(flat, factor=0.5, patience=1, cooldown=2)
    # reductions after epochs 1, 3, 5, 7: the cooldown skips two epochs each time
    assert history.history["learning_rate"] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125], rel=1e-6)
    model, _ = _plateau_fit(flat, factor=0.5, patience=1, min_lr=0.03)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.03, rel=1e-6)


def test_reduce_on_plateau_min_delta_and_mode_max():
    # gains of 0.01 are below min_delta=0.05: a plateau
    model, _ = _plateau_fit([1.0, 0.99, 0.98, 0.97], factor=0.5, patience=2, min_delta=0.05)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05, rel=1e-6)
    # a rising accuracy is an improvement in "auto" (and "max") mode, a plateau in "min"
    rising = [0.5, 0.6, 0.7, 0.8]
    for mode in ("auto", "max"):
        model, _ = _plateau_fit(rising, key="val_accuracy", factor=0.5, patience=1, mode=mode)
        assert float(model.optimizer.learning_rate) == pytest.approx(0.1, rel=1e-6)
    model, _ = _plateau_fit(rising, key="val_accuracy", factor=0.5, patience=1, mode="min")
    assert float(model.optimizer.learning_rate) < 0.1


def test_reduce_on_plateau_arguments():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        keras.callbacks.ReduceLROnPlateau(factor=1.5)
    reducer = keras.callbacks.ReduceLROnPlateau()
    assert (reducer.monitor, reducer.factor, reducer.patience, reducer.min_delta,
            reducer.cooldown, reducer.min_lr) == ("val_loss", 0.1, 10, 1e-4, 0, 0.0)


def test_reduce_on_plateau_missing_monitor_warns():
    x, y = regression_data()
    model = dense_model()
    with pytest.warns(UserWarning, match="val_loss.*not available"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.ReduceLROnPlateau()])
