"""``MultiHeadAttention`` (Keras 3 semantics, weights in Keras's ``EinsumDense`` layouts).

The projections are sublayers named as in Keras (``query``, ``key``, ``value``,
``attention_output``) with kernels ``[dim, num_heads, key_dim]`` (value: ``value_dim``),
biases ``[num_heads, key_dim]`` and an output kernel ``[num_heads, value_dim, output_dim]``,
so weights move between Keras and neuroflow as they are.

The two attention products run as batched matmuls over ``[batch..., head]`` stacks of
matrices, on transposed views of the projections: the BLAS reads a matrix whose rows are
contiguous where it lies, so only the transposed key is copied (by matmul), and in a
compiled plan the product of the probabilities and the values is written straight into
the ``[batch, positions, heads, size]`` layout (``ops.dense_fusion``).
"""
from __future__ import annotations

import math

from neuroflow.core.op import convert_to_tensor
from neuroflow.keras import constraints, initializers, regularizers
from neuroflow.keras.layers.activation_layers import _large_negative
from neuroflow.keras.layers.layer import Layer, _convert_inputs, _shape_of
from neuroflow.keras.serialization import serialize_object
from neuroflow.ops import activations as nn
from neuroflow.ops.array import expand_dims, reshape, shape, transpose
from neuroflow.ops.creation import range as _range
from neuroflow.ops.linalg import matmul
from neuroflow.ops.math import cast, logical_and, multiply, subtract
from neuroflow.ops.math_logic import greater_equal
from neuroflow.ops.normalization import dropout as _dropout


def _dims(x) -> list:
    """The axis sizes of ``x``: ints where known statically, scalar tensors where not."""
    static = list(x.shape)
    dynamic = None
    out = []
    for i, d in enumerate(static):
        if d is None:
            dynamic = shape(x) if dynamic is None else dynamic
            d = dynamic[i]
        out.append(d)
    return out


def _product(sizes):
    total = 1
    for d in sizes:
        total = total * d
    return total


def _reshape(x, sizes):
    """Reshapes to ``sizes`` (ints or scalar tensors), leaving one unknown size as -1."""
    unknown = [i for i, d in enumerate(sizes) if not isinstance(d, int)]
    if len(unknown) == 1 and not any(isinstance(d, int) and d == -1 for d in sizes):
        sizes = list(sizes)
        sizes[unknown[0]] = -1
    return reshape(x, sizes)


