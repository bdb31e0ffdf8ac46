"""TF1 variable handling: collections, initializer ops, group, no_op, control_dependencies.

These build graph nodes; eagerly (TF2 behaviour) they do nothing and return None.
"""
from __future__ import annotations

import contextlib
import re

from neuroflow.core.context import ctx
from neuroflow.core.graph import Graph, Operation, get_default_graph
from neuroflow.core.op import CONST, REGISTRY, OpDef
from neuroflow.core.tensor import SymbolicTensor
from neuroflow.core.variable import READ_VARIABLE
from neuroflow.core.variable import Variable as _Variable
from neuroflow.util import nest


class GraphKeys:
    """Standard collection names (``tf.compat.v1.GraphKeys``)."""

    GLOBAL_VARIABLES = "variables"
    VARIABLES = "variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    SUMMARIES = "summaries"
    GLOBAL_STEP = "global_step"
    TRAIN_OP = "train_op"
    INIT_OP = "init_op"


# -- no-op, group, control dependencies ---------------------------------------------------


def _no_op_kernel():
    return ()


# shared with the optimizers' group (neuroflow/optimizers/kernels.py), whichever comes first
NO_OP = REGISTRY.get("NoOp") or OpDef("NoOp", _no_op_kernel, shape_fn=lambda: [],
                                      num_outputs=0, stateful=True, differentiable=False)


def _graph_for(values):
    for v in values:
        if isinstance(v, (SymbolicTensor, Operation)):
            return v.graph
        if hasattr(v, "_nf_variable") and v.graph is not None:
            return v.graph
    return ctx.graph


def _as_op(value):
    if isinstance(value, Operation):
        return value
    if isinstance(value, SymbolicTensor):
        return value.op
    if hasattr(value, "_nf_variable"):
        return value.initializer if value.initializer is not None else None
    raise TypeError(f"Expected an operation or tensor, got {value!r}")


def _no_op(graph, name, deps):
    return graph.create_op(NO_OP, (), {}, name, [], control_inputs=tuple(deps))


def no_op(name: str | None = None):
    """An operation that does nothing (``tf.no_op``); None when executing eagerly."""
    if ctx.graph is None:
        return None
    return _no_op(ctx.graph, name or "NoOp", ())


def group(*inputs, name: str | None = None):
    """An operation that runs all of ``inputs`` (``tf.group``); None when executing eagerly.

    >>> train = tf.group(update_w, update_b)
    >>> sess.run(train)
    """
    flat = [v for v in nest.flatten(list(inputs)) if v is not None]
    graph = _graph_for(flat)
    if graph is None:
        return None
    deps = [op for op in (_as_op(v) for v in flat) if op is not None]
    return _no_op(graph, name or "group_deps", deps)


@contextlib.contextmanager
def control_dependencies(control_inputs):
    """Ops created inside run only after ``control_inputs`` (``tf.control_dependencies``).

    >>> with tf.control_dependencies([update]):
    ...     loss = tf.identity(loss)
    """
    graph = ctx.graph
    if graph is None:  # eagerly, ops already run in program order
        yield
        return
    outer = graph.__dict__.get("create_op")
    deps = () if control_inputs is None else tuple(
        op for op in (_as_op(v) for v in nest.flatten(list(control_inputs))) if op is not None)
    base = Graph.create_op.__get__(graph) if control_inputs is None else graph.create_op

    def create_op(op_def, inputs, attrs, name, output_specs, control_inputs=()):
        # variable reads are shared by every later use and constants are pure values:
        # only the ops of the block itself wait for the dependencies
        if op_def is READ_VARIABLE or op_def is CONST:
            return base(op_def, inputs, attrs, name, output_specs, control_inputs)
        return base(op_def, inputs, attrs, name, output_specs, tuple(control_inputs) + deps)

    graph.create_op = create_op
    try:
        yield
    finally:
        if outer is None:
            del graph.create_op
        else:
            graph.create_op = outer


# -- collections and initializers ---------------------------------------------------------


def _graph():
    return ctx.graph if ctx.graph is not None else get_default_graph()


def _filtered(key, scope):
    items = _graph().get_collection(key)
    if scope is None:
        return items
    return [v for v in items if re.match(scope, getattr(v, "name", ""))]


