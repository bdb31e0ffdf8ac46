"""The functional API: ``keras.Input`` tensors, recorded layer calls, and replaying them.

A functional tensor is a symbolic tensor of one scratch graph, carrying ``_keras_history``
(the layer and the recorded call, a ``Node``, that produced it). A functional ``Model``
walks these back from its outputs to its inputs and replays the calls, in order, on real
values (or on the symbolic tensors of an ``nf.function`` trace).
"""
from __future__ import annotations

from neuroflow.backend import dtypes
from neuroflow.core.context import ctx
from neuroflow.core.graph import FuncGraph
from neuroflow.core.op import PLACEHOLDER, Spec
from neuroflow.core.tensor import SymbolicTensor, TensorShape
from neuroflow.keras.layers.layer import Layer
from neuroflow.util import nest

_graph = None


def keras_graph() -> FuncGraph:
    """The scratch graph functional tensors live in (variables made there are eager)."""
    global _graph
    if _graph is None:
        _graph = FuncGraph("keras_functional")
    return _graph


def _is_keras_tensor(x) -> bool:
    return isinstance(x, SymbolicTensor) and x._keras_history is not None


class Node:
    """One recorded call of a layer on functional tensors."""

    __slots__ = ("layer", "args", "kwargs", "outputs")

    def __init__(self, layer, args, kwargs, outputs):
        self.layer, self.args, self.kwargs, self.outputs = layer, args, kwargs, outputs

    @property
    def input_tensors(self):
        return [t for t in nest.flatten((self.args, self.kwargs)) if _is_keras_tensor(t)]


class InputLayer(Layer):
    """The layer behind ``keras.Input``: it only names the input and fixes its shape."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, batch_shape=None,
                 sparse=False, **kwargs):
        if batch_shape is None:
            batch_shape = (batch_size,) + tuple(shape if shape is not None else ())
        super().__init__(name=name, dtype=dtype)
        self.batch_shape = tuple(batch_shape)
        self.built = True
        graph = keras_graph()
        op = graph.create_op(PLACEHOLDER, (), {}, self.name,
                             [Spec(self.batch_shape, dtypes.as_dtype(dtype or "float32"))])
        self.output = op.outputs[0]
        self.output._keras_history = (self, Node(self, (), {}, self.output), 0)
        self._output_shape = self.batch_shape

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None):
    """A functional input tensor (``keras.Input(shape=(784,))``), batch dim None."""
    if shape is None and batch_shape is None:
        raise ValueError("You must pass a `shape` argument to keras.Input.")
    if shape is not None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return InputLayer(shape, batch_size, dtype, name, batch_shape).output


def symbolic_call(layer, args, kwargs):
    """Calls ``layer`` on functional tensors: builds it, traces ``call``, records a Node."""
    graph = keras_graph()
    saved_graph, saved_tapes = ctx.graph, ctx.tapes
    ctx.graph, ctx.tapes = graph, []
    try:
        kwargs = dict(kwargs)
        outputs = layer._call_impl(args, kwargs)
    finally:
        ctx.graph, ctx.tapes = saved_graph, saved_tapes
    node = Node(layer, args, kwargs, outputs)
    flat = nest.flatten(outputs)
    fresh = []
    for i, t in enumerate(flat):
        if not isinstance(t, SymbolicTensor):
            raise TypeError(f"Layer '{layer.name}' returned {type(t).__name__} when called "
                            "on functional inputs; layers must return tensors")
        if t._keras_history is not None:  # an input passed through unchanged: wrap it
            from neuroflow.core.op import identity_kernel
            with graph.as_default():
                t = identity_kernel(t)
        t._keras_history = (layer, node, i)
        fresh.append(t)
    outputs = nest.pack_sequence_as(outputs, fresh)
    node.outputs = outputs
    layer._output_shape = _shapes(outputs)
    return outputs


def _shapes(outputs):
    shapes = [tuple(t.shape) if t.shape.rank is not None else None for t in nest.flatten(outputs)]
    return shapes[0] if not nest.is_nested(outputs) else shapes


def infer_output_shape(layer, input_shape):
    """Traces ``layer`` on a functional input of ``input_shape``; returns its output shape."""
    nested = isinstance(input_shape, list) and input_shape and isinstance(
        input_shape[0], (list, tuple))
    shapes = input_shape if nested else [input_shape]
    inputs = [Input(batch_shape=tuple(TensorShape(s)), dtype=layer.dtype) for s in shapes]
    out = layer(inputs if nested else inputs[0])
    return _shapes(out)


def build_graph(inputs, outputs):
    """The recorded nodes between ``inputs`` and ``outputs``, in execution order."""
    input_set = {id(t) for t in nest.flatten(inputs)}
    for t in nest.flatten(inputs):
        if not _is_keras_tensor(t):
            raise ValueError(f"Model inputs must come from keras.Input, got {t!r}")
    order, visited, on_path = [], set(), set()

    def visit(tensor):
        if id(tensor) in input_set:
            return
        if not _is_keras_tensor(tensor):
            raise ValueError(f"Model output {tensor!r} is not a functional tensor")
        layer, node, _ = tensor._keras_history
        if isinstance(layer, InputLayer):
            raise ValueError(f"Output tensors of a functional Model must be computed from its "
                             f"inputs; found the input '{layer.name}', which is not among "
                             "the model's inputs.")
        if id(node) in visited:
            return
        if id(node) in on_path:
            raise ValueError("The functional graph has a cycle")
        on_path.add(id(node))
        for t in node.input_tensors:
            visit(t)
        on_path.discard(id(node))
        visited.add(id(node))
        order.append(node)
    for t in nest.flatten(outputs):
        visit(t)
    return order


def run_graph(nodes, inputs, outputs, values, training=None):
    """Replays ``nodes`` with ``values`` (flat, aligned with ``inputs``) for the inputs."""
    env = {id(t): v for t, v in zip(nest.flatten(inputs), values)}

    def lookup(x):
        return env[id(x)] if _is_keras_tensor(x) else x
    for node in nodes:
        args = nest.map_structure(lookup, node.args) if node.args else ()
        kwargs = {k: nest.map_structure(lookup, v) for k, v in node.kwargs.items()}
        if node.layer._call_has_training and "training" not in kwargs:
            kwargs["training"] = training
        result = node.layer(*args, **kwargs)
        for t, v in zip(nest.flatten(node.outputs), nest.flatten(result)):
            env[id(t)] = v
    return nest.pack_sequence_as(outputs, [env[id(t)] for t in nest.flatten(outputs)])
