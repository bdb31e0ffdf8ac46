"""``nf.keras.optimizers``: Keras 3's optimizers and learning-rate schedules.

>>> from neuroflow.keras.optimizers import Adam
>>> nf.keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=1000, decay_rate=0.9)
"""
import sys

from neuroflow.optimizers import (  # noqa: F401
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Optimizer,
    RMSprop,
    deserialize,
    get,
    schedules,
    serialize,
)

# `from neuroflow.keras.optimizers.schedules import ExponentialDecay` works as in tf.keras
sys.modules[__name__ + ".schedules"] = schedules

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "schedules", "get",
           "serialize", "deserialize"]
