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


def _split_inputs(inputs, n_states):
    x, states = inputs[0], inputs[1:1 + n_states]
    kernel, recurrent, *bias = inputs[1 + n_states:]
    return x, states, kernel, recurrent, (bias[0] if bias else None)


def _forward_spec(gates, n_states, saved, bias_rows=0):
    """A forward shape rule; ``saved(batch, time, units)`` gives the extra outputs' shapes."""
    def spec(*inputs, **attrs):
        x, states, kernel, recurrent, bias = _split_inputs(inputs, n_states)
        rows = bias_rows(attrs) if callable(bias_rows) else bias_rows
        batch, steps, units = _check(gates, x.shape, [s.shape for s in states], kernel.shape,
                                     recurrent.shape, None if bias is None else bias.shape,
                                     rows)
        public = [Spec([batch, steps, units], x.dtype)] + [Spec([batch, units], x.dtype)] * (
            n_states)
        return public + [Spec(s, x.dtype) for s in saved(batch, steps, units)]
    return spec


def _backward_spec(n_saved):
    def spec(*inputs, seeds, **attrs):
        primal = inputs[sum(seeds):len(inputs) - n_saved]
        return [Spec(t.shape, t.dtype) for t in primal]
    return spec


def _after(steps):
    return None if steps is None else steps + 1


# -- kernel pieces shared by the cells ------------------------------------------------------


def _time_major(x, go_backwards):
    """x [batch, time, in] as a contiguous [time * batch, in], in processing order."""
    xt = x.transpose(1, 0, 2)
    if go_backwards:
        xt = xt[::-1]
    return np.ascontiguousarray(xt).reshape(-1, x.shape[2])


def _project(x_rows, kernel, bias, steps, batch):
    """The input projection of all steps in one GEMM (split by rows over the threads):
    [time, batch, gates]."""
    gates = _recycled.empty((steps, batch, kernel.shape[1]), x_rows.dtype)
    rows = gates.reshape(-1, kernel.shape[1])

    def part(lo, hi):
        np.matmul(x_rows[lo:hi], kernel, out=rows[lo:hi])
        if bias is not None:
            rows[lo:hi] += bias
    threads.run(part, threads.split(len(rows), 64))
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


def _input_grads(x_rows, dproj, kernel, x_shape, go_backwards):
    """d kernel and d inputs from the gradients of the input projections (one GEMM each)."""
    rows = dproj.reshape(-1, dproj.shape[-1])
    dkernel = _product(x_rows.T, rows)
    dx = _product(rows, kernel.T).reshape(x_shape[1], x_shape[0], x_shape[2])
    if go_backwards:
        dx = dx[::-1]
    return np.ascontiguousarray(dx.transpose(1, 0, 2)), dkernel


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
    grads = backward(*given, *op.inputs, *saved, seeds=seeds, **op.attrs)
    return list(grads)


def _composed_grad(composed, op, ddys, n_saved):
    """The backward primitive's gradient: its maths composed from ops, differentiated under
    a tape. It depends on the saved forward outputs only through the primal inputs, so the
    composition recomputes from those and gives the saved outputs no gradient."""
    attrs = dict(op.attrs)
    seeds = attrs.pop("seeds")
    inputs = list(op.inputs)
    k = sum(seeds)
    given, primal = inputs[:k], inputs[k:len(inputs) - n_saved]
    with GradientTape() as outer:
        outer.watch(given + primal)
        with GradientTape() as inner:
            inner.watch(primal)
            outs = composed(*primal, **attrs)
        used = [o for o, flag in zip(outs, seeds) if flag]
        firsts = inner.gradient(used, primal, output_gradients=given)
    targets, weights = [], []
    for first, ddy in zip(firsts, ddys):
        if first is not None:
            targets.append(first)
            weights.append(ddy)
    grads = outer.gradient(targets, given + primal, output_gradients=weights) if targets \
        else [None] * (k + len(primal))
    return list(grads) + [None] * n_saved


def _steps_of(x, go_backwards):
    steps = x.shape[1]
    if steps is None:
        raise NotImplementedError(
            "recurrent ops: gradients of second order and up need a known number of time "
            f"steps (inputs shape {shape_str(x.shape)})")
    xs = _array.unstack(x, num=steps, axis=1)
    return xs[::-1] if go_backwards else xs


def _stack_time(hs, h0):
    if not hs:  # no steps: an empty [batch, 0, units]
        return _array.expand_dims(h0, 1)[:, :0]
    return _array.stack(hs, axis=1)
