"""``nf.linalg``: matrix products and norms."""
from neuroflow.ops.linalg import *  # noqa: F401,F403
