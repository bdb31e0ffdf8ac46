"""Recurrent cells: one time step of ``SimpleRNN``, ``LSTM`` and ``GRU``, and
``StackedRNNCells`` (Keras 3 weights, layouts and equations).

A cell is a layer with ``call(inputs, states, training=None) -> (output, new_states)``, a
``state_size`` and an ``output_size``; ``keras.layers.RNN`` loops it over time. Weight
layouts are Keras's: ``LSTMCell`` kernel ``[input_dim, 4 * units]`` with gates i, f, c, o;
``GRUCell`` kernel ``[input_dim, 3 * units]`` with gates z, r, h and a ``[2, 3 * units]``
bias when ``reset_after`` (input bias, recurrent bias).

>>> cell = keras.layers.LSTMCell(8)
>>> h, (h, c) = cell(np.ones((2, 3), "float32"), [np.zeros((2, 8), "float32")] * 2)
"""
from __future__ import annotations

import numpy as np

from neuroflow.keras import activations, constraints, initializers, regularizers
from neuroflow.keras.layers.layer import Layer
from neuroflow.keras.serialization import serialize_object
from neuroflow.ops import normalization
from neuroflow.ops.array import shape as shape_of
from neuroflow.ops.creation import ones_like, zeros
from neuroflow.ops.joining import split
from neuroflow.ops.linalg import matmul
from neuroflow.ops.math import add, multiply, subtract


def _check_rate(name, value):
    if isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a float "
                         f"between 0 and 1. Received: {name}={value!r}")
    return float(value)


def _check_units(units):
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
        raise ValueError(f"Received an invalid value for argument `units`, expected a "
                         f"positive integer, got {units!r}.")
    return int(units)


def _first(states):
    return states[0] if isinstance(states, (list, tuple)) else states


