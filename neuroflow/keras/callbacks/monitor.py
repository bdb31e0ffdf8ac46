"""What the monitoring callbacks (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau) share:
reading the monitored value from the logs and deciding whether higher or lower is better."""
from __future__ import annotations

import warnings

import numpy as np

# Metrics that improve upwards / downwards, by name, for metrics that do not say it
# themselves with a ``_direction`` attribute ("up" or "down") as Keras 3 metrics do.
_UP_NAMES = ("acc", "auc", "precision", "recall", "f1", "fbeta", "fmeasure", "iou",
             "r2_score", "cosine_similarity", "true_positives", "true_negatives")
_DOWN_NAMES = ("loss", "error", "crossentropy", "hinge", "mse", "mae", "mape", "msle",
               "divergence", "poisson", "log_cosh", "logcosh", "huber", "false_positives",
               "false_negatives")


def _metric_objects(model):
    found = []
    for metric in getattr(model, "metrics", None) or []:
        inner = getattr(metric, "metrics", None)
        found.extend(inner if isinstance(inner, (list, tuple)) else [metric])
    return found


def infer_direction(monitor: str, model=None) -> str | None:
    """``"max"``, ``"min"``, or None when neither the metric nor its name tells."""
    name = monitor.removeprefix("val_")
    if name == "loss":
        return "min"
    for metric in _metric_objects(model):
        direction = getattr(metric, "_direction", None)
        if getattr(metric, "name", None) == name and direction in ("up", "down"):
            return "max" if direction == "up" else "min"
    lowered = name.lower()
    if any(key in lowered for key in _DOWN_NAMES):
        return "min"
    if any(key in lowered for key in _UP_NAMES):
        return "max"
    return None


def check_mode(owner: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode '{mode}' is unknown, fallback to auto mode.",
                      stacklevel=3)
        return "auto"
    return mode


def resolve_mode(owner: str, mode: str, monitor: str, model, fallback: str | None = None):
    """The concrete mode: ``mode`` itself, or inferred for ``"auto"``; with no ``fallback``
    an undecidable metric is an error, as in Keras 3."""
    if mode in ("min", "max"):
        return mode
    direction = infer_direction(monitor, model) or fallback
    if direction is None:
        raise ValueError(
            f"{owner} callback received monitor={monitor}, but it isn't able to "
            "automatically determine whether that metric should be maximized or minimized. "
            "Pass `mode='max'` in order to monitor based on the highest metric value, or "
            "pass `mode='min'` in order to use the lowest value.")
    return direction


def scalar(value):
    """A log value as a Python float (None stays None; arrays of one element are fine)."""
    if value is None:
        return None
    array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    if array.size != 1:
        return None
    return float(array.reshape(()))


def optimizer_learning_rate(model, owner: str) -> float:
    """The model optimizer's current learning rate, as a float."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f'{owner}: the optimizer must have a "learning_rate" attribute '
                         f"(got {optimizer!r}); compile the model with an optimizer first.")
    lr = optimizer.learning_rate
    return float(np.asarray(lr.numpy() if hasattr(lr, "numpy") else lr))
