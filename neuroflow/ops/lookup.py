"""Lookups by index (``nf.nn``, re-exported by normalization.py): embedding_lookup, top_k,
in_top_k.

Each gathering primitive has a scattering primitive as its gradient and back, so gradients of
any order work: EmbeddingLookup <-> EmbeddingLookupGrad (a dense scatter-add into the
table's shape), GatherAlongLastAxis <-> ScatterAlongLastAxis (top_k's values).
"""
from __future__ import annotations

import collections

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import TensorShape, shape_str

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def _as_tensor(x, dtype=None):
    return x if hasattr(x, "dtype") else convert_to_tensor(x, dtype=dtype)


def _check_indices(ids, n):
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        bad = ids[(ids < 0) | (ids >= n)].reshape(-1)[0]
        position = np.argwhere((ids < 0) | (ids >= n))[0]
        where = ",".join(str(int(i)) for i in position)
        raise ValueError(f"indices[{where}] = {bad} is not in [0, {n})")


# -- embedding lookup ---------------------------------------------------------------------


def _lookup_spec(params, ids):
    if not ids.dtype.is_integer:
        raise TypeError(f"ids must be an integer tensor, got {ids.dtype.name}")
    if params.shape.rank is None or ids.shape.rank is None:
        return Spec(None, params.dtype)
    if params.shape.rank == 0:
        raise ValueError("params must be at least 1-D")
    return Spec(list(ids.shape) + list(params.shape[1:]), params.dtype)


@primitive("EmbeddingLookup", shape=_lookup_spec, same_dtype=False)
def _lookup(params, ids):
    _check_indices(ids, params.shape[0])
    return np.take(params, ids, axis=0)


@_lookup.defgrad
def _lookup_grad(op, dy):
    params, ids = op.inputs
    return [_lookup_grad_op(dy, ids, params), None]


@primitive("EmbeddingLookupGrad", shape=lambda g, ids, params: Spec(params.shape, g.dtype),
           same_dtype=False, shape_inputs=(2,))
def _lookup_grad_op(g, ids, params):
    """Scatter-adds the rows of ``g`` into a zero table shaped like ``params``."""
    out = np.zeros(params.shape, g.dtype)
    rows = g.reshape((ids.size,) + params.shape[1:])
    np.add.at(out, ids.reshape(-1), rows)
    return out


@_lookup_grad_op.defgrad
def _lookup_grad_op_grad(op, dy):
    return [_lookup(dy, op.inputs[1]), None, None]


def embedding_lookup(params, ids, max_norm=None, name=None):
    """Rows of ``params`` picked by ``ids``: shape ids.shape + params.shape[1:].

    ``params`` may be a list of tables split along the rows ("div" strategy, as TF2): they
    are looked up as their concatenation. With ``max_norm``, each looked-up embedding with a
    larger l2 norm is scaled down to it. The gradient is dense, shaped like ``params``.

    >>> table = nf.constant([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    >>> nf.nn.embedding_lookup(table, [2, 0]).numpy()
    array([[4., 5.],
           [0., 1.]], dtype=float32)
    """
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("embedding_lookup needs at least one params tensor")
        if len(params) == 1:
            params = params[0]
        else:
            from neuroflow.ops.array import concat
            params = concat([_as_tensor(p) for p in params], axis=0)
    params = _as_tensor(params)
    ids = _as_tensor(ids)
    if not dtypes.as_dtype(ids.dtype).is_integer:
        raise TypeError(f"embedding_lookup: ids must be integers, got "
                        f"{dtypes.as_dtype(ids.dtype).name}")
    out = _lookup(params, ids, name=name)
    if max_norm is not None:
        from neuroflow.ops import math
        rank, id_rank = out.shape.rank, ids.shape.rank
        out = math.clip_by_norm(out, max_norm, axes=list(range(id_rank, rank)))
    return out


# -- top-k --------------------------------------------------------------------------------


def _descending_key(x):
    """An array whose ascending order is x's descending order (ties keep index order)."""
    if x.dtype.kind == "f":
        return np.negative(x)
    if x.dtype.kind == "b":
        return np.logical_not(x)
    return np.invert(x)  # ~x = -x - 1 for signed ints, max - x for unsigned: no overflow


def _top_k_indices(x, k):
    key = _descending_key(x)
    n = x.shape[-1]
    if k == 0:
        return np.zeros(x.shape[:-1] + (0,), np.int64)
    if 8 * k >= n or (x.dtype.kind == "f" and np.isnan(x).any()):
        # NaNs (which no comparison selects) sort last: treated as the smallest values
        return np.argsort(key, axis=-1, kind="stable")[..., :k]
    # large rows: partition first, then settle ties at the k-th value by lowest index
    kth = np.take_along_axis(key, np.argpartition(key, k - 1, axis=-1)[..., k - 1:k], -1)
    better = key < kth
    tied = key == kth
    room = k - better.sum(axis=-1, keepdims=True)
    chosen = better | (tied & (np.cumsum(tied, axis=-1) <= room))
    candidates = np.nonzero(chosen.reshape(-1, n))[1].reshape(x.shape[:-1] + (k,))
    order = np.argsort(np.take_along_axis(key, candidates, -1), axis=-1, kind="stable")
    return np.take_along_axis(candidates, order, -1)