class DropoutRNNCell(Layer):
    """Base of the built-in cells: weight arguments, and the dropout masks Keras draws once
    per sequence (``get_dropout_mask``) and reuses at every step until reset."""

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = _check_units(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.bias = None
        self._dropout_mask = self._recurrent_dropout_mask = None

    # -- weights ------------------------------------------------------------------------
    def _add_kernels(self, input_dim, gates, bias_shape, bias_initializer=None):
        self.kernel = self.add_weight("kernel", (input_dim, gates * self.units),
                                      self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel",
                                                (self.units, gates * self.units),
                                                self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", bias_shape,
                                        bias_initializer or self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def _input_dim(self, input_shape):
        dim = tuple(input_shape)[-1]
        if dim is None:
            raise ValueError(f"The last dimension of the inputs to {type(self).__name__} "
                             f"'{self.name}' should be defined. Found None (input shape "
                             f"{tuple(input_shape)}).")
        return int(dim)

    # -- dropout masks, one per sequence ------------------------------------------------
    def _draw(self, like, rate):
        return normalization.dropout(ones_like(like), rate, seed=self.seed)

    def get_dropout_mask(self, step_input):
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = self._draw(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_state):
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._draw(step_state, self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def _dropped(self, inputs, h_tm1, training):
        """inputs and the previous output with this sequence's dropout masks applied."""
        if training and 0 < self.dropout < 1:
            inputs = multiply(inputs, self.get_dropout_mask(inputs))
        if training and 0 < self.recurrent_dropout < 1:
            h_tm1 = multiply(h_tm1, self.get_recurrent_dropout_mask(h_tm1))
        return inputs, h_tm1

    # -- states -------------------------------------------------------------------------
    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else \
            [self.state_size]
        return [zeros([batch_size, size], dtype=self.dtype) for size in sizes]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": serialize_object(self.kernel_regularizer),
            "recurrent_regularizer": serialize_object(self.recurrent_regularizer),
            "bias_regularizer": serialize_object(self.bias_regularizer),
            "kernel_constraint": serialize_object(self.kernel_constraint),
            "recurrent_constraint": serialize_object(self.recurrent_constraint),
            "bias_constraint": serialize_object(self.bias_constraint),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed})
        return config


class SimpleRNNCell(DropoutRNNCell):
    """``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``
    (``keras.layers.SimpleRNNCell(units)``)."""

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self._add_kernels(self._input_dim(input_shape), 1, (self.units,))
        self.built = True

    def call(self, inputs, states, training=None):
        prev_output = _first(states)
        inputs, prev_dropped = self._dropped(inputs, prev_output, training)
        h = matmul(inputs, self.kernel)
        if self.bias is not None:
            h = add(h, self.bias)
        output = self.activation(add(h, matmul(prev_dropped, self.recurrent_kernel)))
        return output, ([output] if isinstance(states, (list, tuple)) else output)


class LSTMCell(DropoutRNNCell):
    """One LSTM step, gates i, f, c, o from one fused matmul (``keras.layers.LSTMCell``):
    ``c = f * c_prev + i * tanh(z_c)``, ``h = o * tanh(c)``.

    ``unit_forget_bias=True`` starts the forget-gate slice of the bias at one.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def build(self, input_shape):
        bias_initializer = None
        if self.unit_forget_bias:
            units, base = self.units, self.bias_initializer

            def bias_initializer(shape, dtype=None):
                first = np.asarray(base((units,), dtype=dtype))
                return np.concatenate([first, np.ones_like(first),
                                       np.asarray(base((2 * units,), dtype=dtype))])
        self._add_kernels(self._input_dim(input_shape), 4, (4 * self.units,), bias_initializer)
        self.built = True

    def call(self, inputs, states, training=None):
        h_tm1, c_tm1 = states[0], states[1]
        inputs, h_tm1 = self._dropped(inputs, h_tm1, training)
        z = add(matmul(inputs, self.kernel), matmul(h_tm1, self.recurrent_kernel))
        if self.bias is not None:
            z = add(z, self.bias)
        z_i, z_f, z_c, z_o = split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = add(multiply(f, c_tm1), multiply(i, self.activation(z_c)))
        o = self.recurrent_activation(z_o)
        h = multiply(o, self.activation(c))
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update({
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias})
        return config


class GRUCell(DropoutRNNCell):
    """One GRU step, gates z, r, h (``keras.layers.GRUCell``):
    ``h = z * h_prev + (1 - z) * hh``. With ``reset_after=True`` (Keras 3's default, the
    cuDNN form) the reset gate multiplies ``h_prev @ recurrent_kernel + recurrent_bias``;
    otherwise it multiplies ``h_prev`` before the matmul.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._add_kernels(self._input_dim(input_shape), 3, bias_shape)
        self.built = True

    def call(self, inputs, states, training=None):
        h_tm1 = _first(states)
        inputs, h_dropped = self._dropped(inputs, h_tm1, training)
        input_bias = recurrent_bias = None
        if self.bias is not None:
            if self.reset_after:
                input_bias, recurrent_bias = self.bias[0], self.bias[1]
            else:
                input_bias = self.bias
        matrix_x = matmul(inputs, self.kernel)
        if input_bias is not None:
            matrix_x = add(matrix_x, input_bias)
        x_z, x_r, x_h = split(matrix_x, 3, axis=-1)
        units = self.units
        if self.reset_after:
            matrix_inner = matmul(h_dropped, self.recurrent_kernel)
            if recurrent_bias is not None:
                matrix_inner = add(matrix_inner, recurrent_bias)
            rec_z, rec_r, rec_h = split(matrix_inner, 3, axis=-1)
        else:
            rec_z, rec_r = split(matmul(h_dropped, self.recurrent_kernel[:, :2 * units]), 2,
                                 axis=-1)
        z = self.recurrent_activation(add(x_z, rec_z))
        r = self.recurrent_activation(add(x_r, rec_r))
        if self.reset_after:
            rec_h = multiply(r, rec_h)
        else:
            rec_h = matmul(multiply(r, h_dropped), self.recurrent_kernel[:, 2 * units:])
        hh = self.activation(add(x_h, rec_h))
        h = add(multiply(z, h_tm1), multiply(subtract(1.0, z), hh))
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def get_config(self):
        config = super().get_config()
        config.update({
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after})
        return config


def flat_state_sizes(cell) -> list:
    """The cell's state sizes as a flat list of ints (one per state tensor)."""
    size = cell.state_size
    if isinstance(size, (list, tuple)):
        out = []
        for s in size:
            out += s if isinstance(s, (list, tuple)) else [s]
        return [int(s) for s in out]
    return [int(size)]


class StackedRNNCells(Layer):
    """Cells run one above the other at each step, as one cell
    (``keras.layers.StackedRNNCells([LSTMCell(8), LSTMCell(8)])``). Its states are the
    cells' states, flattened in order."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
                raise ValueError(f"All cells must have a `call` method and a `state_size` "
                                 f"attribute. Received cell without one: {cell!r}")
        self.cells = list(cells)

    @property
    def state_size(self):
        return [s for cell in self.cells for s in flat_state_sizes(cell)]

    @property
    def output_size(self):
        last = self.cells[-1]
        return getattr(last, "output_size", flat_state_sizes(last)[0])

    def build(self, input_shape):
        step_shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell.build(step_shape)
                cell.built = True
            step_shape = step_shape[:-1] + (getattr(cell, "output_size", None)
                                            or flat_state_sizes(cell)[0],)
        self.built = True

    def call(self, inputs, states, training=None):
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        new_states, position = [], 0
        for cell in self.cells:
            count = len(flat_state_sizes(cell))
            own = states[position:position + count]
            position += count
            inputs, own = call_cell(cell, inputs, own, training)
            new_states += list(own) if isinstance(own, (list, tuple)) else [own]
        return inputs, new_states

    def get_initial_state(self, batch_size=None):
        return [zeros([batch_size, s], dtype=self.dtype) for s in self.state_size]

    def reset_dropout_mask(self):
        for cell in self.cells:
            if hasattr(cell, "reset_dropout_mask"):
                cell.reset_dropout_mask()

    def reset_recurrent_dropout_mask(self):
        for cell in self.cells:
            if hasattr(cell, "reset_recurrent_dropout_mask"):
                cell.reset_recurrent_dropout_mask()

    def get_config(self):
        from neuroflow.keras.saving.layer_config import serialize_layer
        config = super().get_config()
        config["cells"] = [serialize_layer(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from neuroflow.keras.saving.layer_config import deserialize_layer
        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


def call_cell(cell, inputs, states, training):
    """One step of ``cell`` (built already): its ``call``, passing ``training`` if it takes
    it. ``states`` is a list; a single-state cell may return its state bare."""
    if cell._call_has_training:
        return cell.call(inputs, states, training=training)
    return cell.call(inputs, states)


def batch_size_of(x):
    """x's batch size: an int when static, else the scalar tensor ``nf.shape(x)[0]``."""
    batch = x.shape[0]
    return batch if batch is not None else shape_of(x)[0]


__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"]
