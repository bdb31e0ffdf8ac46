"""One layer as ``{"class_name", "config", "registered_name", "module"}`` and back."""
from __future__ import annotations

import inspect

from neuroflow.keras.saving.registry import get_registered_name, resolve_class


def serialize_layer(layer) -> dict:
    """The layer's class and config (Keras 3's layout; ``module`` is informative only).

    >>> keras.saving.serialize_keras_object(keras.layers.Dense(3))["class_name"]
    'Dense'
    """
    from neuroflow.keras.models.model import Model
    cls = type(layer)
    registered = get_registered_name(cls)
    if cls is Model:
        class_name = "Functional"
    else:
        class_name = cls.__name__
    builtin = cls.__module__.startswith("neuroflow.")
    return {"module": "keras.layers" if builtin else cls.__module__,
            "class_name": class_name, "config": layer.get_config(),
            "registered_name": None if builtin else registered}


def deserialize_layer(entry, custom_objects=None):
    """A new layer (or model) from ``serialize_layer``'s dict, by registered names only.

    >>> layer = keras.saving.deserialize_keras_object({"class_name": "Dense",
    ...                                                "config": {"units": 3}})
    """
    from neuroflow.keras.layers.layer import Layer
    if not isinstance(entry, dict):
        raise ValueError(f"A layer entry must be a JSON object, got {entry!r:.80}.")
    cls = resolve_class(entry.get("class_name"), entry.get("registered_name"),
                        custom_objects, base=Layer)
    config = entry.get("config", {})
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ValueError(f"The config of {entry.get('class_name')} must be a JSON object, "
                         f"got {config!r:.80}.")
    return call_from_config(cls, config, custom_objects)


def call_from_config(cls, config, custom_objects=None):
    """``cls.from_config(config)``, passing custom_objects where from_config takes them."""
    try:
        parameters = inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        parameters = {}
    try:
        if "custom_objects" in parameters:
            return cls.from_config(config, custom_objects=custom_objects)
        return cls.from_config(config)
    except TypeError as e:
        raise TypeError(f"{cls.__name__}.from_config could not rebuild the object from its "
                        f"config ({e}). The config must hold every argument of __init__, or "
                        f"{cls.__name__} must define from_config(cls, config). Config keys: "
                        f"{sorted(config)}") from e
