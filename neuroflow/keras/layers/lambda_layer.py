"""``Lambda``: wraps a Python function as a layer.

Keras saves a Lambda's function as Python bytecode and runs it again on loading; neuroflow
never saves or runs code from a file. A Lambda's config names its function instead, which
works for functions registered with ``register_keras_serializable`` and for
``keras.activations`` functions; any other function makes ``get_config`` (so saving) raise
a ValueError that says what to do, and a config holding code (a Keras ``.keras`` file's
``__lambda__`` entry) is refused on loading.
"""
from __future__ import annotations

import inspect
import json

from neuroflow.keras import activations
from neuroflow.keras.layers.layer import Layer
from neuroflow.keras.serialization import get_registered_object

_HOW_TO_SAVE = ("To save it, decorate the function with "
                "`@keras.saving.register_keras_serializable()` (it is then saved by name and "
                "found by that name when loading), or write a Layer subclass with "
                "`get_config()` instead of a Lambda.")


def _function_name(fn) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _serialize_function(layer, fn, what):
    """A JSON-safe reference to ``fn`` by name; raises when ``fn`` has no safe name."""
    registered = getattr(fn, "_registered_name", None)
    if registered is not None and get_registered_object(registered) is fn:
        return {"class_name": "function", "config": registered.split(">", 1)[1],
                "registered_name": registered}
    if not isinstance(fn, type):
        try:
            name = activations.serialize(fn)
        except ValueError:
            name = None
        if name is not None and activations._BY_NAME.get(name) is fn:
            return {"class_name": "function", "config": name,
                    "module": "keras.activations"}
    raise ValueError(f"Lambda layer '{layer.name}' cannot be serialized: its {what} "
                     f"`{_function_name(fn)}` is Python code, and neuroflow does not save code "
                     f"(no bytecode, no pickle). {_HOW_TO_SAVE}")


def _deserialize_function(name, config, what, custom_objects=None):
    """The function a config names; refuses configs that carry code."""
    if isinstance(config, dict):
        if config.get("class_name") == "__lambda__" or "code" in (config.get("config") or {}):
            raise ValueError(f"Lambda layer '{name}' cannot be loaded: its {what} was saved as "
                             "Python bytecode, which neuroflow never runs (running code from a "
                             f"file is unsafe). Recreate the layer in code. {_HOW_TO_SAVE}")
        if config.get("module") == "keras.activations":
            return activations.get(config["config"])
        key = config.get("registered_name") or config.get("config")
    else:
        key = config
    fn = _lookup_registered(key, custom_objects) if isinstance(key, str) else None
    if fn is None or not callable(fn):
        raise ValueError(f"Lambda layer '{name}' cannot be loaded: its {what} {key!r} is not a "
                         "registered function. Register it with "
                         "`@keras.saving.register_keras_serializable()` before loading, or pass "
                         "it in `custom_objects`.")
    return fn


def _lookup_registered(key, custom_objects):
    """By registered name, in ``custom_objects`` and the active ``custom_object_scope``s."""
    try:
        from neuroflow.keras.saving.registry import get_registered_object as lookup
    except ImportError:  # saving not installed: the plain registry
        lookup = get_registered_object
    fn = lookup(key, custom_objects)
    if fn is None and custom_objects:
        fn = custom_objects.get(key.split(">", 1)[-1])
    return fn


def _accepts(fn, argument) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return argument in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD
                                         for p in parameters.values())


class Lambda(Layer):
    """Wraps ``function`` as a layer: ``keras.layers.Lambda(lambda x: x ** 2)``.

    ``arguments`` are extra keyword arguments for the function; ``output_shape`` (a tuple
    without the batch dim, or a function of the input shape) is only needed where tracing
    cannot infer it.

    >>> keras.layers.Lambda(lambda x: x * 2)(nf.constant([1.0])).numpy()
    array([2.], dtype=float32)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda layer '{self.name}': `function` must be callable. "
                            f"Received: function={function!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        if output_shape is not None and not callable(output_shape):
            output_shape = tuple(output_shape)
        self._output_shape_arg = output_shape
        self._fn_takes_training = _accepts(function, "training")
        self._fn_takes_mask = _accepts(function, "mask")
        self.supports_masking = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        spec = self._output_shape_arg
        if spec is None:
            return super().compute_output_shape(input_shape)
        if callable(spec):
            return spec(input_shape)
        batch = input_shape[0][0] if input_shape and isinstance(input_shape[0], (list, tuple)) \
            else (input_shape[0] if input_shape else None)
        return (batch,) + tuple(spec)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask if self.mask is not None else mask

    def get_config(self):
        config = super().get_config()
        config["function"] = _serialize_function(self, self.function, "function")
        spec = self._output_shape_arg
        if callable(spec):
            spec = _serialize_function(self, spec, "output_shape function")
        elif spec is not None:
            spec = list(spec)
        config["output_shape"] = spec
        if callable(self.mask):
            config["mask"] = _serialize_function(self, self.mask, "mask function")
        elif self.mask is not None:
            raise ValueError(f"Lambda layer '{self.name}' cannot be serialized: its `mask` is "
                             f"a {type(self.mask).__name__}, not a registered function.")
        else:
            config["mask"] = None
        try:
            json.dumps(self.arguments)
        except (TypeError, ValueError):
            raise ValueError(f"Lambda layer '{self.name}' cannot be serialized: its "
                             f"`arguments` {sorted(self.arguments)} hold values that are not "
                             "plain JSON (numbers, strings, lists, dicts).") from None
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        name = config.get("name", "lambda")
        if config.pop("function_type", None) == "lambda" or isinstance(
                config.get("function"), (list, tuple)):
            config["function"] = {"class_name": "__lambda__"}  # Keras 2's (code, ...) form
        config.pop("output_shape_type", None)
        config.pop("module", None)
        config.pop("output_shape_module", None)
        config["function"] = _deserialize_function(name, config.get("function"), "function",
                                                   custom_objects)
        spec = config.get("output_shape")
        if isinstance(spec, dict):
            config["output_shape"] = _deserialize_function(name, spec, "output_shape function",
                                                           custom_objects)
        if isinstance(config.get("mask"), dict):
            config["mask"] = _deserialize_function(name, config["mask"], "mask function",
                                                   custom_objects)
        return cls(**config)


__all__ = ["Lambda"]
