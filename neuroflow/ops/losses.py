"""Losses of ``nf.nn``: cross-entropies from logits, l2_loss, log_poisson_loss (TF's names).

The two softmax cross-entropies are fused primitives, as in TensorFlow: one kernel computes
the loss and its gradient w.r.t. the logits (``backprop``, the op's second output) from a
single max-subtracted pass, so they are finite for logits of any magnitude and cheap on the
hot path of every classifier. Their gradient rules are neuroflow ops (second order works).
"""
from __future__ import annotations

import math

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core import errors
from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import EagerTensor, TensorShape, shape_str
from neuroflow.ops import math as m
from neuroflow.ops import shapes
from neuroflow.ops.activations import softplus
from neuroflow.ops.array import ones_like, zeros_like
from neuroflow.ops.broadcast import expand_reduced, unbroadcast
from neuroflow.ops.math import add, multiply, negative, sigmoid, subtract
from neuroflow.ops.reduce import reduce_sum
from neuroflow.ops.softmax import float_input, log_softmax, max_along, softmax, softmax_backprop


def _is_zero(g):
    """True when gradient ``g`` is known to be all zeros (an unused output's filler)."""
    if isinstance(g, EagerTensor):
        return not g._value.any()
    op = getattr(g, "op", None)
    return op is not None and op.type == "ZerosLike"


# -- softmax cross-entropy with dense labels ------------------------------------------------


def _softmax_xent_spec(labels, logits, axis):
    shape = shapes.broadcast_shapes(labels.shape, logits.shape)
    if shape.rank == 0:
        raise ValueError("logits and labels must have rank >= 1, got scalars")
    return [Spec(shapes.reduced_shape(shape, axis, False), logits.dtype),
            Spec(shape, logits.dtype)]


@primitive("SoftmaxCrossEntropyWithLogits", shape=_softmax_xent_spec, num_outputs=2)
def _softmax_xent(labels, logits, axis):
    if labels.shape != logits.shape:
        labels, logits = np.broadcast_arrays(labels, logits)
    if logits.ndim == 0:
        raise ValueError("logits and labels must have rank >= 1, got scalars")
    if logits.size == 0:
        return np.zeros(np.delete(logits.shape, axis), logits.dtype), np.zeros_like(logits)
    shifted = logits - max_along(logits, axis)
    e = np.exp(shifted)
    total = np.sum(e, axis=axis, keepdims=True)
    label_mass = np.sum(labels, axis=axis, keepdims=True)
    # -sum(labels * log_softmax) = mass * log(total) - sum(labels * shifted), with no
    # log-probability array materialised
    loss = label_mass * np.log(total)
    loss -= np.sum(labels * shifted, axis=axis, keepdims=True)
    # d loss / d logits = softmax * mass - labels (mass is 1 for proper distributions)
    e *= label_mass / total
    e -= labels
    return np.squeeze(loss, axis=axis), e


@_softmax_xent.defgrad
def _softmax_xent_grad(op, grad_loss, grad_backprop):
    labels, logits = op.inputs
    axis = op.attrs["axis"]
    backprop = op.outputs[1]
    grad_loss = expand_reduced(grad_loss, backprop, axis=axis)
    grad_logits = multiply(grad_loss, backprop)
    grad_labels = multiply(grad_loss, negative(log_softmax(logits, axis=axis)))
    if not _is_zero(grad_backprop):
        # backprop = softmax(logits) * mass - labels, itself differentiated (second order)
        probs = softmax(logits, axis=axis)
        mass = reduce_sum(labels, axis=axis, keepdims=True)
        grad_logits = add(grad_logits, multiply(mass, softmax_backprop(
            grad_backprop, probs, axis=axis)))
        grad_labels = add(grad_labels, subtract(reduce_sum(
            multiply(grad_backprop, probs), axis=axis, keepdims=True), grad_backprop))
    return [unbroadcast(grad_labels, labels), unbroadcast(grad_logits, logits)]


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """-sum(labels * log_softmax(logits), axis), stable for any logits (TF2's version).

    Each slice of ``labels`` along ``axis`` should be a probability distribution; the
    gradient flows into ``labels`` too (stop it with ``nf.stop_gradient`` if unwanted).

    >>> nf.nn.softmax_cross_entropy_with_logits([[0.0, 1.0]], [[0.0, 0.0]]).numpy()
    array([0.6931472], dtype=float32)
    """
    logits = float_input(logits, "SoftmaxCrossEntropyWithLogits")
    if not hasattr(labels, "dtype"):
        labels = convert_to_tensor(labels, dtype=logits.dtype)
    return _softmax_xent(labels, logits, axis=int(axis), name=name)[0]


# -- softmax cross-entropy with sparse (index) labels ----------------------------------------


