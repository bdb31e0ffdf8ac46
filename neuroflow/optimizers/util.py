"""Small helpers of the optimizers: names, graph kind, slot initial values, grouping."""
from __future__ import annotations

import contextlib
import re

import numpy as np

from neuroflow.core.context import ctx
from neuroflow.optimizers import kernels

_name_counts: dict[str, int] = {}


def auto_name(class_name: str) -> str:
    """Keras' default names: ``Adagrad`` -> ``adagrad``, then ``adagrad_1``, ..."""
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", class_name).lower()
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def tf1_graph():
    """The graph being built when it is a TF1 graph (not an nf.function trace), else None."""
    graph = ctx.graph
    return graph if graph is not None and not graph.is_function_graph else None


@contextlib.contextmanager
def root_name_scope():
    """Names made inside ignore the enclosing name scopes (slots are named after their
    variable, wherever ``minimize`` is called)."""
    saved = ctx.scopes
    ctx.scopes = []
    try:
        yield
    finally:
        ctx.scopes = saved


def initial_value(initializer, shape, dtype) -> np.ndarray:
    """A slot's initial array: 'zeros', 'ones', a number, or a callable(shape, dtype)."""
    np_dtype = dtype.np_dtype
    if isinstance(initializer, str):
        fills = {"zeros": 0, "ones": 1}
        if initializer not in fills:
            raise ValueError(f"Unknown optimizer variable initializer {initializer!r}: use "
                             "'zeros', 'ones', a number or a callable(shape, dtype)")
        return np.full(shape, fills[initializer], np_dtype)
    if isinstance(initializer, (int, float, np.number)):
        return np.full(shape, initializer, np_dtype)
    value = initializer(shape, dtype)
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value, np_dtype)


def group(updates, name="group_deps"):
    """One ``NoOp`` in the current graph that runs ``updates`` when ``Session.run`` fetches it.

    >>> train_op = group([op for op in graph.operations[first:] if op.op_def.stateful])
    """
    return ctx.graph.create_op(kernels.no_op_def(), (), {}, name, [], control_inputs=updates)
