"""``nf.keras``: the Keras 3 API (grows with the Keras issue)."""
from neuroflow.keras import optimizers  # noqa: F401
