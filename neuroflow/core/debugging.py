"""``nf.debugging``: a NaN/Inf switch that names the first op producing one.

>>> nf.debugging.enable_check_numerics()
>>> nf.math.log(nf.constant([-1.0]))     # raises, naming the Log op and its input statistics
"""
from __future__ import annotations

import numpy as np

from neuroflow.core import errors
from neuroflow.core.tensor import shape_str


class _State:
    check_numerics = False


STATE = _State()


def enable_check_numerics(stack_height_limit=30, path_length_limit=50):
    """From now on every op's floating output is checked: the first NaN or Inf raises."""
    STATE.check_numerics = True


def disable_check_numerics():
    STATE.check_numerics = False


def _stats(value) -> str:
    array = np.asarray(value)
    if array.size == 0:
        return f"shape {shape_str(array.shape)}, empty"
    if array.dtype.kind not in "fciu":
        return f"shape {shape_str(array.shape)}, dtype {array.dtype}"
    finite = array[np.isfinite(array)] if array.dtype.kind in "fc" else array
    low = f"{finite.real.min():.4g}" if finite.size else "n/a"
    high = f"{finite.real.max():.4g}" if finite.size else "n/a"
    nan = int(np.isnan(array).sum()) if array.dtype.kind in "fc" else 0
    inf = int(np.isinf(array).sum()) if array.dtype.kind in "fc" else 0
    return (f"shape {shape_str(array.shape)}, min {low}, max {high} (finite values), "
            f"{nan} NaN, {inf} Inf")


def check(op_type, op_name, where, outputs, inputs):
    """Raises InvalidArgumentError if a floating output holds NaN or Inf."""
    for index, out in enumerate(outputs):
        array = np.asarray(out)
        if array.dtype.kind not in "fc" or np.isfinite(array).all():
            continue
        nan, inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
        described = "\n".join(f"  input {i}: {_stats(x)}" for i, x in enumerate(inputs))
        raise errors.InvalidArgumentError(
            f"check_numerics: op '{op_name}' (type {op_type}){where} produced {nan} NaN and "
            f"{inf} Inf values in output {index} of shape {shape_str(array.shape)}.\n"
            f"Its inputs:\n{described or '  (none)'}")


def checked(fn, op):
    """A plan step that checks its op's outputs (used when building plans)."""
    layer = getattr(op, "layer", None)
    scope = op.name.rpartition("/")[0]
    where = (f" in layer '{layer}'" if layer else "") + \
        (f" in name scope '{scope}'" if scope else "")
    single = op.op_def.num_outputs == 1

    def run(*inputs):
        out = fn(*inputs)
        check(op.type, op.name, where, (out,) if single else out, inputs)
        return out
    return run


__all__ = ["enable_check_numerics", "disable_check_numerics"]
