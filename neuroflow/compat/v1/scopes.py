"""TF1 variable sharing: ``get_variable`` and ``variable_scope``.

``get_variable("w", shape)`` inside ``variable_scope("layer1")`` makes (or, with reuse,
returns) the variable named ``layer1/w``. Variables made this way are kept per graph, so a
second ``variable_scope("layer1", reuse=True)`` finds them again.
"""
from __future__ import annotations

import contextlib

from neuroflow.backend import dtypes
from neuroflow.compat.v1 import initializers as init_ops
from neuroflow.core.context import ctx
from neuroflow.core.graph import get_default_graph
from neuroflow.core.tensor import Tensor, TensorShape, shape_str


class _AutoReuse:
    def __repr__(self):
        return "AUTO_REUSE"


AUTO_REUSE = _AutoReuse()


class VariableScope:
    """A variable scope's settings: name, reuse, default initializer, regularizer, dtype."""

    def __init__(self, reuse, name="", initializer=None, regularizer=None,
                 dtype=dtypes.float32, original_name_scope=None):
        self._name = name
        self._reuse = reuse
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = dtypes.as_dtype(dtype)
        self.original_name_scope = name if original_name_scope is None else original_name_scope

    @property
    def name(self) -> str:
        return self._name

    @property
    def reuse(self):
        return self._reuse

    def reuse_variables(self):
        """Makes later ``get_variable`` calls in this scope return existing variables."""
        self._reuse = True

    def set_initializer(self, initializer):
        self.initializer = initializer

    def set_regularizer(self, regularizer):
        self.regularizer = regularizer

    def set_dtype(self, dtype):
        self.dtype = dtypes.as_dtype(dtype)

    def get_variable(self, name, shape=None, dtype=None, initializer=None, regularizer=None,
                     trainable=None, collections=None, **unused):
        full_name = f"{self.name}/{name}" if self.name else name
        return _get_or_create(self, full_name, shape, dtype, initializer, regularizer,
                              trainable, collections)

    def __repr__(self):
        return f"<VariableScope name={self.name!r} reuse={self.reuse}>"


_ROOT = VariableScope(False)
_stack: list[VariableScope] = []


def get_variable_scope() -> VariableScope:
    """The innermost variable scope (``tf.compat.v1.get_variable_scope``)."""
    return _stack[-1] if _stack else _ROOT


def _store(graph=None):
    graph = graph or (ctx.graph if ctx.graph is not None else get_default_graph())
    store = graph.__dict__.get("_v1_variable_store")
    if store is None:
        store = graph.__dict__["_v1_variable_store"] = {"variables": {}, "scopes": {}}
    return store


def _unique_scope_name(base):
    counts = _store()["scopes"]
    count = counts.get(base, 0)
    counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None,
                   regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                   reuse=None, dtype=None, use_resource=None, constraint=None,
                   auxiliary_name_scope=True):
    """Prefixes variable (and op) names; ``reuse=True`` or ``AUTO_REUSE`` shares variables.

    >>> with tf.variable_scope("layer1"):
    ...     w = tf.get_variable("w", [784, 100])      # named layer1/w
    >>> with tf.variable_scope("layer1", reuse=True):
    ...     assert tf.get_variable("w") is w
    """
    parent = get_variable_scope()
    if name_or_scope is None and default_name is None:
        raise TypeError("If default_name is None then name_or_scope is required")
    if isinstance(name_or_scope, VariableScope):
        # re-entering a scope object: its own name and settings, its absolute name scope
        base = name_or_scope
        full_name = relative = name_or_scope.name
        name_scope_path = name_or_scope.original_name_scope
        inherited = True if parent.reuse is True else name_or_scope.reuse
    else:
        base = parent
        if name_or_scope is None:
            unique = _unique_scope_name(f"{parent.name}/{default_name}" if parent.name
                                        else default_name)
            relative = unique.rsplit("/", 1)[-1]
        else:
            relative = str(name_or_scope).rstrip("/")
        full_name = f"{parent.name}/{relative}" if parent.name else relative
        if name_or_scope is not None:  # later default-named scopes count this one too
            counts = _store()["scopes"]
            counts[full_name] = counts.get(full_name, 0) + 1
        name_scope_path = None
        inherited = parent.reuse
    # reuse=False and None both inherit: a scope cannot turn its parent's reuse off
    reuse = inherited if reuse is None or reuse is False else reuse
    scope = VariableScope(
        reuse, full_name,
        initializer=initializer if initializer is not None else base.initializer,
        regularizer=regularizer if regularizer is not None else base.regularizer,
        dtype=dtype if dtype is not None else base.dtype)
    saved_scopes = ctx.scopes
    if name_scope_path is not None:  # re-entering a scope object: its absolute name scope
        ctx.scopes = [name_scope_path] if name_scope_path else []
    elif auxiliary_name_scope:
        ctx.scopes = saved_scopes + [relative]
    scope.original_name_scope = "/".join(s for s in ctx.scopes if s)
    _stack.append(scope)
    try:
        yield scope
    finally:
        _stack.pop()
        ctx.scopes = saved_scopes


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=None, aggregation=None):
    """Gets the variable ``<scope>/name``, or creates it (``tf.compat.v1.get_variable``).

    Without an initializer, float variables start glorot-uniform and others at zero, as TF1.

    >>> w = tf.get_variable("w", shape=[784, 10], initializer=tf.zeros_initializer())
    """
    return get_variable_scope().get_variable(name, shape, dtype, initializer, regularizer,
                                             trainable, collections)


