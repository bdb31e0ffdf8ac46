"""``keras.callbacks.EarlyStopping``."""
from __future__ import annotations

import warnings

import numpy as np

from neuroflow.keras.callbacks.callback import Callback
from neuroflow.keras.callbacks.monitor import check_mode, resolve_mode, scalar


class EarlyStopping(Callback):
    """Stops training when a monitored metric has stopped improving.

    At the end of each epoch the monitored value (``monitor``, from the epoch logs) is
    compared with the best so far; after ``patience`` epochs without an improvement of at
    least ``min_delta``, ``model.stop_training`` is set and ``fit`` ends after that epoch.
    With ``baseline``, the patience counter restarts only on epochs that also beat the
    baseline. With ``restore_best_weights``, the weights of the best epoch are put back when
    training ends. Epochs before ``start_from_epoch`` are not monitored (warm-up).

    >>> callback = keras.callbacks.EarlyStopping(monitor="loss", patience=3)
    >>> history = model.fit(x, y, epochs=10, callbacks=[callback])
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = check_mode("EarlyStopping", mode)
        self.monitor_op = None
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _set_monitor_op(self):
        mode = resolve_mode("EarlyStopping", self.mode, self.monitor, self.model)
        self.monitor_op = np.less if mode == "min" else np.greater
        # An improvement must beat the reference by min_delta in the good direction.
        if self.monitor_op is np.less:
            self.min_delta = -abs(self.min_delta)
        else:
            self.min_delta = abs(self.min_delta)
        self.best = float("inf") if self.monitor_op is np.less else -float("inf")

    def on_train_begin(self, logs=None):
        # Instances may be reused across fit() calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        if self.monitor_op is not None:
            self.best = float("inf") if self.monitor_op is np.less else -float("inf")

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            # Deferred to the first epoch end, when the model's metrics exist.
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until an epoch improves, the current weights are the best ones known.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}", stacklevel=3)
            return None
        return scalar(value)

    def _is_improvement(self, monitor_value, reference_value):
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))
