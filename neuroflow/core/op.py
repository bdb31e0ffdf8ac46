"""The op registry and dispatch.

A primitive is declared once, with its forward kernel on raw arrays, its shape rule and its
gradient (written with neuroflow ops, so it serves eager tapes, graph ``gradients`` and
higher-order gradients alike)::

    @primitive("Exp", shape=same_shape)
    def _exp(x):
        return np.exp(x)

    @_exp.defgrad
    def _exp_grad(op, dy):
        return [dy * op.outputs[0]]

Calling ``_exp(x)`` runs the kernel at once on concrete inputs (recording the call on any
active ``GradientTape``), or adds a node to the current graph on symbolic ones.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core import errors
from neuroflow.core.context import ctx, where
from neuroflow.core.debugging import STATE as _numerics
from neuroflow.core.debugging import check as _check_numerics
from neuroflow.core.tensor import EagerTensor, SymbolicTensor, Tensor, TensorShape, shape_str

REGISTRY: dict[str, OpDef] = {}
_ARRAY_TYPES = (np.ndarray, np.generic)


class OpDef:
    """One primitive op: name, kernel, shape rule, gradient rule and flags.

    Flags: ``same_dtype`` (True: all inputs share one dtype, Python scalars take it; or a
    tuple of the input positions that must), ``stateful`` (never folded or merged, always run
    in functions), ``differentiable`` (False: outputs carry no gradient, like argmax),
    ``view`` (the output may share memory with an input or a variable), ``shape_inputs``
    (positions of inputs whose shape, not value, the output depends on; True for all: the
    compiler folds the op when the other inputs are constants and those shapes are known).
    """

    __slots__ = ("name", "kernel", "shape_fn", "grad_fn", "num_outputs", "stateful",
                 "same_dtype", "differentiable", "view", "shape_inputs")

    def __init__(self, name, kernel, shape_fn=None, num_outputs=1, stateful=False,
                 same_dtype=True, differentiable=True, view=False, shape_inputs=()):
        if name in REGISTRY:
            raise ValueError(f"op {name!r} is registered twice")
        self.name = name
        self.kernel = kernel
        self.shape_fn = shape_fn
        self.grad_fn = None
        self.num_outputs = num_outputs
        self.stateful = stateful
        self.same_dtype = same_dtype
        self.differentiable = differentiable
        self.view = view
        self.shape_inputs = shape_inputs
        REGISTRY[name] = self

    def defgrad(self, fn):
        """Registers ``fn(op, *output_grads) -> input grads`` as this op's gradient."""
        self.grad_fn = fn
        return fn

    def __call__(self, *inputs, name=None, **attrs):
        if ctx.graph is not None:
            return _build(self, ctx.graph, inputs, attrs, name)
        values = []
        pending = aliased = False
        for x in inputs:
            if type(x) is EagerTensor:
                values.append(x._value)
            elif isinstance(x, _ARRAY_TYPES):
                values.append(x)
            elif isinstance(x, SymbolicTensor):
                return _build(self, x.graph, inputs, attrs, name)
            elif hasattr(x, "_nf_variable"):
                values.append(x._eager_value())
                aliased = True
            else:
                values.append(x)
                pending = True
        if pending:
            values = _convert_python_values(self, values)
        elif self.same_dtype and len(values) > 1:
            _check_dtypes(self, values)
        try:
            out = self.kernel(*values, **attrs)
        except (ValueError, IndexError) as err:
            raise errors.InvalidArgumentError(
                f"{self.name} op{where()}: {err} (input shapes: "
                f"{', '.join(shape_str(np.shape(v)) for v in values)})") from err
        if _numerics.check_numerics:
            _check_numerics(self.name, self.name, where(),
                            (out,) if self.num_outputs == 1 else out, values)
        if aliased and self.view:  # a view of a variable's buffer would change on assign
            out = np.array(out) if self.num_outputs == 1 else tuple(np.array(o) for o in out)
        if self.num_outputs == 1:
            result = EagerTensor(out)
            outputs = (result,)
        else:
            result = outputs = tuple(EagerTensor(o) for o in out)
        if ctx.tapes and self.differentiable:
            record = EagerRecord(self, _as_tensors(inputs, values), outputs, attrs)
            for tape in ctx.tapes:
                tape._record(record)
        return result

    def __repr__(self):
        return f"<OpDef {self.name}>"


