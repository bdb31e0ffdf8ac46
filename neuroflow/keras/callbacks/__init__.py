"""``keras.callbacks``."""
from neuroflow.keras.callbacks.callback import (  # noqa: F401
    Callback, CallbackList, History, ProgbarLogger)
