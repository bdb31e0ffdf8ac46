"""``nf.math``: TensorFlow's math namespace (the top-level math ops, plus TF's math-only
names such as ``nf.math.mod``, ``nf.math.floor_div`` and ``nf.math.is_finite``)."""
from neuroflow.ops.complex import *  # noqa: F401,F403
from neuroflow.ops.lookup import in_top_k, top_k  # noqa: F401
from neuroflow.ops.math import *  # noqa: F401,F403
from neuroflow.ops.math import floor_div, is_finite, is_inf, is_nan, mod  # noqa: F401
from neuroflow.ops.normalization import l2_normalize  # noqa: F401
from neuroflow.ops.reduce import *  # noqa: F401,F403
