"""TensorFlow 1 programs on neuroflow: ``import neuroflow.compat.v1 as tf``.

>>> tf.disable_eager_execution()
>>> x = tf.placeholder(tf.float32, [None, 3])
>>> with tf.Session() as sess: sess.run(tf.reduce_sum(x), {x: [[1, 2, 3]]})
6.0
"""
from neuroflow.core.context import ctx
from neuroflow.core.graph import Graph, get_default_graph
from neuroflow.core.session import InteractiveSession, Session, placeholder
from neuroflow.core.tape import gradients


def disable_eager_execution():
    """From now on, ops build nodes in the default graph instead of running at once."""
    ctx.eager_default = False
    ctx.graph = get_default_graph()


def enable_eager_execution():
    ctx.eager_default = True
    ctx.graph = None


def executing_eagerly():
    return ctx.graph is None


def reset_default_graph():
    """Replaces the global default graph with a new, empty one."""
    ctx.default_graph = Graph()
    if not ctx.eager_default:
        ctx.graph = ctx.default_graph


__all__ = ["Graph", "get_default_graph", "Session", "InteractiveSession", "placeholder",
           "gradients", "disable_eager_execution", "enable_eager_execution",
           "executing_eagerly", "reset_default_graph"]
