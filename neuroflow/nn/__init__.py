"""``nf.nn``: activations, convolution, pooling, normalization and losses (TensorFlow's names)."""
from neuroflow.ops import dense_fusion as _dense_fusion  # noqa: F401 (registers its rule)
from neuroflow.ops.activations import *  # noqa: F401,F403
from neuroflow.ops.conv import *  # noqa: F401,F403
from neuroflow.ops.losses import *  # noqa: F401,F403
from neuroflow.ops.normalization import *  # noqa: F401,F403
from neuroflow.ops.pooling import *  # noqa: F401,F403
