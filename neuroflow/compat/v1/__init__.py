"""TensorFlow 1 programs on neuroflow: ``import neuroflow.compat.v1 as tf``.

>>> tf.disable_eager_execution()
>>> x = tf.placeholder(tf.float32, [None, 3])
>>> with tf.Session() as sess: sess.run(tf.reduce_sum(x), {x: [[1, 2, 3]]})
6.0

Holds TF1's own names (placeholder, Session, get_variable, global_variables_initializer...)
and TF1's spellings of renamed ops; every other ``nf.*`` name (constant, matmul, float32...)
is looked up in ``neuroflow`` on first use. That lookup is lazy because ``neuroflow``
imports this package while it is itself being imported.
"""
from __future__ import annotations

import importlib

from neuroflow.compat.v1 import initializers
from neuroflow.compat.v1 import initializers as _initializers
from neuroflow.compat.v1 import scopes as _scopes
from neuroflow.compat.v1 import spellings as _spellings
from neuroflow.compat.v1 import variables as _variables
from neuroflow.compat.v1.initializers import (
    constant_initializer,
    glorot_normal_initializer,
    glorot_uniform_initializer,
    ones_initializer,
    orthogonal_initializer,
    random_normal_initializer,
    random_uniform_initializer,
    truncated_normal_initializer,
    variance_scaling_initializer,
    zeros_initializer,
)
from neuroflow.compat.v1.scopes import *  # noqa: F403
from neuroflow.compat.v1.spellings import *  # noqa: F403
from neuroflow.compat.v1.variables import *  # noqa: F403
from neuroflow.core.context import ctx
from neuroflow.core.graph import Graph, Operation, get_default_graph
from neuroflow.core.session import (
    InteractiveSession,
    Session,
    get_default_session,
    placeholder,
)
from neuroflow.core.tape import gradients


def disable_eager_execution():
    """From now on, ops build nodes in the default graph instead of running at once."""
    ctx.eager_default = False
    ctx.graph = get_default_graph()


def enable_eager_execution(config=None, device_policy=None, execution_mode=None):
    """Ops run at once again (TF2 behaviour)."""
    ctx.eager_default = True
    ctx.graph = None


def disable_v2_behavior():
    """TF1 behaviour: graphs and sessions (``tf.compat.v1.disable_v2_behavior``)."""
    disable_eager_execution()


def enable_v2_behavior():
    enable_eager_execution()


def _ignored(*args, **kwargs):
    """Accepted for compatibility: these TF1 switches change nothing here."""


disable_resource_variables = enable_resource_variables = _ignored
disable_v2_tensorshape = enable_v2_tensorshape = disable_control_flow_v2 = _ignored
enable_control_flow_v2 = _ignored


def executing_eagerly():
    return ctx.graph is None


def reset_default_graph():
    """Replaces the global default graph with a new, empty one."""
    ctx.default_graph = Graph()
    if not ctx.eager_default:
        ctx.graph = ctx.default_graph


initialize_all_variables = global_variables_initializer  # noqa: F405
initialize_local_variables = local_variables_initializer  # noqa: F405
initialize_variables = variables_initializer  # noqa: F405
all_variables = global_variables  # noqa: F405

# TF1 top-level names that TF2 moved into a namespace: name -> "namespace.name" of neuroflow
_MOVED = {
    "log": "math.log", "log1p": "math.log1p", "lgamma": "math.lgamma",
    "digamma": "math.digamma", "erf": "math.erf", "erfc": "math.erfc",
    "rsqrt": "math.rsqrt", "squared_difference": "math.squared_difference",
    "floordiv": "math.floordiv", "floormod": "math.floormod", "mod": "math.floormod",
    "truncatediv": "math.truncatediv", "truncatemod": "math.truncatemod",
    "realdiv": "math.divide", "reciprocal": "math.reciprocal",
    "log_sigmoid": "math.log_sigmoid", "is_nan": "math.is_nan", "is_inf": "math.is_inf",
    "is_finite": "math.is_finite", "segment_sum": "math.segment_sum",
    "segment_mean": "math.segment_mean", "segment_max": "math.segment_max",
    "unsorted_segment_sum": "math.unsorted_segment_sum", "betainc": "math.betainc",
    "igamma": "math.igamma", "igammac": "math.igammac", "polygamma": "math.polygamma",
    "zeta": "math.zeta", "real": "math.real", "imag": "math.imag", "angle": "math.angle",
    "cholesky": "linalg.cholesky", "matrix_inverse": "linalg.inv",
    "matrix_determinant": "linalg.det", "log_matrix_determinant": "linalg.slogdet",
    "matrix_transpose": "linalg.matrix_transpose", "matrix_diag": "linalg.diag",
    "matrix_diag_part": "linalg.diag_part", "matrix_set_diag": "linalg.set_diag",
    "matrix_band_part": "linalg.band_part", "matrix_solve": "linalg.solve",
    "matrix_solve_ls": "linalg.lstsq", "matrix_triangular_solve": "linalg.triangular_solve",
    "self_adjoint_eig": "linalg.eigh", "self_adjoint_eigvals": "linalg.eigvalsh",
    "svd": "linalg.svd", "qr": "linalg.qr", "trace": "linalg.trace", "diag": "linalg.diag",
    "diag_part": "linalg.diag_part", "cross": "linalg.cross",
    "fft": "signal.fft", "ifft": "signal.ifft", "fft2d": "signal.fft2d",
    "ifft2d": "signal.ifft2d", "rfft": "signal.rfft", "irfft": "signal.irfft",
}
_SUBMODULES = ("train", "nn")


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    import neuroflow
    if name in _MOVED:
        path = _MOVED[name]
        value = neuroflow
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            raise AttributeError(f"neuroflow.compat.v1.{name} is nf.{path}, which neuroflow "
                                 "does not have yet") from None
    else:
        try:
            value = getattr(neuroflow, name)
        except AttributeError:
            raise AttributeError(f"module 'neuroflow.compat.v1' has no attribute '{name}' "
                                 f"(neither has neuroflow)") from None
    globals()[name] = value
    return value


def __dir__():
    import neuroflow
    return sorted(set(globals()) | set(_MOVED) | set(_SUBMODULES)
                  | {n for n in dir(neuroflow) if not n.startswith("_")})


__all__ = (["Graph", "Operation", "get_default_graph", "Session", "InteractiveSession",
            "get_default_session", "placeholder", "gradients", "disable_eager_execution",
            "enable_eager_execution", "disable_v2_behavior", "enable_v2_behavior",
            "executing_eagerly", "reset_default_graph", "initialize_all_variables",
            "initialize_local_variables", "initialize_variables", "all_variables",
            "initializers"]
           + _initializers.TOP_LEVEL + _scopes.__all__ + _spellings.__all__
           + _variables.__all__)
