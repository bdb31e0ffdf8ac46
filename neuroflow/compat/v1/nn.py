"""``tf.compat.v1.nn``: everything in ``nf.nn``, with TF1's signatures where they differ
(``dim=``, ``keep_prob=``, losses called with ``labels=``/``logits=`` keywords only)."""
import neuroflow.nn as _nn
from neuroflow.nn import *  # noqa: F403


def _one(new, old, new_name, old_name):
    if old is not None:
        if new is not None:
            raise ValueError(f"Cannot specify both '{new_name}' and '{old_name}'")
        return old
    return new


def _named_only(sentinel, fn_name):
    if sentinel is not None:
        raise ValueError(f"Only call `{fn_name}` with named arguments (labels=..., "
                         "logits=..., ...)")


def softmax(logits, axis=None, name=None, dim=None):
    """``tf.compat.v1.nn.softmax``: also takes TF1's ``dim=``."""
    axis = _one(axis, dim, "axis", "dim")
    return _nn.softmax(logits, axis=-1 if axis is None else axis, name=name)


def log_softmax(logits, axis=None, name=None, dim=None):
    axis = _one(axis, dim, "axis", "dim")
    return _nn.log_softmax(logits, axis=-1 if axis is None else axis, name=name)


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None):
    """Softmax cross-entropy; gradients flow into ``labels`` too (= TF2's version).

    >>> loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y)
    """
    axis = _one(axis, dim, "axis", "dim")
    return _nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                 axis=-1 if axis is None else axis, name=name)


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """TF1's softmax cross-entropy: keywords only, and no gradient flows into ``labels``."""
    from neuroflow.ops.gradient_control import stop_gradient
    _named_only(_sentinel, "softmax_cross_entropy_with_logits")
    axis = _one(axis, None if dim == -1 else dim, "axis", "dim")
    return softmax_cross_entropy_with_logits_v2(stop_gradient(labels), logits,
                                                axis=-1 if axis is None else axis, name=name)


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    """Softmax cross-entropy against integer class labels (keywords only, as TF1)."""
    _named_only(_sentinel, "sparse_softmax_cross_entropy_with_logits")
    return _nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                        name=name)


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """Elementwise logistic loss (keywords only, as TF1)."""
    _named_only(_sentinel, "sigmoid_cross_entropy_with_logits")
    return _nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name=name)


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """TF1's dropout: ``keep_prob`` (a float or a fed tensor) or TF2's ``rate``.

    >>> h = tf.nn.dropout(h, keep_prob=keep)     # keep: a placeholder fed 0.5 or 1.0
    """
    if keep_prob is not None:
        if rate is not None:
            raise ValueError("Cannot specify both 'rate' and 'keep_prob'")
        if isinstance(keep_prob, (int, float)):
            rate = 1.0 - keep_prob
        else:
            from neuroflow.ops import math
            rate = math.subtract(1.0, keep_prob)
    if rate is None:
        raise ValueError("dropout needs keep_prob (TF1) or rate")
    return _nn.dropout(x, rate=rate, noise_shape=noise_shape, seed=seed, name=name)


def xw_plus_b(x, weights, biases, name=None):
    """matmul(x, weights) + biases (``tf.compat.v1.nn.xw_plus_b``)."""
    from neuroflow.ops import linalg
    return _nn.bias_add(linalg.matmul(x, weights), biases, name=name)


def relu_layer(x, weights, biases, name=None):
    """relu(matmul(x, weights) + biases)."""
    return _nn.relu(xw_plus_b(x, weights, biases), name=name)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """Mean and variance over ``axes``; also takes TF1's ``keep_dims=``."""
    keepdims = bool(_one(keepdims, keep_dims, "keepdims", "keep_dims"))
    return _nn.moments(x, axes, shift=shift, keepdims=keepdims, name=name)


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,
           data_format="NHWC", dilations=(1, 1, 1, 1), name=None, filters=None):
    """TF1's conv2d: ``filter=`` and 4-element ``strides``/``dilations`` lists.

    >>> h = tf.nn.conv2d(x_image, W, strides=[1, 1, 1, 1], padding="SAME")
    """
    kernel = _one(filters, filter, "filters", "filter")
    if kernel is None or strides is None or padding is None:
        raise TypeError("conv2d() needs input, filter, strides and padding")
    return _nn.conv2d(input, kernel, strides, padding, data_format=data_format,
                      dilations=dilations, name=name)


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None,
                     padding="SAME", data_format="NHWC", name=None, input=None, filters=None,
                     dilations=None):
    """TF1's conv2d_transpose: ``value=`` and ``filter=`` spellings."""
    x = _one(input, value, "input", "value")
    kernel = _one(filters, filter, "filters", "filter")
    return _nn.conv2d_transpose(x, kernel, output_shape, strides, padding,
                                data_format=data_format, dilations=dilations, name=name)


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None,
                     data_format=None, dilations=None):
    """TF1's depthwise_conv2d: ``rate=`` is the dilation."""
    dilations = _one(dilations, rate, "dilations", "rate")
    return _nn.depthwise_conv2d(input, filter, strides, padding, data_format=data_format,
                                dilations=dilations, name=name)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """TF1's max_pool: ``value=`` and 4-element ``ksize``/``strides`` lists.

    >>> h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    """
    x = _one(input, value, "input", "value")
    return _nn.max_pool(x, ksize, strides, padding, data_format=data_format, name=name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """TF1's avg_pool: ``value=`` and 4-element ``ksize``/``strides`` lists."""
    x = _one(input, value, "input", "value")
    return _nn.avg_pool(x, ksize, strides, padding, data_format=data_format, name=name)
