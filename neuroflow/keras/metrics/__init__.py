"""``keras.metrics``: metric classes, by class or by Keras's string names."""
from __future__ import annotations

from neuroflow.keras import naming
from neuroflow.keras.losses import (  # noqa: F401  (Keras re-exports these functions)
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from neuroflow.keras.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from neuroflow.keras.metrics.auc import AUC
from neuroflow.keras.metrics.confusion_metrics import (
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from neuroflow.keras.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum
from neuroflow.keras.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from neuroflow.keras.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    cosine_similarity,
)
from neuroflow.keras.serialization import get_registered_object, lookup, unknown_name_error

_CLASSES = [
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, AUC, Precision, Recall,
    TruePositives, FalsePositives, TrueNegatives, FalseNegatives, Mean, Sum,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, CosineSimilarity, LogCoshError,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence,
    Poisson, Hinge, SquaredHinge, CategoricalHinge,
]
# every class by its snake-case name ('root_mean_squared_error', 'auc'), plus Keras's aliases
_ALIASES = {naming.to_snake_case(cls.__name__): cls for cls in _CLASSES}
_ALIASES.update({
    "acc": Accuracy, "mse": MeanSquaredError, "mae": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError,
    "bce": BinaryCrossentropy, "kld": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "logcosh": LogCoshError, "log_cosh": LogCoshError, "top_k_categorical_accuracy":
    TopKCategoricalAccuracy, "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
})

_FUNCTIONS = {fn.__name__: fn for fn in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, cosine_similarity,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, kl_divergence, poisson, hinge, squared_hinge,
    categorical_hinge, log_cosh, huber)}


def get(identifier):
    """A Metric from a name ('mae', 'auc'), a config dict, a Metric, or a function of
    (y_true, y_pred) (wrapped in a MeanMetricWrapper).

    >>> keras.metrics.get("mae")
    <MeanAbsoluteError name=mean_absolute_error>
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    return lookup("metric", identifier, _ALIASES, globals())


def get_function(name):
    """The per-sample metric function of a name, or a registered function."""
    if callable(name):
        return name
    fn = _FUNCTIONS.get(name) or get_registered_object(name)
    if fn is None:
        raise unknown_name_error("metric function", name, _FUNCTIONS)
    return fn


def serialize(metric):
    from neuroflow.keras.serialization import serialize_object
    return serialize_object(metric)


deserialize = get

# Keras's function aliases
MSE = mse = mean_squared_error
MAE = mae = mean_absolute_error
MAPE = mape = mean_absolute_percentage_error
MSLE = msle = mean_squared_logarithmic_error
KLD = kld = kl_divergence
