import glob
import json
import os
import struct
import sys

import numpy as np
import pytest

from neuroflow import keras
from tests.keras.callbacks.helpers import dense_model, regression_data


def test_missing_tensorboardx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'neuroflow\[tensorboard\]'"):
        keras.callbacks.TensorBoard("logs")


def _read_events(folder):
    """Every event in the event files of ``folder``, read record by record (TFRecord framing,
    both CRCs checked) with the Event protobuf that tensorboardX ships."""
    from tensorboardX.crc32c import crc32c
    from tensorboardX.proto import event_pb2

    def masked(data):
        crc = crc32c(data)
        return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    files = glob.glob(os.path.join(folder, "events.out.tfevents.*"))
    assert len(files) == 1, files
    events = []
    with open(files[0], "rb") as f:
        data = f.read()
    position = 0
    while position < len(data):
        header = data[position:position + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[position + 8:position + 12])
        assert length_crc == masked(header)
        body = data[position + 12:position + 12 + length]
        (body_crc,) = struct.unpack("<I", data[position + 12 + length:position + 16 + length])
        assert body_crc == masked(body)
        event = event_pb2.Event()
        event.ParseFromString(body)
        events.append(event)
        position += 16 + length
    return events


def _summaries(events):
    scalars, histograms, images, texts = {}, {}, {}, {}
    for event in events:
        for value in event.summary.value:
            kind = value.WhichOneof("value")
            if kind == "simple_value":
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
            elif kind == "histo":
                histograms.setdefault(value.tag, []).append((event.step, value.histo))
            elif kind == "image":
                images.setdefault(value.tag, []).append(event.step)
            elif kind == "tensor":
                texts.setdefault(value.tag, []).append(value.tensor.string_val[0].decode())
    return scalars, histograms, images, texts


@pytest.fixture
def fitted(tmp_path):
    pytest.importorskip("tensorboardX", reason="the TensorBoard callback needs tensorboardX")
    x, y = regression_data(n=40)
    model = dense_model(metrics=["mae"])
    log_dir = tmp_path / "logs"
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.2, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(log_dir, histogram_freq=1)])
    return model, history, log_dir


def test_epoch_scalars_and_histograms_read_back(fitted):
    model, history, log_dir = fitted
    assert sorted(os.listdir(log_dir)) == ["train", "validation"]
    train_scalars, histograms, _, texts = _summaries(_read_events(log_dir / "train"))
    val_scalars, _, _, _ = _summaries(_read_events(log_dir / "validation"))
    for name in ("loss", "mae"):
        steps, values = zip(*train_scalars[f"epoch_{name}"])
        assert steps == (0, 1, 2)
        np.testing.assert_allclose(values, history.history[name], rtol=1e-6)
        steps, values = zip(*val_scalars[f"epoch_{name}"])
        assert steps == (0, 1, 2)
        np.testing.assert_allclose(values, history.history[f"val_{name}"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train_scalars["epoch_learning_rate"]], 0.05,
                               rtol=1e-6)
    (config,) = texts["keras/model_config/text_summary"]
    assert json.loads(config)["class_name"] == "Sequential"
    # one histogram per weight and epoch; the last one summarizes the final weights
    assert sorted(histograms) == sorted(f"{w.path}/histogram" for w in model.weights)
    for weight in model.weights:
        series = histograms[f"{weight.path}/histogram"]
        assert [step for step, _ in series] == [0, 1, 2]
        last = series[-1][1]
        values = weight.numpy()
        assert last.num == values.size
        assert last.sum == pytest.approx(float(values.sum()), rel=1e-5, abs=1e-6)
        assert last.min == pytest.approx(float(values.min()), rel=1e-6)
        assert last.max == pytest.approx(float(values.max()), rel=1e-6)


def test_tensorboard_itself_reads_the_logs(fitted):
    pytest.importorskip("tensorboard", reason="cross-check with TensorBoard's own reader")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    model, history, log_dir = fitted
    train = EventAccumulator(str(log_dir / "train")).Reload()
    assert [e.step for e in train.Scalars("epoch_loss")] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in train.Scalars("epoch_loss")],
                               history.history["loss"], rtol=1e-6)
    tag = f"{model.weights[0].path}/histogram"
    assert tag in train.Tags()["histograms"]
    validation = EventAccumulator(str(log_dir / "validation")).Reload()
    np.testing.assert_allclose([e.value for e in validation.Scalars("epoch_loss")],
                               history.history["val_loss"], rtol=1e-6)


def test_batch_scalars_images_and_histogram_frequency(tmp_path):
    pytest.importorskip("tensorboardX", reason="the TensorBoard callback needs tensorboardX")
    x, y = regression_data(n=16)
    model = dense_model()
    log_dir = tmp_path / "logs"
    model.fit(x, y, epochs=3, batch_size=8, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(log_dir, histogram_freq=2, update_freq=1,
                                                     write_images=True, write_graph=False,
                                                     write_steps_per_second=True)])
    assert os.listdir(log_dir) == ["train"]  # no validation data, no validation writer
    scalars, histograms, images, texts = _summaries(_read_events(log_dir / "train"))
    assert [step for step, _ in scalars["batch_loss"]] == [1, 2, 3, 4, 5, 6]
    assert len(scalars["batch_steps_per_second"]) == 6
    assert [step for step, _ in scalars["epoch_steps_per_second"]] == [0, 1, 2]
    assert all(v > 0 for _, v in scalars["epoch_steps_per_second"])
    for series in histograms.values():
        assert [step for step, _ in series] == [0, 2]
    # as in Keras, a weight of one value (squeezed to a scalar) has no image
    assert sorted(images) == sorted(f"{w.path}/image" for w in model.weights
                                    if np.squeeze(w.numpy()).ndim >= 1)
    assert texts == {}


def test_evaluation_scalars_and_arguments(tmp_path):
    pytest.importorskip("tensorboardX", reason="the TensorBoard callback needs tensorboardX")
    x, y = regression_data(n=16)
    model = dense_model()
    board = keras.callbacks.TensorBoard(tmp_path)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.evaluate(x, y, verbose=0, callbacks=[board])
    board.on_train_end()
    scalars, _, _, _ = _summaries(_read_events(tmp_path / "validation"))
    assert scalars["evaluation_loss_vs_iterations"][0][0] == 2  # the optimizer's step
    with pytest.raises(ValueError, match="Profiling"):
        keras.callbacks.TensorBoard(tmp_path, profile_batch=2)
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(tmp_path, update_freq="sometimes")


def test_subclassed_model_writes_no_config_and_no_warning(tmp_path, recwarn):
    pytest.importorskip("tensorboardX", reason="the TensorBoard callback needs tensorboardX")

    class Linear(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Linear()
    model.compile(keras.optimizers.SGD(learning_rate=0.01), "mse")
    x, y = regression_data(n=16)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    scalars, _, _, texts = _summaries(_read_events(tmp_path / "train"))
    assert "epoch_loss" in scalars and texts == {}
    assert not [w for w in recwarn if "TensorBoard" in str(w.message)]
