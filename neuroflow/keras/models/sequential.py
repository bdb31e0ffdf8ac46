"""``keras.Sequential``: a stack of layers, each feeding the next."""
from __future__ import annotations

from neuroflow.core.tensor import SymbolicTensor
from neuroflow.keras.layers.layer import Layer
from neuroflow.keras.models import functional
from neuroflow.keras.models.model import Model


class Sequential(Model):
    """A linear stack of layers.

    >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(name=name, trainable=trainable)
        self._stack = []
        self._input_layer = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer, rebuild=True):
        """Appends a layer (a ``keras.Input`` tensor first fixes the input shape)."""
        if isinstance(layer, SymbolicTensor) and layer._keras_history is not None:
            layer = layer._keras_history[0]
        if isinstance(layer, functional.InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("An Input can only be the first element of a Sequential")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Only instances of keras.Layer can be added to a Sequential "
                            f"model. Received: {layer!r} (of type {type(layer).__name__})")
        if any(layer.name == other.name for other in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique "
                             f"names. Name '{layer.name}' is already the name of a layer in "
                             "this model.")
        self._stack.append(layer)
        self.built = False
        self._nodes = None
        if rebuild:
            self._maybe_build_from_spec()

    def pop(self):
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self.built = False
        self._nodes = None
        self._maybe_build_from_spec()
        return layer

    def _maybe_build_from_spec(self):
        if not self._stack:
            return
        shape = None
        if self._input_layer is not None:
            shape = self._input_layer.batch_shape
        elif self._stack[0]._batch_input_shape is not None:
            shape = self._stack[0]._batch_input_shape
        if shape is not None:
            self.build(shape)

    def build(self, input_shape=None):
        if input_shape is None:
            raise ValueError("Sequential.build needs an input shape (or an Input layer).")
        shape = (None,) + tuple(input_shape)[1:]
        dtype = self._input_layer.dtype if self._input_layer is not None else "float32"
        if self._input_layer is None or tuple(self._input_layer.batch_shape) != shape:
            self._input_layer = functional.InputLayer(batch_shape=shape, dtype=dtype)
        x = self._input_layer.output
        inputs = x
        for layer in self._stack:
            x = layer(x)
        self._functional_inputs, self._functional_outputs = inputs, x
        self._nodes = functional.build_graph(inputs, x)
        self.built = True

    @property
    def layers(self):
        return list(self._stack)

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training) if layer._call_has_training else layer(x)
        return x

    @property
    def input_shape(self):
        return None if self._input_layer is None else self._input_layer.batch_shape

    def get_config(self):
        from neuroflow.keras.saving.model_config import model_config
        return model_config(self)
