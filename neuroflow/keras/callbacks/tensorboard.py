"""``keras.callbacks.TensorBoard``: event files that TensorBoard reads, written through
tensorboardX (the optional ``tensorboard`` extra)."""
from __future__ import annotations

import json
import os
import time
import warnings

import numpy as np

from neuroflow.keras.callbacks.callback import Callback
from neuroflow.keras.callbacks.monitor import scalar

_MISSING = ("The TensorBoard callback writes its event files with the tensorboardX package, "
            "which is not installed. Install the extra: pip install 'neuroflow[tensorboard]' "
            "(or: pip install tensorboardX).")


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as e:
        raise ImportError(_MISSING) from e
    return SummaryWriter


def _weight_tag(variable):
    path = getattr(variable, "path", None) or str(variable.name)
    return path.replace(":", "_")


def _as_image(weight):
    """A weight as an ``(N, H, W, 1)`` image batch scaled to [0, 1], or None (Keras's
    layout: a bias is one row, a kernel is wider than tall, a conv kernel one image per
    output channel)."""
    image = np.squeeze(np.asarray(weight, np.float32))
    if image.ndim == 1:
        image = image.reshape(1, 1, image.shape[0], 1)
    elif image.ndim == 2:
        if image.shape[0] > image.shape[1]:
            image = image.T
        image = image.reshape(1, image.shape[0], image.shape[1], 1)
    elif image.ndim == 3:  # channels last: every kernel as a separate image
        image = np.transpose(image, (2, 0, 1))[..., None]
    else:
        return None
    if not np.all(np.isfinite(image)):
        return None
    low, high = float(image.min()), float(image.max())
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


class TensorBoard(Callback):
    """Logs for TensorBoard: the epoch metrics as scalars (``epoch_loss``, ...; validation
    metrics under ``log_dir/validation``, the rest and the learning rate under
    ``log_dir/train``), weight histograms every ``histogram_freq`` epochs, batch-level
    scalars every ``update_freq`` batches (``"batch"`` = 1) and the model's config
    (``write_graph``). View them with ``tensorboard --logdir logs``.

    Needs the tensorboardX package: ``pip install 'neuroflow[tensorboard]'``.

    >>> tensorboard = keras.callbacks.TensorBoard(log_dir="./logs", histogram_freq=1)
    >>> model.fit(x, y, epochs=5, callbacks=[tensorboard])
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self._writer_class = _summary_writer_class()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        if self.update_freq != "epoch" and not (isinstance(self.update_freq, int)
                                                and self.update_freq > 0):
            raise ValueError("`update_freq` must be 'epoch', 'batch' or a positive integer. "
                             f"Received: update_freq={update_freq}")
        if profile_batch not in (0, None, "0", (0, 0)):
            raise ValueError("Profiling is not available in neuroflow. Received: "
                             f"profile_batch={profile_batch} (must be 0)")
        if embeddings_freq:
            warnings.warn("TensorBoard: embedding projector logging (`embeddings_freq`) is "
                          "not supported by neuroflow; no embeddings will be written.",
                          stacklevel=2)
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}
        self._global_train_batch = 0
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0

    # -- writers ---------------------------------------------------------------------------
    def _writer(self, kind):
        if kind not in self._writers:
            folder = os.path.join(self.log_dir, "train" if kind == "train" else "validation")
            self._writers[kind] = self._writer_class(logdir=folder)
        return self._writers[kind]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model):
        super().set_model(model)
        self._writers = {}

    # -- hooks -----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph:
            self._write_model_config()

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_time = time.perf_counter()
            self._epoch_start_iterations = self._iterations()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer = self._writer("train")
        step = self._global_train_batch
        if self.write_steps_per_second:
            elapsed = max(time.perf_counter() - self._batch_start_time, 1e-9)
            writer.add_scalar("batch_steps_per_second", 1.0 / elapsed, step)
        for name, value in (logs or {}).items():
            value = scalar(value)
            if value is not None:
                writer.add_scalar("batch_" + name, value, step)

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if not logs or optimizer is None or not hasattr(optimizer, "iterations"):
            return
        writer = self._writer("validation")
        step = self._iterations()
        for name, value in logs.items():
            value = scalar(value)
            if value is not None:
                writer.add_scalar(f"evaluation_{name}_vs_iterations", value, step)
        writer.flush()

    # -- what is written -------------------------------------------------------------------
    def _iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        iterations = getattr(optimizer, "iterations", None)
        return 0 if iterations is None else int(np.asarray(iterations.numpy()))

    def _log_epoch_metrics(self, epoch, logs):
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            lr = optimizer.learning_rate
            train["learning_rate"] = float(np.asarray(lr.numpy() if hasattr(lr, "numpy")
                                                      else lr))
        if self.write_steps_per_second:
            elapsed = max(time.perf_counter() - self._epoch_start_time, 1e-9)
            train["steps_per_second"] = (self._iterations()
                                         - self._epoch_start_iterations) / elapsed
        for kind, values in (("train", train), ("validation", val)):
            if not values:
                continue
            writer = self._writer(kind)
            for name, value in values.items():
                value = scalar(value)
                if value is not None:
                    writer.add_scalar("epoch_" + name, value, epoch)

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for weight in self.model.weights:
            values = np.asarray(weight.numpy())
            tag = _weight_tag(weight)
            if values.size == 0 or not np.all(np.isfinite(values)):
                warnings.warn(f"TensorBoard: weight '{tag}' has no values or non-finite "
                              f"values at epoch {epoch}; its histogram is skipped.",
                              stacklevel=2)
                continue
            writer.add_histogram(f"{tag}/histogram", values.astype(np.float64), epoch)
            if self.write_images:
                image = _as_image(values)
                if image is not None:
                    writer.add_images(f"{tag}/image", image, epoch, dataformats="NHWC")

    def _write_model_config(self):
        """The architecture of a Sequential or functional model as JSON text (what Keras's
        model summary holds); subclassed models are skipped, as in Keras."""
        from neuroflow.keras.models.sequential import Sequential
        if not isinstance(self.model, Sequential) and \
                getattr(self.model, "_functional_outputs", None) is None:
            return
        try:
            config = {"class_name": type(self.model).__name__,
                      "config": self.model.get_config()}
            text = json.dumps(config, default=str)
        except Exception as e:  # a model that cannot describe itself still trains
            warnings.warn(f"TensorBoard: model failed to serialize as JSON, its graph is not "
                          f"written ({e}).", stacklevel=2)
            return
        self._writer("train").add_text("keras/model_config", text, 0)
