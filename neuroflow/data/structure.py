"""Dataset elements: nested tuples, namedtuples and dicts whose leaves are NumPy arrays.

Inside a pipeline elements stay NumPy (cheap to slice, stack and pass between threads);
they become tensors only where the user sees them: when iterating, and as the arguments of
``map``/``filter`` functions. Arrays handed out are read-only views, so a user who writes
into ``tensor.numpy()`` gets a copy and never changes a dataset's source or its cache.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.context import ctx
from neuroflow.core.function import TensorSpec
from neuroflow.core.tensor import EagerTensor, SymbolicTensor, Tensor, TensorShape, shape_str
from neuroflow.util import nest


def is_structure(value) -> bool:
    """Tuples (namedtuples too) and dicts are structures; a list is one tensor, as in TF."""
    return isinstance(value, (tuple, dict))


def map_element(fn, element):
    """``fn`` applied to every leaf, the nesting kept (dicts keep their key order)."""
    kind = type(element)
    if kind is tuple:
        return tuple([map_element(fn, v) for v in element])
    if kind is np.ndarray:
        return fn(element)
    if isinstance(element, dict):
        return type(element)((k, map_element(fn, v)) for k, v in element.items())
    if isinstance(element, tuple):
        items = [map_element(fn, v) for v in element]
        return type(element)(*items) if hasattr(element, "_fields") else tuple(items)
    return fn(element)


def leaf_to_array(value, what: str = "dataset component") -> np.ndarray:
    """A tensor, variable, array or Python value as an array, with TF's dtype rules."""
    if isinstance(value, SymbolicTensor):
        raise TypeError(f"A {what} must have a value, but {value!r} is symbolic (part of a "
                        "graph): build datasets from eager tensors or NumPy arrays.")
    if isinstance(value, EagerTensor):
        return np.asarray(value._value)  # a kernel may return a NumPy scalar for 0-d
    if hasattr(value, "_nf_variable"):
        return np.array(value.numpy())
    if value is None:
        raise TypeError(f"A {what} cannot be None.")
    try:
        return dtypes.to_array(value)
    except TypeError as err:
        raise TypeError(f"Cannot use {value!r} ({type(value).__name__}) as a {what}: "
                        f"{err}. neuroflow tensors hold numbers and booleans only "
                        "(no strings).") from None


def normalize(value, what: str = "dataset component"):
    """A user's (nested) value as an element with array leaves."""
    return map_element(lambda leaf: leaf_to_array(leaf, what), value)


def normalize_output(value, what: str):
    """What a ``map`` function returned, as an element (a returned list becomes a tuple)."""
    if isinstance(value, list):
        value = tuple(value)
    return normalize(value, what)