def get_collection(key, scope=None):
    """The items of a graph collection, optionally those whose name matches ``scope``."""
    return _filtered(key, scope)


def get_collection_ref(key):
    return _graph().collections.setdefault(key, [])


def add_to_collection(name, value):
    _graph().add_to_collection(name, value)


def add_to_collections(names, value):
    for name in ([names] if isinstance(names, str) else names):
        add_to_collection(name, value)


def global_variables(scope=None):
    """The graph's global variables (``tf.compat.v1.global_variables``)."""
    return _filtered(GraphKeys.GLOBAL_VARIABLES, scope)


def trainable_variables(scope=None):
    """The graph's trainable variables (``tf.compat.v1.trainable_variables``)."""
    return _filtered(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    return _filtered(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope=None):
    return _filtered(GraphKeys.MODEL_VARIABLES, scope)


def variables_initializer(var_list, name: str = "init"):
    """An op running the initializers of ``var_list`` (``tf.compat.v1.variables_initializer``)."""
    if ctx.graph is None:
        return None
    deps = [v.initializer for v in var_list if v.initializer is not None]
    return _no_op(_graph(), name, deps)


def global_variables_initializer():
    """An op that initializes every global variable of the graph.

    >>> sess.run(tf.global_variables_initializer())
    """
    return variables_initializer(global_variables(), name="init")


def local_variables_initializer():
    return variables_initializer(local_variables(), name="init")


def tables_initializer(name="init_all_tables"):
    return no_op(name)


def is_variable_initialized(variable):
    return variable._value is not None


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """ref = value (``tf.compat.v1.assign``); in a graph, returns the assigned value."""
    return ref.assign(value, name=name)


def assign_add(ref, value, use_locking=None, name=None):
    return ref.assign_add(value, name=name)


def assign_sub(ref, value, use_locking=None, name=None):
    return ref.assign_sub(value, name=name)


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, _Variable)


class Variable(_Variable, metaclass=_VariableMeta):
    """``tf.compat.v1.Variable``: TF1's argument order, ``collections=``, trainable=None."""

    def __init__(self, initial_value=None, trainable=None, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=None, aggregation=None, shape=None):
        super().__init__(initial_value, trainable=True if trainable is None else trainable,
                         name=name, dtype=dtype, shape=shape, constraint=constraint)
        if collections is not None and self._graph is not None:
            _set_collections(self._graph, self, collections)

    def initialized_value(self):
        return self.read_value()


def _set_collections(graph, variable, collections):
    """TF1's ``collections=``: the variable is in exactly these (plus trainable_variables)."""
    collections = set(collections)
    if variable.trainable:
        collections.add(GraphKeys.TRAINABLE_VARIABLES)
    for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES):
        if key not in collections and key in graph.collections:
            # by identity: == on variables compares values elementwise
            graph.collections[key] = [v for v in graph.collections[key] if v is not variable]
    for key in collections:
        if not any(v is variable for v in graph.collections.get(key, ())):
            graph.add_to_collection(key, variable)


def placeholder_with_default(input, shape, name=None):
    """A tensor that is ``input`` unless fed (``tf.compat.v1.placeholder_with_default``)."""
    from neuroflow.core.op import convert_to_tensor, identity_kernel
    from neuroflow.core.tensor import TensorShape
    value = convert_to_tensor(input)
    out = identity_kernel(value, name=name or "PlaceholderWithDefault")
    if isinstance(out, SymbolicTensor):
        shape = TensorShape(shape)
        if not shape.is_compatible_with(value.shape):
            raise ValueError(f"placeholder_with_default: shape {shape} does not fit the "
                             f"default's shape {value.shape}")
        out.shape = shape
    return out


__all__ = ["GraphKeys", "no_op", "group", "control_dependencies", "get_collection",
           "get_collection_ref", "add_to_collection", "add_to_collections", "global_variables",
           "trainable_variables", "local_variables", "model_variables",
           "variables_initializer", "global_variables_initializer",
           "local_variables_initializer", "tables_initializer", "is_variable_initialized",
           "assign", "assign_add", "assign_sub", "Variable", "placeholder_with_default"]