class _HeadsDense(Layer):
    """One projection of ``MultiHeadAttention``, with Keras ``EinsumDense``'s weights: a
    kernel of shape ``input's last in_axes dims + output_dims`` and a bias of
    ``output_dims``. It computes ``x @ kernel + bias`` over those trailing axes."""

    def __init__(self, output_dims, in_axes, use_bias, kernel_initializer, bias_initializer,
                 kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
                 bias_constraint, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True  # the query's mask passes through, unread
        self.output_dims = tuple(int(d) for d in output_dims)
        self.in_axes = int(in_axes)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint

    def build(self, input_shape):
        in_dims = tuple(input_shape)[-self.in_axes:]
        if any(d is None for d in in_dims):
            raise ValueError(f"The last {self.in_axes} dimension(s) of the input to the "
                             f"'{self.name}' projection must be defined, got input shape "
                             f"{tuple(input_shape)}.")
        self.kernel = self.add_weight("kernel", in_dims + self.output_dims,
                                      self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", self.output_dims, self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def call(self, inputs):
        in_dims = tuple(self.kernel.shape)[:self.in_axes]
        rows = _dims(inputs)[:-self.in_axes]
        fan_in, fan_out = math.prod(in_dims), math.prod(self.output_dims)
        if self.in_axes > 1:
            inputs = _reshape(inputs, rows + [fan_in])
        outputs = matmul(inputs, reshape(self.kernel, [fan_in, fan_out]))
        if self.bias is not None:
            outputs = outputs + reshape(self.bias, [fan_out])
        if len(self.output_dims) > 1:
            outputs = _reshape(outputs, rows + list(self.output_dims))
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-self.in_axes] + self.output_dims


def _clone_initializer(init):
    """A fresh copy per projection, so a seeded initializer does not repeat its values."""
    try:
        return type(init).from_config(init.get_config())
    except (AttributeError, TypeError, NotImplementedError):
        return init


class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention (``keras.layers.MultiHeadAttention``).

    ``layer(query, value, key=None)`` projects the inputs into ``num_heads`` heads, attends
    with ``softmax(q k^T / sqrt(key_dim))`` over the key positions (masked positions left
    out), and projects the heads' results back to the query's last dim (or
    ``output_shape``). Keras masks on ``query`` / ``value`` / ``key`` (``_keras_mask``,
    as from ``Embedding(mask_zero=True)``) become part of the attention mask, and the
    output carries the query's mask.

    >>> layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> layer(np.ones((3, 5, 8)), np.ones((3, 7, 6))).shape
    TensorShape([3, 5, 8])
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        for what, value in (("num_heads", num_heads), ("key_dim", key_dim),
                            ("value_dim", value_dim or key_dim)):
            if int(value) <= 0:
                raise ValueError(f"Received an invalid value for `{what}`, expected a "
                                 f"positive integer. Received: {what}={value}")
        self._num_heads = int(num_heads)
        self._key_dim = int(key_dim)
        self._value_dim = int(value_dim) if value_dim else self._key_dim
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"Invalid value received for argument `dropout`. Expected a "
                             f"float value between 0 and 1. Received: dropout={dropout}")
        self._dropout = float(dropout)
        self._use_bias = bool(use_bias)
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(int(d) for d in output_shape)
            except TypeError:
                raise ValueError(f"Invalid `output_shape`: {output_shape}. When specified, "
                                 "the `output_shape` should be of type tuple, list, or "
                                 "int.") from None
        # not `_output_shape`: Layer keeps the functional output shape there
        self._projected_shape = output_shape or None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError("`attention_axes` must be an int, list, or tuple. Received: "
                             f"attention_axes={attention_axes}")
        self._attention_axes = None if attention_axes is None else tuple(
            int(a) for a in attention_axes)
        self._flash_attention = flash_attention  # accepted for Keras parity; one path here
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        # as in Keras, the activity regularizer goes to the four projections
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        self._query_dense = self._key_dense = self._value_dense = self._output_dense = None

    # -- Keras's read-only properties --------------------------------------------------
    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    # -- building ----------------------------------------------------------------------
    def _projection(self, output_dims, in_axes, name):
        return _HeadsDense(
            output_dims, in_axes, self._use_bias, _clone_initializer(self._kernel_initializer),
            _clone_initializer(self._bias_initializer), self._kernel_regularizer,
            self._bias_regularizer, self._activity_regularizer, self._kernel_constraint,
            self._bias_constraint, name=name, dtype=self.dtype)

    def build(self, query_shape, value_shape=None, key_shape=None):
        """Creates the four projections for inputs of these shapes (``value_shape`` is
        required, as in Keras; ``key_shape`` defaults to it)."""
        if value_shape is None:
            raise ValueError(f"MultiHeadAttention layer '{self.name}' needs both the query "
                             "and the value shapes to build: call it as layer(query, value) "
                             "or build(query_shape, value_shape).")
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must "
                             f"be equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        rank = len(query_shape)
        if len(value_shape) != rank:
            raise ValueError(f"MultiHeadAttention layer '{self.name}': query and value must "
                             f"have the same rank, got query_shape={query_shape} and "
                             f"value_shape={value_shape}")
        if rank < 3:
            raise ValueError(f"MultiHeadAttention layer '{self.name}' expects inputs of rank "
                             f">= 3 (batch, positions..., features), got query_shape="
                             f"{query_shape}")
        axes = self._attention_axes or tuple(range(1, rank - 1))
        axes = tuple(sorted(set(rank + a if a < 0 else a for a in axes)))  # Keras's reading
        if not all(1 <= a <= rank - 2 for a in axes):
            raise ValueError(f"MultiHeadAttention layer '{self.name}': attention_axes="
                             f"{self._attention_axes} must name axes of the inputs other than "
                             f"the batch (0) and feature ({rank - 1}) axes, for inputs of "
                             f"rank {rank}.")
        self._attention_axes_built = axes
        heads = self._num_heads
        self._query_dense = self._projection((heads, self._key_dim), 1, "query")
        self._key_dense = self._projection((heads, self._key_dim), 1, "key")
        self._value_dense = self._projection((heads, self._value_dim), 1, "value")
        output_dims = self._projected_shape or (query_shape[-1],)
        self._output_dense = self._projection(output_dims, 2, "attention_output")
        for dense, shape_ in ((self._query_dense, query_shape), (self._key_dense, key_shape),
                              (self._value_dense, value_shape),
                              (self._output_dense, query_shape[:-1] + (heads,
                                                                       self._value_dim))):
            dense.build(shape_)
            for variable in dense.weights:
                variable.path = f"{self.name}/{variable.path}"  # Keras's variable paths
        self.built = True

    # -- calling -----------------------------------------------------------------------
    def _call_impl(self, args, kwargs):
        """Brings ``query`` / ``value`` / ``key`` to the front (they may come as keywords)
        and builds on all three shapes: the base class only sees the first input."""
        kwargs, args = dict(kwargs), list(args)
        for i, name in enumerate(("query", "value", "key")):
            if name in kwargs:
                if i < len(args):
                    raise TypeError(f"MultiHeadAttention got multiple values for '{name}'")
                args += [None] * (i - len(args)) + [kwargs.pop(name)]
        if len(args) < 2 or args[1] is None:
            raise TypeError(f"MultiHeadAttention layer '{self.name}' must be called as "
                            "layer(query, value) (key is optional).")
        args = [args[0]] + [_convert_inputs(a, self) for a in args[1:]]
        if not self.built:
            key = args[2] if len(args) > 2 else None
            self.build(_shape_of(args[0]), _shape_of(args[1]),
                       None if key is None else _shape_of(key))
        return super()._call_impl(tuple(args), kwargs)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        keys = value if key is None else key
        # Keras fills the masks from the inputs' Keras masks; an explicit one wins here.
        if query_mask is None:
            query_mask = getattr(query, "_keras_mask", None)
        if value_mask is None:
            value_mask = getattr(value, "_keras_mask", None)
        if key_mask is None and key is not None:
            key_mask = getattr(key, "_keras_mask", None)
        attention_mask = self._compute_attention_mask(
            query, value, query_mask=query_mask, value_mask=value_mask, key_mask=key_mask,
            attention_mask=attention_mask, use_causal_mask=use_causal_mask)
        # The projections run inside this layer's call: not recorded as functional nodes.
        q = self._query_dense._call_impl((query,), {})  # [B, <positions>, N, key_dim]
        k = self._key_dense._call_impl((keys,), {})     # [B, <positions>, N, key_dim]
        v = self._value_dense._call_impl((value,), {})  # [B, <positions>, N, value_dim]
        output, scores = self._compute_attention(q, k, v, attention_mask, training)
        output = self._output_dense._call_impl((output,), {})
        if query_mask is not None:
            output._keras_mask = query_mask
        if return_attention_scores:
            return output, scores
        return output

    def compute_mask(self, inputs, mask=None):
        # ``call`` puts the query's mask on the attention output itself (not on the scores)
        return None

    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None,
                                key_mask=None, attention_mask=None, use_causal_mask=False):
        """The boolean [B, T, S] mask (True = attend), merged as Keras does: the query's
        mask as [B, T, 1], value's and key's as [B, 1, S], the causal mask as [1, T, S] and
        ``attention_mask``, combined with AND. None when nothing masks."""
        def as_bool(mask):
            return cast(convert_to_tensor(mask), "bool")
        masks = []
        if query_mask is not None:
            masks.append(expand_dims(as_bool(query_mask), -1))
        for mask in (value_mask, key_mask):
            if mask is not None:
                masks.append(expand_dims(as_bool(mask), -2))
        if use_causal_mask:
            masks.append(self._compute_causal_mask(query, value))
        if attention_mask is not None:
            masks.insert(0, as_bool(attention_mask))
        if not masks:
            return None
        combined = masks[0]
        for mask in masks[1:]:
            combined = logical_and(combined, mask)
        return combined

    def _compute_causal_mask(self, query, value=None):
        """[1, T, S]: True where the key position is not after the query position."""
        q_length = _dims(query)[1]
        v_length = q_length if value is None else _dims(value)[1]
        rows = expand_dims(_range(q_length), 1)
        cols = expand_dims(_range(v_length), 0)
        return expand_dims(greater_equal(rows, cols), 0)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None):
        """Attention over projected ``[B, <positions>, N, dim]`` inputs; returns the heads'
        outputs (same layout, value_dim) and the probabilities in Keras's layout
        ``[<batch dims>, N, <query attention dims>, <key attention dims>]``."""
        rank = query.shape.rank
        axes = self._attention_axes_built
        batch_axes = [a for a in range(rank - 2) if a not in axes]
        heads = rank - 2
        q_dims, k_dims = _dims(query), _dims(key)
        q_attn = [q_dims[a] for a in axes]
        k_attn = [k_dims[a] for a in axes]
        batch = [q_dims[a] for a in batch_axes] + [self._num_heads]
        # One stack of matrices per (batch..., head): transposed views, whose matrices the
        # BLAS reads as they lie (the key's are copied into rows by matmul); several
        # attention axes are flattened into one.
        perm = batch_axes + [heads] + list(axes) + [rank - 1]
        q_stack = transpose(multiply(query, self._inverse_sqrt_key_dim), perm)
        k_stack = transpose(key, batch_axes + [heads, rank - 1] + list(axes))
        v_stack = transpose(value, perm)
        joint = len(axes) > 1
        if joint:
            q_stack = _reshape(q_stack, batch + [_product(q_attn), self._key_dim])
            k_stack = _reshape(k_stack, batch + [self._key_dim, _product(k_attn)])
            v_stack = _reshape(v_stack, batch + [_product(k_attn), self._value_dim])
        scores = matmul(q_stack, k_stack)                   # [batch..., N, Tq, Tk]
        keras_layout = batch + q_attn + k_attn
        if joint:
            scores = _reshape(scores, keras_layout)
        keep = None
        if attention_mask is not None:
            keep = attention_mask
            # Keras inserts missing dims at the heads axis: [B, T, S] -> [B, 1, T, S]
            for _ in range(len(keras_layout) - keep.shape.rank):
                keep = expand_dims(keep, -2 * len(axes) - 1)
            keep = cast(keep, scores.dtype)
            scores = scores + multiply(subtract(1.0, keep), _large_negative(scores.dtype))
        if not joint:
            probs = nn.softmax(scores, axis=-1)
        else:  # a joint softmax over all the key attention axes
            flat = _reshape(scores, batch + [_product(q_attn), _product(k_attn)])
            probs = _reshape(nn.softmax(flat, axis=-1), keras_layout)
        if keep is not None:
            probs = multiply(probs, keep)  # a fully masked row attends to nothing: zeros
        dropped = probs
        if training and self._dropout > 0:
            dropped = _dropout(probs, self._dropout, seed=self.seed)
        if joint:
            dropped = _reshape(dropped, batch + [_product(q_attn), _product(k_attn)])
        out = matmul(dropped, v_stack)                      # [batch..., N, Tq, value_dim]
        if joint:
            out = _reshape(out, batch + q_attn + [self._value_dim])
        inverse = sorted(range(rank), key=perm.__getitem__)
        return transpose(out, inverse), probs

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        if value_shape is not None:
            value_shape = tuple(value_shape)
            key_shape = value_shape if key_shape is None else tuple(key_shape)
            if value_shape[1:-1] != key_shape[1:-1]:
                raise ValueError("All dimensions of `value` and `key`, except the last one, "
                                 f"must be equal. Received: value_shape={value_shape} and "
                                 f"key_shape={key_shape}")
        if self._projected_shape:
            return query_shape[:-1] + tuple(self._projected_shape)
        return query_shape

    # -- config ------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self._num_heads, "key_dim": self._key_dim,
            "value_dim": self._value_dim, "dropout": self._dropout,
            "use_bias": self._use_bias, "output_shape": self._projected_shape,
            "attention_axes": self._attention_axes,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": serialize_object(self._kernel_regularizer),
            "bias_regularizer": serialize_object(self._bias_regularizer),
            "activity_regularizer": serialize_object(self._activity_regularizer),
            "kernel_constraint": serialize_object(self._kernel_constraint),
            "bias_constraint": serialize_object(self._bias_constraint),
            "seed": self.seed})
        return config


__all__ = ["MultiHeadAttention"]
