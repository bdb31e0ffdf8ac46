"""TF1's training utilities (``tf.compat.v1.train``): the global step and the decay functions
(``exponential_decay``, ...), which return a tensor in graphs and a callable in eager mode.

>>> step = tf.train.get_or_create_global_step()
>>> lr = tf.train.exponential_decay(0.1, step, decay_steps=1000, decay_rate=0.96)
"""
from __future__ import annotations

import contextlib
import functools

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.context import ctx
from neuroflow.core.graph import get_default_graph
from neuroflow.core.variable import Variable
from neuroflow.optimizers import schedules
from neuroflow.optimizers.util import root_name_scope

GLOBAL_STEP = "global_step"


def _graph_for(graph):
    return graph if graph is not None else get_default_graph()


def get_global_step(graph=None):
    """The graph's global step variable, or None (``tf.compat.v1.train.get_global_step``)."""
    found = _graph_for(graph).get_collection(GLOBAL_STEP)
    if len(found) > 1:
        raise TypeError("There are multiple global step variables in the collection.")
    return found[0] if found else None


def create_global_step(graph=None):
    """Creates the int64 global step (0), non-trainable, in the graph's collections."""
    graph = _graph_for(graph)
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    use_graph = ctx.graph is not None or graph is not get_default_graph()
    with graph.as_default() if use_graph else contextlib.nullcontext(), root_name_scope():
        step = Variable(np.int64(0), trainable=False, name="global_step", dtype=dtypes.int64)
    graph.add_to_collection(GLOBAL_STEP, step)
    return step


def get_or_create_global_step(graph=None):
    """The global step, created on first use (``tf.train.get_or_create_global_step``).

    >>> step = tf.train.get_or_create_global_step()
    >>> train_op = opt.minimize(loss, global_step=step)
    """
    return get_global_step(graph) or create_global_step(graph)


def global_step(sess, global_step_tensor):
    """The global step's current value as a Python int."""
    if ctx.graph is None and sess is None:
        return int(global_step_tensor.numpy())
    return int(sess.run(global_step_tensor))


# -- TF1 decay functions: a tensor in graphs, a callable in eager mode --------------------------

def _decayed(schedule, step, what):
    if step is None:
        raise ValueError(f"global_step is required for {what}.")
    if ctx.graph is None:
        return functools.partial(schedule, step)
    return schedule(step)


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """``learning_rate * decay_rate ** (global_step / decay_steps)``."""
    return _decayed(schedules.ExponentialDecay(learning_rate, decay_steps, decay_rate,
                                               staircase, name or "ExponentialDecay"),
                    global_step, "exponential_decay")


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)``."""
    return _decayed(schedules.InverseTimeDecay(learning_rate, decay_steps, decay_rate,
                                               staircase, name or "InverseTimeDecay"),
                    global_step, "inverse_time_decay")


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    """Polynomial decay from ``learning_rate`` to ``end_learning_rate``."""
    return _decayed(schedules.PolynomialDecay(learning_rate, decay_steps, end_learning_rate,
                                              power, cycle, name or "PolynomialDecay"),
                    global_step, "polynomial_decay")


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """Cosine decay from ``learning_rate`` to ``alpha * learning_rate``."""
    return _decayed(schedules.CosineDecay(learning_rate, decay_steps, alpha,
                                          name or "CosineDecay"),
                    global_step, "cosine_decay")


def piecewise_constant(x, boundaries, values, name=None):
    """``values[i]`` for ``boundaries[i-1] < x <= boundaries[i]``."""
    return _decayed(schedules.PiecewiseConstantDecay(boundaries, values,
                                                     name or "PiecewiseConstant"),
                    x, "piecewise_constant")


__all__ = ["get_global_step", "create_global_step", "get_or_create_global_step", "global_step",
           "exponential_decay", "inverse_time_decay", "polynomial_decay", "cosine_decay",
           "piecewise_constant"]
