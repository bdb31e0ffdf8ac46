import numpy as np
import pytest

from neuroflow import keras
from tests.keras.callbacks.helpers import dense_model, regression_data


def _data_with_bad_target(value):
    x, y = regression_data(n=32)
    y = y.copy()
    y[10] = value  # in the second batch of 8 (no shuffling)
    return x, y


def _batch_counter(store):
    return keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: store.append(batch))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf in the backward pass
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_stops_at_the_first_bad_batch(bad, capsys):
    x, y = _data_with_bad_target(bad)
    model = dense_model()
    batches, ended = [], []
    history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN(), _batch_counter(batches),
                                   keras.callbacks.LambdaCallback(
                                       on_train_end=lambda logs: ended.append(True))])
    assert batches == [0, 1]
    assert len(history.epoch) == 1 and ended == [True]
    assert not np.isfinite(history.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_finite_loss_runs_to_the_end():
    x, y = regression_data()
    model = dense_model()
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(history.epoch) == 2


def test_raise_error():
    x, y = _data_with_bad_target(np.nan)
    model = dense_model()
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 1"):
        model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True)])
