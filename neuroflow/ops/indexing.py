"""NumPy-style indexing of tensors (``x[1:, None, idx]``): one primitive, ``Index``, does basic
and advanced indexing; its gradient is the scatter-add primitive ``IndexAdd``, whose gradient
is ``Index`` again, so gradients of any order work. Gathers (``ops/gather.py``) build on both.

A key is encoded as a tuple of entries; static parts are attributes, tensors (index arrays,
masks, bounds known only at run time) are extra inputs called operands:

- ``("int", i)``: an integer index; ``i`` is an int or ``("in", k)`` for operand k
- ``("slice", start, stop, step)``: each None, an int or ``("in", k)``
- ``("new",)``, ``("ellipsis",)``: ``None`` (nf.newaxis) and ``...``
- ``("array", k, component, strict)``: integer array operand k, or ``operand[..., component]``;
  ``strict`` applies TF's gather bounds (no negative indices)
- ``("bool", k)``: boolean mask operand k, spanning as many dims as it has
- ``("range", p, r)``: ``arange`` over this dim, shaped to broadcast as axis p of r dims
  (the batch dims of batched gathers)
"""
from __future__ import annotations

import builtins

import numpy as np

from neuroflow.core.op import CONST, Spec, primitive
from neuroflow.core.tensor import SymbolicTensor, Tensor, TensorShape, shape_str
from neuroflow.ops.shapes import broadcast_shapes

newaxis = None
_ADVANCED = ("array", "bool", "range")


# -- the layout of a key ------------------------------------------------------------------


def _consumed(entry, mask_rank):
    kind = entry[0]
    if kind in ("new", "ellipsis"):
        return 0
    return mask_rank(entry[1]) if kind == "bool" else 1


def _entry_dims(key, rank, mask_rank):
    """The first dim each entry indexes, the dims the ellipsis spans, and the dims covered."""
    used = sum(_consumed(e, mask_rank) for e in key)
    if used > rank:
        raise IndexError(f"too many indices: {used} dims indexed in a tensor of rank {rank}")
    fill = rank - used
    dims = []
    d = 0
    for e in key:
        dims.append(d)
        d += fill if e[0] == "ellipsis" else _consumed(e, mask_rank)
    return dims, fill, d


def _slice_length(n, bounds):
    if n is None or any(isinstance(b, tuple) for b in bounds):
        return None
    return len(builtins.range(*builtins.slice(*bounds).indices(n)))


def _check_int(i, n, d):
    if n is not None and not -n <= i < n:
        raise IndexError(f"index {i} is out of bounds for dimension {d} with size {n}")


def indexed_shape(shape, key, operand_shapes, mask_counts) -> TensorShape:
    """The shape of ``x[key]`` for ``x`` of ``shape``, following NumPy's rules (advanced
    indices side by side replace their dims in place, otherwise they go first); dims may be
    None. ``mask_counts`` maps mask operands to their number of True values, when known."""
    shape = TensorShape(shape)
    operand_shapes = [TensorShape(s) for s in operand_shapes]
    if shape.rank is None or any(e[0] == "bool" and operand_shapes[e[1]].rank is None
                                 for e in key):
        return TensorShape(None)
    dims, fill, covered = _entry_dims(key, len(shape), lambda k: len(operand_shapes[k]))
    advanced = any(e[0] in _ADVANCED for e in key)
    out, adv_shapes, adv_entries, adv_at = [], [], [], None
    for j, (e, d) in enumerate(zip(key, dims)):
        kind, adv = e[0], None
        if kind == "ellipsis":
            out.extend(shape[d:d + fill])
        elif kind == "new":
            out.append(1)
        elif kind == "slice":
            if e[3] == 0:
                raise ValueError("slice step cannot be zero")
            out.append(_slice_length(shape[d], e[1:]))
        elif kind == "int":
            if isinstance(e[1], int):
                _check_int(e[1], shape[d], d)
            adv = () if advanced else None
        elif kind == "array":
            s = operand_shapes[e[1]]
            adv = s[:-1] if e[2] is not None and s.rank is not None else s
        elif kind == "bool":
            mask = operand_shapes[e[1]]
            if not TensorShape(shape[d:d + len(mask)]).is_compatible_with(mask):
                raise IndexError(f"boolean index of shape {shape_str(mask)} does not match "
                                 f"dims {d}..{d + len(mask) - 1} of a tensor of shape "
                                 f"{shape_str(shape)}")
            adv = (mask_counts.get(e[1]),)
        else:  # range
            adv = (1,) * e[1] + (shape[d],) + (1,) * (e[2] - e[1] - 1)
        if adv is not None:
            adv_shapes.append(adv)
            adv_entries.append(j)
            adv_at = len(out) if adv_at is None else adv_at
    if not any(e[0] == "ellipsis" for e in key):
        out.extend(shape[covered:])
    if adv_shapes:
        try:
            together = broadcast_shapes(*adv_shapes)
        except ValueError:
            raise IndexError("shape mismatch: indexing arrays could not be broadcast "
                             "together with shapes "
                             + " ".join(shape_str(s) for s in adv_shapes)) from None
        if together.rank is None:
            return TensorShape(None)
        if adv_entries == list(builtins.range(adv_entries[0], adv_entries[-1] + 1)):
            out = out[:adv_at] + list(together) + out[adv_at:]
        else:
            out = list(together) + out
    return TensorShape(out)


