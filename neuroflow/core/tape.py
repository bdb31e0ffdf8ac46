"""Reverse-mode automatic differentiation: ``GradientTape`` and graph ``gradients``.

Both run the same ``backprop`` over a list of op records in forward order: eager records
kept by a tape, or the operations of a graph. Gradient rules are neuroflow ops, so the
gradient computation is itself recorded by any outer tape (higher-order gradients) or
added to the graph (symbolic gradients).
"""
from __future__ import annotations

import contextlib
import enum

import numpy as np

from neuroflow.core import errors
from neuroflow.core.context import ctx
from neuroflow.core.tensor import EagerTensor, SymbolicTensor, Tensor, shape_str
from neuroflow.util import nest


class UnconnectedGradients(enum.Enum):
    NONE = "none"
    ZERO = "zero"


def _key(x):
    """Reads of a variable in a graph stand for the variable itself."""
    if type(x) is SymbolicTensor and x._variable is not None:
        return x._variable
    return x


def _is_variable(x):
    return hasattr(x, "_nf_variable")


def _check_differentiable(x, what):
    dtype = x.dtype
    if not dtype.is_differentiable:
        name = getattr(x, "name", None)
        label = f"'{name}' " if isinstance(name, str) else ""
        raise ValueError(f"Cannot differentiate {what} {label}of dtype {dtype.name}: gradients "
                         "are defined for floating and complex tensors only (nf.cast first).")


def backprop(records, targets, sources, output_gradients=None, unconnected="none"):
    """Gradients of sum(targets) (weighted by output_gradients) w.r.t. each source."""
    from neuroflow.ops.array import ones_like, zeros_like
    from neuroflow.ops.math import add

    unconnected = UnconnectedGradients(getattr(unconnected, "value", unconnected))
    source_keys = [_key(s) for s in sources]
    for s in sources:
        _check_differentiable(s, "with respect to source")
    # Forward pass: which records depend on a source.
    reached = set(source_keys)
    relevant = []
    for rec in records:
        if not rec.op_def.differentiable:
            continue
        for x in rec.inputs:
            if _key(x) in reached:
                relevant.append(rec)
                # gradients do not flow through integer or boolean tensors
                reached.update(_key(o) for o in rec.outputs if o.dtype.is_differentiable)
                break
    # Backward pass: which of those lead to a target.
    target_keys = {_key(t) for t in targets}
    needed = []
    for rec in reversed(relevant):
        if any(_key(o) in target_keys for o in rec.outputs):
            needed.append(rec)
            target_keys.update(_key(x) for x in rec.inputs)
    grads = {}
    for i, t in enumerate(targets):
        _check_differentiable(t, "target")
        g = output_gradients[i] if output_gradients is not None else None
        g = ones_like(t) if g is None else g
        k = _key(t)
        grads[k] = add(grads[k], g) if k in grads else g
    for rec in needed:  # already in reverse order
        dys = [grads.get(_key(o)) for o in rec.outputs]
        if all(d is None for d in dys):
            continue
        op_def = rec.op_def
        if op_def.grad_fn is None:
            raise LookupError(
                f"No gradient defined for operation '{rec.name}' (op type: {op_def.name}); "
                "it lies on the path from the sources to the target.")
        if len(dys) > 1:
            dys = [zeros_like(o) if d is None else d for o, d in zip(rec.outputs, dys)]
        in_grads = op_def.grad_fn(rec, *dys)
        for x, g in zip(rec.inputs, in_grads):
            if g is None:
                continue
            k = _key(x)
            if k not in reached:
                continue
            _check_grad_shape(rec, x, g)
            grads[k] = add(grads[k], g) if k in grads else g
    results = []
    for s, k in zip(sources, source_keys):
        g = grads.get(k)
        if g is None and unconnected is UnconnectedGradients.ZERO:
            g = zeros_like(s)
        results.append(g)
    return results


def _check_grad_shape(rec, x, g):
    xs, gs = x.shape, g.shape
    if xs.rank is None or gs.rank is None:
        return
    if len(xs) != len(gs) or any(a is not None and b is not None and a != b
                                 for a, b in zip(xs, gs)):
        raise errors.InternalError(
            f"The gradient rule of {rec.op_def.name} returned a gradient of shape "
            f"{shape_str(gs)} for an input of shape {shape_str(xs)}")