def _check_sparse_shapes(logits_shape, labels_shape):
    if logits_shape.rank is None or labels_shape.rank is None:
        return
    if logits_shape.rank == 0:
        raise ValueError("Logits cannot be scalars, received shape ()")
    if labels_shape.rank != logits_shape.rank - 1:
        raise ValueError(
            f"Rank mismatch: Rank of labels (received {labels_shape.rank}) should equal rank "
            f"of logits minus 1 (received {logits_shape.rank}); labels shape "
            f"{shape_str(labels_shape)}, logits shape {shape_str(logits_shape)}")
    if not TensorShape(labels_shape).is_compatible_with(logits_shape[:-1]):
        raise ValueError(f"labels of shape {shape_str(labels_shape)} do not match logits of "
                         f"shape {shape_str(logits_shape)} (expected labels of shape "
                         f"{shape_str(logits_shape[:-1])})")


def _sparse_xent_spec(logits, labels):
    _check_sparse_shapes(logits.shape, labels.shape)
    return [Spec(labels.shape if labels.shape.rank is not None else logits.shape[:-1]
                 if logits.shape.rank is not None else None, logits.dtype),
            Spec(logits.shape, logits.dtype)]


def _bad_label_message(labels, num_classes):
    flat = labels.reshape(-1)
    bad = flat[(flat < 0) | (flat >= num_classes)][0]
    shown = " ".join(str(v) for v in flat[:20]) + (" ..." if flat.size > 20 else "")
    return (f"Received a label value of {bad} which is outside the valid range of "
            f"[0, {num_classes}) for {num_classes} classes. Label values: {shown}")


@primitive("SparseSoftmaxCrossEntropyWithLogits", shape=_sparse_xent_spec, num_outputs=2,
           same_dtype=False)
def _sparse_xent(logits, labels):
    if logits.ndim == 0 or labels.shape != logits.shape[:-1]:
        _check_sparse_shapes(TensorShape(logits.shape), TensorShape(labels.shape))
    num_classes = logits.shape[-1]
    rows = labels.reshape(-1)
    if rows.size and (rows.min() < 0 or rows.max() >= num_classes):
        raise errors.InvalidArgumentError(_bad_label_message(labels, num_classes))
    if logits.size == 0:
        return np.zeros(labels.shape, logits.dtype), np.zeros_like(logits)
    flat = logits.reshape(-1, num_classes)
    shifted = flat - max_along(flat, 1)
    e = np.exp(shifted)
    total = np.sum(e, axis=1, keepdims=True)
    picked = np.arange(0, e.size, num_classes) + rows  # flat index of each row's label
    loss = np.log(total[:, 0])
    loss -= shifted.reshape(-1)[picked]
    e /= total
    e.reshape(-1)[picked] -= 1
    return loss.reshape(labels.shape), e.reshape(logits.shape)


@_sparse_xent.defgrad
def _sparse_xent_grad(op, grad_loss, grad_backprop):
    logits = op.inputs[0]
    backprop = op.outputs[1]
    grad_logits = multiply(expand_reduced(grad_loss, backprop, axis=-1), backprop)
    if not _is_zero(grad_backprop):
        # backprop = softmax(logits) - one_hot(labels), itself differentiated (second order)
        grad_logits = add(grad_logits, softmax_backprop(
            grad_backprop, softmax(logits), axis=-1))
    return [grad_logits, None]


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """-log_softmax(logits)[..., labels]: cross-entropy with class-index labels.

    ``labels`` (int32/int64, shape ``logits.shape[:-1]``) must lie in [0, num_classes): an
    out-of-range label raises ``InvalidArgumentError``, eagerly or when a graph runs.

    >>> nf.nn.sparse_softmax_cross_entropy_with_logits([1], [[0.0, 0.0]]).numpy()
    array([0.6931472], dtype=float32)
    """
    logits = float_input(logits, "SparseSoftmaxCrossEntropyWithLogits")
    if not hasattr(labels, "dtype"):
        labels = convert_to_tensor(labels)
    if not dtypes.as_dtype(labels.dtype).is_integer:
        raise errors.InvalidArgumentError(
            f"SparseSoftmaxCrossEntropyWithLogits: labels must be int32 or int64 class "
            f"indices, got dtype {dtypes.as_dtype(labels.dtype).name}")
    return _sparse_xent(logits, labels, name=name)[0]


# -- sigmoid cross-entropies ---------------------------------------------------------------


def _same_shape_spec(labels, logits):
    if not labels.shape.is_compatible_with(logits.shape):
        raise ValueError(f"logits and labels must have the same shape, received "
                         f"{shape_str(logits.shape)} vs {shape_str(labels.shape)}")
    return Spec(logits.shape, logits.dtype)


