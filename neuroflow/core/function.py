"""``nf.function``: trace a Python function into a graph once per input signature, then run
the compiled plan on every later call."""
from __future__ import annotations

import functools

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.compiler import Plan
from neuroflow.core.context import ctx
from neuroflow.core.graph import FuncGraph, Operation
from neuroflow.core.op import PLACEHOLDER, Spec
from neuroflow.core.tensor import EagerTensor, SymbolicTensor, TensorShape, shape_str
from neuroflow.util import nest

_NOT_FAST = object()


class TensorSpec:
    """Describes a tensor argument: shape (None for unknown dims) and dtype.

    >>> nf.TensorSpec(shape=[None, 784], dtype=nf.float32)
    """

    def __init__(self, shape, dtype=dtypes.float32, name=None):
        self.shape = TensorShape(shape)
        self.dtype = dtypes.as_dtype(dtype)
        self.name = name

    def is_compatible_with(self, value) -> bool:
        return (dtypes.as_dtype(value.dtype) == self.dtype
                and self.shape.is_compatible_with(np.shape(value)))

    def __repr__(self):
        return (f"TensorSpec(shape={shape_str(self.shape)}, dtype={self.dtype!r}, "
                f"name={self.name!r})")

    def __eq__(self, other):
        return (isinstance(other, TensorSpec) and tuple(self.shape) == tuple(other.shape)
                and self.dtype == other.dtype)

    def __hash__(self):
        return hash((tuple(self.shape), self.dtype))


def _is_tensor_like(x) -> bool:
    return isinstance(x, (EagerTensor, np.ndarray))


def _array_of(x):
    return x._value if isinstance(x, EagerTensor) else x


class ConcreteFunction:
    """One trace of a Python function: its graph, placeholders, outputs and compiled plan."""

    def __init__(self, graph, inputs, structured_outputs, output_leaves):
        self.graph = graph
        self.inputs = inputs
        self.structured_outputs = structured_outputs
        self._leaves = output_leaves
        fetches = [t for t in output_leaves if isinstance(t, SymbolicTensor)]
        self.outputs = fetches
        targets = [op for op in graph.operations
                   if op.op_def.stateful and op.op_def is not PLACEHOLDER]
        self._plan = Plan(fetches, inputs, targets)
        # the common case, one tensor returned, skips the structure rebuilding per call
        self._single = (isinstance(structured_outputs, SymbolicTensor)
                        and structured_outputs.graph is graph)

    def _run(self, arrays):
        if self._single:
            return EagerTensor(self._plan.run(arrays)[0])
        results = iter(self._plan.run(arrays))
        flat = []
        for leaf in self._leaves:
            if isinstance(leaf, SymbolicTensor):
                flat.append(EagerTensor(next(results)))
            elif isinstance(leaf, Operation):
                flat.append(None)
            else:
                flat.append(leaf)
        return nest.pack_sequence_as(self.structured_outputs, flat)

    def __call__(self, *args):
        arrays = []
        for t, a in zip(self.inputs, nest.flatten(args)):
            arrays.append(_check_arg(t, a))
        return self._run(arrays)


def _check_arg(placeholder, value):
    array = _array_of(value) if _is_tensor_like(value) else dtypes.to_array(value)
    if array.dtype != placeholder.dtype.np_dtype:
        raise TypeError(f"nf.function argument '{placeholder.op.name}' expects dtype "
                        f"{placeholder.dtype.name}, got {array.dtype}")
    if not placeholder.shape.is_compatible_with(array.shape):
        raise ValueError(f"nf.function argument '{placeholder.op.name}' expects shape "
                         f"{shape_str(placeholder.shape)}, got {shape_str(array.shape)}")
    return array


