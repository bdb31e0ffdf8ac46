"""``set_random_seed``: one call that makes a Keras program reproducible."""
from __future__ import annotations

import random

import numpy as np


def set_random_seed(seed):
    """Seeds Python's ``random``, NumPy's global generator and neuroflow's global seed
    (``nf.random.set_seed``: initializers, dropout, shuffling in ``fit``).

    >>> keras.utils.set_random_seed(1337)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError("Expected `seed` argument to be an integer. Received: "
                         f"seed={seed!r} (of type {type(seed).__name__})")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    from neuroflow.ops.random import set_seed
    set_seed(seed)
