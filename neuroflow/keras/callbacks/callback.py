"""The callback protocol (``keras.callbacks.Callback``), the list that dispatches to callbacks,
``History`` and the Keras progress display (``ProgbarLogger``)."""
from __future__ import annotations

import sys
import time


class Callback:
    """Base class: override the ``on_*`` hooks you need; ``self.model`` is set by ``fit``."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)  # Keras's older name, still overridden

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


class CallbackList:
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks=None, model=None, **params):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if model is not None:
                cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        # As Keras does, every callback gets ``logs`` positionally (None when there are
        # none): LambdaCallback functions are written as ``lambda epoch, logs: ...``.
        indexed = 1 if hook.startswith("on_epoch") or "batch" in hook else 0

        def dispatch(*args, logs=None):
            if len(args) > indexed:
                args, logs = args[:indexed], args[indexed]
            for cb in self.callbacks:
                getattr(cb, hook)(*args, logs)
        return dispatch


class History(Callback):
    """Records the epoch logs; ``fit`` returns it (``history.history['loss']``)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


def _format_value(v):
    return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.4e}"


def _format_time(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


class Progbar:
    """Keras's bar: ``12/125 ━━━━━━━━━━━━━━━━━━━━ 1s 5ms/step - accuracy: 0.91 - loss: 0.3``."""

    def __init__(self, target, width=20, verbose=1, stream=None, unit="step"):
        self.target, self.width, self.verbose, self.unit = target, width, verbose, unit
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0
        self._after_first_step = None  # the first step traces the function: Keras leaves it
        self._first_step = None        # out of the time per step

    def _bar(self, current):
        if not self.target:
            return f"{current}/Unknown"
        filled = int(self.width * current / self.target)
        done, todo = "\u2501" * filled, "\u2501" * (self.width - filled)
        if self.interactive:  # the remaining part dimmed, as Keras draws it
            todo = f"\x1b[2m{todo}\x1b[0m"
        digits = len(str(self.target))
        return f"{current:>{digits}}/{self.target} {done}{todo}"

    def update(self, current, values=None, finalize=False):
        if self.verbose == 0:
            return
        now = time.perf_counter()
        elapsed = now - self.start
        if self._after_first_step is None and current >= 1:
            self._after_first_step, self._first_step = now, current
        if not finalize and not self.interactive:
            return
        if not finalize and now - self._last < 0.05:
            return
        self._last = now
        if current > self._first_step:
            per_step = (now - self._after_first_step) / (current - self._first_step)
        else:
            per_step = elapsed / max(current, 1)
        metrics = "".join(f" - {k}: {_format_value(v)}" for k, v in (values or {}).items())
        seconds = f"{int(elapsed)}s"  # Keras shows the elapsed time in whole seconds
        if self.verbose == 2:
            line = f"{self.target}/{self.target} - {seconds} - " \
                   f"{_format_time(per_step)}/{self.unit}{metrics}"
        else:
            line = f"{self._bar(current)} {seconds} " \
                   f"{_format_time(per_step)}/{self.unit}{metrics}"
        if self.interactive:
            self.stream.write("\r" + line + "\x1b[K" + ("\n" if finalize else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class ProgbarLogger(Callback):
    """Prints ``Epoch 3/10`` and a progress bar per epoch (``verbose=1``), or a line per
    epoch (``verbose=2``)."""

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self.progbar = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}", flush=True)
        self.progbar = Progbar(self.params.get("steps"), verbose=self.verbose)

    def on_train_batch_end(self, batch, logs=None):
        if self.progbar is not None and self.verbose == 1:
            self.progbar.update(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.progbar is not None:
            steps = self.params.get("steps") or 0
            self.progbar.update(steps, logs, finalize=True)
