"""A model's architecture as a JSON-able config, and a new model from one.

Sequential: its layer configs (an ``InputLayer`` first when the input shape is known).
Functional: layers with their inbound calls, and the input / output references
(``functional_config.py``). Subclassed: the model's own ``get_config`` (the base one gives
name, trainable and dtype) under its registered class name, plus the input shape it was
built with, so that loading can build it again.
"""
from __future__ import annotations

import json

from neuroflow.keras.saving.functional_config import functional_config, functional_from_config
from neuroflow.keras.saving.layer_config import call_from_config, serialize_layer
from neuroflow.keras.saving.registry import CustomObjectScope, resolve_class


def _kind(model) -> str:
    from neuroflow.keras.models.sequential import Sequential
    if isinstance(model, Sequential):
        return "sequential"
    if getattr(model, "_nodes", None) is not None:
        return "functional"
    return "subclassed"


def model_config(model) -> dict:
    """What ``model.get_config()`` returns for the built-in model kinds.

    >>> keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).get_config()["layers"]
    """
    from neuroflow.keras.layers.layer import Layer
    kind = _kind(model)
    if kind == "sequential":
        layers = [serialize_layer(layer) for layer in model.layers]
        if model._input_layer is not None:
            layers.insert(0, serialize_layer(model._input_layer))
        config = {"name": model.name, "trainable": model.trainable, "dtype": model.dtype,
                  "layers": layers}
        if model._input_layer is not None:
            config["build_input_shape"] = list(model._input_layer.batch_shape)
        return config
    if kind == "functional":
        return functional_config(model)
    return Layer.get_config(model)


def _sequential_from_config(cls, config, custom_objects):
    from neuroflow.keras.saving.layer_config import deserialize_layer
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ValueError("The Sequential config has no 'layers' list.")
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    for entry in entries:
        model.add(deserialize_layer(entry, custom_objects), rebuild=False)
    model._maybe_build_from_spec()
    return model


def model_from_config(config, custom_objects=None, cls=None):
    """A new, unweighted model from a config (``Model.from_config``): Sequential,
    functional, or ``cls`` built from its own config (subclassed models).

    >>> clone = keras.Model.from_config(model.get_config())
    """
    from neuroflow.keras.models.model import Model
    from neuroflow.keras.models.sequential import Sequential
    if not isinstance(config, dict):
        raise ValueError(f"A model config must be a dict, got {type(config).__name__}.")
    if isinstance(config.get("config"), dict) and "class_name" in config:
        return deserialize_model(config, custom_objects)  # a whole serialized model
    with CustomObjectScope(custom_objects):
        if cls is not None and issubclass(cls, Sequential):
            return _sequential_from_config(cls, config, custom_objects)
        if "input_layers" in config and "output_layers" in config:
            return functional_from_config(cls, config, custom_objects)
        if cls in (None, Model) and "layers" in config:
            return _sequential_from_config(Sequential, config, custom_objects)
        if cls in (None, Model):
            raise ValueError("This config is neither a Sequential nor a functional model "
                             f"config (keys: {sorted(config)}); a subclassed model is "
                             "rebuilt with its own class: MyModel.from_config(config).")
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(
                f"Unable to revive model {cls.__name__} from its config ({e}). When "
                "overriding get_config(), make sure the returned config holds every "
                f"argument of {cls.__name__}.__init__, or define from_config(cls, config) "
                "to say how the model is made from its config.") from e


# -- whole models: class name + config + build shape ----------------------------------------
def _build_shape(model):
    shape = getattr(model, "_build_input_shape", None)
    if shape is None:
        return None

    def plain(s):
        s = list(s)
        return [None] + [None if d is None else int(d) for d in s[1:]] if s else s
    if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
        return [plain(s) for s in shape]
    return plain(shape)


def serialize_model(model) -> dict:
    """The model's class, config and build shape (what ``config.json`` holds)."""
    kind = _kind(model)
    entry = serialize_layer(model)
    if kind == "sequential" and type(model).__name__ == "Sequential" and \
            entry["registered_name"] is None:
        entry["class_name"] = "Sequential"
    if kind == "subclassed" and model.built:
        shape = _build_shape(model)
        if shape is not None:
            entry["build_config"] = {"input_shape": shape}
    return entry


def deserialize_model(entry, custom_objects=None):
    """A new model from ``serialize_model``'s dict; builds subclassed models."""
    from neuroflow.keras.models.model import Model
    if not isinstance(entry, dict):
        raise ValueError(f"A model entry must be a JSON object, got {entry!r:.80}.")
    with CustomObjectScope(custom_objects):
        cls = resolve_class(entry.get("class_name"), entry.get("registered_name"),
                            custom_objects, base=Model, kind="model")
        config = entry.get("config")
        if not isinstance(config, dict):
            raise ValueError(f"The config of model class {cls.__name__} must be a JSON "
                             "object.")
        model = call_from_config(cls, config, custom_objects)
        build = entry.get("build_config") or {}
        shape = build.get("input_shape") if isinstance(build, dict) else None
        if shape is not None and not model.built:
            nested = isinstance(shape, list) and shape and isinstance(shape[0], list)
            model.build([tuple(s) for s in shape] if nested else tuple(shape))
    return model


def model_to_json(model, **kwargs) -> str:
    """The model's architecture as a JSON string (``model.to_json()``)."""
    return json.dumps(serialize_model(model), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model from ``model_to_json``'s string (``keras.models.model_from_json``).

    >>> clone = keras.models.model_from_json(keras.saving.model_to_json(model))
    """
    try:
        entry = json.loads(json_string)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"model_from_json: the string is not valid JSON ({e}).") from e
    return deserialize_model(entry, custom_objects)