def _top_k_spec(x, k, sorted, index_type):
    if x.shape.rank is None:
        return [Spec(None, x.dtype), Spec(None, index_type)]
    if x.shape.rank == 0:
        raise ValueError("top_k needs an input of rank >= 1, got a scalar")
    n = x.shape[-1]
    if n is not None and n < k:
        raise ValueError(f"input must have at least k={k} columns, got shape "
                         f"{shape_str(x.shape)}")
    shape = list(x.shape[:-1]) + [k]
    return [Spec(shape, x.dtype), Spec(shape, index_type)]


@primitive("TopKV2", shape=_top_k_spec, num_outputs=2)
def _top_k(x, k, sorted, index_type):
    if x.ndim == 0:
        raise ValueError("top_k needs an input of rank >= 1, got a scalar")
    if x.shape[-1] < k:
        raise ValueError(f"input must have at least k={k} columns, got {x.shape[-1]}")
    indices = _top_k_indices(x, k)
    return np.take_along_axis(x, indices, -1), indices.astype(index_type.np_dtype)


@_top_k.defgrad
def _top_k_grad(op, dvalues, dindices):
    x = op.inputs[0]
    return [_scatter_last(dvalues, op.outputs[1], x)]


@primitive("ScatterAlongLastAxis", shape=lambda g, idx, ref: Spec(ref.shape, g.dtype),
           same_dtype=False, shape_inputs=(2,))
def _scatter_last(g, idx, ref):
    """Zeros shaped like ``ref`` with ``g`` placed at ``idx`` along the last axis."""
    out = np.zeros(ref.shape, g.dtype)
    np.put_along_axis(out, idx.astype(np.intp, copy=False), g, axis=-1)
    return out


@_scatter_last.defgrad
def _scatter_last_grad(op, dy):
    return [_gather_last(dy, op.inputs[1]), None, None]


@primitive("GatherAlongLastAxis", same_dtype=False,
           shape=lambda x, idx: Spec(idx.shape, x.dtype))
def _gather_last(x, idx):
    return np.take_along_axis(x, idx.astype(np.intp, copy=False), -1)


@_gather_last.defgrad
def _gather_last_grad(op, dy):
    x, idx = op.inputs
    return [_scatter_last(dy, idx, x), None]


def top_k(input, k=1, sorted=True, index_type=dtypes.int32, name=None):
    """The k largest entries of the last axis and their indices (``nf.nn.top_k``).

    Equal values keep index order (the lower index first). Returns ``(values, indices)``;
    the gradient flows to ``values``.

    >>> values, indices = nf.nn.top_k(nf.constant([1.0, 3.0, 2.0]), k=2)
    >>> values.numpy(), indices.numpy()
    (array([3., 2.], dtype=float32), array([1, 2], dtype=int32))
    """
    x = _as_tensor(input)
    if hasattr(k, "numpy"):
        k = k.numpy()
    k = int(k)
    if k < 0:
        raise ValueError(f"top_k: k must be non-negative, got {k}")
    values, indices = _top_k(x, k=k, sorted=bool(sorted),
                             index_type=dtypes.as_dtype(index_type), name=name)
    return TopKV2(values, indices)


def _in_top_k_spec(predictions, targets, k):
    p, t = predictions.shape, targets.shape
    if p.rank is not None and p.rank != 2:
        raise ValueError(f"predictions must be 2-D, got shape {shape_str(p)}")
    if t.rank is not None and t.rank != 1:
        raise ValueError(f"targets must be 1-D, got shape {shape_str(t)}")
    batch = t[0] if t.rank else (p[0] if p.rank else None)
    if p.rank and t.rank and not TensorShape([p[0]]).is_compatible_with([t[0]]):
        raise ValueError(f"predictions of shape {shape_str(p)} and targets of shape "
                         f"{shape_str(t)} disagree on the batch size")
    return Spec([batch], dtypes.bool_)


@primitive("InTopKV2", shape=_in_top_k_spec, same_dtype=False, differentiable=False)
def _in_top_k(predictions, targets, k):
    if predictions.ndim != 2 or targets.ndim != 1 or len(targets) != len(predictions):
        raise ValueError(f"predictions must be 2-D and targets 1-D of the same batch size, "
                         f"got shapes {predictions.shape} and {targets.shape}")
    classes = predictions.shape[1]
    valid = (targets >= 0) & (targets < classes)
    rows = np.arange(len(targets))
    target_values = predictions[rows, np.where(valid, targets, 0)]
    above = (predictions > target_values[:, None]).sum(axis=1)
    # as TF: an out-of-range target, or a non-finite prediction in the row, gives False
    finite = np.isfinite(predictions).all(axis=1)
    return valid & finite & (above < k)


def in_top_k(targets, predictions, k, name=None):
    """Whether each target's prediction is among the k largest of its row (``nf.nn``).

    TF2's argument order (targets first). Classes tied with the k-th value all count as in
    the top k.

    >>> nf.nn.in_top_k([1, 0], nf.constant([[0.1, 0.9], [0.2, 0.8]]), k=1).numpy()
    array([ True, False])
    """
    predictions = _as_tensor(predictions)
    targets = _as_tensor(targets)
    if not dtypes.as_dtype(targets.dtype).is_integer:
        raise TypeError(f"in_top_k: targets must be integers, got "
                        f"{dtypes.as_dtype(targets.dtype).name}")
    if hasattr(k, "numpy"):
        k = k.numpy()
    return _in_top_k(predictions, targets, k=int(k), name=name)


__all__ = ["embedding_lookup", "top_k", "in_top_k"]
