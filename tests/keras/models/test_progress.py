"""Keras's progress display in ``fit`` and ``evaluate``: ``Epoch 1/2``, the ``step/steps``
counter, the bar, the time per step, the loss and metrics with their values, the validation
metrics at the end of an epoch, ``verbose=2``'s one line per epoch and ``verbose=0``'s
silence. Times come from a fake clock where the test needs exact ones."""
import io
import re

import numpy as np
import pytest

from neuroflow import keras
from neuroflow.keras.callbacks import callback as callback_module

BAR = "\u2501"  # Keras's bar character
TIME = r"\d+(?:s|ms|us)"
STEPS = 4  # 64 samples, batch 16


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    return x, y, rng.standard_normal((32, 8)).astype(np.float32), rng.integers(0, 2, 32)


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _fit(verbose, callbacks=None, epochs=2):
    x, y, x_val, y_val = _data()
    return _model().fit(x, y, batch_size=16, epochs=epochs, verbose=verbose,
                        validation_data=(x_val, y_val), shuffle=False, callbacks=callbacks)


def _metrics(text):
    """``- name: value`` pairs, in order."""
    return re.findall(r" - (\w+): ([-\d.e+]+)", text)


def _shown(history, epoch):
    return [(k, f"{v[epoch]:.4f}") for k, v in history.history.items()]


class _Clock:
    """``time.perf_counter`` advancing by a fixed amount at each reading."""

    def __init__(self, tick):
        self.now, self.tick = 0.0, tick

    def perf_counter(self):
        self.now += self.tick
        return self.now


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_1_prints_the_epoch_bar_time_and_metrics(capsys):
    history = _fit(verbose=1)
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    # not a terminal: each epoch's bar is written once, complete, when the epoch ends
    assert [lines[0], lines[2]] == ["Epoch 1/2", "Epoch 2/2"] and len(lines) == 4
    for epoch, line in enumerate(lines[1::2]):
        match = re.fullmatch(rf"{STEPS}/{STEPS} ({BAR}{{20}}) ({TIME}) ({TIME})/step( - .*)",
                             line)
        assert match, line
        shown = _metrics(match.group(4))
        assert shown == _shown(history, epoch)
        # the training loss and metrics, then the validation ones
        assert [k for k, _ in shown] == ["loss", "accuracy", "val_loss", "val_accuracy"]


def test_the_bar_counts_steps_on_a_terminal(monkeypatch):
    """On a terminal the bar redraws in place after every step: the counter, the filled part,
    the running loss and accuracy of the batches so far; the validation metrics join at the
    end of the epoch."""
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.setattr(callback_module, "time", _Clock(1.0))  # 1 s between readings
    batch_logs = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batch_logs.append(dict(logs))

    history = _fit(verbose=1, callbacks=[Record()], epochs=1)
    text = terminal.getvalue()
    assert text.startswith("Epoch 1/1\n")
    frames = text[len("Epoch 1/1\n"):].split("\r")[1:]
    assert len(frames) == STEPS + 1  # one per step, and the final one
    for step, frame in enumerate(frames, start=1):
        done = min(step, STEPS)
        filled = 20 * done // STEPS
        bar = BAR * filled + "\x1b[2m" + BAR * (20 - filled) + "\x1b[0m"  # the rest dimmed
        match = re.fullmatch(rf"{done}/{STEPS} {re.escape(bar)} ({TIME}) ({TIME})/step"
                             r"( - .*)\x1b\[K\n?", frame)
        assert match, repr(frame)
        assert match.group(1) == f"{step}s" and match.group(2) == f"{step // done}s"
        assert frame.endswith("\n") == (step == STEPS + 1)  # a new line only at the end
        shown = _metrics(match.group(3))
        if step <= STEPS:
            assert shown == [(k, f"{v:.4f}") for k, v in batch_logs[step - 1].items()]
        else:
            assert shown == _shown(history, 0)
            assert [k for k, _ in shown][2:] == ["val_loss", "val_accuracy"]
    losses = [logs["loss"] for logs in batch_logs]
    assert len(set(losses)) == STEPS  # the running values change from step to step


@pytest.mark.parametrize("seconds, shown", [(5e-4, "500us"), (5e-3, "5ms"), (2.0, "2s")])
def test_time_per_step_units(capsys, monkeypatch, seconds, shown):
    # the clock is read when the bar starts, after each of the 4 steps and at the end; as in
    # Keras the time per step leaves out the first step: the last 3 steps span 4 ticks
    monkeypatch.setattr(callback_module, "time", _Clock(seconds * (STEPS - 1) / 4))
    _fit(verbose=1, epochs=1)
    line = capsys.readouterr().out.splitlines()[1]
    assert f" {shown}/step - loss: " in line


def test_verbose_2_prints_one_line_per_epoch(capsys):
    history = _fit(verbose=2)
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert [lines[0], lines[2]] == ["Epoch 1/2", "Epoch 2/2"] and len(lines) == 4
    for epoch, line in enumerate(lines[1::2]):
        match = re.fullmatch(rf"{STEPS}/{STEPS} - {TIME} - {TIME}/step( - .*)", line)
        assert match, line
        assert BAR not in line
        assert _metrics(match.group(1)) == _shown(history, epoch)


def test_verbose_0_is_silent(capsys):
    history = _fit(verbose=0)
    x, y, _, _ = _data()
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr() == ("", "")
    assert len(history.history["loss"]) == 2  # it did train


def test_evaluate_prints_one_bar_with_its_results(capsys):
    x, y, _, _ = _data()
    model = _model()
    results = model.evaluate(x, y, batch_size=32, verbose=1, return_dict=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    match = re.fullmatch(rf"2/2 {BAR}{{20}} {TIME} {TIME}/step( - .*)", lines[0])
    assert match, lines[0]
    assert _metrics(match.group(1)) == [(k, f"{v:.4f}") for k, v in results.items()]


def test_small_values_use_scientific_notation(capsys):
    bar = callback_module.Progbar(3, stream=None)
    bar.update(3, {"loss": 2.5e-5, "accuracy": 1.0}, finalize=True)
    line = capsys.readouterr().out
    assert " - loss: 2.5000e-05 - accuracy: 1.0000" in line


def test_elapsed_time_is_shown_in_whole_seconds_as_keras(capsys, monkeypatch):
    monkeypatch.setattr(callback_module, "time", _Clock(0.01))
    _fit(verbose=1, epochs=1)
    line = capsys.readouterr().out.splitlines()[1]
    assert re.match(rf"{STEPS}/{STEPS} {BAR}{{20}} 0s ", line), line


class _FirstStepSlow:
    """A clock whose first step (tracing the train function) takes 10 s, the others 1 s."""

    def __init__(self):
        self.readings = iter([0.0, 10.0, 11.0, 12.0, 13.0, 13.0])

    def perf_counter(self):
        return next(self.readings)


def test_time_per_step_leaves_out_the_first_step_as_keras(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.setattr(callback_module, "time", _FirstStepSlow())
    _fit(verbose=1, epochs=1)
    final = terminal.getvalue().split("\r")[-1]
    assert " 1s/step - " in final, repr(final)


def test_predict_draws_a_bar_unless_silent(capsys):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.predict(np.ones((70, 3), np.float32), batch_size=32)
    out = capsys.readouterr().out
    assert re.match(rf"3/3 {BAR}{{20}} \d+s \d+(us|ms|s)/step\n$", out), repr(out)
    model.predict(np.ones((70, 3), np.float32), verbose=0)
    assert capsys.readouterr().out == ""
