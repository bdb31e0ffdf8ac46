"""The fused LSTM: forward and backward primitives, the composed reference, and the
compiled step kernels (numba; the NumPy versions give the same values)."""

from __future__ import annotations

import numpy as np

from neuroflow.backend import jit
from neuroflow.core.op import primitive
from neuroflow.ops import array as _array
from neuroflow.ops.conv_runtime import outputs as _recycled
from neuroflow.ops.linalg import _product, matmul
from neuroflow.ops.math import add, multiply, sigmoid, tanh
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
    _halve_sigmoid_columns,
    _input_grads,
    _kept_rows,
    _masked,
    _pass_back,
    _project,
    _rows,
    _stack_time,
    _start,
    _states,
    _step_masks,
    _steps_of,
    _time_view,
    _times,
    _unpack,
)

# -- LSTM -----------------------------------------------------------------------------------


def _lstm_order(units):
    """Keras's i, f, c, o columns reordered to i, f, o, c: the sigmoids side by side."""
    return np.r_[0:2 * units, 3 * units:4 * units, 2 * units:3 * units]


def _lstm_saved(batch, steps, units):
    # activated gates (i, f, o, c order), h and c with the initial state first, tanh(c)
    return [[steps, batch, _times(4, units)], [_after(steps), batch, units],
            [_after(steps), batch, units], [steps, batch, units]]


def _lstm_step_numpy(g, rec, c_prev, c, tanh_c, h):
    """One step's gate maths in place: g (x projection, sigmoid columns halved) + rec."""
    u = c.shape[1]
    g += rec
    np.tanh(g, out=g)
    sig = g[:, :3 * u]
    sig *= 0.5
    sig += 0.5
    i, f, o, cand = g[:, :u], g[:, u:2 * u], g[:, 2 * u:3 * u], g[:, 3 * u:]
    np.multiply(f, c_prev, out=c)
    np.multiply(i, cand, out=tanh_c)
    c += tanh_c
    np.tanh(c, out=tanh_c)
    np.multiply(o, tanh_c, out=h)


def _lstm_step_back_numpy(dz, g, c_prev, tanh_c, dh, dc, tmp):
    """One step of BPTT in place: dz gets the pre-activation gradients; dc becomes the
    gradient of the previous cell state."""
    u = dc.shape[1]
    i, f, o, cand = g[:, :u], g[:, u:2 * u], g[:, 2 * u:3 * u], g[:, 3 * u:]
    di, df, do, dcand = dz[:, :u], dz[:, u:2 * u], dz[:, 2 * u:3 * u], dz[:, 3 * u:]
    np.subtract(1, g[:, :3 * u], out=dz[:, :3 * u])
    dz[:, :3 * u] *= g[:, :3 * u]          # s (1 - s) for i, f, o
    np.multiply(tanh_c, tanh_c, out=tmp)
    np.subtract(1, tmp, out=tmp)
    tmp *= o
    tmp *= dh
    dc += tmp                              # through h = o tanh(c)
    do *= dh
    do *= tanh_c
    np.multiply(dc, cand, out=tmp)
    di *= tmp
    df *= dc
    df *= c_prev
    np.multiply(cand, cand, out=dcand)
    np.subtract(1, dcand, out=dcand)
    dcand *= i
    dcand *= dc
    dc *= f


@primitive("LSTM", shape=_forward_spec(4, 2, _lstm_saved), num_outputs=7,
           same_dtype=(0, 1, 2, 3, 4))  # the mask (last, when given) is bool
def _lstm(x, h0, c0, kernel, recurrent_kernel, *rest, go_backwards, masked=False):
    bias, mask = _bias_and_mask(rest, masked)
    _check(4, x.shape, [h0.shape, c0.shape], kernel.shape, recurrent_kernel.shape,
           None if bias is None else bias.shape, 0)
    batch, steps, _ = x.shape
    if mask is not None:
        _check_mask(mask.shape, batch, steps)
    units = recurrent_kernel.shape[0]
    order = _lstm_order(units)
    sig = 3 * units
    w = _halve_sigmoid_columns(kernel[:, order], sig)
    r = _halve_sigmoid_columns(recurrent_kernel[:, order], sig)
    b = None if bias is None else _halve_sigmoid_columns(bias[order], sig)
    gates = _project(x, w, b, go_backwards)
    hs = _states(steps, batch, units, x.dtype, h0)
    cs = _states(steps, batch, units, x.dtype, c0)
    tanh_cs = _recycled.empty((steps, batch, units), x.dtype)
    rec = np.empty((batch, 4 * units), x.dtype)
    kept = _kept_rows(mask, go_backwards)
    step = _lstm_step_compiled if _compiled(x.dtype) else _lstm_step_numpy
    for t in range(steps):
        np.matmul(hs[t], r, out=rec)
        step(gates[t], rec, cs[t], cs[t + 1], tanh_cs[t], hs[t + 1])
        _carry((hs, cs), t, kept)
    return _batch_major(hs), hs[steps].copy(), cs[steps].copy(), gates, hs, cs, tanh_cs


@_lstm.defgrad
def _lstm_grad(op, dout, dh, dc, *saved_grads):
    return _fused_grad(_lstm_backward, op, (dout, dh, dc), 4)


