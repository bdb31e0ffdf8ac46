import json
import os

import numpy as np
import pytest

from neuroflow import keras
from tests.keras.callbacks.helpers import dense_model, regression_data

pytest.importorskip("safetensors", reason="saving weights needs the safetensors package")


class Interrupt(keras.callbacks.Callback):
    """Raises at the start of epoch ``epoch`` (or of batch ``batch`` of that epoch)."""

    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if epoch == self.epoch and self.batch is None:
            raise RuntimeError("Interrupting!")

    def on_train_batch_begin(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise RuntimeError("Interrupting!")


def _model():
    return dense_model(optimizer=keras.optimizers.Adam(learning_rate=0.01), seed=0)


def _fit(model, callbacks, epochs=6):
    x, y = regression_data(n=40)
    return model.fit(x, y, epochs=epochs, batch_size=8, shuffle=True, verbose=0,
                     callbacks=callbacks)


def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    reference = _model()
    _fit(reference, [])

    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="Interrupting"):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir), Interrupt(3)])
    metadata = json.loads((backup_dir / "training_metadata.json").read_text())
    assert metadata["epoch"] == 3

    resumed = _model()  # a fresh process would build the model again, with the same seeds
    history = _fit(resumed, [keras.callbacks.BackupAndRestore(backup_dir)])
    assert history.epoch == [3, 4, 5]
    assert int(resumed.optimizer.iterations) == int(reference.optimizer.iterations) == 30
    for got, want in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(resumed.optimizer.variables, reference.optimizer.variables):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert not backup_dir.exists()  # deleted once fit completed


def test_resume_in_the_same_process_with_the_same_model(tmp_path):
    backup = keras.callbacks.BackupAndRestore(tmp_path / "backup")
    model = _model()
    with pytest.raises(RuntimeError):
        _fit(model, [backup, Interrupt(4)])
    history = _fit(model, [backup])
    assert history.epoch == [4, 5]


def test_backup_holds_the_optimizer_state(tmp_path):
    # resuming with Adam's moments and step count zeroed would give different weights
    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir), Interrupt(2)])
    folder = backup_dir / json.loads((backup_dir / "training_metadata.json")
                                     .read_text())["checkpoint"]
    assert sorted(os.listdir(folder)) == ["manifest.json", "model.safetensors",
                                          "optimizer.safetensors", "state.json"]
    fresh = _model()
    callback = keras.callbacks.BackupAndRestore(backup_dir)
    callback.set_model(fresh)
    callback.on_train_begin()
    assert fresh._initial_epoch == 2
    assert int(fresh.optimizer.iterations) == 10


def test_delete_checkpoint_false_keeps_the_backup(tmp_path):
    backup_dir = tmp_path / "backup"
    _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False)],
         epochs=2)
    assert json.loads((backup_dir / "training_metadata.json").read_text())["epoch"] == 2
    assert len([n for n in os.listdir(backup_dir) if n.startswith("checkpoint-")]) == 1
    # a finished run restarted does nothing more
    history = _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir)], epochs=2)
    assert history.epoch == []


def test_other_files_in_backup_dir_are_left_alone(tmp_path):
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    (backup_dir / "notes.txt").write_text("mine")
    _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir)], epochs=2)
    assert os.listdir(backup_dir) == ["notes.txt"]


def test_save_freq_in_batches_resumes_the_interrupted_epoch(tmp_path):
    backup_dir = tmp_path / "backup"
    seen = {}

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen[(self.epoch, batch)] = self.model.get_weights()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    with pytest.raises(RuntimeError):
        _fit(_model(), [Record(), keras.callbacks.BackupAndRestore(backup_dir, save_freq=2),
                        Interrupt(2, batch=4)])
    metadata = json.loads((backup_dir / "training_metadata.json").read_text())
    # 5 batches an epoch, a backup every 2: the last one after batch 3 (0-based) of epoch 2,
    # so a restart goes on at batch 4 of epoch 2
    assert (metadata["epoch"], metadata["step"]) == (2, 4)
    fresh = _model()
    callback = keras.callbacks.BackupAndRestore(backup_dir)
    callback.set_model(fresh)
    callback.on_train_begin()
    assert (fresh._initial_epoch, fresh._initial_step) == (2, 4)
    for got, want in zip(fresh.get_weights(), seen[(2, 3)]):
        np.testing.assert_array_equal(got, want)
    callback.on_train_end()


