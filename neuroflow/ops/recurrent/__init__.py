"""Fused whole-sequence recurrent primitives: ``lstm``, ``gru`` and ``simple_rnn`` (Keras's
``LSTM``, ``GRU`` and ``SimpleRNN`` layers call them), weights in Keras's layout.

Each cell is two primitives. The forward one projects the inputs of every step with one
GEMM before the time loop, then runs one GEMM per step (``h @ recurrent_kernel``, all gates
at once) into preallocated buffers, and returns, besides the outputs and the last state,
what its gradient needs (activated gates, states per step) as extra outputs, like
``LayerNorm``'s mean and rstd. The backward one runs backpropagation through time, one
GEMM per step, and forms the gradients of the kernel, the recurrent kernel, the bias and
the inputs with one GEMM or sum each over all steps. Its own gradient (second order and
up) differentiates the cell composed from ordinary ops (``_*_composed``) under a tape, so
higher orders are exact without hand-written second derivatives; the tests check the fused
kernels against that composition.

Internally gates are kept time-major ([time, batch, gates]); the LSTM's are reordered to
i, f, o, c so that its three sigmoids are one contiguous slice, and sigmoid columns of the
weights are pre-scaled by 1/2: sigmoid(x) = (1 + tanh(x / 2)) / 2 then needs one tanh over
all gates and never overflows. With numba (``backend.jit``; ``NEUROFLOW_JIT=0`` turns it
off) the LSTM's per-step backward maths is one compiled pass, and its forward step's
cell update another (the tanh stays NumPy's, whose SIMD beats numba's scalar one); the
NumPy versions give the same values and are tested against them.
"""

from __future__ import annotations

from neuroflow.backend import dtypes
from neuroflow.core.op import convert_to_tensor
from neuroflow.ops.recurrent.common import _ACTIVATIONS
from neuroflow.ops.recurrent.gru_cell import _gru
from neuroflow.ops.recurrent.lstm_cell import _lstm
from neuroflow.ops.recurrent.simple_rnn_cell import _simple_rnn

# -- public ---------------------------------------------------------------------------------


def _tensors(op, values):
    first = values[0] if hasattr(values[0], "dtype") else convert_to_tensor(values[0])
    out = [first]
    for v in values[1:]:
        out.append(v if hasattr(v, "dtype") else convert_to_tensor(v, dtype=first.dtype))
    if not dtypes.as_dtype(first.dtype).is_floating:
        raise TypeError(f"{op} expects floating inputs, got "
                        f"{dtypes.as_dtype(first.dtype).name}")
    for v in out[1:]:
        if dtypes.as_dtype(v.dtype) != dtypes.as_dtype(first.dtype):
            raise TypeError(f"{op}: every input must have the inputs' dtype "
                            f"{dtypes.as_dtype(first.dtype).name}, got "
                            f"{dtypes.as_dtype(v.dtype).name}")
    return out


def _mask_args(mask):
    """The extra input and attribute of a masked call: ([mask as bool], {"masked": True})."""
    if mask is None:
        return [], {}
    if not hasattr(mask, "dtype"):
        mask = convert_to_tensor(mask)
    if dtypes.as_dtype(mask.dtype) != dtypes.bool_:
        from neuroflow.ops.math import cast
        mask = cast(mask, dtypes.bool_)
    return [mask], {"masked": True}


def lstm(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias=None,
         go_backwards=False, mask=None, name=None):
    """A whole LSTM sequence in one fused op; weights in Keras's layout (gates i, f, c, o):
    kernel [input_dim, 4 units], recurrent_kernel [units, 4 units], bias [4 units] or None.
    ``mask`` ([batch, time] bool): at a False step a row keeps its state (and its output
    repeats the previous one), as Keras's recurrent layers skip masked steps.

    Returns (outputs [batch, time, units] in processing order, last h, last c).

    >>> out, h, c = recurrent.lstm(x, h0, c0, kernel, recurrent_kernel, bias)
    >>> out.shape   # [batch, time, units]
    """
    args = _tensors("lstm", [inputs, initial_h, initial_c, kernel, recurrent_kernel]
                    + ([] if bias is None else [bias]))
    extra, attrs = _mask_args(mask)
    outs = _lstm(*args, *extra, go_backwards=bool(go_backwards), name=name, **attrs)
    return outs[0], outs[1], outs[2]


def gru(inputs, initial_h, kernel, recurrent_kernel, bias=None, reset_after=True,
        go_backwards=False, mask=None, name=None):
    """A whole GRU sequence in one fused op; weights in Keras's layout (gates z, r, h):
    kernel [input_dim, 3 units], recurrent_kernel [units, 3 units], bias [2, 3 units]
    (input and recurrent rows) with ``reset_after``, else [3 units]; or None. ``mask``
    as in ``lstm``.

    >>> out, h = recurrent.gru(x, h0, kernel, recurrent_kernel, bias)
    >>> out.shape   # [batch, time, units]
    """
    args = _tensors("gru", [inputs, initial_h, kernel, recurrent_kernel]
                    + ([] if bias is None else [bias]))
    extra, attrs = _mask_args(mask)
    outs = _gru(*args, *extra, reset_after=bool(reset_after),
                go_backwards=bool(go_backwards), name=name, **attrs)
    return outs[0], outs[1]


def simple_rnn(inputs, initial_h, kernel, recurrent_kernel, bias=None, activation="tanh",
               go_backwards=False, mask=None, name=None):
    """A whole fully-connected RNN sequence in one fused op: h = activation(x kernel +
    h recurrent_kernel + bias); activation "tanh", "relu", "sigmoid" or "linear" (None).
    ``mask`` as in ``lstm``.

    >>> out, h = recurrent.simple_rnn(x, h0, kernel, recurrent_kernel, bias, "relu")
    >>> out.shape   # [batch, time, units]
    """
    activation = "linear" if activation is None else activation
    if activation not in _ACTIVATIONS:
        raise ValueError(f"simple_rnn: activation must be one of {', '.join(_ACTIVATIONS)} "
                         f"(or None), got {activation!r}")
    args = _tensors("simple_rnn", [inputs, initial_h, kernel, recurrent_kernel]
                    + ([] if bias is None else [bias]))
    extra, attrs = _mask_args(mask)
    outs = _simple_rnn(*args, *extra, activation=activation,
                       go_backwards=bool(go_backwards), name=name, **attrs)
    return outs[0], outs[1]


__all__ = ["lstm", "gru", "simple_rnn"]