def primitive(name, shape=None, **flags):
    """Decorator: makes a kernel function into a registered primitive ``OpDef``."""
    def wrap(kernel):
        return OpDef(name, kernel, shape, **flags)
    return wrap


class EagerRecord:
    """What a tape keeps of an eager op call: enough to run the op's gradient rule."""

    __slots__ = ("op_def", "inputs", "outputs", "attrs")

    def __init__(self, op_def, inputs, outputs, attrs):
        self.op_def, self.inputs, self.outputs, self.attrs = op_def, inputs, outputs, attrs

    @property
    def type(self):
        return self.op_def.name

    @property
    def name(self):
        return self.op_def.name


def _as_tensors(inputs, values):
    return tuple(x if isinstance(x, Tensor) or hasattr(x, "_nf_variable") else EagerTensor(v)
                 for x, v in zip(inputs, values))


# -- dtypes -------------------------------------------------------------------------------

def _groups(op_def, n):
    same = op_def.same_dtype
    if same is True:
        return range(n)
    return same or ()


def _check_dtypes(op_def, values):
    group = _groups(op_def, len(values))
    first = None
    for i in group:
        dt = values[i].dtype
        if first is None:
            first, first_i = dt, i
        elif dt != first:
            raise errors.InvalidArgumentError(
                f"{op_def.name} op{where()}: input {i} has dtype {dtypes.from_numpy(dt).name} "
                f"but input {first_i} has dtype {dtypes.from_numpy(first).name}; neuroflow "
                "does not promote dtypes (use nf.cast)")


def _ref_dtype(op_def, inputs, get_dtype):
    for i in _groups(op_def, len(inputs)):
        dt = get_dtype(inputs[i])
        if dt is not None:
            return dt
    return None


def _convert_python_values(op_def, values):
    ref = _ref_dtype(op_def, values,
                     lambda v: v.dtype if isinstance(v, _ARRAY_TYPES) else None)
    group = set(_groups(op_def, len(values)))
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, _ARRAY_TYPES):
            v = dtypes.to_array(v, ref if (ref is not None and i in group) else None)
        out.append(v)
    if op_def.same_dtype and len(out) > 1:
        _check_dtypes(op_def, out)
    return out


# -- graph building -----------------------------------------------------------------------

class Spec:
    """A shape and dtype, as shape rules receive and return them."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = TensorShape(shape)
        self.dtype = dtypes.as_dtype(dtype)

    def __iter__(self):
        return iter((self.shape, self.dtype))


def to_symbolic(graph, x, dtype=None) -> SymbolicTensor:
    """Converts an op input to a tensor of ``graph``: constants become Const nodes."""
    if isinstance(x, SymbolicTensor):
        if x.graph is graph:
            return x
        return graph.capture(x) if hasattr(graph, "capture") else _foreign(x, graph)
    if hasattr(x, "_nf_variable"):
        return x._graph_value(graph)
    if type(x) is EagerTensor:
        value = x._value
    else:
        value = dtypes.to_array(x, dtype)
    return constant_node(graph, value)


def _foreign(x, graph):
    raise ValueError(f"Tensor '{x.name}' belongs to another graph than the one being built; "
                     "tensors of two graphs cannot be combined.")


def constant_node(graph, value, name=None) -> SymbolicTensor:
    value = np.asarray(value)
    op = graph.create_op(CONST, (), {"value": value}, name or "Const",
                         [(value.shape, dtypes.from_numpy(value.dtype))])
    return op.outputs[0]


def _build(op_def, graph, inputs, attrs, name):
    ref = None
    if op_def.same_dtype:
        ref = _ref_dtype(op_def, inputs, lambda v: _dtype_of(v))
    group = set(_groups(op_def, len(inputs)))
    tensors = tuple(to_symbolic(graph, x, ref if i in group else None)
                    for i, x in enumerate(inputs))
    if op_def.same_dtype and len(tensors) > 1:
        idx = list(group)
        for i in idx[1:]:
            if tensors[i].dtype != tensors[idx[0]].dtype:
                raise errors.InvalidArgumentError(
                    f"{op_def.name} op{where()}: input {i} ('{tensors[i].name}') has dtype "
                    f"{tensors[i].dtype.name} but input {idx[0]} ('{tensors[idx[0]].name}') "
                    f"has dtype {tensors[idx[0]].dtype.name}; neuroflow does not promote "
                    "dtypes (use nf.cast)")
    specs = infer_specs(op_def, tensors, attrs)
    op = graph.create_op(op_def, tensors, attrs, name, specs)
    outputs = op.outputs
    if ctx.tapes and op_def.differentiable:
        for tape in ctx.tapes:
            tape._record(op)
    return outputs[0] if op_def.num_outputs == 1 else outputs


def _dtype_of(x):
    if isinstance(x, (Tensor, np.ndarray, np.generic)) or hasattr(x, "_nf_variable"):
        return dtypes.as_dtype(x.dtype)
    return None


def infer_specs(op_def, tensors, attrs):
    """Runs the op's shape rule; errors name the op, its scope and the input shapes."""
    try:
        if op_def.shape_fn is not None:
            specs = op_def.shape_fn(*tensors, **attrs)
        else:
            specs = _shape_by_running(op_def, tensors, attrs)
    except (ValueError, IndexError, TypeError) as err:
        shapes = ", ".join(shape_str(t.shape) for t in tensors)
        raise errors.InvalidArgumentError(
            f"{op_def.name} op{where()}: {err} (input shapes: {shapes})") from err
    if op_def.num_outputs == 1 and not isinstance(specs, list):
        specs = [specs]
    return [tuple(s) for s in specs]


