"""``keras.metrics``: metric classes, by class or by Keras's string names."""
from __future__ import annotations

from neuroflow.keras.metrics.accuracy_metrics import (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, accuracy,
    binary_accuracy, categorical_accuracy, sparse_categorical_accuracy)
from neuroflow.keras.metrics.metric import Mean, MeanMetricWrapper, Metric
from neuroflow.keras.serialization import lookup

_ALIASES = {
    "accuracy": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "mean": Mean,
}


def get(identifier):
    """A Metric from a name, a config dict, a Metric, or a function of (y_true, y_pred)."""
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    return lookup("metric", identifier, _ALIASES, globals())


def serialize(metric):
    from neuroflow.keras.serialization import serialize_object
    return serialize_object(metric)


deserialize = get
