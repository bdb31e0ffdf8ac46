"""Merging layers: combine a list of tensors into one (``Add``, ``Subtract``, ``Multiply``,
``Average``, ``Maximum``, ``Minimum``, ``Concatenate``, ``Dot``), and their functional forms
(``keras.layers.add([a, b])``, ``concatenate``, ...).

Shapes are checked on every call, from the static shapes (unknown dims, ``None``, pass), so a
mismatch is reported with the layer's name and every input shape, eagerly or symbolically.
"""
from __future__ import annotations

import string

from neuroflow.core.tensor import TensorShape
from neuroflow.keras.layers.layer import Layer
from neuroflow.ops import math as ops_math
from neuroflow.ops.array import concat, expand_dims
from neuroflow.ops.einsum import einsum
from neuroflow.ops.normalization import l2_normalize


def _shape_tuple(x):
    shape = TensorShape(x.shape) if hasattr(x, "shape") else TensorShape(None)
    return None if shape.rank is None else tuple(shape)


def _shapes_text(shapes):
    return "[" + ", ".join(str(s) for s in shapes) + "]"


class _Merge(Layer):
    """Base of the merging layers: checks it got a list of tensors, then folds them."""

    _min_inputs = 1
    _max_inputs = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_list(self, inputs, shapes=None):
        kind = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer ({kind} '{self.name}') should be called on a list "
                             f"of inputs. Received: input of shape {_shape_tuple(inputs)} (not "
                             "a list of tensors)")
        shapes = [_shape_tuple(x) for x in inputs] if shapes is None else shapes
        if len(inputs) < self._min_inputs:
            raise ValueError(f"A `{kind}` layer ('{self.name}') should be called on a list of "
                             f"at least {self._min_inputs} input(s). Got {len(inputs)} inputs. "
                             f"Full input_shape received: {_shapes_text(shapes)}")
        if self._max_inputs is not None and len(inputs) > self._max_inputs:
            raise ValueError(f"A `{kind}` layer ('{self.name}') should be called on exactly "
                             f"{self._max_inputs} inputs. Received: {len(inputs)} inputs with "
                             f"shapes {_shapes_text(shapes)}")
        return shapes

    def _output_shape_of(self, shapes):
        """NumPy broadcasting of the non-batch dims, as Keras's merge layers allow."""
        out = shapes[0]
        for other in shapes[1:]:
            out = _broadcast(self, out, other, shapes)
        return out

    def call(self, inputs):
        shapes = self._check_list(inputs)
        self._output_shape_of(shapes)
        return self._merge_function(list(inputs))

    def _merge_function(self, inputs):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not all(
                s is None or isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"A merge layer ({type(self).__name__} '{self.name}') should be "
                             f"called on a list of inputs. Received: input_shape="
                             f"{input_shape} (not a list of shapes)")
        shapes = [None if s is None else tuple(s) for s in input_shape]
        return self._output_shape_of(self._check_list(shapes, shapes))

    def compute_mask(self, inputs, mask=None):
        return None


def _broadcast(layer, a, b, all_shapes):
    if a is None or b is None:
        return None
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x is None or y is None:
            # an unknown dim broadcast with 1 stays unknown; with n > 1 it must be n
            known = [d for d in (x, y) if d is not None and d != 1]
            out.append(known[0] if known else None)
        elif x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ValueError(f"Inputs of layer '{layer.name}' ({type(layer).__name__}) have "
                             f"incompatible shapes. Received shapes {a} and {b} (all inputs: "
                             f"{_shapes_text(all_shapes)})")
    return tuple(reversed(out))


class Add(_Merge):
    """Sums its inputs elementwise: ``keras.layers.Add()([a, b])``."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops_math.add(out, x)
        return out


class Subtract(_Merge):
    """``a - b`` of exactly two inputs: ``keras.layers.Subtract()([a, b])``."""

    _min_inputs = _max_inputs = 2

    def _check_list(self, inputs, shapes=None):
        if isinstance(inputs, (list, tuple)) and len(inputs) != 2:
            shapes = [_shape_tuple(x) for x in inputs] if shapes is None else shapes
            raise ValueError(f"A `Subtract` layer ('{self.name}') should be called on exactly "
                             f"2 inputs. Received: {len(inputs)} inputs with shapes "
                             f"{_shapes_text(shapes)}")
        return super()._check_list(inputs, shapes)

    def _merge_function(self, inputs):
        return ops_math.subtract(inputs[0], inputs[1])


class Multiply(_Merge):
    """Multiplies its inputs elementwise: ``keras.layers.Multiply()([a, b])``."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops_math.multiply(out, x)
        return out


class Average(_Merge):
    """The elementwise mean of its inputs: ``keras.layers.Average()([a, b])``."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops_math.add(out, x)
        return ops_math.divide(out, float(len(inputs))) if len(inputs) > 1 else out


class Maximum(_Merge):
    """The elementwise maximum of its inputs: ``keras.layers.Maximum()([a, b])``."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops_math.maximum(out, x)
        return out


