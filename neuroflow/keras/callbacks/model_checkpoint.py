"""``keras.callbacks.ModelCheckpoint``."""
from __future__ import annotations

import os
import warnings

import numpy as np

from neuroflow.keras.callbacks.callback import Callback
from neuroflow.keras.callbacks.monitor import check_mode, resolve_mode, scalar


class ModelCheckpoint(Callback):
    """Saves the model (``model.save``) or its weights (``model.save_weights``) during
    ``fit``, every epoch or every ``save_freq`` batches.

    ``filepath`` may hold format fields filled from ``epoch`` (1-based), ``batch`` and the
    logs: ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``. With ``save_best_only`` a file is
    written only when ``monitor`` improves on the best value so far (``mode`` tells which way
    is better; ``initial_value_threshold`` is the value to beat first). Files are written
    under a temporary name and renamed into place, so an interrupted save never leaves a
    broken checkpoint. Any file name works (Keras's ``.keras`` and ``.weights.h5`` included:
    the contents are neuroflow's safetensors-based formats).

    >>> checkpoint = keras.callbacks.ModelCheckpoint("best.keras", save_best_only=True)
    >>> model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[checkpoint])
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = check_mode("ModelCheckpoint", mode)
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self.monitor_op = None
        self.min_delta = 0.0
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        if save_freq != "epoch" and not (isinstance(save_freq, int)
                                         and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or a positive integer (a number of batches).")

    # -- deciding --------------------------------------------------------------------------
    def _set_monitor_op(self):
        mode = resolve_mode("ModelCheckpoint", self.mode, self.monitor, self.model)
        self.monitor_op = np.less if mode == "min" else np.greater
        if self.best is None:
            self.best = np.inf if self.monitor_op is np.less else -np.inf

    def _is_improvement(self, value, reference):
        return reference is None or bool(self.monitor_op(value, reference))

    def _should_save_model(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        raw = (logs or {}).get(self.monitor)
        if raw is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=3)
            return True
        current = scalar(raw)
        if current is None:
            warnings.warn("Can save best model only when `monitor` is a scalar value. "
                          f"Received: {raw}. Falling back to `save_best_only=False`.",
                          stacklevel=3)
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch started
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    # -- hooks -----------------------------------------------------------------------------
    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None and self.save_best_only:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    # -- saving ----------------------------------------------------------------------------
    def _get_file_path(self, epoch, batch, logs):
        logs = dict(logs or {})
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e}. Available keys: {sorted(['epoch', *logs])}") \
                from None

    def _save_model(self, epoch, batch, logs):
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise OSError("Please specify a non-directory filepath for ModelCheckpoint. "
                          f"Filepath used is an existing directory: {filepath}")
        # Both savers write a temporary file, fsync it and rename it into place.
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")
