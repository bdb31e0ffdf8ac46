"""What the fused recurrent cells share: shape rules, kernel pieces (the hoisted input
projection, time-major buffers) and the gradient glue (fused first order, composed
higher orders)."""

from __future__ import annotations

import numpy as np

from neuroflow.backend import threads
from neuroflow.core.op import Spec
from neuroflow.core.tape import GradientTape
from neuroflow.core.tensor import shape_str
from neuroflow.ops import array as _array
from neuroflow.ops.conv_runtime import outputs as _recycled
from neuroflow.ops.layer_norm import _is_zero_gradient
from neuroflow.ops.linalg import _product
from neuroflow.ops.math import where

_ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")

_STATE_NAMES = ("initial_h", "initial_c")

# -- shape rules ----------------------------------------------------------------------------


def _dims(shape):
    if shape is None or getattr(shape, "rank", 0) is None:
        return None
    return [None if d is None else int(d) for d in shape]


def _differ(a, b):
    return a is not None and b is not None and a != b


def _times(n, units):
    return None if units is None else n * units


def _fmt(dims):
    """[10, 64] (None for an unknown dimension), as the error messages show shapes."""
    return "<unknown>" if dims is None else f"[{', '.join(str(d) for d in dims)}]"


def _check(gates, x, states, kernel, recurrent, bias, bias_rows):
    """Raises a ValueError naming the shapes when the inputs do not fit (the op dispatch
    prefixes the op's name); returns (batch, time, units), each None when unknown."""
    x, kernel, recurrent = _dims(x), _dims(kernel), _dims(recurrent)
    if x is not None and len(x) != 3:
        raise ValueError(f"inputs must be [batch, time, input_dim], got shape {_fmt(x)}")
    batch, steps, features = x if x is not None else (None, None, None)
    units = None
    if recurrent is not None:
        if len(recurrent) != 2 or _differ(_times(gates, recurrent[0]), recurrent[1]):
            raise ValueError(f"recurrent_kernel shape {_fmt(recurrent)} is not "
                             f"[units, {gates} * units]")
        units = recurrent[0] if recurrent[0] is not None else (
            None if recurrent[1] is None else recurrent[1] // gates)
    if kernel is not None:
        if len(kernel) != 2:
            raise ValueError(f"kernel shape {_fmt(kernel)} is not "
                             f"[input_dim, {gates} * units]")
        if _differ(kernel[0], features):
            raise ValueError(f"kernel shape {_fmt(kernel)} does not match input_dim "
                             f"{features} of inputs shape {_fmt(x)}")
        if _differ(kernel[1], _times(gates, units)):
            raise ValueError(f"kernel shape {_fmt(kernel)} does not match "
                             f"recurrent_kernel shape {_fmt(recurrent)} (expected "
                             f"[{features}, {_times(gates, units)}])")
        if units is None and kernel[1] is not None:
            units = kernel[1] // gates
    for name, s in zip(_STATE_NAMES, states):
        s = _dims(s)
        if s is not None and (len(s) != 2 or _differ(s[0], batch) or _differ(s[1], units)):
            raise ValueError(f"{name} shape {_fmt(s)} does not match [batch, units] = "
                             f"{_fmt([batch, units])} (inputs shape {_fmt(x)}, "
                             f"recurrent_kernel shape {_fmt(recurrent)})")
    if bias is not None:
        b, n = _dims(bias), _times(gates, units)
        want = [bias_rows, n] if bias_rows else [n]
        if b is not None and (len(b) != len(want) or any(_differ(p, q)
                                                          for p, q in zip(b, want))):
            raise ValueError(f"bias shape {_fmt(b)} does not match {_fmt(want)} "
                             f"for {units} units")
    return batch, steps, units


def _split_inputs(inputs, n_states, masked=False):
    x, states = inputs[0], inputs[1:1 + n_states]
    kernel, recurrent, *rest = inputs[1 + n_states:]
    bias, mask = _bias_and_mask(rest, masked)
    return x, states, kernel, recurrent, bias, mask


def _bias_and_mask(rest, masked):
    """The optional inputs after the recurrent kernel: (bias or None, mask or None); the
    mask, when the op has one (attr ``masked``), comes last."""
    rest = list(rest)
    mask = rest.pop() if masked else None
    return (rest[0] if rest else None), mask


def _check_mask(mask, batch, steps):
    m = _dims(mask)
    if m is not None and (len(m) != 2 or _differ(m[0], batch) or _differ(m[1], steps)):
        raise ValueError(f"mask shape {_fmt(m)} does not match [batch, time] = "
                         f"{_fmt([batch, steps])}")


def _forward_spec(gates, n_states, saved, bias_rows=0):
    """A forward shape rule; ``saved(batch, time, units)`` gives the extra outputs' shapes."""
    def spec(*inputs, **attrs):
        x, states, kernel, recurrent, bias, mask = _split_inputs(
            inputs, n_states, attrs.get("masked", False))
        rows = bias_rows(attrs) if callable(bias_rows) else bias_rows
        batch, steps, units = _check(gates, x.shape, [s.shape for s in states], kernel.shape,
                                     recurrent.shape, None if bias is None else bias.shape,
                                     rows)
        if mask is not None:
            _check_mask(mask.shape, batch, steps)
        public = [Spec([batch, steps, units], x.dtype)] + [Spec([batch, units], x.dtype)] * (
            n_states)
        return public + [Spec(s, x.dtype) for s in saved(batch, steps, units)]
    return spec


def _backward_spec(n_saved):
    def spec(*inputs, seeds, **attrs):
        primal = inputs[sum(seeds):len(inputs) - n_saved]
        if attrs.get("masked"):
            primal = primal[:-1]  # the mask gets no gradient
        return [Spec(t.shape, t.dtype) for t in primal]
    return spec


def _after(steps):
    return None if steps is None else steps + 1


# -- kernel pieces shared by the cells ------------------------------------------------------


def _time_major(x, go_backwards, ones):
    """x [batch, time, in] as contiguous rows [time * batch, in] in processing order, with a
    column of ones after them when ``ones`` (a bias then rides along in the GEMM: measured
    on the lstm workload, adding a 2048 x 512 bias took 0.27 ms, the extra GEMM column
    nothing, and its gradient comes out of the kernel's GEMM instead of a 0.2 ms sum)."""
    batch, steps, n = x.shape
    rows = np.empty((steps, batch, n + bool(ones)), x.dtype)
    xt = x.transpose(1, 0, 2)
    rows[..., :n] = xt[::-1] if go_backwards else xt
    if ones:
        rows[..., n] = 1
    return rows.reshape(-1, n + bool(ones))


def _project(x, kernel, bias, go_backwards):
    """The input projection of all steps (plus the bias) in one GEMM, split by rows over
    the threads: [time, batch, gates] in processing order."""
    batch, steps, _ = x.shape
    x_rows = _time_major(x, go_backwards, bias is not None)
    if bias is not None:
        kernel = np.concatenate([kernel, bias[None]])
    gates = _recycled.empty((steps, batch, kernel.shape[1]), x.dtype)
    rows = gates.reshape(-1, kernel.shape[1])
    threads.run(lambda lo, hi: np.matmul(x_rows[lo:hi], kernel, out=rows[lo:hi]),
                threads.split(len(rows), 64))
    return gates


def _sigmoid_of_half(a):
    """In place: ``a`` holds x / 2 and becomes sigmoid(x) (tanh never overflows)."""
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def _halve_sigmoid_columns(w, n):
    """A copy of ``w`` with its first ``n`` (sigmoid gate) columns halved."""
    w = np.array(w)
    w[..., :n] *= 0.5
    return w


def _states(steps, batch, units, dtype, first):
    """A [time + 1, batch, units] buffer whose row 0 is the initial state."""
    buffer = _recycled.empty((steps + 1, batch, units), dtype)
    buffer[0] = first
    return buffer


def _input_grads(x, dproj, kernel, bias, go_backwards):
    """(d inputs, d kernel, d bias or None) from the gradients of the input projections,
    one GEMM each (the bias's with the kernel's, through the ones column)."""
    batch, steps, n = x.shape
    rows = dproj.reshape(-1, dproj.shape[-1])
    dkernel = _product(_time_major(x, go_backwards, bias is not None).T, rows)
    dbias = dkernel[n] if bias is not None else None
    dx = _product(rows, kernel.T).reshape(steps, batch, n)
    if go_backwards:
        dx = dx[::-1]
    return np.ascontiguousarray(dx.transpose(1, 0, 2)), dkernel[:n], dbias


def _kept_rows(mask, go_backwards):
    """Where each step keeps the previous state (its mask is False): [time, batch, 1] bool
    in processing order, or None without a mask."""
    if mask is None:
        return None
    keep = np.logical_not(np.asarray(mask, bool)).T
    if go_backwards:
        keep = keep[::-1]
    return np.ascontiguousarray(keep)[:, :, None]


def _carry(states, t, kept):
    """The masked rows of step ``t`` keep the previous states (``states``: [time + 1, ...]
    buffers)."""
    if kept is not None:
        for buffer in states:
            np.copyto(buffer[t + 1], buffer[t], where=kept[t])


def _pass_back(kept_t, saved, grads, projections):
    """Backward through a masked step: its rows pass the state gradients back unchanged
    (``saved``: the gradients before the step, restored into ``grads``) and give the
    step's projections none."""
    for before, after in zip(saved, grads):
        np.copyto(after, before, where=kept_t)
    for p in projections:
        np.copyto(p, 0, where=kept_t)


def _rows(a):
    return a.reshape(-1, a.shape[-1])


def _batch_major(hs):
    return np.ascontiguousarray(hs[1:].transpose(1, 0, 2))


def _unpack(args, seeds, n_saved):
    """(output gradients or None each, primal inputs, saved forward outputs)."""
    k = sum(seeds)
    given = iter(args[:k])
    grads = [next(given) if flag else None for flag in seeds]
    return grads, args[k:len(args) - n_saved], args[len(args) - n_saved:]


def _start(grad, batch, units, dtype):
    return np.zeros((batch, units), dtype) if grad is None else np.array(grad)


def _time_view(dout):
    return None if dout is None else dout.transpose(1, 0, 2)


# -- gradients: fused first order, composed for higher orders -------------------------------


def _fused_grad(backward, op, output_grads, n_saved):
    seeds = tuple(not _is_zero_gradient(g) for g in output_grads)
    if not any(seeds):
        return [None] * len(op.inputs)
    given = [g for g, flag in zip(output_grads, seeds) if flag]
    saved = op.outputs[len(op.outputs) - n_saved:]
    grads = list(backward(*given, *op.inputs, *saved, seeds=seeds, **op.attrs))
    return grads + [None] if op.attrs.get("masked") else grads


def _composed_grad(composed, op, ddys, n_saved):
    """The backward primitive's gradient: its maths composed from ops, differentiated under
    a tape. It depends on the saved forward outputs only through the primal inputs, so the
    composition recomputes from those and gives the saved outputs no gradient."""
    attrs = dict(op.attrs)
    seeds = attrs.pop("seeds")
    inputs = list(op.inputs)
    k = sum(seeds)
    given, primal = inputs[:k], inputs[k:len(inputs) - n_saved]
    differentiable = primal[:-1] if attrs.get("masked") else primal
    with GradientTape() as outer:
        outer.watch(given + differentiable)
        with GradientTape() as inner:
            inner.watch(differentiable)
            outs = composed(*primal, **attrs)
        used = [o for o, flag in zip(outs, seeds) if flag]
        firsts = inner.gradient(used, differentiable, output_gradients=given)
    targets, weights = [], []
    for first, ddy in zip(firsts, ddys):
        if first is not None:
            targets.append(first)
            weights.append(ddy)
    grads = outer.gradient(targets, given + differentiable, output_gradients=weights) \
        if targets else [None] * (k + len(differentiable))
    return list(grads) + [None] * (len(primal) - len(differentiable) + n_saved)


def _steps_of(x, go_backwards):
    steps = x.shape[1]
    if steps is None:
        raise NotImplementedError(
            "recurrent ops: gradients of second order and up need a known number of time "
            f"steps (inputs shape {shape_str(x.shape)})")
    xs = _array.unstack(x, num=steps, axis=1)
    return xs[::-1] if go_backwards else xs


def _step_masks(mask, x, go_backwards):
    """Per step in processing order: the mask as [batch, 1] (None each without a mask)."""
    if mask is None:
        return [None] * (x.shape[1] or 0)
    return [_array.expand_dims(m, -1) for m in _steps_of(mask, go_backwards)]


def _masked(keep, new, old):
    """``new`` where the step's mask is True, else ``old`` (composed ops)."""
    return new if keep is None else where(keep, new, old)


def _stack_time(hs, h0):
    if not hs:  # no steps: an empty [batch, 0, units]
        return _array.expand_dims(h0, 1)[:, :0]
    return _array.stack(hs, axis=1)
