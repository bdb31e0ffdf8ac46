"""neuroflow: TensorFlow's programming model (eager ops, graphs and sessions, Keras) on NumPy.

>>> import neuroflow as nf
>>> x = nf.Variable(3.0)
>>> with nf.GradientTape() as tape: y = x * x
>>> tape.gradient(y, x).numpy()
6.0
"""
from neuroflow import config, linalg, math, nn, optimizers, random, signal  # noqa: F401
from neuroflow.backend.dtypes import (  # noqa: F401
    DType,
    as_dtype,
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from neuroflow.backend.dtypes import bool_ as bool  # noqa: F401,A001
from neuroflow.core import debugging, errors  # noqa: F401
from neuroflow.core.context import executing_eagerly, init_scope, name_scope  # noqa: F401
from neuroflow.core.function import Function, TensorSpec, function  # noqa: F401
from neuroflow.core.graph import Graph, Operation, get_default_graph  # noqa: F401
from neuroflow.core.op import constant, convert_to_tensor  # noqa: F401
from neuroflow.core.tape import GradientTape, UnconnectedGradients, gradients  # noqa: F401
from neuroflow.core.tensor import Tensor, TensorShape, is_tensor  # noqa: F401
from neuroflow.core.variable import Variable  # noqa: F401
from neuroflow.ops import operators as _operators  # noqa: F401
from neuroflow.ops.array import *  # noqa: F401,F403
from neuroflow.ops.broadcast import broadcast_to  # noqa: F401
from neuroflow.ops.complex import *  # noqa: F401,F403
from neuroflow.ops.gradient_control import *  # noqa: F401,F403
from neuroflow.ops.indexing import *  # noqa: F401,F403
from neuroflow.ops.linalg import *  # noqa: F401,F403
from neuroflow.ops.math import *  # noqa: F401,F403
from neuroflow.ops.reduce import *  # noqa: F401,F403

__version__ = "0.1.0"

# The big namespaces load on first use, keeping `import neuroflow` fast.
_LAZY = ("compat", "data", "keras", "models")


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module = importlib.import_module(f"neuroflow.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'neuroflow' has no attribute {name!r}")