def _shape_by_running(op_def, tensors, attrs):
    """Fallback shape rule: run the kernel on zeros when every input shape is known."""
    if all(t.shape.is_fully_defined() for t in tensors) and not op_def.stateful:
        with np.errstate(all="ignore"):
            out = op_def.kernel(*(np.zeros(t.shape, t.dtype.np_dtype) for t in tensors), **attrs)
        outs = [out] if op_def.num_outputs == 1 else list(out)
        return [Spec(np.shape(o), dtypes.from_numpy(np.asarray(o).dtype)) for o in outs]
    dtype = tensors[0].dtype if tensors else dtypes.float32
    return [Spec(None, dtype)] * op_def.num_outputs


# -- core primitives ----------------------------------------------------------------------

CONST = OpDef("Const", lambda value: value, differentiable=False)
PLACEHOLDER = OpDef("Placeholder", None, differentiable=False, stateful=True)


@primitive("Identity", shape=lambda x: Spec(x.shape, x.dtype), view=True)
def identity_kernel(x):
    return x


@identity_kernel.defgrad
def _identity_grad(op, dy):
    return [dy]


def convert_to_tensor(value, dtype=None, name=None, dtype_hint=None):
    """Converts a Python value, array or variable to a Tensor (``nf.convert_to_tensor``).

    >>> nf.convert_to_tensor([1.0, 2.0]).dtype
    nf.float32
    """
    if isinstance(value, Tensor):
        if dtype is not None and dtypes.as_dtype(dtype) != value.dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} "
                             f"for a tensor of dtype {value.dtype.name}")
        return value
    if hasattr(value, "_nf_variable"):
        return value.value() if ctx.graph is None else value._graph_value(ctx.graph)
    if dtype is None and dtype_hint is not None and not isinstance(value, _ARRAY_TYPES):
        try:
            array = dtypes.to_array(value, dtype_hint)
        except (TypeError, ValueError):
            array = dtypes.to_array(value)
    else:
        array = dtypes.to_array(value, dtype)
    if ctx.graph is not None:
        return constant_node(ctx.graph, array, name)
    return EagerTensor(array)


def constant(value, dtype=None, shape=None, name="Const"):
    """Creates a constant tensor (``nf.constant``), broadcast to ``shape`` when given.

    >>> nf.constant([[1, 2], [3, 4]], dtype=nf.float32).shape
    TensorShape([2, 2])
    """
    if isinstance(value, Tensor):
        value = value.numpy()
    elif hasattr(value, "_nf_variable"):
        value = value.numpy()
    array = dtypes.to_array(value, dtype)
    if shape is not None:
        shape = tuple(shape)
        if array.size == int(np.prod(shape)):
            array = array.reshape(shape)
        elif array.size == 1:
            array = np.broadcast_to(array.reshape(()), shape)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape: value has "
                            f"{array.size} elements, shape is {shape_str(shape)} with "
                            f"{int(np.prod(shape))} elements.")
    array = np.array(array)  # own, writable, contiguous
    if ctx.graph is not None:
        return constant_node(ctx.graph, array, name)
    return EagerTensor(array)
