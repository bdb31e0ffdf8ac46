"""Turning Keras objects into configs and back, by registered names only (never code)."""
from __future__ import annotations

import difflib

_REGISTERED: dict[str, type] = {}


def register_keras_serializable(package="Custom", name=None):
    """Decorator: makes a custom class loadable from saved configs by ``package>name``."""
    def decorate(cls):
        key = f"{package}>{name or cls.__name__}"
        _REGISTERED[key] = cls
        cls._registered_name = key
        return cls
    return decorate


def get_registered_object(name, custom_objects=None):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _REGISTERED:
        return _REGISTERED[name]
    for key, cls in _REGISTERED.items():
        if key.split(">", 1)[1] == name:
            return cls
    return None


def unknown_name_error(kind, name, valid) -> ValueError:
    close = difflib.get_close_matches(str(name), list(valid), n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(f"Unknown {kind}: {name!r}.{hint} Valid names include: "
                      f"{', '.join(sorted(valid)[:30])}")


def lookup(kind, identifier, aliases, namespace, custom_objects=None):
    """Resolves a string or ``{'class_name': ..., 'config': ...}`` to an instance."""
    if isinstance(identifier, dict):
        class_name = identifier.get("class_name")
        config = identifier.get("config", {}) or {}
        cls = (get_registered_object(class_name, custom_objects) or namespace.get(class_name)
               or aliases.get(str(class_name).lower()))
        if not isinstance(cls, type):
            raise unknown_name_error(kind, class_name, aliases)
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    if isinstance(identifier, str):
        key = identifier if identifier in aliases else identifier.lower()
        cls = aliases.get(key) or get_registered_object(identifier, custom_objects)
        if cls is None:
            candidate = namespace.get(identifier)
            cls = candidate if isinstance(candidate, type) else None
        if cls is None:
            raise unknown_name_error(kind, identifier, aliases)
        return cls() if isinstance(cls, type) else cls
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def serialize_object(obj):
    if obj is None:
        return None
    name = getattr(type(obj), "_registered_name", type(obj).__name__)
    return {"class_name": name, "config": obj.get_config()}
