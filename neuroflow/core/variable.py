"""Variables: mutable tensors that hold a model's state across steps and session runs."""
from __future__ import annotations

import itertools

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core import errors
from neuroflow.core.context import ctx, init_scope
from neuroflow.core.op import OpDef, Spec, to_symbolic
from neuroflow.core.tensor import EagerTensor, SymbolicTensor, TensorShape, shape_str

_uids = itertools.count()


def _read_kernel(variable):
    value = variable._value
    if value is None:
        raise errors.FailedPreconditionError(
            f"Attempting to use uninitialized value {variable.name}: run its initializer "
            "(sess.run(nf.compat.v1.global_variables_initializer())) first.")
    return value


def _check_assign(variable, value):
    if variable._value is not None and value.shape != variable._value.shape:
        raise errors.InvalidArgumentError(
            f"Cannot assign a value of shape {shape_str(value.shape)} to variable "
            f"'{variable.name}' of shape {shape_str(variable._value.shape)}")


def _assign_kernel(value, variable):
    _check_assign(variable, value)
    if variable._value is None:
        variable._value = np.array(value, dtype=variable.dtype.np_dtype)
    else:
        np.copyto(variable._value, value)
    return variable._value


def _assign_add_kernel(value, variable):
    _check_assign(variable, value)
    return np.add(_read_kernel(variable), value, out=variable._value)


def _assign_sub_kernel(value, variable):
    _check_assign(variable, value)
    return np.subtract(_read_kernel(variable), value, out=variable._value)


def _var_spec(value, variable):
    if not value.shape.is_compatible_with(variable.shape):
        raise ValueError(f"Cannot assign a value of shape {shape_str(value.shape)} to variable "
                         f"'{variable.name}' of shape {shape_str(variable.shape)}")
    return Spec(variable.shape, variable.dtype)


def _check_dtype(variable, value):
    """A tensor of another dtype is an error, as in TF; Python and NumPy values convert."""
    dtype = getattr(value, "dtype", None) if isinstance(value, (EagerTensor, SymbolicTensor)) \
        or hasattr(value, "_nf_variable") else None
    if dtype is not None and dtype != variable.dtype:
        raise errors.InvalidArgumentError(
            f"Cannot assign a tensor of dtype {dtype.name} to variable '{variable.name}' of "
            f"dtype {variable.dtype.name} (nf.cast the value first)")


READ_VARIABLE = OpDef("ReadVariableOp", _read_kernel, differentiable=True, view=True)
ASSIGN = OpDef("AssignVariableOp", _assign_kernel, _var_spec, stateful=True,
               differentiable=False, view=True)
ASSIGN_ADD = OpDef("AssignAddVariableOp", _assign_add_kernel, _var_spec, stateful=True,
                   differentiable=False, view=True)
ASSIGN_SUB = OpDef("AssignSubVariableOp", _assign_sub_kernel, _var_spec, stateful=True,
                   differentiable=False, view=True)


def _check_initial_shape(name, value_shape, shape):
    if shape is not None and not TensorShape(shape).is_compatible_with(value_shape):
        raise ValueError(f"Variable '{name}': the initial value's shape "
                         f"{shape_str(value_shape)} is not compatible with the explicitly "
                         f"supplied `shape` argument {shape_str(shape)}")