def _frozen(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def to_tensors(element):
    """The element as nf tensors (read-only views of the arrays)."""
    return map_element(lambda a: EagerTensor(_frozen(a)), element)


def to_numpy(element):
    """The element as NumPy: arrays, and NumPy scalars for 0-d leaves (as ``.numpy()``)."""
    return map_element(lambda a: a[()] if a.ndim == 0 else _frozen(a), element)


def is_plain_tuple(value) -> bool:
    """A tuple (not a namedtuple) of arrays: the common (features, label) element."""
    return type(value) is tuple and all(type(v) is np.ndarray for v in value)


def flatten(element) -> list:
    """The leaves in nest order (dicts by sorted key); fast for arrays and flat tuples."""
    if type(element) is np.ndarray:
        return [element]
    if is_plain_tuple(element):
        return list(element)
    return nest.flatten(element)


def pack(structure, leaves):
    """``structure`` rebuilt with ``leaves`` (the inverse of ``flatten``)."""
    if type(structure) is np.ndarray:
        return leaves[0]
    if is_plain_tuple(structure):
        return tuple(leaves)
    return nest.pack_sequence_as(structure, leaves)


def same_structure(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and sorted(a) == sorted(b) and all(
            same_structure(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return (isinstance(b, tuple) and len(a) == len(b)
                and all(same_structure(x, y) for x, y in zip(a, b)))
    return not is_structure(b)


def describe(element) -> str:
    """A short text of an element's structure, for error messages."""
    def leaf(a):
        return (f"{dtypes.from_numpy(a.dtype).name}{shape_str(a.shape)}"
                if isinstance(a, np.ndarray) else type(a).__name__)
    return repr(map_element(leaf, element)).replace("'", "")


# -- element specs -----------------------------------------------------------------------
def spec_of(element):
    """The TensorSpec structure that describes one concrete element."""
    return map_element(lambda a: TensorSpec(a.shape, dtypes.from_numpy(a.dtype)), element)


def map_spec(fn, spec):
    return map_element(fn, spec)


def relax(spec_a, spec_b):
    """The most specific spec that both specs fit (dims that differ become None)."""
    flat_a, flat_b = flatten(spec_a), flatten(spec_b)
    merged = []
    for a, b in zip(flat_a, flat_b):
        if a.shape.rank is None or b.shape.rank is None or a.shape.rank != b.shape.rank:
            shape = TensorShape(None)
        else:
            shape = [x if x == y else None for x, y in zip(a.shape, b.shape)]
        merged.append(TensorSpec(shape, a.dtype))
    return pack(spec_a, merged)


def batched_spec(spec, batch_size):
    def batch(s):
        if s.shape.rank is None:
            return TensorSpec(None, s.dtype)
        return TensorSpec([batch_size, *s.shape], s.dtype)
    return map_spec(batch, spec)


def unbatched_spec(spec):
    def unbatch(s):
        if s.shape.rank is None:
            return TensorSpec(None, s.dtype)
        if s.shape.rank == 0:
            raise ValueError("Cannot unbatch an element with a scalar component: every "
                             f"component needs a batch dimension, got {spec!r}")
        return TensorSpec(s.shape[1:], s.dtype)
    return map_spec(unbatch, spec)


# -- calling user functions --------------------------------------------------------------
def call_eagerly(fn, element):
    """Calls a map/filter function on an element's tensors, eagerly and off every tape.

    Tuples are unpacked into positional arguments, as tf.data does; the function runs
    eagerly even if the consumer iterates inside a GradientTape or a graph.
    """
    args = to_tensors(element)
    if ctx.graph is None and not ctx.tapes:
        return fn(*args) if type(args) is tuple else fn(args)
    saved = ctx.graph, ctx.tapes
    ctx.graph, ctx.tapes = None, []
    try:
        return fn(*args) if type(args) is tuple else fn(args)
    finally:
        ctx.graph, ctx.tapes = saved


def trace_spec(fn, spec):
    """The element spec ``fn`` returns for inputs of ``spec``, found by tracing ``fn`` on
    placeholders (as TF traces map functions); variables it makes are created eagerly."""
    from neuroflow.core.graph import FuncGraph
    from neuroflow.core.op import PLACEHOLDER, Spec
    graph = FuncGraph(getattr(fn, "__name__", "map_fn"), outer_graph=None)
    count = [0]

    def placeholder(s):
        count[0] += 1
        return graph.create_op(PLACEHOLDER, (), {}, f"arg{count[0]}",
                               [Spec(s.shape, s.dtype)]).outputs[0]

    args = map_spec(placeholder, spec)
    saved = ctx.graph, ctx.tapes
    ctx.graph, ctx.tapes = graph, []
    try:
        out = fn(*args) if type(args) is tuple else fn(args)
    finally:
        ctx.graph, ctx.tapes = saved
    if isinstance(out, list):
        out = tuple(out)

    def leaf_spec(value):
        if isinstance(value, Tensor):
            return TensorSpec(value.shape, value.dtype)
        if hasattr(value, "_nf_variable"):
            return TensorSpec(value.shape, value.dtype)
        array = leaf_to_array(value, "map function output")
        return TensorSpec(array.shape, dtypes.from_numpy(array.dtype))
    return map_element(leaf_spec, out)