class Function:
    """A Python function compiled to graphs, one per input signature (``nf.function``).

    >>> @nf.function
    ... def step(x): return nf.reduce_sum(x * x)
    >>> step(nf.constant([1.0, 2.0])).numpy()
    5.0
    """

    def __init__(self, python_function, input_signature=None, name=None):
        self.python_function = python_function
        self.input_signature = (None if input_signature is None
                                else [s if isinstance(s, TensorSpec) else TensorSpec(*s)
                                      for s in nest.flatten(input_signature)])
        self._signature_structure = input_signature
        self.__name__ = name or getattr(python_function, "__name__", "function")
        self.__doc__ = getattr(python_function, "__doc__", None)
        self._cache = {}
        self._fast = {}  # (shape, dtype) of each positional tensor argument -> concrete
        self.trace_count = 0

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        bound = instance.__dict__.get(("_nf_function", id(self))) if hasattr(
            instance, "__dict__") else None
        if bound is None:
            bound = Function(self.python_function.__get__(instance, owner),
                             self._signature_structure, self.__name__)
            try:
                instance.__dict__[("_nf_function", id(self))] = bound
            except (AttributeError, TypeError):
                pass
        return bound

    def _key(self, args, kwargs):
        leaves = nest.flatten((args, kwargs))
        key = []
        for leaf in leaves:
            if _is_tensor_like(leaf):
                array = _array_of(leaf)
                key.append(("T", array.shape, array.dtype.str))
            elif isinstance(leaf, SymbolicTensor):
                raise TypeError("nf.function was called with a symbolic tensor; call it eagerly "
                                "or from inside another nf.function's trace")
            else:
                try:
                    hash(leaf)
                    key.append(("P", type(leaf).__name__, leaf))
                except TypeError:
                    key.append(("O", id(leaf)))
        structure = _structure_key((args, kwargs))
        return (structure, tuple(key))

    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        """The traced graph for these arguments (or for the input_signature)."""
        if self.input_signature is not None and not args and not kwargs:
            return self._trace_signature()
        concrete, _ = self._lookup(args, kwargs)
        return concrete

    def _trace_signature(self):
        key = ("signature",)
        if key not in self._cache:
            args = nest.pack_sequence_as(self._signature_structure, self.input_signature)
            self._cache[key] = self._trace(list(args) if isinstance(args, (list, tuple))
                                           else [args], {}, signature=True)
        return self._cache[key]

    def _lookup(self, args, kwargs):
        if self.input_signature is not None:
            return self._trace_signature(), None
        key = self._key(args, kwargs)
        concrete = self._cache.get(key)
        if concrete is None:
            concrete = self._cache[key] = self._trace(args, kwargs)
        return concrete, key

    def _trace(self, args, kwargs, signature=False):
        self.trace_count += 1
        graph = FuncGraph(self.__name__, outer_graph=ctx.graph)
        placeholders = []

        def make_input(leaf):
            if isinstance(leaf, TensorSpec):
                spec = Spec(leaf.shape, leaf.dtype)
                name = leaf.name
            elif _is_tensor_like(leaf):
                array = _array_of(leaf)
                spec = Spec(array.shape, dtypes.from_numpy(array.dtype))
                name = None
            else:
                return leaf
            op = graph.create_op(PLACEHOLDER, (), {}, name or f"arg{len(placeholders)}", [spec])
            placeholders.append(op.outputs[0])
            return op.outputs[0]

        flat = [make_input(leaf) for leaf in nest.flatten((args, kwargs))]
        sym_args, sym_kwargs = nest.pack_sequence_as((args, kwargs), flat)
        saved_graph, saved_tapes = ctx.graph, ctx.tapes
        ctx.graph, ctx.tapes = graph, []
        try:
            outputs = self.python_function(*sym_args, **sym_kwargs)
        finally:
            ctx.graph, ctx.tapes = saved_graph, saved_tapes
        leaves = []
        for leaf in nest.flatten(outputs):
            if hasattr(leaf, "_nf_variable"):
                leaf = graph.read_variable(leaf)
            leaves.append(leaf)
        return ConcreteFunction(graph, placeholders, outputs, leaves)

    def __call__(self, *args, **kwargs):
        if ctx.graph is not None:  # called while building another graph: inline the body
            return self.python_function(*args, **kwargs)
        if not kwargs and self.input_signature is None:
            # fast path: positional tensor arguments whose signature was seen before
            try:
                key = tuple((a._value.shape, a._value.dtype) if type(a) is EagerTensor
                            else (a.shape, a.dtype) if type(a) is np.ndarray else _NOT_FAST
                            for a in args)
                concrete = self._fast.get(key) if _NOT_FAST not in key else None
            except TypeError:
                concrete = None
            if concrete is not None:
                return concrete._run([a._value if type(a) is EagerTensor else a
                                      for a in args])
        concrete, _ = self._lookup(args, kwargs)
        tensor_leaves = [leaf for leaf in nest.flatten((args, kwargs)) if _is_tensor_like(leaf)]
        if self.input_signature is not None:
            tensor_leaves = [leaf if isinstance(leaf, (EagerTensor, np.ndarray))
                             else dtypes.to_array(leaf) for leaf in nest.flatten(args)]
        arrays = [_check_arg(t, a) for t, a in zip(concrete.inputs, tensor_leaves)]
        if (not kwargs and self.input_signature is None
                and all(type(a) in (EagerTensor, np.ndarray) for a in args)):
            self._fast[tuple((np.shape(a), a.dtype if type(a) is np.ndarray
                              else a._value.dtype) for a in args)] = concrete
        return concrete._run(arrays)

    def experimental_get_tracing_count(self):
        return self.trace_count


def _structure_key(structure):
    if isinstance(structure, dict):
        return ("dict",) + tuple((k, _structure_key(structure[k])) for k in sorted(structure))
    if isinstance(structure, (list, tuple)):
        return (type(structure).__name__,) + tuple(_structure_key(s) for s in structure)
    return None


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_relax_shapes=None, name=None):
    """Compiles ``func`` into graphs (``@nf.function``); usable with or without arguments."""
    if func is None:
        return functools.partial(function, input_signature=input_signature, name=name)
    wrapped = Function(func, input_signature, name)
    functools.update_wrapper(wrapped, func, updated=())
    return wrapped

