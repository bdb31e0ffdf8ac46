"""Callbacks that set the optimizer's learning rate: ``LearningRateScheduler`` (by epoch)
and ``ReduceLROnPlateau`` (when a metric stalls)."""
from __future__ import annotations

import warnings

import numpy as np

from neuroflow.keras.callbacks.callback import Callback
from neuroflow.keras.callbacks.monitor import (
    check_mode,
    optimizer_learning_rate,
    resolve_mode,
    scalar,
)


def _set_learning_rate(model, value):
    # The optimizer keeps its learning rate in a Variable that the compiled train step
    # reads, so assigning it takes effect from the next batch without retracing.
    model.optimizer.learning_rate = float(value)


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of every epoch to ``schedule(epoch, lr)``
    (``epoch`` counts from 0, ``lr`` is the current rate; a one-argument
    ``schedule(epoch)`` works too). The rate is added to the epoch logs as
    ``learning_rate``.

    >>> def schedule(epoch, lr):
    ...     return lr if epoch < 10 else lr * 0.9
    >>> model.fit(x, y, epochs=15, callbacks=[keras.callbacks.LearningRateScheduler(schedule)])
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = optimizer_learning_rate(self.model, "LearningRateScheduler")
        try:
            new_lr = self.schedule(epoch, lr)
        except TypeError:  # the one-argument form schedule(epoch)
            new_lr = self.schedule(epoch)
        if hasattr(new_lr, "numpy"):
            new_lr = new_lr.numpy()
        if isinstance(new_lr, np.ndarray) and new_lr.ndim == 0:
            new_lr = new_lr.item()
        if not isinstance(new_lr, (float, np.floating)):
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {new_lr!r}")
        _set_learning_rate(self.model, new_lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{new_lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = optimizer_learning_rate(self.model, "LearningRateScheduler")


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` has not improved by more
    than ``min_delta`` for ``patience`` epochs, then waits ``cooldown`` epochs before
    counting again; never below ``min_lr``.

    >>> reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2,
    ...                                               patience=5, min_lr=0.001)
    >>> model.fit(x, y, validation_split=0.2, callbacks=[reduce_lr])
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:  # the Keras 1 spelling of min_delta
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated and will be removed, use "
                          "`min_delta` instead.", stacklevel=2)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected argument(s): {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.mode = check_mode("ReduceLROnPlateau", mode)
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0
        self.monitor_op = None

    def _reset(self):
        # Keras's rule for "auto": names with "acc" are maximized, everything else minimized;
        # a metric that declares its direction is honoured first.
        fallback = "max" if "acc" in self.monitor else "min"
        mode = resolve_mode("ReduceLROnPlateau", self.mode, self.monitor, self.model,
                            fallback=fallback)
        if mode == "min":
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._reset()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = optimizer_learning_rate(self.model, "ReduceLROnPlateau")
        current = scalar(logs.get(self.monitor))
        if current is None:
            warnings.warn("Learning rate reduction is conditioned on metric "
                          f"`{self.monitor}` which is not available. Available metrics are: "
                          f"{','.join(logs)}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = optimizer_learning_rate(self.model, "ReduceLROnPlateau")
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    _set_learning_rate(self.model, new_lr)
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
