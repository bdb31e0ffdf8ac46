"""A dense layer's epilogue fused into its product, for big layers: MatMul -> bias add
(AddV2 of a 1-D bias, or a channels-last BiasAdd) (-> Relu or Gelu) becomes one
``_FusedMatMul`` step that adds the bias and applies the activation to the product in place,
in one compiled pass split over the threads, instead of two or three passes over a fresh
array each (TensorFlow's remapper makes the same _FusedMatMul).

Only products with a static size of at least ``threads.MIN_SPLIT`` elements are fused: a
transformer's [32 x 128, 1536] feed-forward layer gains (measured in the bert workload's
plan: product 15.6 + bias 6.5 + GELU 14.3 ms, fused 28 ms), while for small layers the
fused step measured no faster in whole plans (bench/NOTES.md).
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import jit, threads
from neuroflow.core import fusion
from neuroflow.core.tensor import shape_str
from neuroflow.ops import compiled
from neuroflow.ops.activations import _gelu
from neuroflow.ops.linalg import _matmul

_ACTIVATIONS = {None: 0, "Relu": 1, "Gelu": 2}


def _fused_matmul(a, b, bias, transpose_a=False, transpose_b=False, activation=None):
    out = _matmul.kernel(a, b, transpose_a, transpose_b)
    n = out.shape[-1]
    if bias.shape != (n,):
        raise ValueError(f"bias of shape {shape_str(bias.shape)} does not match the "
                         f"product's last dimension ({n})")
    rows = out.reshape(-1, n)  # the product is a fresh C-contiguous array: a view
    parts = threads.split(len(rows), threads.MIN_SPLIT // max(n, 1) + 1)
    code = _ACTIVATIONS[activation]
    if jit.available() and out.dtype.kind == "f" and (code != 2 or out.dtype == np.float32):
        threads.run(lambda lo, hi: compiled.bias_activation(rows, bias, lo, hi, code), parts)
        return out

    def epilogue(lo, hi):
        part = rows[lo:hi]
        np.add(part, bias, out=part)
        if code == 1:
            np.maximum(part, 0, out=part)
        elif code == 2:
            part[...] = _gelu.kernel(part)
    threads.run(epilogue, parts)
    return out


_FUSED_MATMUL = fusion.FusedDef("_FusedMatMul", _fused_matmul)


def _is_bias_of(bias, product):
    """Whether adding ``bias`` to ``product`` adds one value per column and nothing more:
    a 1-D float tensor as long as the product's last dimension."""
    ps, bs = product.shape, bias.shape
    return (ps.rank is not None and ps.rank >= 2 and ps[-1] is not None
            and bs.rank == 1 and bs[0] == ps[-1] and bias.dtype == product.dtype
            and product.dtype.is_floating)


def _big(product):
    size = product.shape.num_elements()
    return size is not None and size >= threads.MIN_SPLIT


def _fuse_dense(op, inputs, chain):
    if op.type in ("Relu", "Gelu"):
        add = chain(inputs[0], "AddV2") or chain(inputs[0], "BiasAdd")
        if add is None:
            return None
        ops, activation = [add[0], op], op.type
    elif op.type in ("AddV2", "BiasAdd"):
        add, ops, activation = (op, inputs), [op], None
    else:
        return None
    add_op, (x, y) = add
    if add_op.type == "BiasAdd":
        if str(add_op.attrs.get("data_format") or "NHWC").upper().startswith("NC"):
            return None
        candidates = [(x, y)]
    else:
        candidates = [(x, y), (y, x)]
    for product, bias in candidates:
        found = chain(product, "MatMul")
        if found is not None and bias is not product and _is_bias_of(bias, product) \
                and _big(product):
            attrs = dict(found[0].attrs, activation=activation)
            return fusion.Fused(_FUSED_MATMUL, found[1] + (bias,), attrs, [found[0]] + ops)
    return None


fusion.RULES.append(_fuse_dense)
