"""A cap on the weights that loading a file may create, set by the file's own weights.

A config is untrusted: ``Dense(units=10**9)`` costs a few bytes of JSON but gigabytes of
weights, allocated (and randomly initialised) before they could be compared with the file.
Every weight the loaded model holds must be filled from ``model.safetensors``, so while a
model is rebuilt from a file, ``Layer.add_weight`` (and ``Metric.add_variable``) charge
each new weight against the number of values the file holds, and creating one beyond that
fails before anything is allocated.
"""
from __future__ import annotations

import contextlib
import math
import threading

from neuroflow.keras.saving.archive import fail

# metric state that a saved model does not store (AUC's thresholds and confusion counts)
# gets this many values (16 MiB of float32) on top of the weights file's
SLACK = 1 << 22

_local = threading.local()


class _Budget:
    def __init__(self, values, where, source):
        self.values, self.where, self.source, self.used = values, where, source, 0


@contextlib.contextmanager
def weight_budget(values: int, where, source: str):
    """Within the block, weights created on this thread may hold ``values`` values (plus
    ``SLACK``) in all.

    ``where`` is what errors name (a path, or (path, member)); ``source`` names the file
    that holds the weights.
    """
    previous = getattr(_local, "budget", None)
    _local.budget = _Budget(int(values), where, source)
    try:
        yield
    finally:
        _local.budget = previous


def charge(shape, what: str) -> None:
    """Counts a weight of ``shape`` about to be created; raises FileFormatError when the
    weights created so far would hold more values than the file being loaded allows."""
    budget = getattr(_local, "budget", None)
    if budget is not None:
        size = math.prod(max(int(d), 0) for d in shape)
        check(size, f"weight '{what}' of shape {tuple(shape)}")
        budget.used += size


def check(values: int, what: str) -> None:
    """Raises FileFormatError when ``values`` more values would not fit the budget; charges
    nothing (for work done before the weights that ``charge`` will count are created)."""
    budget = getattr(_local, "budget", None)
    if budget is not None and budget.used + values > budget.values + SLACK:
        raise fail(budget.where, f"the config declares weights holding more values than "
                                 f"{budget.source} holds ({budget.values}): {what} alone "
                                 f"holds {values}. Refusing to allocate them.")
