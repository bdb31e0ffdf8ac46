"""The fused GRU (Keras's, reset_after or not): forward and backward primitives and the
composed reference."""

from __future__ import annotations

import numpy as np

from neuroflow.core.op import primitive
from neuroflow.ops import array as _array
from neuroflow.ops.conv_runtime import outputs as _recycled
from neuroflow.ops.linalg import _product, matmul
from neuroflow.ops.math import add, multiply, sigmoid, subtract, tanh
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
    _sigmoid_of_half,
    _stack_time,
    _start,
    _states,
    _step_masks,
    _steps_of,
    _time_view,
    _times,
    _unpack,
)

# -- GRU ------------------------------------------------------------------------------------


def _gru_saved(batch, steps, units):
    # activated gates (z, r, hh), h with the initial state first, and per step the
    # recurrent part of the candidate (h Uh + b_rec_h; reset_after) or r * h (reset before)
    return [[steps, batch, _times(3, units)], [_after(steps), batch, units],
            [steps, batch, units]]


def _gru_bias_rows(attrs):
    return 2 if attrs["reset_after"] else 0


def _gru_mix(z, hh, h_prev, h, tmp):
    """h = z h_prev + (1 - z) hh, as hh + z (h_prev - hh)."""
    np.subtract(h_prev, hh, out=tmp)
    tmp *= z
    np.add(hh, tmp, out=h)


@primitive("GRU", shape=_forward_spec(3, 1, _gru_saved, _gru_bias_rows), num_outputs=5,
           same_dtype=(0, 1, 2, 3))  # the mask (last, when given) is bool
def _gru(x, h0, kernel, recurrent_kernel, *rest, reset_after, go_backwards, masked=False):
    bias, mask = _bias_and_mask(rest, masked)
    _check(3, x.shape, [h0.shape], kernel.shape, recurrent_kernel.shape,
           None if bias is None else bias.shape, 2 if reset_after else 0)
    batch, steps, _ = x.shape
    if mask is not None:
        _check_mask(mask.shape, batch, steps)
    units = recurrent_kernel.shape[0]
    sig = 2 * units
    w = _halve_sigmoid_columns(kernel, sig)
    b_in = b_rec = None
    if bias is not None:
        b = _halve_sigmoid_columns(bias, sig)
        b_in, b_rec = (b[0], b[1]) if reset_after else (b, None)
    gates = _project(x, w, b_in, go_backwards)
    hs = _states(steps, batch, units, x.dtype, h0)
    extra = _recycled.empty((steps, batch, units), x.dtype)
    tmp = np.empty((batch, units), x.dtype)
    if reset_after:
        r = _halve_sigmoid_columns(recurrent_kernel, sig)
        rec = np.empty((batch, 3 * units), x.dtype)
    else:
        r = _halve_sigmoid_columns(recurrent_kernel[:, :sig], sig)
        r_h = np.ascontiguousarray(recurrent_kernel[:, sig:])
        rec = np.empty((batch, sig), x.dtype)
    kept = _kept_rows(mask, go_backwards)
    for t in range(steps):
        g, h_prev = gates[t], hs[t]
        z, reset, hh = g[:, :units], g[:, units:sig], g[:, sig:]
        np.matmul(h_prev, r, out=rec)
        if b_rec is not None:
            rec += b_rec
        g[:, :sig] += rec[:, :sig]
        _sigmoid_of_half(g[:, :sig])
        if reset_after:
            extra[t] = rec[:, sig:]
            np.multiply(reset, extra[t], out=tmp)
        else:
            np.multiply(reset, h_prev, out=extra[t])
            np.matmul(extra[t], r_h, out=tmp)
        hh += tmp
        np.tanh(hh, out=hh)
        _gru_mix(z, hh, h_prev, hs[t + 1], tmp)
        _carry((hs,), t, kept)
    return _batch_major(hs), hs[steps].copy(), gates, hs, extra


@_gru.defgrad
def _gru_grad(op, dout, dh, *saved_grads):
    return _fused_grad(_gru_backward, op, (dout, dh), 3)


