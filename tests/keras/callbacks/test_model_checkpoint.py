import os

import numpy as np
import pytest

from neuroflow import keras
from tests.keras.callbacks.helpers import dense_model, regression_data, set_logs, weights_by_epoch

pytest.importorskip("safetensors", reason="saving weights needs the safetensors package")


def _fit(callbacks, epochs=4, validation=False):
    x, y = regression_data(n=40)
    model = dense_model()
    history = model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=callbacks,
                        validation_split=0.2 if validation else 0.0)
    return model, history


def test_saves_a_model_file_per_epoch_with_formatted_names(tmp_path):
    pattern = str(tmp_path / "model-{epoch:02d}-{val_loss:.2f}.keras")
    model, history = _fit([keras.callbacks.ModelCheckpoint(pattern)], epochs=3, validation=True)
    expected = sorted(f"model-{e + 1:02d}-{v:.2f}.keras"
                      for e, v in enumerate(history.history["val_loss"]))
    assert sorted(os.listdir(tmp_path)) == expected
    last = keras.models.load_model(tmp_path / expected[-1])
    x, _ = regression_data(n=4)
    np.testing.assert_allclose(last.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_weights_only_writes_weights_that_load_back(tmp_path):
    path = tmp_path / "ckpt" / "weights-{epoch}.weights.h5"   # the folder is created
    seen = []
    model, _ = _fit([weights_by_epoch(seen),
                     keras.callbacks.ModelCheckpoint(path, save_weights_only=True)], epochs=2)
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["weights-1.weights.h5",
                                                     "weights-2.weights.h5"]
    fresh = dense_model(seed=1)
    fresh.load_weights(tmp_path / "ckpt" / "weights-1.weights.h5")
    for got, want in zip(fresh.get_weights(), seen[0]):
        np.testing.assert_array_equal(got, want)


def test_save_best_only_keeps_the_best_epoch(tmp_path):
    curve = [3.0, 2.0, 2.5, 1.0, 1.5]
    path = tmp_path / "best.weights.h5"
    seen = []
    checkpoint = keras.callbacks.ModelCheckpoint(path, save_best_only=True,
                                                 save_weights_only=True)
    _fit([set_logs("val_loss", curve), weights_by_epoch(seen), checkpoint], epochs=5)
    assert checkpoint.best == 1.0
    fresh = dense_model(seed=1)
    fresh.load_weights(path)
    for got, want in zip(fresh.get_weights(), seen[3]):  # the weights after epoch 3
        np.testing.assert_array_equal(got, want)


def test_save_best_only_writes_only_on_improvement(tmp_path):
    curve = [3.0, 2.0, 2.5, 1.0, 1.5]
    pattern = str(tmp_path / "best-{epoch}.keras")
    _fit([set_logs("val_loss", curve),
          keras.callbacks.ModelCheckpoint(pattern, save_best_only=True)], epochs=5)
    assert sorted(os.listdir(tmp_path)) == ["best-1.keras", "best-2.keras", "best-4.keras"]


def test_mode_max_and_initial_value_threshold(tmp_path):
    curve = [0.5, 0.7, 0.6, 0.9]
    pattern = str(tmp_path / "acc-{epoch}.weights.h5")
    _fit([set_logs("val_accuracy", curve),
          keras.callbacks.ModelCheckpoint(pattern, monitor="val_accuracy", save_best_only=True,
                                          save_weights_only=True,
                                          initial_value_threshold=0.65)], epochs=4)
    assert sorted(os.listdir(tmp_path)) == ["acc-2.weights.h5", "acc-4.weights.h5"]


def test_verbose_messages(tmp_path, capsys):
    _fit([set_logs("val_loss", [2.0, 3.0]),
          keras.callbacks.ModelCheckpoint(tmp_path / "m.keras", save_best_only=True,
                                          verbose=1)], epochs=2)
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from inf to 2.00000, saving model to" in out
    assert "Epoch 2: val_loss did not improve from 2.00000" in out


def test_save_freq_in_batches(tmp_path):
    pattern = str(tmp_path / "e{epoch}-b{batch}.weights.h5")
    # 5 batches per epoch, 2 epochs: saves after batches 3 and 6 and 9 of the run
    _fit([keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True, save_freq=3)],
         epochs=2)
    assert sorted(os.listdir(tmp_path)) == ["e1-b3.weights.h5", "e2-b1.weights.h5",
                                            "e2-b4.weights.h5"]


def test_missing_monitor_with_best_only_saves_and_warns(tmp_path):
    with pytest.warns(UserWarning, match="Can save best model only with val_loss"):
        _fit([keras.callbacks.ModelCheckpoint(tmp_path / "m.keras", save_best_only=True)],
             epochs=1)
    assert (tmp_path / "m.keras").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.ModelCheckpoint(tmp_path / "m.keras", save_freq="sometimes")
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        _fit([keras.callbacks.ModelCheckpoint(str(tmp_path / "{val_auc}.keras"))], epochs=1)
    (tmp_path / "folder").mkdir()
    with pytest.raises(OSError, match="non-directory filepath"):
        _fit([keras.callbacks.ModelCheckpoint(tmp_path / "folder")], epochs=1)


def test_failed_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.weights.h5"
    model, _ = _fit([keras.callbacks.ModelCheckpoint(path, save_weights_only=True)], epochs=1)
    before = path.read_bytes()

    def killed(fd):  # the process dies after writing the new file, before renaming it
        raise KeyboardInterrupt("killed while saving")
    monkeypatch.setattr(os, "fsync", killed)
    x, y = regression_data(n=40)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[keras.callbacks.ModelCheckpoint(path, save_weights_only=True)])
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.weights.h5"]  # no temporary file left
