"""TF1 sessions: run fetches of a graph with placeholder values fed in."""
from __future__ import annotations

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core import errors
from neuroflow.core.compiler import Plan
from neuroflow.core.graph import Operation, get_default_graph
from neuroflow.core.op import PLACEHOLDER, Spec
from neuroflow.core.tensor import SymbolicTensor, TensorShape, shape_str
from neuroflow.util import nest

_default_sessions = []


def get_default_session():
    if not _default_sessions:
        raise ValueError("No default session: use `with nf.compat.v1.Session() as sess:` or "
                         "pass session=.")
    return _default_sessions[-1]


def placeholder(dtype, shape=None, name=None):
    """A graph input fed at run time (``tf.compat.v1.placeholder``).

    >>> x = nf.compat.v1.placeholder(nf.float32, [None, 784], name="images")
    """
    from neuroflow.core.context import ctx
    graph = ctx.graph if ctx.graph is not None else get_default_graph()
    if graph is not ctx.graph and ctx.eager_default:
        raise RuntimeError("nf.compat.v1.placeholder() is not compatible with eager execution: "
                           "call nf.compat.v1.disable_eager_execution() first, or build "
                           "inside `with nf.Graph().as_default():`.")
    op = graph.create_op(PLACEHOLDER, (), {}, name or "Placeholder",
                         [Spec(shape, dtypes.as_dtype(dtype))])
    return op.outputs[0]


class Session:
    """Runs parts of a graph (``tf.compat.v1.Session``).

    >>> with nf.compat.v1.Session() as sess:
    ...     sess.run(train_op, feed_dict={x: xb, y: yb})
    """

    def __init__(self, target="", graph=None, config=None):
        self.graph = graph if graph is not None else get_default_graph()
        self._closed = False
        self._plans = {}

    # -- context management -------------------------------------------------------------
    def __enter__(self):
        _default_sessions.append(self)
        self._graph_ctx = self.graph.as_default()
        self._graph_ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._graph_ctx.__exit__(*exc)
        _default_sessions.remove(self)
        self.close()
        return False

    def as_default(self):
        session = self

        class _Default:
            def __enter__(self):
                _default_sessions.append(session)
                return session

            def __exit__(self, *exc):
                _default_sessions.remove(session)

        return _Default()

    def close(self):
        self._closed = True
        self._plans.clear()

    # -- running ------------------------------------------------------------------------
    def _resolve(self, fetch, role="Fetch"):
        if isinstance(fetch, str):
            return (self.graph.get_tensor_by_name(fetch) if ":" in fetch
                    else self.graph.get_operation_by_name(fetch))
        if hasattr(fetch, "_nf_variable"):
            return self.graph.read_variable(fetch)
        if isinstance(fetch, (SymbolicTensor, Operation)):
            if fetch.graph is not self.graph:
                raise ValueError(f"{role} '{fetch.name}' belongs to another graph than this "
                                 "session's")
            return fetch
        if fetch is None:
            raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch).__name__}: "
                        "fetch tensors, operations or variables")

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Computes ``fetches`` (a tensor, op, variable, or nested lists/dicts of them)."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        flat = [self._resolve(f) for f in nest.flatten(fetches)]
        tensors = [f for f in flat if isinstance(f, SymbolicTensor)]
        targets = tuple(f for f in flat if isinstance(f, Operation))
        feed_tensors, feed_values = [], []
        for key, value in (feed_dict or {}).items():
            tensor = self._resolve(key, "Feed")
            if not isinstance(tensor, SymbolicTensor):
                raise TypeError(f"Cannot feed {key!r}: feed keys must be tensors")
            feed_tensors.append(tensor)
            feed_values.append(_check_feed(tensor, value))
        key = (tuple(tensors), tuple(feed_tensors), targets)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(tensors, feed_tensors, targets)
        results = iter(plan.run(feed_values))
        values = [_to_fetch_value(next(results)) if isinstance(f, SymbolicTensor) else None
                  for f in flat]
        return nest.pack_sequence_as(fetches, values)

    def make_callable(self, fetches, feed_list=None):
        feed_list = list(feed_list or [])

        def call(*values):
            return self.run(fetches, dict(zip(feed_list, values)))
        return call


def _to_fetch_value(value):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


def _check_feed(tensor, value):
    """Converts a fed value to the tensor's dtype; a wrong shape names the placeholder."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    try:
        array = dtypes.to_array(value, tensor.dtype)
    except (TypeError, ValueError) as err:
        raise errors.InvalidArgumentError(
            f"Cannot feed a value of dtype {np.asarray(value).dtype} to '{tensor.op.name}' "
            f"of dtype {tensor.dtype.name}: {err}") from err
    if not TensorShape(array.shape).is_compatible_with(tensor.shape):
        raise ValueError(
            f"Cannot feed a value of shape {shape_str(array.shape)} for "
            f"'{tensor.op.name}' ({tensor.name}), which has shape {shape_str(tensor.shape)}")
    return array


class InteractiveSession(Session):
    """A session that installs itself as the default on creation."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        _default_sessions.append(self)

    def close(self):
        if self in _default_sessions:
            _default_sessions.remove(self)
        super().close()
