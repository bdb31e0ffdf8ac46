"""Optimizers shared by Keras, nf.function training loops and TF1 graphs
(``nf.optimizers``, also ``nf.keras.optimizers``).

>>> opt = nf.optimizers.get("adam")
>>> opt.apply_gradients(zip(grads, variables))
"""
from __future__ import annotations

import difflib
import inspect

from neuroflow.optimizers import schedules
from neuroflow.optimizers.adagrad import Adagrad
from neuroflow.optimizers.adam import Adam, AdamW
from neuroflow.optimizers.optimizer import Optimizer
from neuroflow.optimizers.rmsprop import RMSprop
from neuroflow.optimizers.sgd import SGD

ALL_OBJECTS = (Optimizer, SGD, RMSprop, Adagrad, Adam, AdamW)
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


def serialize(optimizer) -> dict:
    """The optimizer's class and config as a JSON-compatible dict.

    >>> nf.optimizers.serialize(nf.optimizers.SGD())["class_name"]
    'SGD'
    """
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """An optimizer from ``serialize``'s dict; class names are case-insensitive.

    >>> nf.optimizers.deserialize({"class_name": "adam", "config": {}})
    """
    name = config["class_name"]
    custom = dict(custom_objects or {})
    cls = custom.get(name) or ALL_OBJECTS_DICT.get(name.lower())
    if cls is None:
        valid = sorted(n for n in ALL_OBJECTS_DICT if n != "optimizer")
        close = difflib.get_close_matches(name.lower(), valid, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"Could not interpret optimizer identifier: {name!r}.{hint} Valid "
                         f"names: {', '.join(valid)} (or pass custom_objects).")
    inner = dict(config.get("config", {}))
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(inner, custom_objects=custom_objects)
    return cls.from_config(inner)


def get(identifier):
    """An optimizer from a name (``"adam"``), a config dict, or an optimizer (returned as is).

    >>> nf.optimizers.get("sgd").learning_rate.numpy()
    0.01
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = deserialize({"class_name": identifier, "config": {}})
    else:
        obj = identifier
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")


__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "schedules", "get",
           "serialize", "deserialize"]