@primitive("LSTMGrad", shape=_backward_spec(4), num_outputs=None, same_dtype=False)
def _lstm_backward(*args, seeds, go_backwards, masked=False):
    (dout, dlast_h, dlast_c), primal, (gates, hs, cs, tanh_cs) = _unpack(args, seeds, 4)
    x, _, _, kernel, recurrent_kernel, *rest = primal
    bias, mask = _bias_and_mask(rest, masked)
    kept = _kept_rows(mask, go_backwards)
    steps, batch, units = tanh_cs.shape
    order = _lstm_order(units)
    r_t = np.ascontiguousarray(recurrent_kernel[:, order].T)
    dz = _recycled.empty(gates.shape, x.dtype)
    dh = _start(dlast_h, batch, units, x.dtype)
    dc = _start(dlast_c, batch, units, x.dtype)
    dout = _time_view(dout)
    tmp = np.empty((batch, units), x.dtype)
    step = _lstm_step_back_compiled if _compiled(x.dtype) else _lstm_step_back_numpy
    for t in range(steps - 1, -1, -1):
        if dout is not None:
            dh += dout[t]
        saved = (dh.copy(), dc.copy()) if kept is not None else ()
        step(dz[t], gates[t], cs[t], tanh_cs[t], dh, dc, tmp)
        np.matmul(dz[t], r_t, out=dh)
        if kept is not None:
            _pass_back(kept[t], saved, (dh, dc), (dz[t],))
    keras = np.argsort(order)
    dx, dkernel, dbias = _input_grads(x, dz, kernel[:, order], bias, go_backwards)
    drecurrent = _product(_rows(hs[:-1]).T, _rows(dz))
    grads = [dx, dh, dc, dkernel[:, keras], drecurrent[:, keras]]
    if bias is not None:
        grads.append(dbias[keras])
    return tuple(grads)


def _lstm_composed(x, h0, c0, kernel, recurrent_kernel, *rest, go_backwards, masked=False):
    """LSTM from ops, in Keras's gate order: the reference for the fused kernels."""
    bias, mask = _bias_and_mask(rest, masked)
    h, c, hs = h0, c0, []
    for xt, keep in zip(_steps_of(x, go_backwards), _step_masks(mask, x, go_backwards)):
        z = add(matmul(xt, kernel), matmul(h, recurrent_kernel))
        if bias is not None:
            z = add(z, bias)
        i, f, cand, o = _array.split(z, 4, axis=1)
        c_new = add(multiply(sigmoid(f), c), multiply(sigmoid(i), tanh(cand)))
        h = _masked(keep, multiply(sigmoid(o), tanh(c_new)), h)
        c = _masked(keep, c_new, c)
        hs.append(h)
    return _stack_time(hs, h0), h, c


@_lstm_backward.defgrad
def _lstm_backward_grad(op, *ddys):
    return _composed_grad(_lstm_composed, op, ddys, 4)


# -- compiled kernels (numba; the NumPy versions above give the same values) ---------------


def _compiled(dtype):
    return dtype in (np.float32, np.float64) and jit.available()


@jit.kernel
def _lstm_step_back_kernel(dz, g, c_prev, tanh_c, dh, dc):
    """``_lstm_step_back_numpy`` with one pass over each batch row per gate (short loops
    over few arrays, which the compiler vectorises; one loop over all of them it did not:
    13 against 24 us per step for 64 x 128 here)."""
    batch, units = dc.shape
    one = g.dtype.type(1)
    for b in range(batch):
        gates, dgates, cp, tc, dhb, dcb = g[b], dz[b], c_prev[b], tanh_c[b], dh[b], dc[b]
        i, f = gates[:units], gates[units:2 * units]
        o, cand = gates[2 * units:3 * units], gates[3 * units:]
        di, df = dgates[:units], dgates[units:2 * units]
        do, dcand = dgates[2 * units:3 * units], dgates[3 * units:]
        for j in range(units):
            dcb[j] += dhb[j] * o[j] * (one - tc[j] * tc[j])
        for j in range(units):
            do[j] = dhb[j] * tc[j] * (o[j] * (one - o[j]))
        for j in range(units):
            di[j] = dcb[j] * cand[j] * (i[j] * (one - i[j]))
        for j in range(units):
            df[j] = dcb[j] * cp[j] * (f[j] * (one - f[j]))
        for j in range(units):
            dcand[j] = dcb[j] * i[j] * (one - cand[j] * cand[j])
        for j in range(units):
            dcb[j] *= f[j]


@jit.kernel
def _lstm_cell_kernel(g, c_prev, c):
    """The sigmoid gates from their tanh (in place) and the new cell state, one pass."""
    batch, units = c.shape
    half = g.dtype.type(0.5)
    for b in range(batch):
        gates, cp, cb = g[b], c_prev[b], c[b]
        for k in range(3 * units):
            gates[k] = gates[k] * half + half
        for j in range(units):
            cb[j] = gates[units + j] * cp[j] + gates[j] * gates[3 * units + j]


def _lstm_step_compiled(g, rec, c_prev, c, tanh_c, h):
    u = c.shape[1]
    g += rec
    np.tanh(g, out=g)
    _lstm_cell_kernel(g, c_prev, c)
    np.tanh(c, out=tanh_c)
    np.multiply(g[:, 2 * u:3 * u], tanh_c, out=h)


def _lstm_step_back_compiled(dz, g, c_prev, tanh_c, dh, dc, tmp):
    _lstm_step_back_kernel(dz, g, c_prev, tanh_c, dh, dc)
