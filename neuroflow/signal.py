"""``nf.signal``: Fourier transforms and framing."""
from neuroflow.ops.signal import *  # noqa: F401,F403
