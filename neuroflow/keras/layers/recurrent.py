"""Recurrent layers: ``RNN`` (any cell looped over time), ``SimpleRNN``, ``LSTM``, ``GRU``.

Two ways to run a sequence. The generic path loops over the time steps in Python, calling
the cell with neuroflow ops: it works eagerly and when traced (``nf.function``, ``fit``), and
handles masks, recurrent dropout and custom cells; a trace needs the number of time steps.
The fused path hands the whole sequence to one op of ``neuroflow.ops.recurrent``
(``lstm``, ``gru``, ``simple_rnn``); ``LSTM``, ``GRU`` and ``SimpleRNN`` take it when the
configuration allows (default activations, no recurrent dropout, not ``unroll``; masks
too), as Keras picks cuDNN. ``use_cudnn=False`` forces the generic path.

A mask (``mask=``, ``[batch, time]`` bool) keeps the previous state at masked steps, and the
previous output (zeros with ``zero_output_for_mask=True``). Masks are not propagated between
layers automatically: pass ``mask=embedding.compute_mask(ids)`` yourself.

>>> model = keras.Sequential([keras.Input((10, 3)), keras.layers.LSTM(16),
...                           keras.layers.Dense(1)])
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import convert_to_tensor
from neuroflow.core.tensor import Tensor
from neuroflow.core.variable import Variable
from neuroflow.keras import activations
from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.keras.layers.recurrent_cells import (
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
    batch_size_of,
    call_cell,
    flat_state_sizes,
)
from neuroflow.keras.serialization import serialize_object
from neuroflow.ops import recurrent as fused
from neuroflow.ops.array import expand_dims
from neuroflow.ops.creation import zeros, zeros_like
from neuroflow.ops.joining import stack, unstack
from neuroflow.ops.math import cast, greater, multiply, where
from neuroflow.ops.reduce import cumsum
from neuroflow.ops.tiling import reverse


class _StateHolder:
    """Holds a stateful layer's state Variables out of sight of the weight walk: they are
    per-batch values, not weights (not saved, not trained)."""

    def __init__(self):
        self.variables = None


class RNN(Layer):
    """Loops a cell over the time axis of ``[batch, time, features]`` inputs
    (``keras.layers.RNN(cell)``); a list of cells is stacked (``StackedRNNCells``).

    Returns the last output, or all outputs (``return_sequences=True``, in processing order,
    so reversed when ``go_backwards``), followed by the final states when
    ``return_state=True``. ``stateful=True`` carries the final states of one batch into the
    next (a fixed batch size is needed); ``reset_states()`` zeroes them.

    >>> layer = keras.layers.RNN(keras.layers.LSTMCell(4), return_sequences=True)
    >>> layer(np.ones((2, 5, 3), "float32")).shape
    TensorShape([2, 5, 4])
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError(f"Argument `cell` should have a `call` method and a `state_size` "
                             f"attribute. Received: cell={cell!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)
        self._state_holder = _StateHolder()
        self.use_cudnn = "auto"

    @property
    def states(self):
        """The state Variables of a stateful layer (None before its first call)."""
        return self._state_holder.variables

    def _output_size(self):
        return getattr(self.cell, "output_size", None) or flat_state_sizes(self.cell)[0]

    def build(self, sequences_shape):
        if isinstance(self.cell, Layer) and not self.cell.built:
            step_shape = (sequences_shape[0],) + tuple(sequences_shape[2:])
            self.cell.build(step_shape)
            self.cell.built = True
        self.built = True

    # -- calling --------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        states = self._initial_states(sequences, initial_state)
        mask = self._as_mask(mask, sequences)
        self._reset_dropout_masks()
        try:
            result = self._fused_loop(sequences, states, mask, training)
            if result is None:
                result = self._python_loop(sequences, states, mask, training)
        finally:
            self._reset_dropout_masks()
        last_output, outputs, new_states = result
        if self.stateful and sequences.shape[0] is not None:
            variables = self._stateful_states(sequences, flat_state_sizes(self.cell))
            for variable, value in zip(variables, new_states):
                variable.assign(value)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output] + list(new_states)
        return output

    def _fused_loop(self, sequences, states, mask, training):
        """(last_output, outputs, states) from a fused op, or None to loop in Python."""
        return None

    def _python_loop(self, sequences, states, mask, training):
        timesteps = sequences.shape[1]
        if timesteps is None:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) loops over the time steps in "
                f"Python and needs their number when it is traced, but the input has shape "
                f"{tuple(sequences.shape)}. Give the input a fixed length (keras.Input(shape="
                f"(timesteps, features))), or call the layer eagerly on the data.")
        steps = unstack(sequences, num=timesteps, axis=1)
        step_masks = unstack(mask, num=timesteps, axis=1) if mask is not None else None
        order = range(timesteps - 1, -1, -1) if self.go_backwards else range(timesteps)
        outputs, previous = [], None
        for t in order:
            output, new_states = call_cell(self.cell, steps[t], states, training)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else \
                [new_states]
            if step_masks is not None:
                keep = expand_dims(step_masks[t], -1)
                new_states = [where(keep, new, old) for new, old in zip(new_states, states)]
                if self.zero_output_for_mask or previous is None:
                    previous = zeros_like(output)
                output = where(keep, output, previous)
                previous = output
            states = new_states
            outputs.append(output)
        sequence = stack(outputs, axis=1) if self.return_sequences else None
        return outputs[-1], sequence, states

    def _reset_dropout_masks(self):
        for name in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            if hasattr(self.cell, name):
                getattr(self.cell, name)()

    def _as_mask(self, mask, sequences):
        if mask is None:
            return None
        if not isinstance(mask, (Tensor, Variable)):
            mask = convert_to_tensor(np.asarray(mask))
        if mask.shape.rank != 2:
            raise ValueError(f"Layer '{self.name}': the mask must have shape [batch, "
                             f"timesteps], got {tuple(mask.shape)} for inputs of shape "
                             f"{tuple(sequences.shape)}.")
        if dtypes.as_dtype(mask.dtype) != dtypes.bool_:
            mask = cast(mask, dtypes.bool_)
        return mask

    # -- states ---------------------------------------------------------------------------
    def _initial_states(self, sequences, initial_state):
        sizes = flat_state_sizes(self.cell)
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else \
                [initial_state]
            if len(states) != len(sizes):
                raise ValueError(f"Layer '{self.name}' expects {len(sizes)} initial state "
                                 f"tensor(s) (state sizes {sizes}), but received "
                                 f"{len(states)}.")
            states = [s if isinstance(s, (Tensor, Variable)) else convert_to_tensor(
                np.asarray(s, dtypes.as_dtype(self.dtype).np_dtype)) for s in states]
            return [cast(s, self.dtype) if dtypes.as_dtype(s.dtype).name != self.dtype else s
                    for s in states]
        if self.stateful:
            return self._stateful_states(sequences, sizes)
        batch = batch_size_of(sequences)
        if hasattr(self.cell, "get_initial_state"):
            states = self.cell.get_initial_state(batch_size=batch)
            return list(states) if isinstance(states, (list, tuple)) else [states]
        return [zeros([batch, size], dtype=self.dtype) for size in sizes]

    def _stateful_states(self, sequences, sizes):
        batch = sequences.shape[0]
        if batch is None:
            # a symbolic call with an unknown batch (a functional or Sequential model being
            # built: Sequential drops the batch size): shapes only, nothing to carry
            return [zeros([batch_size_of(sequences), size], dtype=self.dtype)
                    for size in sizes]
        holder = self._state_holder
        if holder.variables is None:
            np_dtype = dtypes.as_dtype(self.dtype).np_dtype
            holder.variables = [Variable(np.zeros((batch, size), np_dtype), trainable=False,
                                         name=f"{self.name}/state_{i}")
                                for i, size in enumerate(sizes)]
        elif holder.variables[0].shape[0] != batch:
            raise ValueError(f"Stateful layer '{self.name}' keeps states for batches of "
                             f"{holder.variables[0].shape[0]} sequences, but received a "
                             f"batch of {batch}. Every batch of a stateful RNN must have "
                             "the same size.")
        return list(holder.variables)

    def reset_states(self, states=None):
        """Zeroes the states of a stateful layer (or sets them to ``states``)."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        variables = self._state_holder.variables
        if variables is None:
            return
        if states is None:
            states = [np.zeros(tuple(v.shape), dtypes.as_dtype(v.dtype).np_dtype)
                      for v in variables]
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(states) != len(variables):
            raise ValueError(f"Layer '{self.name}' has {len(variables)} states, but "
                             f"reset_states received {len(states)} values.")
        for variable, value in zip(variables, states):
            variable.assign(value)

    reset_state = reset_states

    def compute_mask(self, inputs, mask=None):
        """The time mask goes on with the sequence output (``return_sequences``); the last
        output and the states carry none."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(flat_state_sizes(self.cell))
        return output_mask

    # -- shapes and config ----------------------------------------------------------------
    def compute_output_shape(self, sequences_shape):
        sequences_shape = tuple(sequences_shape)
        batch = sequences_shape[0]
        size = self._output_size()
        output = sequences_shape[:2] + (size,) if self.return_sequences else (batch, size)
        if self.return_state:
            return [output] + [(batch, s) for s in flat_state_sizes(self.cell)]
        return output

    def _rnn_config(self):
        config = Layer.get_config(self)
        config.update({
            "return_sequences": self.return_sequences, "return_state": self.return_state,
            "go_backwards": self.go_backwards, "stateful": self.stateful,
            "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask})
        return config

    def get_config(self):
        from neuroflow.keras.saving.layer_config import serialize_layer
        config = self._rnn_config()
        config["cell"] = serialize_layer(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from neuroflow.keras.saving.layer_config import deserialize_layer
        config = dict(config)
        cell = config.pop("cell")
        if isinstance(cell, list):
            cell = [deserialize_layer(c, custom_objects) for c in cell]
        else:
            cell = deserialize_layer(cell, custom_objects)
        return cls(cell, **config)


class _FusedRNN(RNN):
    """Base of ``SimpleRNN``, ``LSTM`` and ``GRU``: a built-in cell made from the layer's
    arguments, the fused path, and the cell's arguments in the layer's config."""

    _cell_class = None
    _cell_name = None
    _default_activations = {"activation": ("tanh",), "recurrent_activation": ("sigmoid",)}

    def __init__(self, units, cell_kwargs, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, activity_regularizer=None,
                 use_cudnn="auto", **kwargs):
        cell = self._cell_class(units, dtype=kwargs.get("dtype"),
                                trainable=kwargs.get("trainable", True), name=self._cell_name,
                                **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"Invalid value received for argument `use_cudnn`. Expected one "
                             f"of {{'auto', True, False}}. Received: use_cudnn={use_cudnn!r}")
        self.use_cudnn = use_cudnn

    def _fusable(self, mask):
        """Why the fused op cannot run this configuration (None when it can)."""
        cell = self.cell
        if type(cell) is not self._cell_class:
            return "the cell is not the layer's own"
        if self.unroll:
            return "unroll=True"
        if cell.recurrent_dropout > 0:
            return "recurrent_dropout > 0"
        for name, allowed in self._default_activations.items():
            if _activation_name(getattr(cell, name)) not in allowed:
                return f"{name} is not one of {allowed}"
        return None

    def _fused_loop(self, sequences, states, mask, training):
        if self.use_cudnn is False:
            return None
        reason = self._fusable(mask)
        if reason is not None:
            if self.use_cudnn is True:
                raise ValueError(f"Layer '{self.name}': use_cudnn=True was specified, but the "
                                 f"fused kernel cannot run this configuration ({reason}). "
                                 "Use use_cudnn='auto' or False.")
            return None
        cell = self.cell
        inputs = sequences
        if training and 0 < cell.dropout < 1:
            # one mask per sequence, the one the cell would reuse at every step
            inputs = multiply(sequences, expand_dims(cell.get_dropout_mask(sequences[:, 0]), 1))
        last_output, outputs, new_states = self._run_fused(inputs, states, mask)
        if mask is not None:
            last_output, outputs = self._masked_outputs(outputs, mask, last_output)
        return last_output, outputs, new_states

    def _masked_outputs(self, outputs, mask, last_output):
        """The outputs of masked steps as the Python loop gives them: the fused op repeats
        the state, so a step before the first unmasked one shows the initial state; Keras
        shows zeros there (and at every masked step with ``zero_output_for_mask``)."""
        steps = reverse(mask, [1]) if self.go_backwards else mask
        if self.zero_output_for_mask:
            shown = steps
        else:
            shown = greater(cumsum(cast(steps, "int32"), axis=1), 0)
        outputs = multiply(outputs, expand_dims(cast(shown, outputs.dtype), -1))
        return outputs[:, -1], outputs

    def get_config(self):
        config = self._rnn_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype", "batch_input_shape"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = serialize_object(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


def _activation_name(activation):
    try:
        return activations.serialize(activation)
    except ValueError:
        return None


def _delegate_to_cell(cls, names):
    for name in names:
        setattr(cls, name, property(lambda self, n=name: getattr(self.cell, n)))
    return cls


_CELL_ATTRIBUTES = ("units", "activation", "use_bias", "kernel_initializer",
                    "recurrent_initializer", "bias_initializer", "kernel_regularizer",
                    "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                    "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
                    "seed")


class SimpleRNN(_FusedRNN):
    """A fully connected RNN, ``h = tanh(x @ kernel + h_prev @ recurrent_kernel + bias)``
    (``keras.layers.SimpleRNN(units)``)."""

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"
    _default_activations = {"activation": ("tanh", "relu")}

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        cell_kwargs = dict(
            activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed)
        super().__init__(units, cell_kwargs, **kwargs)

    def _run_fused(self, inputs, states, mask):
        cell = self.cell
        outputs, last_h = fused.simple_rnn(inputs, states[0], cell.kernel, cell.recurrent_kernel,
                                         cell.bias, activation=activations.serialize(
                                             cell.activation), go_backwards=self.go_backwards,
                                         mask=mask)
        return last_h, outputs, [last_h]


class LSTM(_FusedRNN):
    """Long short-term memory (``keras.layers.LSTM(units)``): kernel
    ``[input_dim, 4 * units]``, recurrent_kernel ``[units, 4 * units]``, bias
    ``[4 * units]``, gates i, f, c, o; states ``[h, c]``."""

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        cell_kwargs = dict(
            activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed)
        super().__init__(units, cell_kwargs, **kwargs)

    def _run_fused(self, inputs, states, mask):
        cell = self.cell
        outputs, last_h, last_c = fused.lstm(inputs, states[0], states[1], cell.kernel,
                                           cell.recurrent_kernel, cell.bias,
                                           go_backwards=self.go_backwards, mask=mask)
        return last_h, outputs, [last_h, last_c]


class GRU(_FusedRNN):
    """Gated recurrent unit (``keras.layers.GRU(units)``): kernel ``[input_dim, 3 * units]``,
    gates z, r, h; bias ``[2, 3 * units]`` (input, recurrent) when ``reset_after=True``
    (the default), else ``[3 * units]``."""

    _cell_class = GRUCell
    _cell_name = "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 reset_after=True, **kwargs):
        cell_kwargs = dict(
            activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            reset_after=reset_after)
        super().__init__(units, cell_kwargs, **kwargs)

    def _run_fused(self, inputs, states, mask):
        cell = self.cell
        outputs, last_h = fused.gru(inputs, states[0], cell.kernel, cell.recurrent_kernel,
                                  cell.bias, reset_after=cell.reset_after,
                                  go_backwards=self.go_backwards, mask=mask)
        return last_h, outputs, [last_h]


_delegate_to_cell(SimpleRNN, _CELL_ATTRIBUTES)
_delegate_to_cell(LSTM, _CELL_ATTRIBUTES + ("recurrent_activation", "unit_forget_bias"))
_delegate_to_cell(GRU, _CELL_ATTRIBUTES + ("recurrent_activation", "reset_after"))

__all__ = ["RNN", "SimpleRNN", "LSTM", "GRU"]
