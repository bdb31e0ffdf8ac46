"""Execution context: eager or graph-building, the active tapes, name scopes, the layer stack.

A single module-level object, read on every op call; kept small because it is hot.
"""
from __future__ import annotations

import contextlib
import threading


class _Process:
    """Settings shared by all threads."""

    eager_default = True   # False after compat.v1.disable_eager_execution()
    default_graph = None   # the global graph used when eager is disabled


class Context(threading.local):
    """Per thread, as in TensorFlow: a thread (a tf.data prefetch worker, say) runs its ops
    eagerly while another traces an nf.function; eager mode and the global graph are shared."""

    def __init__(self):
        # the graph ops are added to; None means eager (a new thread starts in the global mode)
        self.graph = None if _Process.eager_default else _Process.default_graph
        self.tapes = []             # active GradientTapes, innermost last
        self.scopes = []            # name_scope stack (strings)
        self.layers = []            # names of the Keras layers being called

    @property
    def eager_default(self) -> bool:
        return _Process.eager_default

    @eager_default.setter
    def eager_default(self, value: bool):
        _Process.eager_default = value

    @property
    def default_graph(self):
        return _Process.default_graph

    @default_graph.setter
    def default_graph(self, graph):
        _Process.default_graph = graph


ctx = Context()


def executing_eagerly() -> bool:
    """True when ops run at once (not while building a graph or tracing an nf.function)."""
    return ctx.graph is None


def scope_prefix() -> str:
    return "/".join(s for s in ctx.scopes if s)


def where() -> str:
    """Describes where an op is being called: its name scope and Keras layer, for errors."""
    parts = []
    if ctx.layers:
        parts.append(f"in layer '{ctx.layers[-1]}'")
    prefix = scope_prefix()
    if prefix:
        parts.append(f"in name scope '{prefix}'")
    return (" " + ", ".join(parts)) if parts else ""


@contextlib.contextmanager
def name_scope(name: str | None):
    """Prefixes the names of ops created inside (``nf.name_scope("layer1")``)."""
    name = (name or "").rstrip("/")
    ctx.scopes.append(name)
    try:
        yield name
    finally:
        ctx.scopes.pop()


@contextlib.contextmanager
def layer_scope(name: str):
    """Marks ops as belonging to a Keras layer, so errors can name it."""
    ctx.layers.append(name)
    ctx.scopes.append(name)
    try:
        yield
    finally:
        ctx.scopes.pop()
        ctx.layers.pop()


@contextlib.contextmanager
def init_scope():
    """Runs the body eagerly even while tracing an nf.function (used to create variables)."""
    graph = ctx.graph
    if graph is None or not getattr(graph, "is_function_graph", False):
        yield
        return
    saved_graph, saved_tapes = ctx.graph, ctx.tapes
    ctx.graph, ctx.tapes = graph.outer_graph, []
    try:
        yield
    finally:
        ctx.graph, ctx.tapes = saved_graph, saved_tapes
