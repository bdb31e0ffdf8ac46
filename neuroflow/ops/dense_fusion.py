"""Fusions of a product (TensorFlow's remapper makes the same kinds).

A dense layer's epilogue fused into its product, for big layers: MatMul -> bias add
(AddV2 of a 1-D bias, or a channels-last BiasAdd) (-> Relu or Gelu) becomes one
``_FusedMatMul`` step that adds the bias and applies the activation to the product in place,
in one compiled pass split over the threads, instead of two or three passes over a fresh
array each.

Only products with a static size of at least ``threads.MIN_SPLIT`` elements are fused: a
transformer's [32 x 128, 1536] feed-forward layer gains (measured in the bert workload's
plan: product 15.6 + bias 6.5 + GELU 14.3 ms, fused 28 ms), while for small layers the
fused step measured no faster in whole plans (bench/NOTES.md).

A stack of products whose result is transposed (attention's heads back to
``[batch, positions, heads, size]``), MatMul -> Transpose keeping the last axis in place,
becomes one ``_MatMulTransposed`` step that writes each product straight into the
transposed layout: the result is C-ordered, so the output projection's reshape that follows
needs no copy.
"""
from __future__ import annotations

import numpy as np

from neuroflow.backend import jit, threads
from neuroflow.core import fusion
from neuroflow.core.tensor import shape_str
from neuroflow.ops import compiled, linalg
from neuroflow.ops.activations import _gelu
from neuroflow.ops.conv_runtime import outputs
from neuroflow.ops.linalg import _matmul, _one_gemm, _product, _t

_ACTIVATIONS = {None: 0, "Relu": 1, "Gelu": 2}


def _fused_matmul(a, b, bias, transpose_a=False, transpose_b=False, activation=None):
    folded = _one_gemm(a, b, transpose_a, transpose_b)
    if folded is None:  # a batched product: the epilogue after it
        out = _matmul.kernel(a, b, transpose_a, transpose_b)
        rows, matrix, shape = out.reshape(-1, out.shape[-1]), None, out.shape
    else:
        rows, matrix, shape = folded
    n = shape[-1]
    if bias.shape != (n,):
        raise ValueError(f"bias of shape {shape_str(bias.shape)} does not match the "
                         f"product's last dimension ({n})")
    code = _ACTIVATIONS[activation]
    compiled_epilogue = jit.available() and rows.dtype.kind == "f" and (
        code != 2 or rows.dtype == np.float32)
    if matrix is not None:
        product = outputs.empty((rows.shape[0], n), np.result_type(rows, matrix))
    else:
        product = rows  # the product is a fresh C-contiguous array: a view

    def part(lo, hi):
        """Product rows lo..hi (when not made yet), then their bias and activation in place,
        while they are still in the cache."""
        if matrix is not None:
            np.matmul(rows[lo:hi], matrix, out=product[lo:hi])
        if compiled_epilogue:
            compiled.bias_activation(product, bias, lo, hi, code)
            return
        block = product[lo:hi]
        np.add(block, bias, out=block)
        if code == 1:
            np.maximum(block, 0, out=block)
        elif code == 2:
            block[...] = _gelu.kernel(block)
    big = matrix is None or rows.shape[0] * rows.shape[1] * n >= linalg.PARALLEL_MACS
    least = min(16, threads.MIN_SPLIT // max(n, 1) + 1)  # rows a thread's part takes
    threads.run(part, threads.split(len(product), least) if big else [(0, len(product))])
    return product.reshape(shape)


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


def _matmul_transposed(a, b, transpose_a=False, transpose_b=False, perm=None):
    x, y = (_t(a) if transpose_a else a), (_t(b) if transpose_b else b)
    if x.ndim != y.ndim or x.shape[:-2] != y.shape[:-2] or x.shape[-1] != y.shape[-2]:
        return np.transpose(_matmul.kernel(a, b, transpose_a, transpose_b), perm)
    shape = x.shape[:-1] + y.shape[-1:]
    out = outputs.empty(tuple(shape[p] for p in perm), np.result_type(x, y))
    _product(x, y, out=np.transpose(out, np.argsort(perm)))
    return out


_MATMUL_TRANSPOSED = fusion.FusedDef("_MatMulTransposed", _matmul_transposed)


def _fuse_transposed(op, inputs, chain):
    if op.type != "Transpose":
        return None
    perm = op.attrs.get("perm")
    found = chain(inputs[0], "MatMul")
    if found is None or perm is None or len(perm) < 3 or perm[-1] != len(perm) - 1 \
            or list(perm) == sorted(perm) or not _big(found[0].outputs[0]):
        return None
    product = found[0].outputs[0]
    if product.shape.rank != len(perm) or not product.dtype.is_floating:
        return None
    attrs = dict(found[0].attrs, perm=tuple(perm))
    return fusion.Fused(_MATMUL_TRANSPOSED, found[1], attrs, [found[0], op])


fusion.RULES.append(_fuse_transposed)
