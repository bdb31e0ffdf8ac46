"""The Keras ``Layer`` contract: lazy ``build``, ``call``, weights found by walking attributes.

Subclasses create weights in ``build(input_shape)`` with ``add_weight`` (or by assigning
``nf.Variable``s or other layers to attributes: nothing needs registering) and compute in
``call(inputs, training=None)``. Calling a layer on a functional tensor (``keras.Input``)
records the call so a functional ``Model`` can replay it.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.context import ctx, layer_scope
from neuroflow.core.tensor import SymbolicTensor, Tensor, TensorShape, shape_str
from neuroflow.core.variable import Variable
from neuroflow.keras import naming
from neuroflow.util import nest


class InputSpec:
    """What a layer accepts: rank (``ndim``, ``min_ndim``, ``max_ndim``) and axis sizes.

    >>> self.input_spec = InputSpec(min_ndim=2, axes={-1: 784})
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})
        self.name = name


def check_input_spec(layer, spec, shape, index=0):
    """Raises ValueError in Keras's words when ``shape`` does not satisfy ``spec``."""
    if spec is None or shape.rank is None:
        return
    where = f'Input {index} of layer "{layer.name}" is incompatible with the layer: '
    rank = len(shape)
    if spec.ndim is not None and rank != spec.ndim:
        raise ValueError(f"{where}expected ndim={spec.ndim}, found ndim={rank}. "
                         f"Full shape received: {shape_str(shape)}")
    if spec.min_ndim is not None and rank < spec.min_ndim:
        raise ValueError(f"{where}expected min_ndim={spec.min_ndim}, found ndim={rank}. "
                         f"Full shape received: {shape_str(shape)}")
    if spec.max_ndim is not None and rank > spec.max_ndim:
        raise ValueError(f"{where}expected max_ndim={spec.max_ndim}, found ndim={rank}. "
                         f"Full shape received: {shape_str(shape)}")
    for axis, value in spec.axes.items():
        if value is None:
            continue
        if not -rank <= axis < rank:
            continue
        got = shape[axis]
        if got is not None and got != value:
            raise ValueError(f"{where}expected axis {axis} of input shape to have value "
                             f"{value}, but received input with shape {shape_str(shape)}")
    if spec.shape is not None:
        for want, got in zip(spec.shape, shape):
            if want is not None and got is not None and want != got:
                raise ValueError(f"{where}expected shape={shape_str(spec.shape)}, found "
                                 f"shape={shape_str(shape)}")


def _masks_of(inputs):
    """The Keras masks the input tensors carry (nested like them), or None if none does."""
    if isinstance(inputs, Tensor):
        return getattr(inputs, "_keras_mask", None)
    if not isinstance(inputs, (list, tuple)):
        return None
    masks = [getattr(x, "_keras_mask", None) for x in inputs]
    return masks if any(m is not None for m in masks) else None


def _shape_of(x):
    if isinstance(x, (Tensor, Variable)):
        return TensorShape(x.shape)
    return TensorShape(np.shape(x))


def is_functional_input(x) -> bool:
    return any(isinstance(t, SymbolicTensor) and t._keras_history is not None
               for t in nest.flatten(x))