def _value(v, operands):
    return int(operands[v[1]]) if isinstance(v, tuple) else v


def _check_strict(indices, n, d, component):
    bad = (indices < 0) | (indices >= n)
    if np.any(bad):
        where = np.argwhere(bad)[0]
        value = indices[tuple(where)]
        where = list(where) + ([] if component is None else [component])
        raise IndexError(f"indices[{','.join(str(i) for i in where)}] = {value} is not in "
                         f"[0, {n}) (dimension {d})")


def _numpy_key(key, operands, shape):
    """The NumPy index for ``key`` applied to an array of ``shape``."""
    dims, _, _ = _entry_dims(key, len(shape), lambda k: np.ndim(operands[k]))
    out = []
    for e, d in zip(key, dims):
        kind = e[0]
        if kind == "int":
            i = _value(e[1], operands)
            _check_int(i, shape[d], d)
            out.append(i)
        elif kind == "slice":
            out.append(builtins.slice(*(None if b is None else _value(b, operands)
                                        for b in e[1:])))
        elif kind == "new":
            out.append(None)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "array":
            a = operands[e[1]] if e[2] is None else operands[e[1]][..., e[2]]
            if e[3]:
                _check_strict(a, shape[d], d, e[2])
            out.append(a)
        elif kind == "bool":
            mask = operands[e[1]]
            if mask.shape != tuple(shape[d:d + mask.ndim]):
                raise IndexError(f"boolean index of shape {shape_str(mask.shape)} does not "
                                 f"match dims {d}..{d + mask.ndim - 1} of a tensor of shape "
                                 f"{shape_str(shape)}")
            out.append(mask)
        else:  # range
            p, r = e[1], e[2]
            out.append(np.arange(shape[d]).reshape((1,) * p + (-1,) + (1,) * (r - p - 1)))
    return tuple(out)


def _concrete_key(key, operands):
    """``key`` with the scalar operands (int indices, slice bounds) put in as ints."""
    out = []
    for e in key:
        if e[0] in ("int", "slice"):
            e = (e[0],) + tuple(_value(v, operands) if isinstance(v, tuple) else v
                                for v in e[1:])
        out.append(e)
    return tuple(out)


def _mask_counts(key, operands, concrete):
    counts = {}
    for e in key:
        if e[0] == "bool":
            v = operands[e[1]]
            if not concrete:
                v = v.op.attrs["value"] if v.op.op_def is CONST else None
            if v is not None:
                counts[e[1]] = int(np.count_nonzero(v))
    return counts


# -- the primitives -----------------------------------------------------------------------


def _index_spec(x, *operands, key):
    return Spec(indexed_shape(x.shape, key, [o.shape for o in operands],
                              _mask_counts(key, operands, False)), x.dtype)


@primitive("Index", shape=_index_spec, same_dtype=False, view=True)
def _index(x, *operands, key):
    out = x[_numpy_key(key, operands, x.shape)]
    return out if isinstance(out, np.ndarray) else np.asarray(out)


@_index.defgrad
def _index_grad(op, dy):
    from neuroflow.ops.array import shape
    x, *operands = op.inputs
    return [_index_add(dy, shape(x), *operands, key=op.attrs["key"])] + [None] * len(operands)


def _index_add_spec(updates, shape, *operands, key):
    from neuroflow.ops.array import constant_value_as_shape
    out = constant_value_as_shape(shape)
    want = indexed_shape(out, key, [o.shape for o in operands],
                         _mask_counts(key, operands, False))
    if not want.is_compatible_with(updates.shape):
        raise ValueError(f"updates of shape {shape_str(updates.shape)} do not fit the "
                         f"indexed part, of shape {shape_str(want)}, of a tensor of shape "
                         f"{shape_str(out)}")
    return Spec(out, updates.dtype)


