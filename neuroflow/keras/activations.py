"""``keras.activations``: activation functions by name ('relu') or as callables."""
from __future__ import annotations

from neuroflow.keras.serialization import unknown_name_error
from neuroflow.ops import activations as nn


def linear(x):
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return nn.relu(x)
    from neuroflow.ops.math import clip_by_value, where
    y = where(x > threshold, x, negative_slope * (x - threshold))
    return clip_by_value(y, y.dtype.min, max_value) if max_value is not None else y


def softmax(x, axis=-1):
    return nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return nn.log_softmax(x, axis=axis)


def leaky_relu(x, negative_slope=0.2):
    return nn.leaky_relu(x, alpha=negative_slope)


def gelu(x, approximate=False):
    return nn.gelu(x, approximate=approximate)


sigmoid, tanh, elu, selu = nn.sigmoid, nn.tanh, nn.elu, nn.selu
softplus, softsign, relu6, silu = nn.softplus, nn.softsign, nn.relu6, nn.silu
swish, hard_sigmoid = nn.swish, nn.hard_sigmoid


def exponential(x):
    from neuroflow.ops.math import exp
    return exp(x)


_BY_NAME = {"linear": linear, "relu": relu, "softmax": softmax, "log_softmax": log_softmax,
            "leaky_relu": leaky_relu, "gelu": gelu, "sigmoid": sigmoid, "tanh": tanh,
            "elu": elu, "selu": selu, "softplus": softplus, "softsign": softsign,
            "relu6": relu6, "silu": silu, "swish": swish, "hard_sigmoid": hard_sigmoid,
            "exponential": exponential}


def get(identifier):
    """An activation function from a name, None (linear) or a callable."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        identifier = identifier.get("class_name") or identifier.get("config", {}).get("name")
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]
    raise unknown_name_error("activation", identifier, _BY_NAME)


def serialize(activation):
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize activation {activation!r}")
    return name


deserialize = get