class Minimum(_Merge):
    """The elementwise minimum of its inputs: ``keras.layers.Minimum()([a, b])``."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops_math.minimum(out, x)
        return out


class Concatenate(_Merge):
    """Joins its inputs along ``axis``; the other dims must match.

    >>> keras.layers.Concatenate()([nf.ones([2, 3]), nf.zeros([2, 1])]).shape
    TensorShape([2, 4])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _output_shape_of(self, shapes):
        known = [s for s in shapes if s is not None]
        if not known:
            return None
        rank = len(known[0])
        mismatch = any(len(s) != rank for s in known)
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not mismatch and not 0 <= axis < rank:
            raise ValueError(f"Concatenate layer '{self.name}': axis={self.axis} is out of "
                             f"range for inputs of rank {rank}; received input shapes "
                             f"{_shapes_text(shapes)}")
        out = list(known[0]) if not mismatch else []
        for s in known[1:]:
            if mismatch:
                break
            for i, (x, y) in enumerate(zip(out, s)):
                if i == axis:
                    out[i] = None if x is None or y is None else x + y
                elif x is None:
                    out[i] = y
                elif y is not None and x != y:
                    mismatch = True
        if mismatch:
            raise ValueError(f"A `Concatenate` layer ('{self.name}') requires inputs with "
                             f"matching shapes except for the concatenation axis "
                             f"(axis={self.axis}). Received: input_shape="
                             f"{_shapes_text(shapes)}")
        if len(known) < len(shapes):
            out[axis] = None
        return tuple(out)

    def _merge_function(self, inputs):
        return inputs[0] if len(inputs) == 1 else concat(inputs, axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """Dot products of two batches of tensors along ``axes`` (per sample, Keras's
    ``batch_dot``); ``normalize=True`` gives cosine similarities.

    >>> keras.layers.Dot(axes=1)([nf.ones([2, 3]), nf.ones([2, 3])]).numpy()
    array([[3.],
           [3.]], dtype=float32)
    """

    _min_inputs = _max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, int):
            axes = (axes, axes)
        axes = tuple(int(a) for a in axes)
        if len(axes) != 2:
            raise ValueError(f"Invalid format for argument `axes`: expected an int or a "
                             f"tuple of 2 ints. Received: axes={axes}")
        self.axes = axes
        self.normalize = bool(normalize)

    def _resolved_axes(self, shapes):
        axes = []
        for axis, shape in zip(self.axes, shapes):
            rank = len(shape)
            resolved = axis + rank if axis < 0 else axis
            if not 1 <= resolved < rank:
                raise ValueError(f"Dot layer '{self.name}': axes={self.axes} must name a "
                                 f"non-batch axis of each input; received input shapes "
                                 f"{_shapes_text(shapes)}")
            axes.append(resolved)
        return axes

    def _output_shape_of(self, shapes):
        if any(s is None for s in shapes):
            return None
        a, b = shapes
        ax, bx = self._resolved_axes(shapes)
        if a[ax] is not None and b[bx] is not None and a[ax] != b[bx]:
            raise ValueError(f"Dot layer '{self.name}': incompatible input shapes: axis "
                             f"values {a[ax]} (at axis {ax}) != {b[bx]} (at axis {bx}). Full "
                             f"input shapes: {a}, {b}")
        batch = a[0] if a[0] is not None else b[0]
        rest = [d for i, d in enumerate(a) if i not in (0, ax)] + \
            [d for i, d in enumerate(b) if i not in (0, bx)]
        return (batch,) + tuple(rest or [1])

    def _merge_function(self, inputs):
        a, b = inputs
        ax, bx = self._resolved_axes([_shape_tuple(a), _shape_tuple(b)])
        if self.normalize:
            a, b = l2_normalize(a, axis=ax), l2_normalize(b, axis=bx)
        letters = iter(string.ascii_lowercase[2:])
        a_sub = ["a" if i == 0 else "b" if i == ax else next(letters)
                 for i in range(len(a.shape))]
        b_sub = ["a" if i == 0 else "b" if i == bx else next(letters)
                 for i in range(len(b.shape))]
        out_sub = ["a"] + [s for s in a_sub + b_sub if s not in ("a", "b")]
        out = einsum(f"{''.join(a_sub)},{''.join(b_sub)}->{''.join(out_sub)}", a, b)
        return expand_dims(out, -1) if len(out_sub) == 1 else out

    def get_config(self):
        config = super().get_config()
        config.update({"axes": list(self.axes), "normalize": self.normalize})
        return config


def add(inputs, **kwargs):
    """``keras.layers.add([a, b])``: the functional form of ``Add``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``keras.layers.subtract([a, b])``: the functional form of ``Subtract``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``keras.layers.multiply([a, b])``: the functional form of ``Multiply``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``keras.layers.average([a, b])``: the functional form of ``Average``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``keras.layers.maximum([a, b])``: the functional form of ``Maximum``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``keras.layers.minimum([a, b])``: the functional form of ``Minimum``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``keras.layers.concatenate([a, b], axis=-1)``: the functional form of ``Concatenate``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """``keras.layers.dot([a, b], axes=1)``: the functional form of ``Dot``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)


__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "Dot", "add", "subtract", "multiply", "average", "maximum", "minimum",
           "concatenate", "dot"]
