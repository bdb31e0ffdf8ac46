"""Framing signals: ``frame`` (overlapping windows of an axis) and ``overlap_and_add``.

Frame (signal -> overlapping frames) and OverlapAdd (frames -> summed signal) are adjoint:
each is the other's gradient. A ``ref`` input carries the length to crop or pad to, so no
static length is needed. Public through ``nf.signal`` (neuroflow/ops/signal.py).
"""
from __future__ import annotations

import numpy as np

from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import shape_str


def _as_tensor(x):
    return x if hasattr(x, "dtype") else convert_to_tensor(x)


def fit_last(x, length):
    """Crops or zero-pads the last axis to ``length``."""
    if x.shape[-1] >= length:
        return x[..., :length]
    pad = [(0, 0)] * (x.ndim - 1) + [(0, length - x.shape[-1])]
    return np.pad(x, pad)


def _num_frames(length, frame_length, frame_step, pad_end):
    if length is None:
        return None
    if pad_end:
        return -(-length // frame_step)
    return max(0, 1 + (length - frame_length) // frame_step)


def _frame_array(x, frame_length, frame_step, num_frames, axis, pad_value=0):
    """(..., n, ...) -> (..., num_frames, frame_length, ...), padding the end as needed."""
    x = np.moveaxis(x, axis, -1)
    needed = (num_frames - 1) * frame_step + frame_length if num_frames else 0
    if needed > x.shape[-1]:
        tail = np.full(x.shape[:-1] + (needed - x.shape[-1],), pad_value, x.dtype)
        x = np.concatenate([x, tail], axis=-1)
    if num_frames == 0:
        out = np.zeros(x.shape[:-1] + (0, frame_length), x.dtype)
    else:
        windows = np.lib.stride_tricks.sliding_window_view(x[..., :needed], frame_length, -1)
        out = windows[..., ::frame_step, :]
    return np.moveaxis(out, (-2, -1), (axis, axis + 1)).copy()


def _overlap_add_array(frames, frame_step, axis, length=None):
    """(..., F, L, ...) -> (..., (F - 1) * step + L, ...) summing overlaps; then fit to length."""
    f = np.moveaxis(frames, (axis, axis + 1), (-2, -1))
    count, frame_length = f.shape[-2:]
    full = (count - 1) * frame_step + frame_length if count else 0
    # split each frame into k blocks of one step: block j of frame i lands on block i + j
    k = -(-frame_length // frame_step)
    pad = [(0, 0)] * (f.ndim - 1) + [(0, k * frame_step - frame_length)]
    blocks = np.pad(f, pad).reshape(f.shape[:-2] + (count, k, frame_step))
    out = np.zeros(f.shape[:-2] + (count + k - 1, frame_step), f.dtype)
    for j in range(k):
        out[..., j:j + count, :] += blocks[..., j, :]
    out = out.reshape(f.shape[:-2] + (-1,))[..., :full]
    if length is not None:
        out = fit_last(out, length)
    return np.ascontiguousarray(np.moveaxis(out, -1, axis))


def _frame_spec(x, frame_length, frame_step, pad_end, pad_value, axis):
    if x.shape.rank is None:
        return Spec(None, x.dtype)
    count = _num_frames(x.shape[axis], frame_length, frame_step, pad_end)
    return Spec(list(x.shape[:axis]) + [count, frame_length] + list(x.shape[axis + 1:]),
                x.dtype)


@primitive("Frame", shape=_frame_spec)
def _frame(x, frame_length, frame_step, pad_end, pad_value, axis):
    count = _num_frames(x.shape[axis], frame_length, frame_step, pad_end)
    return _frame_array(x, frame_length, frame_step, count, axis, pad_value)


@_frame.defgrad
def _frame_grad(op, dy):
    a = op.attrs
    return [_overlap_add(dy, op.inputs[0], frame_step=a["frame_step"], axis=a["axis"])]


def _overlap_add_spec(frames, *ref, frame_step, axis):
    if frames.shape.rank is None:
        return Spec(None, frames.dtype)
    if ref:
        length = ref[0].shape[axis] if ref[0].shape.rank is not None else None
    else:
        count, frame_length = frames.shape[axis], frames.shape[axis + 1]
        length = None
        if count is not None and frame_length is not None:
            length = (count - 1) * frame_step + frame_length if count else 0
    return Spec(list(frames.shape[:axis]) + [length] + list(frames.shape[axis + 2:]),
                frames.dtype)


@primitive("OverlapAdd", shape=_overlap_add_spec, same_dtype=False, shape_inputs=(1,))
def _overlap_add(frames, *ref, frame_step, axis):
    length = ref[0].shape[axis] if ref else None
    return _overlap_add_array(frames, frame_step, axis, length)


@_overlap_add.defgrad
def _overlap_add_grad(op, dy):
    frames = op.inputs[0]
    a = op.attrs
    return [_frame_like(dy, frames, frame_step=a["frame_step"], axis=a["axis"])] + \
        [None] * (len(op.inputs) - 1)


@primitive("FrameLike", shape=lambda x, ref, frame_step, axis: Spec(ref.shape, x.dtype),
           same_dtype=False, shape_inputs=(1,))
def _frame_like(x, ref, frame_step, axis):
    """Frames ``x`` into ``ref``'s frame count and length (zero-padding or cropping x)."""
    count, frame_length = ref.shape[axis], ref.shape[axis + 1]
    needed = (count - 1) * frame_step + frame_length if count else 0
    x = np.moveaxis(fit_last(np.moveaxis(x, axis, -1), max(needed, 0)), -1, axis)
    return _frame_array(x, frame_length, frame_step, count, axis)


@_frame_like.defgrad
def _frame_like_grad(op, dy):
    a = op.attrs
    return [_overlap_add(dy, op.inputs[0], frame_step=a["frame_step"], axis=a["axis"]), None]


def _positive_int(value, what):
    if hasattr(value, "numpy"):
        value = value.numpy()
    value = int(value)
    if value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value}")
    return value


def _known_rank(x, what):
    if x.shape.rank is None:
        raise ValueError(f"{what} needs an input of known rank")
    return x.shape.rank


def frame(signal, frame_length, frame_step, pad_end=False, pad_value=0, axis=-1, name=None):
    """Splits ``axis`` into overlapping frames: (..., n, ...) -> (..., frames, length, ...).

    Without ``pad_end`` only whole frames are kept (1 + (n - length) // step of them); with
    it the end is padded with ``pad_value`` to give ceil(n / step) frames.

    >>> nf.signal.frame(nf.range(6), frame_length=3, frame_step=2).numpy()
    array([[0, 1, 2],
           [2, 3, 4]], dtype=int32)
    """
    signal = _as_tensor(signal)
    rank = _known_rank(signal, "frame")
    if not -rank <= axis < rank:
        raise ValueError(f"frame: axis {axis} is out of range for a signal of shape "
                         f"{shape_str(signal.shape)}")
    if hasattr(pad_value, "numpy"):
        pad_value = pad_value.numpy()
    return _frame(signal, frame_length=_positive_int(frame_length, "frame_length"),
                  frame_step=_positive_int(frame_step, "frame_step"), pad_end=bool(pad_end),
                  pad_value=pad_value.item() if hasattr(pad_value, "item") else pad_value,
                  axis=axis % rank, name=name)


def overlap_and_add(signal, frame_step, name=None):
    """Sums overlapping frames back into a signal: (..., frames, length) -> (..., n).

    n = (frames - 1) * frame_step + length; the adjoint of ``frame``.

    >>> nf.signal.overlap_and_add(nf.ones([3, 4]), frame_step=2).numpy()
    array([1., 1., 2., 2., 2., 2., 1., 1.], dtype=float32)
    """
    signal = _as_tensor(signal)
    rank = _known_rank(signal, "overlap_and_add")
    if rank < 2:
        raise ValueError(f"overlap_and_add needs a signal of rank >= 2, got shape "
                         f"{shape_str(signal.shape)}")
    return _overlap_add(signal, frame_step=_positive_int(frame_step, "frame_step"),
                        axis=rank - 2, name=name)


__all__ = ["frame", "overlap_and_add"]
