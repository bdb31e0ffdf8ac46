import numpy as np
import pytest

from neuroflow import keras
from tests.keras.callbacks.helpers import dense_model, regression_data, set_logs, weights_by_epoch


def _fit(curve, key="val_loss", epochs=None, **kwargs):
    x, y = regression_data()
    model = dense_model()
    stopper = keras.callbacks.EarlyStopping(monitor=key, **kwargs)
    history = model.fit(x, y, epochs=epochs or len(curve), batch_size=8, verbose=0,
                        callbacks=[set_logs(key, curve), stopper])
    return model, stopper, history


def test_stops_after_patience_epochs_without_improvement():
    # best at epoch 2; epochs 3 and 4 do not improve: patience 2 stops at epoch 4
    _, stopper, history = _fit([5.0, 4.0, 3.0, 3.5, 3.2, 1.0, 0.5], patience=2)
    assert len(history.history["loss"]) == 5
    assert stopper.stopped_epoch == 4
    assert stopper.best == 3.0 and stopper.best_epoch == 2


def test_patience_zero_stops_at_first_non_improving_epoch():
    _, stopper, history = _fit([3.0, 2.0, 2.5, 1.0])
    assert history.epoch == [0, 1, 2]
    assert stopper.stopped_epoch == 2


def test_no_stop_while_improving():
    _, stopper, history = _fit([5.0, 4.0, 3.0, 2.0, 1.0], patience=1)
    assert len(history.epoch) == 5 and stopper.stopped_epoch == 0


def test_min_delta_counts_small_gains_as_no_improvement():
    curve = [1.0, 0.99, 0.98, 0.97, 0.5]
    _, _, history = _fit(curve, patience=2, min_delta=0.05)
    assert len(history.epoch) == 3
    _, _, history = _fit(curve, patience=2, min_delta=0.001)
    assert len(history.epoch) == 5


def test_mode_max_and_auto_for_accuracy():
    curve = [0.5, 0.6, 0.55, 0.58, 0.9]
    for mode in ("max", "auto"):
        _, stopper, history = _fit(curve, key="val_accuracy", patience=2, mode=mode)
        assert len(history.epoch) == 4, mode
        assert stopper.best == 0.6
    # "min" on an accuracy curve: epoch 1 already got worse
    _, _, history = _fit(curve, key="val_accuracy", patience=1, mode="min")
    assert len(history.epoch) == 2


def test_auto_mode_unknown_metric_raises():
    with pytest.raises(ValueError, match="mode='max'"):
        _fit([1.0, 2.0], key="my_quantity")


def test_unknown_mode_falls_back_to_auto_with_warning():
    with pytest.warns(UserWarning, match="unknown"):
        stopper = keras.callbacks.EarlyStopping(mode="sideways")
    assert stopper.mode == "auto"


def test_baseline_stops_when_never_beaten():
    # Keras's rule: epochs that do not beat the baseline never reset the patience count, and
    # the stop comes at the first non-improving epoch once `patience` is used up
    curve = [3.0, 2.0, 1.5, 1.6, 1.7]
    _, stopper, history = _fit(curve, patience=3, baseline=1.0)
    assert len(history.epoch) == 4 and stopper.stopped_epoch == 3
    _, _, history = _fit(curve, patience=3)
    assert len(history.epoch) == 5
    # beating the baseline restarts the patience count
    _, _, history = _fit([3.0, 0.9, 0.8, 0.7, 0.6, 0.5], patience=2, baseline=1.0)
    assert len(history.epoch) == 6


def test_start_from_epoch_ignores_warm_up():
    curve = [1.0, 2.0, 3.0, 4.0, 3.0, 3.5, 3.6]
    _, _, history = _fit(curve, patience=1)
    assert len(history.epoch) == 2
    _, stopper, history = _fit(curve, patience=1, start_from_epoch=3)
    # monitoring starts at epoch 3 (4.0); 3.0 improves; 3.5 does not: stop at epoch 5
    assert len(history.epoch) == 6 and stopper.stopped_epoch == 5


def test_restore_best_weights():
    curve = [5.0, 4.0, 1.0, 3.0, 3.5, 4.0]
    x, y = regression_data()
    model = dense_model()
    seen = []
    stopper = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    model.fit(x, y, epochs=6, batch_size=8, verbose=0,
              callbacks=[set_logs("val_loss", curve), weights_by_epoch(seen), stopper])
    assert len(seen) == 5  # stopped at epoch 4
    final = model.get_weights()
    for got, best in zip(final, seen[2]):
        np.testing.assert_array_equal(got, best)
    assert not all(np.array_equal(a, b) for a, b in zip(final, seen[-1]))


def test_without_restore_keeps_last_weights():
    x, y = regression_data()
    model = dense_model()
    seen = []
    model.fit(x, y, epochs=4, batch_size=8, verbose=0,
              callbacks=[set_logs("val_loss", [1.0, 2.0, 3.0, 4.0]), weights_by_epoch(seen),
                         keras.callbacks.EarlyStopping(patience=1)])
    for got, last in zip(model.get_weights(), seen[-1]):
        np.testing.assert_array_equal(got, last)


def test_real_validation_loss_and_reuse():
    # a real val_loss that keeps falling: no stop; the same instance runs a second fit
    x, y = regression_data(n=64)
    model = dense_model()
    stopper = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    history = model.fit(x, y, validation_split=0.25, epochs=4, batch_size=8, verbose=0,
                        callbacks=[stopper])
    assert len(history.epoch) == 4
    assert history.history["val_loss"][-1] < history.history["val_loss"][0]
    history = model.fit(x, y, validation_split=0.25, epochs=2, batch_size=8, verbose=0,
                        callbacks=[stopper])
    assert stopper.wait == 0 and len(history.epoch) == 2


def test_missing_monitor_warns_and_does_not_stop():
    x, y = regression_data()
    model = dense_model()
    with pytest.warns(UserWarning, match="val_loss.*not available"):
        history = model.fit(x, y, epochs=2, verbose=0,
                            callbacks=[keras.callbacks.EarlyStopping()])
    assert len(history.epoch) == 2


def test_verbose_messages(capsys):
    _fit([5.0, 4.0, 4.5, 4.6], patience=1, verbose=1, restore_best_weights=True)
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "best epoch: 2." in out
