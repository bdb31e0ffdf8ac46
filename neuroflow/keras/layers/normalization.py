"""``BatchNormalization`` and ``LayerNormalization`` (Keras 3 semantics)."""
from __future__ import annotations

from neuroflow.keras import constraints, initializers, regularizers
from neuroflow.keras.layers.layer import InputSpec, Layer
from neuroflow.keras.serialization import serialize_object
from neuroflow.ops import array as _array
from neuroflow.ops import math as _math
from neuroflow.ops.normalization import batch_normalization, layer_normalization, moments
from neuroflow.ops.reduce import reduce_mean, reduce_sum


def _normalize_axes(axis, rank, layer):
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -rank <= int(a) < rank:
            raise ValueError(f"Invalid axis {a} for layer '{layer.name}': the input has rank "
                             f"{rank}, so axis must be in [{-rank}, {rank}). Received: "
                             f"axis={axis}")
        out.append(int(a) % rank)
    return tuple(sorted(set(out)))


class BatchNormalization(Layer):
    """Normalizes each feature with the batch's statistics in training and with their moving
    averages at inference (``keras.layers.BatchNormalization()``).

    Training (``training=True``, as in ``fit``) uses the batch mean and variance and moves
    ``moving_mean`` / ``moving_variance`` towards them (``moving = moving * momentum +
    batch * (1 - momentum)``). A frozen layer (``trainable=False``) always runs in inference
    mode, as in Keras 3.

    >>> bn = keras.layers.BatchNormalization()
    >>> y = bn(np.random.rand(8, 3), training=True)
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.synchronized = bool(synchronized)  # one process: nothing to synchronize
        self.supports_masking = True
        self.gamma = self.beta = None

    def build(self, input_shape):
        rank = len(input_shape)
        (axis,) = _normalize_axes(self.axis, rank, self)
        dim = input_shape[axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of the input to BatchNormalization layer "
                             f"'{self.name}' should have a defined dimension, but the layer "
                             f"received an input with shape {tuple(input_shape)}.")
        shape = (dim,)
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", shape, self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               self.moving_variance_initializer,
                                               trainable=False)
        self._reduction_axes = [i for i in range(rank) if i != axis]
        # parameters broadcast against the input: (dim,) works for the last axis only
        self._param_shape = None if axis == rank - 1 else \
            [dim if i == axis else 1 for i in range(rank)]
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: dim})
        self.built = True

    def _broadcast(self, param):
        if param is None or self._param_shape is None:
            return param
        return _array.reshape(param, self._param_shape)

    def _moments(self, inputs, mask):
        if mask is None:
            return moments(inputs, self._reduction_axes)
        # weighted moments: masked steps (mask 0) count for nothing
        weights = _math.cast(mask, inputs.dtype)
        while weights.shape.rank < inputs.shape.rank:
            weights = _array.expand_dims(weights, -1)
        weights = _math.multiply(weights, _array.ones_like(inputs))
        count = _math.maximum(reduce_sum(weights, self._reduction_axes, keepdims=True), 1e-12)
        mean = _math.divide(reduce_sum(_math.multiply(inputs, weights), self._reduction_axes,
                                       keepdims=True), count)
        variance = _math.divide(reduce_sum(
            _math.multiply(_math.squared_difference(inputs, mean), weights),
            self._reduction_axes, keepdims=True), count)
        return reduce_sum(mean, self._reduction_axes), reduce_sum(variance,
                                                                   self._reduction_axes)

    def call(self, inputs, training=None, mask=None):
        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            for moving, value in ((self.moving_mean, mean), (self.moving_variance, variance)):
                moving.assign(_math.add(_math.multiply(moving, self.momentum),
                                        _math.multiply(value, 1.0 - self.momentum)))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        return batch_normalization(inputs, self._broadcast(mean), self._broadcast(variance),
                                   self._broadcast(self.beta), self._broadcast(self.gamma),
                                   self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer":
                initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": serialize_object(self.beta_regularizer),
            "gamma_regularizer": serialize_object(self.gamma_regularizer),
            "beta_constraint": serialize_object(self.beta_constraint),
            "gamma_constraint": serialize_object(self.gamma_constraint),
            "synchronized": self.synchronized})
        return config


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` to zero mean and unit variance, then scales by
    ``gamma`` and shifts by ``beta`` (``keras.layers.LayerNormalization()``).

    One fused op (``nf.nn.layer_normalization``). ``rms_scaling=True`` divides by the root
    mean square instead (no centring, no ``beta``).

    >>> keras.layers.LayerNormalization()(np.array([[1.0, 3.0]])).numpy().round(3)
    array([[-0.999,  0.999]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument "
                            f"'axis', but received: {axis!r}")
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.gamma = self.beta = None

    def build(self, input_shape):
        rank = len(input_shape)
        self._axes = _normalize_axes(self.axis, rank, self)
        shape = tuple(input_shape[a] for a in self._axes)
        if any(d is None for d in shape):
            raise ValueError(f"The normalized axes {self.axis} of the input to "
                             f"LayerNormalization layer '{self.name}' must have defined "
                             f"dimensions; received input shape {tuple(input_shape)}.")
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight("beta", shape, self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.input_spec = InputSpec(ndim=rank,
                                    axes={a: input_shape[a] for a in self._axes})
        self.built = True

    def call(self, inputs):
        if not self.rms_scaling:
            return layer_normalization(inputs, axis=list(self._axes), gamma=self.gamma,
                                       beta=self.beta, epsilon=self.epsilon)
        mean_square = reduce_mean(_math.square(inputs), list(self._axes), keepdims=True)
        outputs = _math.multiply(inputs, _math.rsqrt(_math.add(mean_square, self.epsilon)))
        gamma = self.gamma
        if self._axes != tuple(range(inputs.shape.rank - len(self._axes),
                                     inputs.shape.rank)):
            gamma = _array.reshape(gamma, [d if i in self._axes else 1 for i, d in
                                           enumerate(_static_or_one(inputs.shape))])
        return _math.multiply(outputs, gamma)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": serialize_object(self.beta_regularizer),
            "gamma_regularizer": serialize_object(self.gamma_regularizer),
            "beta_constraint": serialize_object(self.beta_constraint),
            "gamma_constraint": serialize_object(self.gamma_constraint)})
        return config


def _static_or_one(shape):
    return [1 if d is None else d for d in shape]


__all__ = ["BatchNormalization", "LayerNormalization"]
