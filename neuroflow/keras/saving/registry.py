"""Finding classes for saved configs: by registered name, custom objects or built-in name.

Nothing here imports a module named in a file: a class name from a config is only ever
looked up in ``custom_objects``, the ``register_keras_serializable`` registry and the
``keras.layers`` / ``keras.models`` namespaces.
"""
from __future__ import annotations

import threading

from neuroflow.keras import serialization
from neuroflow.keras.serialization import register_keras_serializable  # noqa: F401

_local = threading.local()


def _scopes() -> list:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


class CustomObjectScope:
    """Makes ``custom_objects`` visible to loading while the ``with`` block runs.

    >>> with keras.saving.custom_object_scope({"MyLayer": MyLayer}):
    ...     model = keras.models.load_model("model.keras")
    """

    def __init__(self, custom_objects=None):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _scopes().append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scopes().pop()
        return False


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict:
    """The custom objects of the active scopes (innermost last wins)."""
    merged = {}
    for scope in _scopes():
        merged.update(scope)
    return merged


def get_registered_name(obj) -> str:
    """``package>Name`` for a registered class, else the class name.

    >>> keras.saving.get_registered_name(keras.layers.Dense)
    'Dense'
    """
    cls = obj if isinstance(obj, type) else type(obj)
    # looked up on the class itself: a subclass must not inherit its parent's name
    return cls.__dict__.get("_registered_name") or getattr(cls, "__name__", str(cls))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The class or function registered (or passed in ``custom_objects``) under ``name``.

    >>> keras.saving.get_registered_object("Custom>MyLayer")
    """
    if name is None:
        return None
    merged = {**get_custom_objects(), **(custom_objects or {})}
    if name in merged:
        return merged[name]
    if ">" in name and name.split(">", 1)[1] in merged:
        return merged[name.split(">", 1)[1]]
    found = serialization.get_registered_object(name)
    if found is None and module_objects:
        found = module_objects.get(name)
    return found


def _builtin_classes() -> dict:
    """Layer and model classes by name: everything ``keras.layers`` exports, plus models."""
    from neuroflow.keras import layers, models
    from neuroflow.keras.layers.layer import Layer
    found = {}
    for module in (layers, models):
        for key, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, Layer) and not key.startswith("_"):
                found.setdefault(key, value)
    found["Functional"] = models.Model
    return found


def resolve_class(class_name, registered_name=None, custom_objects=None, base=None,
                  kind="layer"):
    """The class a config names; raises ValueError listing close names when none is known."""
    if not isinstance(class_name, str) or not class_name:
        raise ValueError(f"A {kind} entry has no valid 'class_name' (got {class_name!r}).")
    builtins = _builtin_classes()
    custom = {**get_custom_objects(), **(custom_objects or {})}
    candidates = []
    if isinstance(registered_name, str) and registered_name != class_name:
        candidates.append(get_registered_object(registered_name, custom_objects))
    # custom objects override built-ins; a registered class that only shares a built-in's
    # short name does not
    candidates += [custom.get(class_name), builtins.get(class_name),
                   get_registered_object(class_name, custom_objects)]
    for cls in candidates:
        if cls is None:
            continue
        if not isinstance(cls, type) or (base is not None and not issubclass(cls, base)):
            raise ValueError(f"'{class_name}' names {cls!r}, which is not a {kind} class.")
        return cls
    error = serialization.unknown_name_error(f"{kind} class", class_name, builtins)
    raise ValueError(f"{str(error).rstrip('.')}. A custom class must be registered with "
                     "@keras.saving.register_keras_serializable() or passed in "
                     "custom_objects={...}.")