class Variable:
    """A mutable tensor (``nf.Variable``): weights, biases, optimizer slots, counters.

    >>> v = nf.Variable([1.0, 2.0], name="w")
    >>> v.assign_add([1.0, 1.0]).numpy()
    array([2., 3.], dtype=float32)
    """

    _nf_variable = True
    __array_priority__ = 100

    def __init__(self, initial_value=None, trainable=True, name=None, dtype=None, shape=None,
                 validate_shape=True, constraint=None, **unused):
        if initial_value is None:
            raise ValueError("nf.Variable needs an initial_value")
        if callable(initial_value):
            with init_scope():
                initial_value = initial_value()
        self._uid = next(_uids)
        self.trainable = True if trainable is None else bool(trainable)
        self.constraint = constraint
        self._graph = None
        self.initializer = None
        graph = ctx.graph
        in_graph = graph is not None and not graph.is_function_graph
        base = (name or "Variable").removesuffix(":0")  # rstrip(":0") would eat "w0" too
        if isinstance(initial_value, SymbolicTensor) and not in_graph:
            raise ValueError(
                f"Variable '{base}' got a symbolic initial value while tracing an nf.function; "
                "create variables from concrete values (or a callable) on the first call.")
        if in_graph:
            self._graph = graph
            self._name = graph.unique_name(base)
            init = to_symbolic(graph, initial_value, dtype)
            if dtype is not None and init.dtype != dtypes.as_dtype(dtype):
                from neuroflow.ops.math import cast
                init = cast(init, dtype)
            self._dtype = init.dtype
            _check_initial_shape(base, init.shape, shape)
            self._shape = TensorShape(shape) if shape is not None else init.shape
            self._value = None
            self.initial_value = init
            self.initializer = graph.create_op(
                ASSIGN, (init,), {"variable": self}, self._name + "/Assign",
                [(self._shape, self._dtype)])
            graph.add_to_collection("variables", self)
            if self.trainable:
                graph.add_to_collection("trainable_variables", self)
        else:
            if isinstance(initial_value, EagerTensor):
                initial_value = initial_value._value
            elif isinstance(initial_value, Variable):
                initial_value = initial_value._value
            value = np.array(dtypes.to_array(initial_value, dtype), copy=True, order="C")
            _check_initial_shape(base, value.shape, shape)
            self._value = value
            self._dtype = dtypes.from_numpy(value.dtype)
            self._shape = TensorShape(value.shape)
            self._name = base
            self.initial_value = None

    # -- identity ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name + ":0"

    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def graph(self):
        return self._graph

    def get_shape(self) -> TensorShape:
        return self._shape

    __hash__ = object.__hash__

    # -- reading ----------------------------------------------------------------------
    def _eager_value(self):
        value = self._value
        if value is None:
            return _read_kernel(self)
        return value

    def _graph_value(self, graph) -> SymbolicTensor:
        return graph.read_variable(self)

    def value(self):
        """The current value as a tensor (a snapshot in eager mode; a read node in graphs)."""
        if ctx.graph is not None:
            return self._graph_value(ctx.graph)
        return EagerTensor(np.array(self._eager_value()))

    def read_value(self):
        from neuroflow.core.op import identity_kernel
        if ctx.graph is not None:
            return identity_kernel(self._graph_value(ctx.graph))
        return self.value()

    def numpy(self) -> np.ndarray:
        return np.array(self._eager_value())

    def __array__(self, dtype=None, copy=None):
        return np.array(self._eager_value(), dtype=dtype)

    def __float__(self):
        return float(self._eager_value())

    def __int__(self):
        return int(self._eager_value())

    def eval(self, session=None):
        from neuroflow.core.session import get_default_session
        return (session or get_default_session()).run(self)

    # -- writing ----------------------------------------------------------------------
    def _update(self, op_def, value, name, read_value):
        _check_dtype(self, value)
        if ctx.graph is not None:
            out = op_def(value, variable=self, name=name)
            return out
        value = dtypes.to_array(value.numpy() if hasattr(value, "numpy") else value,
                                self._dtype)
        op_def.kernel(value, variable=self)
        return self if read_value else None

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Sets the value; in a graph, returns the assign op's output."""
        return self._update(ASSIGN, value, name, read_value)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        return self._update(ASSIGN_ADD, delta, name, read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        return self._update(ASSIGN_SUB, delta, name, read_value)

    def load(self, value, session=None):
        """Sets the value without adding an op to any graph (``tf.Variable.load``)."""
        _assign_kernel(dtypes.to_array(value, self._dtype), self)

    def __repr__(self):
        if self._value is None:
            return (f"<nf.Variable '{self.name}' shape={shape_str(self._shape)} "
                    f"dtype={self._dtype.name} (uninitialized)>")
        body = np.array2string(self._value, separator=", ", threshold=50)
        return (f"<nf.Variable '{self.name}' shape={shape_str(self._shape)} "
                f"dtype={self._dtype.name}, numpy={body}>")