class Layer:
    """Base class of all layers (``keras.layers.Layer``).

    >>> class Scale(keras.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
    ...     def call(self, x):
    ...         return x * self.w
    """

    def __init__(self, trainable=True, name=None, dtype=None, activity_regularizer=None,
                 autocast=True, **kwargs):
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        kwargs.pop("input_length", None)
        kwargs.pop("batch_size", None)
        kwargs.pop("weights", None)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to "
                            f"{type(self).__name__}: {kwargs}")
        if input_shape is None and input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (None,) + tuple(input_shape)
        else:
            self._batch_input_shape = None
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype = dtypes.as_dtype(dtype or "float32").name
        self.built = False
        self.input_spec = None
        self.supports_masking = False
        self._created_weights = []
        self._activity_losses = []
        self._added_losses = []
        self.activity_regularizer = _get_regularizer(activity_regularizer)
        self._output_shape = None
        parameters = inspect.signature(self.call).parameters
        self._call_has_training = "training" in parameters
        self._call_has_mask = "mask" in parameters

    # -- building ---------------------------------------------------------------------
    def build(self, input_shape):
        """Creates the weights, once the input shape is known (override in subclasses)."""
        self.built = True

    def add_weight(self, name=None, shape=None, initializer="glorot_uniform", dtype=None,
                   trainable=True, regularizer=None, constraint=None, **kwargs):
        """Creates a weight Variable of this layer (found again by ``weights``)."""
        from neuroflow.keras import initializers
        from neuroflow.keras.saving import budget
        shape = () if shape is None else tuple(int(d) for d in shape)
        budget.charge(shape, f"{self.name}/{name or 'variable'}")  # a file's config: capped
        dtype = dtypes.as_dtype(dtype or self.dtype)
        init = initializers.get(initializer)
        variable = Variable(lambda: init(shape, dtype=dtype), trainable=trainable,
                            name=f"{self.name}/{name or 'variable'}", dtype=dtype)
        variable.regularizer = _get_regularizer(regularizer)
        variable.constraint = _get_constraint(constraint)
        variable.path = f"{self.name}/{name or 'variable'}"
        self._created_weights.append(variable)
        return variable

    def _maybe_build(self, inputs):
        if self.built:
            return
        shapes = nest.map_structure(_shape_of, inputs)
        if isinstance(inputs, (list, tuple)):
            shapes = [tuple(s) for s in shapes]
        else:
            shapes = tuple(shapes)
        self.build(shapes)
        self.built = True

    # -- calling ----------------------------------------------------------------------
    def call(self, inputs, *args, **kwargs):
        return inputs

    def __call__(self, *args, **kwargs):
        if not args and "inputs" in kwargs:
            args = (kwargs.pop("inputs"),)
        if is_functional_input(args) or is_functional_input(kwargs):
            from neuroflow.keras.models import functional
            return functional.symbolic_call(self, args, kwargs)
        return self._call_impl(args, kwargs)

    def _call_impl(self, args, kwargs):
        inputs = _convert_inputs(args[0] if args else None, self)
        args = (inputs,) + tuple(args[1:])
        previous_mask = _masks_of(args[0] if args else None)
        if kwargs.get("mask") is not None:
            previous_mask = kwargs["mask"]
        elif previous_mask is not None and self._call_has_mask:
            kwargs = dict(kwargs, mask=previous_mask)  # the caller's dict stays as it was
        if self.input_spec is not None:
            for i, (spec, x) in enumerate(zip(nest.flatten(self.input_spec),
                                              nest.flatten(inputs))):
                check_input_spec(self, spec, _shape_of(x), i)
        if "training" in kwargs and not self._call_has_training:
            kwargs.pop("training")
        with layer_scope(self.name):
            self._maybe_build(inputs)
            outputs = self.call(*args, **kwargs)
            if self.activity_regularizer is not None:
                self._activity_losses = [_activity_loss(self.activity_regularizer, o)
                                         for o in nest.flatten(outputs)]
            self._attach_masks(inputs, outputs, previous_mask)
        return outputs

    def _attach_masks(self, inputs, outputs, previous_mask):
        """Keras's mask propagation: the outputs carry ``compute_mask``'s mask (as
        ``_keras_mask``) for the next layer's ``call(..., mask=)``. A layer that does not
        support masking drops an incoming mask, with a warning, as Keras does."""
        if not self.supports_masking and type(self).compute_mask is Layer.compute_mask:
            if previous_mask is not None:
                warnings.warn(f"Layer '{self.name}' (of type {type(self).__name__}) was passed "
                              "an input with a mask attached to it. However, this layer does "
                              "not support masking and will therefore destroy the mask "
                              "information. Downstream layers will not see the mask.",
                              stacklevel=4)
            return
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        flat = nest.flatten(outputs)
        masks = nest.flatten(masks) if nest.is_nested(masks) else [masks] * len(flat)
        for tensor, mask in zip(flat, masks):
            if mask is not None and getattr(tensor, "_keras_mask", None) is None:
                try:
                    tensor._keras_mask = mask
                except AttributeError:  # not a tensor (a Variable returned as it is)
                    pass

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs, given the inputs' (``mask``): passed on unchanged by a
        layer that supports masking, else none. Override to make or change a mask."""
        return mask if self.supports_masking else None

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape``, by tracing ``call`` symbolically."""
        from neuroflow.keras.models import functional
        return functional.infer_output_shape(self, input_shape)

    # -- weights ----------------------------------------------------------------------
    def _sublayers_and_variables(self):
        """Direct sublayers and variables, in attribute order (walks lists/tuples/dicts)."""
        layers, variables, seen = [], [], set()

        def visit(value, depth=0):
            if id(value) in seen or depth > 4:
                return
            if isinstance(value, Layer):
                seen.add(id(value))
                layers.append(value)
            elif isinstance(value, Variable):
                seen.add(id(value))
                variables.append(value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    visit(item, depth + 1)
            elif isinstance(value, dict):
                for item in value.values():
                    visit(item, depth + 1)
        for v in self._created_weights:
            visit(v)
        for key, value in vars(self).items():
            if key not in _NOT_WALKED:
                visit(value)
        return layers, variables

    @property
    def layers_tree(self):
        return self._sublayers_and_variables()[0]

    def _collect(self, seen=None):
        """(trainable, non_trainable) variables of this layer and its sublayers."""
        seen = set() if seen is None else seen
        trainable, frozen = [], []
        layers, variables = self._sublayers_and_variables()
        for v in variables:
            if id(v) in seen:
                continue
            seen.add(id(v))
            (trainable if (v.trainable and self._trainable) else frozen).append(v)
        for layer in layers:
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            t, f = layer._collect(seen)
            if self._trainable:
                trainable += t
                frozen += f
            else:
                frozen += t + f
        return trainable, frozen

    @property
    def trainable_weights(self):
        return self._collect()[0]

    @property
    def non_trainable_weights(self):
        return self._collect()[1]

    @property
    def weights(self):
        trainable, frozen = self._collect()
        return trainable + frozen

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool):
        self._trainable = bool(value)
        for layer in self._sublayers_and_variables()[0]:
            layer.trainable = value

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but "
                             "the layer isn't built. Call it on an input (or `build()`) first.")
        return int(sum(np.prod(v.shape) for v in self.weights))

    def get_weights(self):
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        own = self.weights
        if len(weights) != len(own):
            hint = "" if self.built else (" The layer is not built yet: call it on an input "
                                          "(or `build()`) first.")
            raise ValueError(f"Layer '{self.name}' expects {len(own)} weights, but the given "
                             f"list has {len(weights)}.{hint}")
        for v, w in zip(own, weights):
            w = np.asarray(w)
            if tuple(v.shape) != w.shape:
                raise ValueError(f"Layer '{self.name}' weight '{v.name}' has shape "
                                 f"{shape_str(v.shape)}, but the given value has shape "
                                 f"{shape_str(w.shape)}.")
            v.assign(w)

    # -- losses -----------------------------------------------------------------------
    def add_loss(self, loss):
        self._added_losses.append(loss)

    @property
    def losses(self):
        """Regularization losses of the weights, plus activity and added losses."""
        out = []
        for v in self.trainable_weights:
            reg = getattr(v, "regularizer", None)
            if reg is not None:
                out.append(reg(v))
        out += self._activity_losses + self._added_losses
        for layer in self._sublayers_and_variables()[0]:
            out += layer._activity_losses + layer._added_losses
        return out

    # -- config -----------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def output_shape(self):
        if self._output_shape is None:
            raise AttributeError(f"The layer '{self.name}' has never been called and thus "
                                 "has no defined output shape.")
        return self._output_shape

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


