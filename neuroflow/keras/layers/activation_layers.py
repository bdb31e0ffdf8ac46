"""Activation layers: ``Activation``, ``ReLU``, ``LeakyReLU``, ``ELU``, ``PReLU``, ``Softmax``.

Each calls the nf.nn activation ops (through ``keras.activations`` where Keras does); only
``PReLU`` has a weight, its learned negative slope.
"""
from __future__ import annotations

import warnings

from neuroflow.backend import dtypes
from neuroflow.keras import activations, constraints, initializers, regularizers
from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.keras.serialization import serialize_object
from neuroflow.ops import activations as nn
from neuroflow.ops.math import add, cast, exp, multiply, subtract
from neuroflow.ops.reduce import reduce_logsumexp


class Activation(Layer):
    """Applies an activation function: ``keras.layers.Activation("relu")``.

    >>> keras.layers.Activation("relu")(nf.constant([-1.0, 2.0])).numpy()
    array([0., 2.], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


def _check_non_negative(layer, name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if value is None or value < 0:
        raise ValueError(f"{name} of a {layer} layer cannot be a negative value. "
                         f"Received: {name}={value}")
    return float(value)


class ReLU(Layer):
    """Rectified linear unit with Keras's options: ``max_value`` caps the output,
    ``negative_slope`` scales ``x - threshold`` below ``threshold``.

    >>> keras.layers.ReLU(max_value=1.0)(nf.constant([-1.0, 0.5, 3.0])).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.max_value = _check_non_negative("ReLU", "max_value", max_value, allow_none=True)
        self.negative_slope = _check_non_negative("ReLU", "negative_slope", negative_slope)
        self.threshold = _check_non_negative("ReLU", "threshold", threshold)

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(Layer):
    """``x`` where positive, ``negative_slope * x`` elsewhere (Keras 3 default slope 0.3).

    >>> keras.layers.LeakyReLU()(nf.constant([-1.0, 2.0])).numpy()
    array([-0.3,  2. ], dtype=float32)
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None "
                             "or negative value. Expected a float. Received: "
                             f"negative_slope={negative_slope}")
        self.supports_masking = True
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        return nn.leaky_relu(inputs, alpha=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(Layer):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    >>> keras.layers.ELU(alpha=2.0)(nf.constant([0.0, 1.0])).numpy()
    array([0., 1.], dtype=float32)
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha = float(alpha)

    def call(self, inputs):
        y = nn.elu(inputs)
        if self.alpha == 1.0:
            return y
        # elu(x) - relu(x) is exactly the negative branch exp(x) - 1 (and 0 for x > 0)
        positive = nn.relu(inputs)
        return add(positive, multiply(subtract(y, positive), self.alpha))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class PReLU(Layer):
    """Parametric ReLU: ``x`` where positive, ``alpha * x`` elsewhere, ``alpha`` learned
    (one per input element, shared along ``shared_axes``, 1-based, batch excluded).

    >>> layer = keras.layers.PReLU(shared_axes=[1, 2])  # one alpha per channel of images
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, int):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = [int(a) for a in shared_axes]

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis < len(input_shape):
                raise ValueError(f"PReLU layer '{self.name}': shared_axes={self.shared_axes} "
                                 f"has axis {axis}, outside 1..{len(input_shape) - 1} for "
                                 f"input shape {input_shape} (axes count from 1, after the "
                                 "batch axis)")
            param_shape[axis - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(f"PReLU layer '{self.name}' needs every non-shared input axis "
                             f"defined to size alpha; received input shape {input_shape} "
                             f"with shared_axes={self.shared_axes}")
        self.alpha = self.add_weight("alpha", param_shape, self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        axes = {i: d for i, d in enumerate(input_shape) if i > 0
                and i not in (self.shared_axes or [])}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs):
        positive = nn.relu(inputs)
        # min(x, 0) = -relu(-x), so this is relu(x) + alpha * min(x, 0)
        return subtract(positive, multiply(self.alpha, nn.relu(-inputs)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": serialize_object(self.alpha_regularizer),
            "alpha_constraint": serialize_object(self.alpha_constraint),
            "shared_axes": self.shared_axes})
        return config


def _large_negative(dtype) -> float:
    """A value whose exp is 0 in ``dtype`` but that does not overflow it (Keras's choice)."""
    return -3e4 if dtypes.as_dtype(dtype).name in ("float16", "bfloat16") else -1e9


class Softmax(Layer):
    """Softmax over ``axis`` (an int or a tuple of ints); ``mask`` (True = keep) zeroes the
    masked positions, as in attention scores.

    >>> keras.layers.Softmax()(nf.constant([[1.0, 1.0]])).numpy()
    array([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.axis = axis if isinstance(axis, int) else tuple(int(a) for a in axis)

    def call(self, inputs, mask=None):
        if mask is not None:
            keep = cast(mask, inputs.dtype)
            inputs = add(inputs, multiply(1.0 - keep, _large_negative(inputs.dtype)))
        if isinstance(self.axis, int):
            outputs = nn.softmax(inputs, axis=self.axis)
        else:
            outputs = exp(subtract(inputs, reduce_logsumexp(inputs, axis=list(self.axis),
                                                            keepdims=True)))
        if mask is not None:
            outputs = multiply(outputs, keep)  # a fully masked row gives zeros, not 1 / n
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis if isinstance(self.axis, int) else list(self.axis)
        return config


__all__ = ["Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax"]