def _get_or_create(scope, full_name, shape, dtype, initializer, regularizer, trainable,
                   collections):
    variables = _store()["variables"]
    existing = variables.get(full_name)
    reuse = scope.reuse
    if reuse is True and existing is None:
        raise ValueError(f"Variable {full_name} does not exist, or was not created with "
                         "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                         "VarScope?")
    if existing is not None:
        if reuse is not True and reuse is not AUTO_REUSE:
            raise ValueError(f"Variable {full_name} already exists, disallowed. Did you mean "
                             "to set reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        if shape is not None and not TensorShape(shape).is_compatible_with(existing.shape):
            raise ValueError(f"Trying to share variable {full_name}, but specified shape "
                             f"{shape_str(TensorShape(shape))} and found shape "
                             f"{shape_str(existing.shape)}.")
        if dtype is not None and dtypes.as_dtype(dtype) != existing.dtype:
            raise ValueError(f"Trying to share variable {full_name}, but specified dtype "
                             f"{dtypes.as_dtype(dtype).name} and found dtype "
                             f"{existing.dtype.name}.")
        return existing
    variable = _create(scope, full_name, shape, dtype, initializer, regularizer, trainable,
                       collections)
    variables[full_name] = variable
    return variable


def _create(scope, full_name, shape, dtype, initializer, regularizer, trainable, collections):
    from neuroflow.compat.v1.variables import Variable
    dtype = dtypes.as_dtype(dtype if dtype is not None else scope.dtype)
    if initializer is None:
        initializer = scope.initializer
    if initializer is None:
        initializer = (init_ops.GlorotUniform() if dtype.is_floating
                       else init_ops.Zeros())
    if isinstance(initializer, type):
        initializer = initializer(dtype=dtype)
    saved_scopes = ctx.scopes
    ctx.scopes = [full_name + "/Initializer"]
    try:
        if callable(initializer) and not isinstance(initializer, Tensor):
            if shape is None or not TensorShape(shape).is_fully_defined():
                raise ValueError(f"Shape of a new variable ({full_name}) must be fully "
                                 f"defined, but instead was {shape_str(TensorShape(shape))}.")
            initial_value = initializer(TensorShape(shape).as_list(), dtype=dtype)
        else:
            if shape is not None:
                raise ValueError(f"If initializer is a constant, do not specify shape "
                                 f"(variable {full_name}).")
            initial_value = initializer
            if not isinstance(initial_value, Tensor) and not hasattr(initial_value, "dtype"):
                from neuroflow.core.op import convert_to_tensor
                initial_value = convert_to_tensor(initial_value, dtype=dtype)
        ctx.scopes = []
        variable = Variable(initial_value, trainable=trainable, collections=collections,
                            name=full_name, dtype=dtype)
    finally:
        ctx.scopes = saved_scopes
    if regularizer is None:
        regularizer = scope.regularizer
    if regularizer is not None:
        from neuroflow.compat.v1.variables import GraphKeys, add_to_collection
        ctx.scopes = [full_name + "/Regularizer"]
        try:
            loss = regularizer(variable)
        finally:
            ctx.scopes = saved_scopes
        if loss is not None:
            add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return variable


__all__ = ["AUTO_REUSE", "VariableScope", "get_variable_scope", "variable_scope",
           "get_variable"]
