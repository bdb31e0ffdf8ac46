"""The fused fully-connected RNN: forward and backward primitives and the composed
reference."""

from __future__ import annotations

import numpy as np

from neuroflow.core.op import primitive
from neuroflow.ops.activations import relu
from neuroflow.ops.conv_runtime import outputs as _recycled
from neuroflow.ops.linalg import matmul
from neuroflow.ops.math import add, sigmoid, tanh
from neuroflow.ops.recurrent.common import (
    _after,
    _backward_spec,
    _batch_major,
    _bias_and_mask,
    _carry,
    _check,
    _check_mask,
    _composed_grad,
    _forward_spec,
    _fused_grad,
    _input_grads,
    _kept_rows,
    _masked,
    _pass_back,
    _project,
    _rows,
    _sigmoid_of_half,
    _stack_time,
    _start,
    _states,
    _step_masks,
    _steps_of,
    _time_view,
    _unpack,
)

# -- SimpleRNN ------------------------------------------------------------------------------


def _simple_rnn_saved(batch, steps, units):
    return [[_after(steps), batch, units]]  # h with the initial state first


def _activate(a, activation):
    if activation == "tanh":
        np.tanh(a, out=a)
    elif activation == "relu":
        np.maximum(a, 0, out=a)
    elif activation == "sigmoid":
        a *= 0.5
        _sigmoid_of_half(a)


def _activation_slope(h, activation, out):
    """The activation's derivative, from its output."""
    if activation == "tanh":
        np.multiply(h, h, out=out)
        np.subtract(1, out, out=out)
    elif activation == "relu":
        np.greater(h, 0, out=out, casting="unsafe")
    elif activation == "sigmoid":
        np.subtract(1, h, out=out)
        out *= h
    else:
        out.fill(1)


@primitive("SimpleRNN", shape=_forward_spec(1, 1, _simple_rnn_saved), num_outputs=3,
           same_dtype=(0, 1, 2, 3))  # the mask (last, when given) is bool
def _simple_rnn(x, h0, kernel, recurrent_kernel, *rest, activation, go_backwards,
                masked=False):
    bias, mask = _bias_and_mask(rest, masked)
    _check(1, x.shape, [h0.shape], kernel.shape, recurrent_kernel.shape,
           None if bias is None else bias.shape, 0)
    batch, steps, _ = x.shape
    if mask is not None:
        _check_mask(mask.shape, batch, steps)
    units = recurrent_kernel.shape[0]
    proj = _project(x, kernel, bias, go_backwards)
    hs = _states(steps, batch, units, x.dtype, h0)
    kept = _kept_rows(mask, go_backwards)
    for t in range(steps):
        np.matmul(hs[t], recurrent_kernel, out=hs[t + 1])
        hs[t + 1] += proj[t]
        _activate(hs[t + 1], activation)
        _carry((hs,), t, kept)
    return _batch_major(hs), hs[steps].copy(), hs


@_simple_rnn.defgrad
def _simple_rnn_grad(op, dout, dh, *saved_grads):
    return _fused_grad(_simple_rnn_backward, op, (dout, dh), 1)


@primitive("SimpleRNNGrad", shape=_backward_spec(1), num_outputs=None, same_dtype=False)
def _simple_rnn_backward(*args, seeds, activation, go_backwards, masked=False):
    (dout, dlast_h), primal, (hs,) = _unpack(args, seeds, 1)
    x, _, kernel, recurrent_kernel, *rest = primal
    bias, mask = _bias_and_mask(rest, masked)
    kept = _kept_rows(mask, go_backwards)
    steps, batch, units = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
    da = _recycled.empty((steps, batch, units), x.dtype)
    r_t = np.ascontiguousarray(recurrent_kernel.T)
    dh = _start(dlast_h, batch, units, x.dtype)
    dout = _time_view(dout)
    for t in range(steps - 1, -1, -1):
        if dout is not None:
            dh += dout[t]
        saved = (dh.copy(),) if kept is not None else ()
        _activation_slope(hs[t + 1], activation, da[t])
        da[t] *= dh
        np.matmul(da[t], r_t, out=dh)
        if kept is not None:
            _pass_back(kept[t], saved, (dh,), (da[t],))
    dx, dkernel, dbias = _input_grads(x, da, kernel, bias, go_backwards)
    grads = [dx, dh, dkernel, _rows(hs[:-1]).T @ _rows(da)]
    if bias is not None:
        grads.append(dbias)
    return tuple(grads)


def _simple_rnn_composed(x, h0, kernel, recurrent_kernel, *rest, activation, go_backwards,
                         masked=False):
    bias, mask = _bias_and_mask(rest, masked)
    act = {"tanh": tanh, "relu": relu, "sigmoid": sigmoid, "linear": lambda a: a}[activation]
    h, hs = h0, []
    for xt, keep in zip(_steps_of(x, go_backwards), _step_masks(mask, x, go_backwards)):
        a = add(matmul(xt, kernel), matmul(h, recurrent_kernel))
        h = _masked(keep, act(add(a, bias) if bias is not None else a), h)
        hs.append(h)
    return _stack_time(hs, h0), h


@_simple_rnn_backward.defgrad
def _simple_rnn_backward_grad(op, *ddys):
    return _composed_grad(_simple_rnn_composed, op, ddys, 1)
