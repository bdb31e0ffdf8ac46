"""``keras.layers``."""
from neuroflow.keras.layers.dense import Dense  # noqa: F401
from neuroflow.keras.layers.layer import InputSpec, Layer  # noqa: F401
from neuroflow.keras.models.functional import Input, InputLayer  # noqa: F401