@primitive("IndexAdd", shape=_index_add_spec, same_dtype=False)
def _index_add(updates, shape, *operands, key):
    """Zeros of ``shape`` with ``updates`` added at ``[key]``; repeated indices add up."""
    shape = tuple(int(d) for d in shape)
    want = indexed_shape(shape, _concrete_key(key, operands), [np.shape(o) for o in operands],
                         _mask_counts(key, operands, True))
    if tuple(want) != updates.shape:
        raise ValueError(f"updates of shape {shape_str(updates.shape)} do not fit the "
                         f"indexed part, of shape {shape_str(want)}, of a tensor of shape "
                         f"{shape_str(shape)}")
    out = np.zeros(shape, updates.dtype)
    np_key = _numpy_key(key, operands, shape)
    if any(e[0] in _ADVANCED for e in key):
        np.add.at(out, np_key, updates)
    else:  # basic indexing never selects an element twice
        out[np_key] = updates
    return out


@_index_add.defgrad
def _index_add_grad(op, dy):
    operands = op.inputs[2:]
    return [_index(dy, *operands, key=op.attrs["key"]), None] + [None] * len(operands)


# -- parsing Python keys ------------------------------------------------------------------

_KEY_HELP = ("only integers, slices (`:`), ellipsis (`...`), nf.newaxis (`None`) and integer "
             "or boolean arrays or tensors are valid indices")


def _is_symbolic(v):
    from neuroflow.core.context import ctx
    return isinstance(v, SymbolicTensor) or (hasattr(v, "_nf_variable")
                                             and ctx.graph is not None)


def _as_array(k):
    if isinstance(k, Tensor) or hasattr(k, "_nf_variable"):
        return np.asarray(k)
    arr = np.asarray(k)
    if arr.dtype == object:
        raise TypeError(f"{_KEY_HELP}; got {k!r}")
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.intp)  # x[[]] selects nothing
    return arr


def _parse_key(key):
    if not isinstance(key, tuple):
        key = (key,)
    entries, operands = [], []

    def operand(v):
        operands.append(v)
        return len(operands) - 1

    def bound(b):
        if b is None or (isinstance(b, (int, np.integer)) and not isinstance(b, bool)):
            return None if b is None else int(b)
        if _is_symbolic(b):
            if not b.dtype.is_integer or b.shape.rank not in (None, 0):
                raise TypeError(f"slice bounds must be integer scalars, got {b!r}")
            return ("in", operand(b))
        value = _as_array(b)
        if value.ndim or value.dtype.kind not in "iu":
            raise TypeError(f"slice bounds must be integer scalars, got {b!r}")
        return int(value)

    for k in key:
        if k is None:
            entries.append(("new",))
        elif k is Ellipsis:
            if ("ellipsis",) in entries:
                raise IndexError("an index can only have a single ellipsis ('...')")
            entries.append(("ellipsis",))
        elif isinstance(k, (bool, np.bool_)):
            raise TypeError(f"{_KEY_HELP}; a bare boolean ({k!r}) is not supported")
        elif isinstance(k, (int, np.integer)):
            entries.append(("int", int(k)))
        elif isinstance(k, builtins.slice):
            entries.append(("slice", bound(k.start), bound(k.stop), bound(k.step)))
        elif _is_symbolic(k):
            entries.append(_tensor_entry(k, k.dtype, k.shape.rank, operand))
        else:
            arr = _as_array(k)
            if arr.dtype.kind in "iu" and arr.ndim == 0:
                entries.append(("int", int(arr)))
            else:
                entries.append(_tensor_entry(arr, arr.dtype, arr.ndim, operand))
    return tuple(entries), operands


def _tensor_entry(value, dtype, rank, operand):
    kind = np.dtype(getattr(dtype, "np_dtype", dtype)).kind
    if kind == "b":
        if rank == 0:
            raise TypeError(f"{_KEY_HELP}; a scalar boolean mask is not supported")
        if rank is None:
            raise TypeError("a boolean mask index needs a known rank")
        return ("bool", operand(value))
    if kind not in "iu":
        name = np.dtype(getattr(dtype, "np_dtype", dtype)).name
        raise TypeError(f"{_KEY_HELP}; got an index of dtype {name}")
    if rank == 0:
        return ("int", ("in", operand(value)))
    return ("array", operand(value), None, False)


def getitem(tensor, key, name=None):
    """``tensor[key]`` with NumPy's rules (``Tensor.__getitem__``): ints, slices with steps,
    ``...``, ``None``, integer and boolean arrays or tensors, and their combinations.

    >>> x = nf.reshape(nf.range(12), [3, 4])
    >>> x[1:, ::-2].numpy(), x[[0, 2], 1].numpy()
    (array([[7, 5], [11, 9]], dtype=int32), array([1, 9], dtype=int32))
    """
    entries, operands = _parse_key(key)
    return _index(tensor, *operands, key=entries, name=name)


__all__ = ["newaxis"]

# gathers and scatters, built on the primitives above
from neuroflow.ops.gather import *  # noqa: E402,F403
from neuroflow.ops.gather import __all__ as _gather_all  # noqa: E402

__all__ += _gather_all