@primitive("GRUGrad", shape=_backward_spec(3), num_outputs=None, same_dtype=False)
def _gru_backward(*args, seeds, reset_after, go_backwards, masked=False):
    (dout, dlast_h), primal, (gates, hs, extra) = _unpack(args, seeds, 3)
    x, _, kernel, recurrent_kernel, *rest = primal
    bias, mask = _bias_and_mask(rest, masked)
    kept = _kept_rows(mask, go_backwards)
    steps, batch, units = extra.shape
    sig = 2 * units
    dg = _recycled.empty(gates.shape, x.dtype)  # w.r.t. the input projections
    drec = _recycled.empty(gates.shape, x.dtype) if reset_after else None
    if reset_after:
        r_t = np.ascontiguousarray(recurrent_kernel.T)
    else:
        r_t = np.ascontiguousarray(recurrent_kernel[:, :sig].T)
        r_h_t = np.ascontiguousarray(recurrent_kernel[:, sig:].T)
        d_rh = np.empty((batch, units), x.dtype)
    dh = _start(dlast_h, batch, units, x.dtype)
    dout = _time_view(dout)
    tmp, direct = np.empty((batch, units), x.dtype), np.empty((batch, units), x.dtype)
    for t in range(steps - 1, -1, -1):
        if dout is not None:
            dh += dout[t]
        saved = (dh.copy(),) if kept is not None else ()
        g, d, h_prev = gates[t], dg[t], hs[t]
        z, reset, hh = g[:, :units], g[:, units:sig], g[:, sig:]
        dz, dr, dhh = d[:, :units], d[:, units:sig], d[:, sig:]
        np.subtract(1, g[:, :sig], out=d[:, :sig])
        d[:, :sig] *= g[:, :sig]               # s (1 - s) for z and r
        np.subtract(h_prev, hh, out=tmp)
        tmp *= dh
        dz *= tmp
        np.subtract(1, z, out=dhh)
        dhh *= dh
        np.multiply(hh, hh, out=tmp)
        np.subtract(1, tmp, out=tmp)
        dhh *= tmp                             # through hh = tanh(.)
        np.multiply(dh, z, out=direct)
        if reset_after:
            dr *= dhh
            dr *= extra[t]
            drec[t, :, :sig] = d[:, :sig]
            np.multiply(dhh, reset, out=drec[t, :, sig:])
            np.matmul(drec[t], r_t, out=dh)
        else:
            np.matmul(dhh, r_h_t, out=d_rh)
            dr *= d_rh
            dr *= h_prev
            np.matmul(d[:, :sig], r_t, out=dh)
            d_rh *= reset
            dh += d_rh
        dh += direct
        if kept is not None:
            _pass_back(kept[t], saved, (dh,), (d,) + ((drec[t],) if reset_after else ()))
    dx, dkernel, db = _input_grads(x, dg, kernel, bias, go_backwards)
    h_rows = _rows(hs[:-1])
    if reset_after:
        drecurrent = _product(h_rows.T, _rows(drec))
    else:
        drecurrent = np.concatenate([h_rows.T @ _rows(dg[:, :, :sig]),
                                     _rows(extra).T @ _rows(dg[:, :, sig:])], axis=1)
    grads = [dx, dh, dkernel, drecurrent]
    if bias is not None:
        grads.append(np.stack([db, _rows(drec).sum(axis=0)]) if reset_after else db)
    return tuple(grads)


def _gru_composed(x, h0, kernel, recurrent_kernel, *rest, reset_after, go_backwards,
                  masked=False):
    """GRU from ops, as Keras computes it: the reference for the fused kernels."""
    bias, mask = _bias_and_mask(rest, masked)
    units = recurrent_kernel.shape[0]
    b_in = b_rec = None
    if bias is not None:
        b_in, b_rec = _array.unstack(bias, num=2) if reset_after else (bias, None)
    if not reset_after:
        r_zr, r_h = _array.split(recurrent_kernel, [2 * units, units], axis=1)
    h, hs = h0, []
    for xt, keep in zip(_steps_of(x, go_backwards), _step_masks(mask, x, go_backwards)):
        xz = matmul(xt, kernel)
        if b_in is not None:
            xz = add(xz, b_in)
        x_z, x_r, x_h = _array.split(xz, 3, axis=1)
        if reset_after:
            hr = matmul(h, recurrent_kernel)
            if b_rec is not None:
                hr = add(hr, b_rec)
            h_z, h_r, h_h = _array.split(hr, 3, axis=1)
            z, r = sigmoid(add(x_z, h_z)), sigmoid(add(x_r, h_r))
            hh = tanh(add(x_h, multiply(r, h_h)))
        else:
            h_z, h_r = _array.split(matmul(h, r_zr), 2, axis=1)
            z, r = sigmoid(add(x_z, h_z)), sigmoid(add(x_r, h_r))
            hh = tanh(add(x_h, matmul(multiply(r, h), r_h)))
        h = _masked(keep, add(multiply(z, h), multiply(subtract(1.0, z), hh)), h)
        hs.append(h)
    return _stack_time(hs, h0), h


@_gru_backward.defgrad
def _gru_backward_grad(op, *ddys):
    return _composed_grad(_gru_composed, op, ddys, 3)
