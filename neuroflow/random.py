"""``nf.random``: seeded random tensors."""
from neuroflow.ops.random import *  # noqa: F401,F403
