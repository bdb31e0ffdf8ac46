"""Elementwise math: arithmetic, functions, comparisons, logic, ``where``, clipping, casting.

The ops live in modules by concern, lowest first (each imports only those before it):
``math_logic`` (comparisons, logic, where, and the dtype rules), ``math_arithmetic``
(+ - * /, square, reciprocal, add_n, conj, cast), ``math_piecewise`` (abs, sign, rounding,
floordiv, floormod, maximum, minimum), ``math_functions`` (roots, exp, log, trigonometry,
sigmoid, erf, pow; erf's NumPy fallback is ``math_erf``) and ``math_clip``. This module
gathers them: ``nf.*`` and ``nf.math.*`` import from here.

Binary ops follow TF's dtype rules: both inputs share one dtype (no promotion; the error names
the op and both dtypes), Python scalars take the tensor's dtype, and a Python float beside an
integer tensor is a TypeError.
"""
from neuroflow.ops import (
    math_arithmetic,
    math_clip,
    math_functions,
    math_logic,
    math_piecewise,
)
from neuroflow.ops.math_arithmetic import *  # noqa: F401,F403
from neuroflow.ops.math_clip import *  # noqa: F401,F403
from neuroflow.ops.math_functions import *  # noqa: F401,F403
from neuroflow.ops.math_logic import *  # noqa: F401,F403
from neuroflow.ops.math_logic import is_finite, is_inf, is_nan  # noqa: F401
from neuroflow.ops.math_piecewise import *  # noqa: F401,F403
from neuroflow.ops.math_piecewise import floor_div, mod  # noqa: F401

__all__ = (math_logic.__all__ + math_arithmetic.__all__ + math_piecewise.__all__
           + math_functions.__all__ + math_clip.__all__)
