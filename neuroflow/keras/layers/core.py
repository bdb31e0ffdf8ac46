"""Core layers besides ``Dense``: ``Identity``, ``Embedding``, ``Masking``, and the shape
layers ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``.

Shape layers keep the batch dim dynamic (``nf.shape(x)[0]`` when it is unknown), so they work
on ``keras.Input`` tensors and in traces with an unknown batch size.
"""
from __future__ import annotations

import math
import numbers

from neuroflow.backend import dtypes
from neuroflow.keras import constraints, initializers, regularizers
from neuroflow.keras.layers.conv_utils import standardize_data_format
from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.keras.serialization import serialize_object
from neuroflow.ops.array import expand_dims, reshape, shape, transpose
from neuroflow.ops.lookup import embedding_lookup
from neuroflow.ops.math import cast, multiply, not_equal
from neuroflow.ops.reduce import reduce_any
from neuroflow.ops.tiling import tile


def _batch_dim(x):
    """x's batch size: an int when static, else the scalar tensor ``nf.shape(x)[0]``."""
    batch = x.shape[0]
    return batch if batch is not None else shape(x)[0]


class Identity(Layer):
    """Returns its input unchanged (``keras.layers.Identity()``), e.g. as a placeholder."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class Embedding(Layer):
    """Maps integer ids in ``[0, input_dim)`` to learned vectors of size ``output_dim``.

    >>> layer = keras.layers.Embedding(1000, 64)
    >>> layer(np.array([[4, 20]])).shape
    TensorShape([1, 2, 64])
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, **kwargs):
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"Embedding layer '{self.name}': `{name}` must be a positive "
                                 f"integer. Received: {name}={value!r}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if weights is not None:
            self.build(None)
            self.set_weights(weights if isinstance(weights, (list, tuple)) else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(
            "embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
            regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        if not dtypes.as_dtype(inputs.dtype).is_integer:
            inputs = cast(inputs, dtypes.int32)  # float ids, as Keras accepts them
        return embedding_lookup(self.embeddings, inputs)

    def compute_mask(self, inputs, mask=None):
        """True where the id is not 0, when ``mask_zero`` (0 is the padding id)."""
        if not self.mask_zero:
            return None
        return not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": serialize_object(self.embeddings_regularizer),
            "activity_regularizer": serialize_object(self.activity_regularizer),
            "embeddings_constraint": serialize_object(self.embeddings_constraint),
            "mask_zero": self.mask_zero})
        return config


class Masking(Layer):
    """Masks the time steps whose features all equal ``mask_value``
    (``keras.layers.Masking(mask_value=0.0)``): they become zeros, and the mask it attaches
    makes the layers after it (LSTM, GRU, GlobalAveragePooling1D, ...) skip them.

    >>> keras.layers.Masking()(np.array([[[1.0], [0.0]]])).numpy().ravel()
    array([1., 0.], dtype=float32)
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return reduce_any(not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = expand_dims(self.compute_mask(inputs), -1)
        return multiply(inputs, cast(keep, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


class Flatten(Layer):
    """Flattens all but the batch axis: ``(batch, 4, 5) -> (batch, 20)``.

    With ``data_format="channels_first"`` the channel axis is moved last first, so the
    flattened order matches a channels-last model's.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        rank = len(inputs.shape)
        if self.data_format == "channels_first" and rank > 2:
            inputs = transpose(inputs, [0] + list(range(2, rank)) + [1])
        rest = tuple(inputs.shape)[1:]
        size = math.prod(rest) if all(d is not None for d in rest) else -1
        return reshape(inputs, [_batch_dim(inputs), size])

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape)[1:]
        size = math.prod(rest) if all(d is not None for d in rest) else None
        return (tuple(input_shape)[0], size)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


def _resolve_target_shape(layer, input_rest, target):
    """``target`` with its -1 resolved (None when the input's size is unknown)."""
    unknown = [i for i, d in enumerate(target) if d == -1]
    known_size = math.prod(d for d in target if d != -1)
    if any(d is None for d in input_rest):
        return tuple(None if d == -1 else d for d in target)
    size = math.prod(input_rest)
    if unknown:
        if known_size == 0 or size % known_size:
            raise ValueError(f"Reshape layer '{layer.name}': the total size of the tensor must "
                             f"be unchanged. Received: input_shape={tuple(input_rest)}, "
                             f"target_shape={tuple(target)}")
        return tuple(size // known_size if d == -1 else d for d in target)
    if size != known_size:
        raise ValueError(f"Reshape layer '{layer.name}': the total size of the tensor must be "
                         f"unchanged. Received: input_shape={tuple(input_rest)}, "
                         f"target_shape={tuple(target)}")
    return tuple(target)


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (batch axis excluded; one dim may be -1).

    >>> keras.layers.Reshape((2, -1))(nf.zeros([5, 6])).shape
    TensorShape([5, 2, 3])
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, int):
            target_shape = (target_shape,)
        target = tuple(target_shape)
        if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or (d <= 0 and d != -1)
               for d in target):
            raise ValueError(f"Reshape layer '{self.name}': target_shape must be a tuple of "
                             f"positive integers (one may be -1). Received: "
                             f"target_shape={target_shape!r}")
        if sum(d == -1 for d in target) > 1:
            raise ValueError(f"Reshape layer '{self.name}': there must be at most one unknown "
                             f"dimension (-1) in target_shape. Received: "
                             f"target_shape={target}")
        self.target_shape = tuple(int(d) for d in target)

    def call(self, inputs):
        resolved = _resolve_target_shape(self, tuple(inputs.shape)[1:], self.target_shape)
        dims = [-1 if d is None else d for d in resolved]
        return reshape(inputs, [_batch_dim(inputs)] + dims)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0],) + _resolve_target_shape(self, input_shape[1:],
                                                         self.target_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Permute(Layer):
    """Permutes the non-batch axes; ``dims`` counts from 1: ``Permute((2, 1))`` swaps the
    two axes of ``(batch, steps, features)``.

    >>> keras.layers.Permute((2, 1))(nf.zeros([4, 2, 3])).shape
    TensorShape([4, 3, 2])
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set "
                             "of indices in `dims` must be consecutive and start from 1. "
                             f"Received dims={dims}")
        self.dims = tuple(int(d) for d in dims)
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return transpose(inputs, [0] + list(self.dims))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class RepeatVector(Layer):
    """Repeats each sample ``n`` times: ``(batch, features) -> (batch, n, features)``.

    >>> keras.layers.RepeatVector(3)(nf.zeros([2, 5])).shape
    TensorShape([2, 3, 5])
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"Expected an integer value for `n`, got {type(n).__name__}.")
        self.n = int(n)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return tile(expand_dims(inputs, 1), [1, self.n, 1])

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


__all__ = ["Identity", "Embedding", "Masking", "Flatten", "Reshape", "Permute", "RepeatVector"]