@primitive("SigmoidCrossEntropyWithLogits", shape=_same_shape_spec)
def _sigmoid_xent(labels, logits):
    if labels.shape != logits.shape:
        raise ValueError(f"logits and labels must have the same shape, received "
                         f"{shape_str(logits.shape)} vs {shape_str(labels.shape)}")
    # max(x, 0) - x * z + log(1 + exp(-|x|)): no overflow for any x
    out = np.abs(logits, out=np.empty_like(logits))  # an array even for 0-d logits
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(logits, 0)
    out -= logits * labels
    return out


@_sigmoid_xent.defgrad
def _sigmoid_xent_grad(op, dy):
    labels, logits = op.inputs
    return [negative(multiply(dy, logits)),
            multiply(dy, subtract(sigmoid(logits), labels))]


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """-z * log(sigmoid(x)) - (1 - z) * log(1 - sigmoid(x)), stable for any logits x.

    >>> nf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0], logits=[0.0]).numpy()
    array([0.6931472], dtype=float32)
    """
    if labels is None or logits is None:
        raise ValueError("sigmoid_cross_entropy_with_logits needs both labels= and logits=")
    logits = float_input(logits, "SigmoidCrossEntropyWithLogits")
    if not hasattr(labels, "dtype"):
        labels = convert_to_tensor(labels, dtype=logits.dtype)
    return _sigmoid_xent(labels, logits, name=name)


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """Sigmoid cross-entropy with the positive term weighted by ``pos_weight``.

    pos_weight * z * -log(sigmoid(x)) + (1 - z) * -log(1 - sigmoid(x)), computed as
    (1 - z) * x + (1 + (pos_weight - 1) * z) * softplus(-x), stable for any x.

    >>> nf.nn.weighted_cross_entropy_with_logits([1.0], [0.0], pos_weight=2.0).numpy()
    array([1.3862944], dtype=float32)
    """
    logits = float_input(logits, "WeightedCrossEntropyWithLogits")
    if not hasattr(labels, "dtype"):
        labels = convert_to_tensor(labels, dtype=logits.dtype)
    _same_shape_spec(labels, logits)
    if isinstance(pos_weight, (int, float)):
        weight_minus_one = pos_weight - 1.0
    else:
        if not hasattr(pos_weight, "dtype") or isinstance(pos_weight, (np.ndarray, np.generic)):
            pos_weight = convert_to_tensor(np.asarray(pos_weight), dtype=logits.dtype)
        weight_minus_one = subtract(pos_weight, 1.0)
    log_weight = add(multiply(labels, weight_minus_one), 1.0)
    negatives = multiply(subtract(1.0, labels), logits)
    return add(negatives, multiply(log_weight, softplus(negative(logits))), name=name)


# -- l2_loss and log_poisson_loss ---------------------------------------------------------


@primitive("L2Loss", shape=lambda t: Spec([], t.dtype))
def _l2_loss(t):
    flat = t.reshape(-1)
    return np.asarray(np.dot(flat, flat) / 2, dtype=t.dtype)


@_l2_loss.defgrad
def _l2_loss_grad(op, dy):
    return [multiply(op.inputs[0], dy)]


def l2_loss(t, name=None):
    """sum(t ** 2) / 2, the weight-decay penalty (``nf.nn.l2_loss``).

    >>> float(nf.nn.l2_loss(nf.constant([1.0, 2.0])))
    2.5
    """
    return _l2_loss(float_input(t, "L2Loss"), name=name)


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """exp(log_input) - log_input * targets: Poisson negative log-likelihood (up to a constant).

    With ``compute_full_loss`` the Stirling term targets * log(targets) - targets +
    0.5 * log(2 * pi * targets) is added where targets > 1 (it is 0 for targets in [0, 1]).

    >>> nf.nn.log_poisson_loss(nf.constant([1.0]), nf.constant([0.0])).numpy()
    array([1.], dtype=float32)
    """
    log_input = float_input(log_input, "LogPoissonLoss")
    if not hasattr(targets, "dtype"):
        targets = convert_to_tensor(targets, dtype=log_input.dtype)
    if not compute_full_loss:
        return subtract(m.exp(log_input), multiply(log_input, targets), name=name)
    result = subtract(m.exp(log_input), multiply(log_input, targets))
    # the masked branch must stay finite (log of 0 targets) or its gradient turns NaN
    small = m.logical_and(m.greater_equal(targets, 0.0), m.less_equal(targets, 1.0))
    safe = m.where(small, multiply(ones_like(targets), 2.0), targets)
    stirling = add(subtract(multiply(safe, m.log(safe)), safe),
                   multiply(m.log(multiply(safe, 2.0 * math.pi)), 0.5))
    return add(result, m.where(small, zeros_like(targets), stirling), name=name)


__all__ = ["softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits",
           "sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits", "l2_loss",
           "log_poisson_loss"]
