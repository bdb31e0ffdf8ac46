"""``nf.math``: TensorFlow's math namespace (aliases of the top-level math ops)."""
from neuroflow.ops.complex import *  # noqa: F401,F403
from neuroflow.ops.math import *  # noqa: F401,F403
from neuroflow.ops.reduce import *  # noqa: F401,F403