class GradientTape:
    """Records ops to differentiate them (``nf.GradientTape``).

    >>> x = nf.Variable(3.0)
    >>> with nf.GradientTape() as tape: y = x * x
    >>> tape.gradient(y, x).numpy()
    6.0
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._auto_watch = watch_accessed_variables
        self._records = []
        self._watched = set()
        self._variables = []
        self._used = False

    def __enter__(self):
        ctx.tapes.append(self)
        return self

    def __exit__(self, *exc):
        if self in ctx.tapes:
            ctx.tapes.remove(self)
        return False

    def watch(self, tensor):
        """Ensures ``tensor`` (or each tensor in a nested structure) is traced."""
        for t in nest.flatten(tensor):
            if not (isinstance(t, Tensor) or _is_variable(t)):
                raise ValueError(f"GradientTape.watch takes tensors or variables, got {t!r}")
            k = _key(t)
            if k not in self._watched:
                self._watched.add(k)
                if _is_variable(k):
                    self._variables.append(k)

    def watched_variables(self):
        return tuple(self._variables)

    @contextlib.contextmanager
    def stop_recording(self):
        """Ops run inside are not recorded by this tape."""
        if self not in ctx.tapes:
            raise ValueError("stop_recording() is for a tape that is recording")
        index = ctx.tapes.index(self)
        ctx.tapes.remove(self)
        try:
            yield
        finally:
            ctx.tapes.insert(index, self)

    def reset(self):
        self._records.clear()
        self._watched.clear()
        self._variables.clear()

    def _record(self, rec):
        watched = self._watched
        hit = False
        for x in rec.inputs:
            k = _key(x)
            if k in watched:
                hit = True
            elif self._auto_watch and _is_variable(k) and k.trainable:
                watched.add(k)
                self._variables.append(k)
                hit = True
        if hit:
            self._records.append(rec)
            for o in rec.outputs:
                watched.add(o)

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """d(target)/d(sources), with ``sources`` any nested structure of tensors/variables."""
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one "
                               "set of gradients; use GradientTape(persistent=True).")
        self._used = True
        targets = nest.flatten(target)
        flat_sources = nest.flatten(sources)
        out_grads = None if output_gradients is None else nest.flatten(output_gradients)
        if out_grads is not None and len(out_grads) != len(targets):
            raise ValueError(f"output_gradients has {len(out_grads)} entries for "
                             f"{len(targets)} targets")
        # sources the tape never watched are unconnected, as in TensorFlow
        watched = [_key(src) in self._watched for src in flat_sources]
        grads = backprop(list(self._records), targets,
                         [src for src, w in zip(flat_sources, watched) if w], out_grads,
                         unconnected_gradients)
        grads = iter(grads)
        grads = [next(grads) if w else _unconnected(src, unconnected_gradients)
                 for src, w in zip(flat_sources, watched)]
        if not self._persistent:
            self._records = []
        return nest.pack_sequence_as(sources, grads)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """The Jacobian: shape target.shape + source.shape for each source."""
        from neuroflow.ops.array import reshape, stack, zeros

        flat_sources = nest.flatten(sources)
        if ctx.graph is None and isinstance(target, EagerTensor):
            n = int(np.prod(target.shape))
        elif target.shape.is_fully_defined():
            n = int(np.prod(target.shape))
        else:
            raise ValueError("jacobian needs a target of fully known shape")
        records = list(self._records)
        rows = [[] for _ in flat_sources]
        dtype = target.dtype.np_dtype
        for i in range(n):
            seed = np.zeros(n, dtype)
            seed[i] = 1
            seed = seed.reshape(tuple(target.shape))
            grads = backprop(records, [target], flat_sources, [EagerTensor(seed)
                             if ctx.graph is None else _const(seed)], unconnected_gradients)
            for row, g, s in zip(rows, grads, flat_sources):
                row.append(g if g is not None else zeros(s.shape, s.dtype))
        self._used = True
        if not self._persistent:
            self._records = []
        result = []
        for row, s in zip(rows, flat_sources):
            if n == 0:
                result.append(zeros(tuple(target.shape) + tuple(s.shape), s.dtype))
            else:
                result.append(reshape(stack(row), tuple(target.shape) + tuple(s.shape)))
        return nest.pack_sequence_as(sources, result)


def _unconnected(source, unconnected):
    from neuroflow.ops.array import zeros_like
    _check_differentiable(source, "with respect to source")
    if UnconnectedGradients(getattr(unconnected, "value", unconnected)) is \
            UnconnectedGradients.ZERO:
        return zeros_like(source)
    return None


def _const(value):
    from neuroflow.core.op import constant_node
    return constant_node(ctx.graph, value)


def gradients(ys, xs, grad_ys=None, name="gradients", stop_gradients=None,
              unconnected_gradients=UnconnectedGradients.NONE):
    """Adds nodes computing d(sum(ys))/d(xs) to the graph (``nf.gradients``, TF1 style)."""
    from neuroflow.core.context import name_scope

    targets = nest.flatten(ys)
    sources = nest.flatten(xs)
    graph = next((t.graph for t in targets if isinstance(t, SymbolicTensor)), None)
    if graph is None:
        raise RuntimeError("nf.gradients is for graphs; in eager mode use nf.GradientTape.")
    out_grads = None if grad_ys is None else nest.flatten(grad_ys)
    with graph.as_default(), name_scope(name):
        records = list(graph.operations)
        grads = backprop(records, targets, sources, out_grads, unconnected_gradients)
    return grads