def test_a_kill_while_backing_up_keeps_the_previous_backup(tmp_path, monkeypatch):
    from neuroflow.keras.callbacks import file_io
    backup_dir = tmp_path / "backup"
    real_write_bytes = file_io.write_bytes
    calls = []

    def dying_write_bytes(path, data):
        calls.append(path)
        if os.path.basename(path) == "model.safetensors" and len(calls) > 8:
            with open(path, "wb") as f:  # the third backup, at the end of epoch 2
                f.write(data[:9])
            raise KeyboardInterrupt("killed")
        real_write_bytes(path, data)
    monkeypatch.setattr(file_io, "write_bytes", dying_write_bytes)
    with pytest.raises(KeyboardInterrupt):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir)])
    monkeypatch.undo()
    assert json.loads((backup_dir / "training_metadata.json").read_text())["epoch"] == 2
    assert [n for n in os.listdir(backup_dir) if n.startswith(".")] == []  # no temp left
    history = _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir)], epochs=4)
    assert history.epoch == [2, 3]


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path):
    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir, double_checkpoint=True),
                        Interrupt(3)])
    metadata = json.loads((backup_dir / "training_metadata.json").read_text())
    assert metadata["previous"]["epoch"] == 2
    (backup_dir / metadata["checkpoint"] / "model.safetensors").write_bytes(b"corrupt")
    with pytest.warns(UserWarning, match="restoring the one before it"):
        history = _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir)], epochs=4)
    assert history.epoch == [2, 3]


def test_sequential_without_input_shape_is_built_before_restoring(tmp_path):
    # Keras's own example: fit builds the model before the callbacks start
    backup_dir = tmp_path / "backup"
    x, y = regression_data(n=10)

    def model():
        m = keras.Sequential([keras.layers.Dense(2)])
        m.compile(keras.optimizers.SGD(learning_rate=0.01), "mse")
        return m
    with pytest.raises(RuntimeError):
        model().fit(x, y, epochs=10, batch_size=1, verbose=0,
                    callbacks=[keras.callbacks.BackupAndRestore(backup_dir), Interrupt(4)])
    history = model().fit(x, y, epochs=10, batch_size=1, verbose=0,
                          callbacks=[keras.callbacks.BackupAndRestore(backup_dir)])
    assert len(history.history["loss"]) == 6


def test_unbuilt_subclassed_model_and_bad_arguments(tmp_path):
    class Linear(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Linear()
    model.compile("sgd", "mse")
    x, y = regression_data()
    with pytest.raises(ValueError, match="must be built before you call `fit\\(\\)`"):
        model.fit(x, y, verbose=0,
                  callbacks=[keras.callbacks.BackupAndRestore(tmp_path / "b")])
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.BackupAndRestore(tmp_path, save_freq="often")


def test_foreign_metadata_file_is_an_error(tmp_path):
    (tmp_path / "training_metadata.json").write_text('{"something": 1}')
    with pytest.raises(ValueError, match="not a training metadata file"):
        _fit(_model(), [keras.callbacks.BackupAndRestore(tmp_path)], epochs=1)


def test_unreadable_backup_without_a_fallback_is_an_error(tmp_path):
    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir), Interrupt(2)])
    metadata = json.loads((backup_dir / "training_metadata.json").read_text())
    (backup_dir / metadata["checkpoint"] / "model.safetensors").write_bytes(b"corrupt")
    with pytest.raises(OSError, match="cannot restore the backup"):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir)])
