import csv

import numpy as np
import pytest

from neuroflow import keras
from tests.keras.callbacks.helpers import dense_model, regression_data


def _read(path, separator=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=separator))


def test_writes_a_header_and_a_row_per_epoch(tmp_path):
    x, y = regression_data(n=40)
    model = dense_model(metrics=["mae"])
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.2, verbose=0,
                        callbacks=[keras.callbacks.CSVLogger(path)])
    rows = _read(path)
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for i, row in enumerate(rows[1:]):
        for key, cell in zip(rows[0][1:], row[1:]):
            assert float(cell) == pytest.approx(history.history[key][i], rel=1e-6)


def test_separator_and_overwrite(tmp_path):
    x, y = regression_data()
    path = tmp_path / "log.tsv"
    path.write_text("old content\n")
    model = dense_model()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(str(path), separator="\t")])
    rows = _read(path, "\t")
    assert rows[0] == ["epoch", "loss"] and len(rows) == 3


def test_append_continues_the_file_without_a_second_header(tmp_path):
    x, y = regression_data()
    path = tmp_path / "log.csv"
    model = dense_model()
    logger = keras.callbacks.CSVLogger(path, append=True)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[logger])
    model.fit(x, y, epochs=3, initial_epoch=2, verbose=0, callbacks=[logger])
    rows = _read(path)
    assert rows[0] == ["epoch", "loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert logger.csv_file.closed


def test_values_keys_added_by_other_callbacks_and_arrays(tmp_path):
    x, y = regression_data()
    path = tmp_path / "log.csv"
    model = dense_model()

    def add(epoch, logs):
        logs["note"] = f"e{epoch}"
        logs["vector"] = np.array([1.5, 2.5])
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=add),
                         keras.callbacks.CSVLogger(path)])
    rows = _read(path)
    assert rows[0] == ["epoch", "loss", "note", "vector"]
    assert rows[1][2] == "e0" and rows[1][3] == '"[1.5, 2.5]"'


def test_missing_values_are_na(tmp_path):
    x, y = regression_data()
    path = tmp_path / "log.csv"
    model = dense_model()

    def add(epoch, logs):
        if epoch == 0:
            logs["extra"] = 1.0
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=add),
                         keras.callbacks.CSVLogger(path)])
    rows = _read(path)
    assert rows[0] == ["epoch", "extra", "loss"]
    assert rows[1][1] == "1.0" and rows[2][1] == "NA"
