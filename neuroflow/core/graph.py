"""Dataflow graphs: operations (nodes) and symbolic tensors (edges)."""
from __future__ import annotations

import contextlib
import itertools
import re

from neuroflow.core.context import ctx, scope_prefix
from neuroflow.core.tensor import SymbolicTensor, TensorShape


class Operation:
    """A node: an op type applied to input tensors with attributes, producing output tensors."""

    __slots__ = ("graph", "name", "op_def", "inputs", "attrs", "outputs", "control_inputs",
                 "index", "layer", "__weakref__")

    def __init__(self, graph, name, op_def, inputs, attrs, control_inputs=()):
        self.graph = graph
        self.name = name
        self.op_def = op_def
        self.inputs = tuple(inputs)
        self.attrs = attrs
        self.outputs = ()
        self.control_inputs = tuple(control_inputs)
        self.index = len(graph.operations)
        self.layer = ctx.layers[-1] if ctx.layers else None  # for error messages

    @property
    def type(self) -> str:
        return self.op_def.name

    def values(self):
        return self.outputs

    def run(self, feed_dict=None, session=None):
        from neuroflow.core.session import get_default_session
        (session or get_default_session()).run(self, feed_dict=feed_dict)

    def get_attr(self, name):
        return self.attrs[name]

    def __repr__(self):
        return f"<nf.Operation '{self.name}' type={self.type}>"


class Graph:
    """A dataflow graph. ``with g.as_default():`` makes ops add nodes to it.

    >>> g = nf.Graph()
    >>> with g.as_default(): c = nf.constant(1.0) + 2.0
    """

    is_function_graph = False

    def __init__(self):
        self.operations: list[Operation] = []
        self._names: dict[str, int] = {}
        self._by_name: dict[str, Operation] = {}
        self._var_reads = {}
        self.collections: dict[str, list] = {}
        self.seed = None
        self._seed_counter = itertools.count()
        self._finalized = False
        self.plan_cache = {}
        self.version = 0  # bumped on every new op; plans compiled at an older version are stale

    # -- naming -----------------------------------------------------------------------
    def unique_name(self, base: str) -> str:
        prefix = scope_prefix()
        full = f"{prefix}/{base}" if prefix else base
        key = full.lower()
        count = self._names.get(key, 0)
        self._names[key] = count + 1
        if count == 0:
            return full
        name = f"{full}_{count}"
        while name.lower() in self._names:
            count += 1
            name = f"{full}_{count}"
        self._names[name.lower()] = 1
        return name

    # -- building ---------------------------------------------------------------------
    def create_op(self, op_def, inputs, attrs, name, output_specs, control_inputs=()):
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        op = Operation(self, self.unique_name(name or op_def.name), op_def, inputs, attrs,
                       control_inputs)
        op.outputs = tuple(SymbolicTensor(op, i, shape, dtype)
                           for i, (shape, dtype) in enumerate(output_specs))
        self.operations.append(op)
        self._by_name[op.name] = op
        self.version += 1
        return op

    def read_variable(self, variable) -> SymbolicTensor:
        """The tensor that reads ``variable`` in this graph (one read node per variable)."""
        tensor = self._var_reads.get(variable)
        if tensor is None:
            from neuroflow.core.variable import READ_VARIABLE
            with _root_scope():
                op = self.create_op(READ_VARIABLE, (), {"variable": variable},
                                    _op_name(variable.name) + "/read",
                                    [(TensorShape(variable.shape), variable.dtype)])
            tensor = op.outputs[0]
            tensor._variable = variable
            self._var_reads[variable] = tensor
        return tensor

    # -- lookup -----------------------------------------------------------------------
    def get_operations(self):
        return list(self.operations)

    def get_operation_by_name(self, name: str) -> Operation:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"The graph has no operation named '{name}'") from None

    def get_tensor_by_name(self, name: str) -> SymbolicTensor:
        op_name, _, index = name.rpartition(":")
        if not op_name:
            raise ValueError(f"Tensor names look like 'op_name:0', got '{name}'")
        return self.get_operation_by_name(op_name).outputs[int(index)]

    def add_to_collection(self, key, value):
        self.collections.setdefault(key, []).append(value)

    def get_collection(self, key):
        return list(self.collections.get(key, []))

    def finalize(self):
        self._finalized = True

    @contextlib.contextmanager
    def as_default(self):
        saved = ctx.graph
        ctx.graph = self
        try:
            yield self
        finally:
            ctx.graph = saved

    def __repr__(self):
        return f"<nf.Graph with {len(self.operations)} operations>"


class FuncGraph(Graph):
    """The graph an ``nf.function`` traces into; variables made in it are created eagerly."""

    is_function_graph = True

    def __init__(self, name: str, outer_graph=None):
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph


def _op_name(name: str) -> str:
    return re.sub(r":\d+$", "", name)


@contextlib.contextmanager
def _root_scope():
    saved = ctx.scopes
    ctx.scopes = []
    try:
        yield
    finally:
        ctx.scopes = saved


def get_default_graph() -> Graph:
    """The graph ops are added to now (the global one when eager execution is disabled)."""
    if ctx.graph is not None:
        return ctx.graph
    if ctx.default_graph is None:
        ctx.default_graph = Graph()
    return ctx.default_graph