_NOT_WALKED = {"_created_weights", "_activity_losses", "_added_losses", "input_spec",
               "_inbound_nodes", "activity_regularizer", "_output_shape", "_nodes",
               "_functional_inputs", "_functional_outputs", "compiled_loss",
               "compiled_metrics", "optimizer", "history", "_train_function",
               "_test_function", "_predict_function", "stop_training", "loss",
               "_metrics_list", "_loss_tracker"}


def _convert_inputs(inputs, layer):
    """NumPy arrays and Python values become tensors of the layer's dtype (floats only)."""
    from neuroflow.core.op import convert_to_tensor
    from neuroflow.ops.math import cast

    def convert(x):
        if isinstance(x, (Tensor, Variable)) or x is None:
            return x
        if isinstance(x, (np.ndarray, np.generic, list, float, int)):
            array = np.asarray(x)
            if array.dtype.kind == "f" and array.dtype != dtypes.as_dtype(layer.dtype).np_dtype:
                array = array.astype(dtypes.as_dtype(layer.dtype).np_dtype)
            return convert_to_tensor(array)
        return x
    converted = nest.map_structure(convert, inputs) if nest.is_nested(inputs) else \
        convert(inputs)
    if isinstance(converted, Tensor) and converted.dtype.is_floating and \
            converted.dtype.name != layer.dtype and ctx is not None:
        return cast(converted, layer.dtype)
    return converted


def _activity_loss(regularizer, output):
    """The regularizer's value on ``output``, divided by the batch size as Keras does."""
    from neuroflow.ops.array import shape
    from neuroflow.ops.math import cast, divide
    loss = regularizer(output)
    if not isinstance(output, (Tensor, Variable)) or not output.shape.rank:
        return loss
    batch = shape(output)[0]
    return divide(loss, cast(batch, output.dtype))


def _get_regularizer(identifier):
    if identifier is None:
        return None
    from neuroflow.keras import regularizers
    return regularizers.get(identifier)


def _get_constraint(identifier):
    if identifier is None:
        return None
    from neuroflow.keras import constraints
    return constraints.get(identifier)
