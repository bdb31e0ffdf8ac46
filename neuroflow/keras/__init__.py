"""``nf.keras``: the Keras 3 API on neuroflow (``from neuroflow import keras``)."""
from neuroflow.keras import (  # noqa: F401
    activations,
    callbacks,
    constraints,
    datasets,  # noqa: F401
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    saving,  # noqa: F401
    utils,  # noqa: F401
)
from neuroflow.keras.layers import Input, InputSpec, Layer  # noqa: F401
from neuroflow.keras.models import Model, Sequential  # noqa: F401
from neuroflow.keras.serialization import register_keras_serializable  # noqa: F401
