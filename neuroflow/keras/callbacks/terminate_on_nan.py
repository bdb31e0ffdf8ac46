"""``keras.callbacks.TerminateOnNaN``."""
from __future__ import annotations

import numpy as np

from neuroflow.keras.callbacks.callback import Callback
from neuroflow.keras.callbacks.monitor import scalar


class TerminateOnNaN(Callback):
    """Stops training at the first batch whose loss is NaN or infinite.

    By default training stops gracefully (``model.stop_training = True``: the epoch ends
    and every callback's ``on_train_end`` runs); with ``raise_error=True`` a
    ``RuntimeError`` is raised at once instead.

    >>> model.fit(x, y, callbacks=[keras.callbacks.TerminateOnNaN()])
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_train_batch_end(self, batch, logs=None):
        loss = scalar((logs or {}).get("loss"))
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                               f"{loss}. Terminating training immediately.")
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
