"""Layer wrappers for sequences: ``Bidirectional`` (an RNN run both ways) and
``TimeDistributed`` (a layer applied to every time step).

>>> layer = keras.layers.Bidirectional(keras.layers.LSTM(8, return_sequences=True))
>>> layer(np.ones((2, 5, 3), "float32")).shape
TensorShape([2, 5, 16])
"""
from __future__ import annotations

from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.keras.layers.recurrent_cells import batch_size_of, flat_state_sizes
from neuroflow.ops.array import reshape
from neuroflow.ops.array import shape as shape_of
from neuroflow.ops.joining import concat
from neuroflow.ops.math import add, multiply
from neuroflow.ops.tiling import reverse

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _removeprefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


def _renamed_copy(layer, name, **overrides):
    """A fresh layer from ``layer``'s config under ``name`` (as Keras builds the two
    directions of ``Bidirectional``)."""
    from neuroflow.keras.saving.layer_config import deserialize_layer, serialize_layer
    entry = serialize_layer(layer)
    entry["config"] = dict(entry["config"], name=name, **overrides)
    return deserialize_layer(entry)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards, and merges their outputs
    (``keras.layers.Bidirectional(keras.layers.LSTM(8))``).

    ``merge_mode``: "concat" (default), "sum", "mul", "ave", or None for a list of both
    outputs. The backward outputs are reversed back into time order before merging. With
    ``return_state=True`` the forward layer's states follow the output, then the backward
    layer's; an ``initial_state`` list is split the same way, half and half.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` needs to be a `keras.layers.Layer` instance. "
                             f"Received: {backward_layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should "
                             f"be one of {{'sum', 'mul', 'ave', 'concat', None}}")
        for attribute in ("go_backwards", "return_sequences", "return_state"):
            if not hasattr(layer, attribute):
                raise ValueError(f"Bidirectional wraps recurrent layers (with "
                                 f"`{attribute}`); received {type(layer).__name__}.")
        super().__init__(**kwargs)
        self.forward_layer = _renamed_copy(
            layer, "forward_" + _removeprefix(layer.name, "forward_"))
        if backward_layer is None:
            self.backward_layer = _renamed_copy(
                layer, "backward_" + _removeprefix(layer.name, "backward_"),
                go_backwards=not layer.go_backwards)
        else:
            self.backward_layer = backward_layer
        self._verify_directions()
        self.merge_mode = merge_mode
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self.stateful = getattr(self.forward_layer, "stateful", False)
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)
        self._initial_weights = weights

    def _verify_directions(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             "`go_backwards` value. Received: forward_layer.go_backwards="
                             f"{forward.go_backwards}, backward_layer.go_backwards="
                             f"{backward.go_backwards}")
        for attribute in ("return_sequences", "return_state"):
            a, b = getattr(forward, attribute), getattr(backward, attribute, None)
            if a != b:
                raise ValueError(f"Forward layer and backward layer are expected to have the "
                                 f'same value for attribute "{attribute}", got "{a}" for '
                                 f'forward layer and "{b}" for backward layer')

    def build(self, sequences_shape):
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                layer.build(sequences_shape)
                layer.built = True
        self.built = True
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_kwargs, backward_kwargs = {}, {}
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            forward_kwargs["initial_state"] = initial_state[:half]
            backward_kwargs["initial_state"] = initial_state[half:]
        for kwargs in (forward_kwargs, backward_kwargs):
            if mask is not None:
                kwargs["mask"] = mask
            if training is not None:
                kwargs["training"] = training
        y = self.forward_layer._call_impl((sequences,), forward_kwargs)
        y_rev = self.backward_layer._call_impl((sequences,), backward_kwargs)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = reverse(y_rev, [1])
        output = self._merge(y, y_rev)
        if self.return_state:
            return (output if self.merge_mode is None else [output]) + states
        return output

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return concat([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return add(y, y_rev)
        if self.merge_mode == "ave":
            return multiply(add(y, y_rev), 0.5)
        if self.merge_mode == "mul":
            return multiply(y, y_rev)
        return [y, y_rev]

    def reset_states(self, states=None):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def compute_mask(self, inputs, mask=None):
        """The time mask goes on with sequence outputs; the last outputs and states carry
        none."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        n_outputs = 2 if self.merge_mode is None else 1
        masks = [output_mask] * n_outputs
        if self.return_state:
            masks += [None] * (2 * len(flat_state_sizes(self.forward_layer.cell)))
        return masks if len(masks) > 1 else masks[0]

    def compute_output_shape(self, sequences_shape):
        shapes = self.forward_layer.compute_output_shape(sequences_shape)
        if self.return_state:
            output, states = tuple(shapes[0]), [tuple(s) for s in shapes[1:]]
        else:
            output, states = tuple(shapes), []
        if self.merge_mode == "concat":
            output = output[:-1] + (None if output[-1] is None else 2 * output[-1],)
            output = [output]
        elif self.merge_mode is None:
            output = [output, output]
        else:
            output = [output]
        if self.return_state:
            return output + states + states
        return output[0] if self.merge_mode is not None else output

    def get_config(self):
        from neuroflow.keras.saving.layer_config import serialize_layer
        config = super().get_config()
        config.update({"merge_mode": self.merge_mode,
                       "layer": serialize_layer(self.forward_layer),
                       "backward_layer": serialize_layer(self.backward_layer)})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from neuroflow.keras.saving.layer_config import deserialize_layer
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_layer(backward, custom_objects)
        return cls(layer, backward_layer=backward, **config)


class TimeDistributed(Layer):
    """Applies ``layer`` to every time step of ``[batch, time, ...]`` inputs, with the same
    weights (``keras.layers.TimeDistributed(keras.layers.Dense(8))``): the batch and time
    axes are merged into one for the inner call and split again after it."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    def build(self, input_shape):
        self.built = True  # the inner layer builds on its first (merged) call

    def call(self, inputs, training=None, mask=None):
        inner = tuple(inputs.shape[2:])
        if all(d is not None for d in inner):
            merged = reshape(inputs, [-1] + list(inner))
        else:
            merged = reshape(inputs, concat([[-1], shape_of(inputs)[2:]], axis=0))
        kwargs = {"training": training} if training is not None else {}
        outputs = self.layer._call_impl((merged,), kwargs)
        timesteps = inputs.shape[1]
        outer = [batch_size_of(inputs), timesteps if timesteps is not None else -1]
        rest = tuple(outputs.shape[1:])
        if all(d is not None for d in rest):
            return reshape(outputs, outer + list(rest))
        return reshape(outputs, concat([shape_of(inputs)[:2], shape_of(outputs)[1:]], axis=0))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        child = self.layer.compute_output_shape((None,) + input_shape[2:])
        return input_shape[:2] + tuple(child)[1:]

    def get_config(self):
        from neuroflow.keras.saving.layer_config import serialize_layer
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from neuroflow.keras.saving.layer_config import deserialize_layer
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)


__all__ = ["Bidirectional", "TimeDistributed"]
