"""``keras.losses``: loss classes and functions, by class or by Keras's string names."""
from __future__ import annotations

from neuroflow.keras.losses.loss import Loss, LossFunctionWrapper, reduce_weighted
from neuroflow.keras.losses.probabilistic import (
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)
from neuroflow.keras.losses.regression import MeanSquaredError, mean_squared_error
from neuroflow.keras.serialization import lookup

_ALIASES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def get(identifier):
    """A Loss from a name ('mse'), a config dict, a Loss, or a function of (y_true, y_pred)."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    return lookup("loss", identifier, _ALIASES, globals())


def serialize(loss):
    from neuroflow.keras.serialization import serialize_object
    return serialize_object(loss)


deserialize = get
MSE = mse = mean_squared_error
