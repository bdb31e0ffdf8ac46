"""``keras.utils.Progbar``: the fit progress bar, with Keras's public ``update``/``add``
interface for custom training loops."""
from __future__ import annotations

import numpy as np

from neuroflow.keras.callbacks.callback import Progbar as _FitProgbar


class Progbar(_FitProgbar):
    """A progress bar for custom loops: ``update(current, values=[("loss", v), ...])``.

    Values are averaged over the steps seen so far, except names in ``stateful_metrics``,
    which are shown as given. ``add(n, values)`` advances by ``n`` steps.

    >>> bar = keras.utils.Progbar(10)
    >>> for step in range(10): bar.add(1, values=[("loss", 0.5)])
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", stream=None):
        super().__init__(target, width=width, verbose=verbose, stream=stream, unit=unit_name)
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self._sums = {}  # name -> [value * steps summed, steps]
        self._seen_so_far = 0

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        pairs = values.items() if isinstance(values, dict) else (values or [])
        steps = max(current - self._seen_so_far, 1)
        for name, value in pairs:
            value = float(np.mean(value.numpy() if hasattr(value, "numpy") else value))
            if name in self.stateful_metrics:
                self._sums[name] = [value, 1]
            else:
                total, count = self._sums.get(name, [0.0, 0])
                self._sums[name] = [total + value * steps, count + steps]
        self._seen_so_far = current
        shown = {name: total / count for name, (total, count) in self._sums.items()}
        super().update(current, shown, finalize=finalize)

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)
