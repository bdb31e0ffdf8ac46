"""Focused tests for convolutions: static shapes, dtypes, the patch cache and scratch
buffers, batch chunking, error messages (the op table is in test_conv.py)."""
import gc

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from neuroflow.core import errors
from neuroflow.ops import conv_kernels, im2col


def _rng(seed):
    return np.random.default_rng(seed)


def _uniform(shape, seed):
    return _rng(seed).uniform(-1, 1, shape)


# -- static shapes -----------------------------------------------------------------------------

def _graph_shape(fn, *shapes):
    graph = nf.Graph()
    with graph.as_default():
        phs = [v1.placeholder(nf.float32, s) for s in shapes]
        return fn(*phs).shape


@pytest.mark.parametrize("strides, padding, expected", [
    (1, "SAME", [None, 28, 28, 32]), (2, "SAME", [None, 14, 14, 32]),
    (3, "SAME", [None, 10, 10, 32]), (2, "VALID", [None, 13, 13, 32]),
    (1, "VALID", [None, 26, 26, 32]),
    (2, [[0, 0], [1, 1], [0, 0], [0, 0]], [None, 14, 13, 32]),
])
def test_conv2d_static_shape_with_unknown_batch(strides, padding, expected):
    shape = _graph_shape(lambda x, w: nf.nn.conv2d(x, w, strides, padding),
                         [None, 28, 28, 1], [3, 3, 1, 32])
    assert shape.as_list() == expected


def test_static_shapes_unknown_spatial_and_rank():
    conv = lambda x, w: nf.nn.conv2d(x, w, 2, "SAME")
    assert _graph_shape(conv, [None, None, 7, 3], [3, 3, 3, 8]).as_list() == [None, None, 4, 8]
    assert _graph_shape(conv, None, [3, 3, 3, 8]).as_list() == [None, None, None, 8]
    nchw = lambda x, w: nf.nn.conv2d(x, w, 2, "VALID", data_format="NCHW")
    assert _graph_shape(nchw, [None, 3, 9, None], [3, 3, 3, 8]).as_list() == [None, 8, 4, None]
    conv1 = lambda x, w: nf.nn.conv1d(x, w, 2, "SAME", dilations=1)
    assert _graph_shape(conv1, [None, 9, 2], [3, 2, 5]).as_list() == [None, 5, 5]
    dw = lambda x, w: nf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME")
    assert _graph_shape(dw, [None, 28, 28, 3], [3, 3, 3, 2]).as_list() == [None, 14, 14, 6]
    bias = lambda v, b: nf.nn.bias_add(v, b)
    assert _graph_shape(bias, [None, 5, 3], [3]).as_list() == [None, 5, 3]


def test_conv2d_transpose_static_shape():
    graph = nf.Graph()
    with graph.as_default():
        dy = v1.placeholder(nf.float32, [None, 7, 7, 4])
        w = v1.placeholder(nf.float32, [3, 3, 2, 4])
        fixed = nf.nn.conv2d_transpose(dy, w, [8, 14, 14, 2], 2)
        assert fixed.shape.as_list() == [8, 14, 14, 2]
        dynamic = nf.nn.conv2d_transpose(dy, w, nf.shape(v1.placeholder(nf.float32,
                                                                         [None, 14, 14, 2])), 2)
        assert dynamic.shape.as_list() == [None, 14, 14, 2]
    with v1.Session(graph=graph) as sess:
        out = sess.run(fixed, {dy: np.ones((8, 7, 7, 4), np.float32),
                               w: np.ones((3, 3, 2, 4), np.float32)})
    assert out.shape == (8, 14, 14, 2) and out.dtype == np.float32


def test_graph_gradients_with_unknown_batch():
    """A (None, 28, 28, 1) graph: static shapes of the gradients, and their values."""
    rng = _rng(0)
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, 28, 28, 1])
        w = v1.placeholder(nf.float32, [3, 3, 1, 4])
        y = nf.nn.conv2d(x, w, 2, "SAME")
        assert y.shape.as_list() == [None, 14, 14, 4]
        gx, gw = nf.gradients(nf.reduce_sum(nf.multiply(y, y)), [x, w])
        assert gx.shape.as_list() == [None, 28, 28, 1]
        assert gw.shape.as_list() == [3, 3, 1, 4]
    xv = rng.standard_normal((2, 28, 28, 1)).astype(np.float32)
    wv = rng.standard_normal((3, 3, 1, 4)).astype(np.float32)
    with v1.Session(graph=graph) as sess:
        got_x, got_w = sess.run([gx, gw], {x: xv, w: wv})
    xt, wt = nf.constant(xv), nf.constant(wv)
    with nf.GradientTape() as tape:
        tape.watch([xt, wt])
        yt = nf.nn.conv2d(xt, wt, 2, "SAME")
        loss = nf.reduce_sum(nf.multiply(yt, yt))
    want_x, want_w = tape.gradient(loss, [xt, wt])
    np.testing.assert_allclose(got_x, want_x.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(got_w, want_w.numpy(), rtol=1e-5, atol=1e-3)


# -- dtypes, the patch cache -----------------------------------------------------------------

def test_float32_stays_float32():
    x = nf.constant(_uniform((2, 6, 6, 3), 0).astype(np.float32))
    w = nf.constant(_uniform((3, 3, 3, 4), 1).astype(np.float32))
    dw = nf.constant(_uniform((3, 3, 3, 2), 2).astype(np.float32))
    with nf.GradientTape() as tape:
        tape.watch([x, w, dw])
        outs = [nf.nn.conv2d(x, w, 2, "SAME"), nf.nn.depthwise_conv2d(x, dw, [1, 1, 1, 1],
                                                                      "VALID"),
                nf.nn.conv2d_transpose(nf.nn.conv2d(x, w, 2, "SAME"), w, [2, 6, 6, 3], 2),
                nf.nn.bias_add(x, nf.constant(np.ones(3, np.float32)))]
        loss = nf.add(nf.add(nf.reduce_sum(outs[0]), nf.reduce_sum(outs[1])),
                      nf.add(nf.reduce_sum(outs[2]), nf.reduce_sum(outs[3])))
    grads = tape.gradient(loss, [x, w, dw])
    for t in outs + grads:
        assert t.dtype == nf.float32 and t.numpy().dtype == np.float32


def test_filter_gradient_reuses_forward_patches():
    x = nf.constant(_uniform((2, 6, 6, 3), 0).astype(np.float32))
    w = nf.constant(_uniform((3, 3, 3, 4), 1).astype(np.float32))
    im2col.patch_cache.clear()
    with nf.GradientTape() as tape:
        tape.watch(w)
        y = nf.nn.conv2d(x, w, 1, "SAME")
    assert len(im2col.patch_cache) == 1  # kept by the forward pass under a tape
    gw = tape.gradient(y, w)
    assert len(im2col.patch_cache) == 0  # taken by the filter gradient
    im2col.patch_cache.clear()  # without the cache the kernel gathers the patches again
    from neuroflow.ops.conv import _conv_filter_grad
    again = _conv_filter_grad(x, np.asarray([3, 3, 3, 4], np.int32), nf.ones_like(y),
                              strides=(1, 1), dilations=(1, 1), padding="SAME",
                              data_format="NHWC")
    np.testing.assert_allclose(gw.numpy(), again.numpy(), rtol=1e-6)


def test_persistent_tape_gives_the_same_gradients_twice():
    """The first gradient takes what the forward passes kept; the second recomputes it."""
    x = nf.constant(_uniform((2, 8, 8, 6), 0).astype(np.float32))
    w = nf.constant(_uniform((3, 3, 6, 5), 1).astype(np.float32))
    with nf.GradientTape(persistent=True) as tape:
        tape.watch([x, w])
        h = nf.nn.conv2d(x, w, 1, "SAME")
        h = nf.nn.max_pool2d(nf.multiply(h, h), 2, 2, "VALID")
        again = nf.nn.conv2d(x, w, 1, "SAME")  # same input and geometry: patches reused
        loss = nf.add(nf.reduce_sum(h), nf.reduce_sum(again))
    first = [g.numpy() for g in tape.gradient(loss, [x, w])]
    second = [g.numpy() for g in tape.gradient(loss, [x, w])]
    for a, b in zip(first, second):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_patch_cache_is_released_with_its_input():
    im2col.patch_cache.clear()
    with nf.GradientTape():
        x = nf.constant(_uniform((1, 5, 5, 2), 0).astype(np.float32))
        nf.nn.conv2d(x, nf.constant(np.ones((3, 3, 2, 1), np.float32)), 1, "SAME")
    assert len(im2col.patch_cache) == 1
    del x
    gc.collect()
    assert len(im2col.patch_cache) == 0


def test_graph_gradient_marks_forward_to_keep_patches():
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, 6, 6, 2])
        w = v1.placeholder(nf.float32, [3, 3, 2, 2])
        y = nf.nn.conv2d(x, w, 1, "SAME")
        gw = nf.gradients(nf.reduce_sum(y), w)[0]
    assert y.op.attrs.get("keep_patches") is True
    xv = _uniform((2, 6, 6, 2), 0).astype(np.float32)
    with v1.Session(graph=graph) as sess:
        got = sess.run(gw, {x: xv, w: np.ones((3, 3, 2, 2), np.float32)})
    padded = np.pad(xv, ((0, 0), (1, 1), (1, 1), (0, 0)))
    want = np.stack([padded[:, i:i + 6, j:j + 6].sum(axis=(0, 1, 2))
                     for i in range(3) for j in range(3)]).reshape(3, 3, 2, 1)
    np.testing.assert_allclose(got, np.broadcast_to(want, (3, 3, 2, 2)), rtol=1e-5, atol=1e-5)


def _conv_and_grads(x, w, strides, padding, data_format):
    xt, wt = nf.constant(x), nf.constant(w)
    with nf.GradientTape() as tape:
        tape.watch([xt, wt])
        y = nf.nn.conv2d(xt, wt, strides, padding, data_format=data_format)
        loss = nf.reduce_sum(nf.multiply(y, y))
    return [y.numpy()] + [g.numpy() for g in tape.gradient(loss, [xt, wt])]


@pytest.mark.parametrize("strides, padding, data_format", [
    (1, "SAME", "NHWC"), (2, "SAME", "NHWC"), (1, "VALID", "NHWC"), (1, "SAME", "NCHW"),
    (2, "VALID", "NCHW"),
])
def test_big_patch_matrices_are_processed_in_batch_chunks(monkeypatch, strides, padding,
                                                          data_format):
    x = _uniform((5, 9, 8, 6) if data_format == "NHWC" else (5, 6, 9, 8), 0)
    w = _uniform((3, 3, 6, 4), 1)
    whole = _conv_and_grads(x, w, strides, padding, data_format)
    monkeypatch.setattr(conv_kernels, "MAX_PATCH_BYTES", 3000)
    assert conv_kernels._chunks(5, 9 * 8 * 9 * 6 * 8) is not None
    chunked = _conv_and_grads(x, w, strides, padding, data_format)
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_workspace_recycles_released_buffers():
    space = im2col.Workspace()
    a = space.empty((300, 300), np.float32)
    space.release(a)
    assert space.empty((300, 300), np.float32) is a  # recycled
    assert space.empty((300, 300), np.float32) is not a  # handed out once only
    space.release(np.empty((4, 4), np.float32))  # small: never kept
    assert space.empty((4, 4), np.float32).shape == (4, 4)
    big = np.empty(im2col.Workspace.MAX_BYTES // 4 + 1, np.float32)
    space.release(big)
    assert space.empty(big.shape, np.float32) is not big  # over the cap: not kept


# -- errors ------------------------------------------------------------------------------------

def test_bad_padding_string():
    x, w = np.ones((1, 5, 5, 1), np.float32), np.ones((3, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="padding must be 'SAME' or 'VALID'.*'FULL'"):
        nf.nn.conv2d(x, w, 1, "FULL")
    with pytest.raises(ValueError, match="explicit padding must be a list of 4"):
        nf.nn.conv2d(x, w, 1, [[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="batch and channel"):
        nf.nn.conv2d(x, w, 1, [[1, 0], [1, 1], [1, 1], [0, 0]])


def test_channel_mismatch_names_both_shapes():
    x, w = np.ones((2, 5, 5, 3), np.float32), np.ones((3, 3, 4, 8), np.float32)
    message = r"input depth 3 of input shape \(2, 5, 5, 3\).*in_channels 4 of filter shape " \
              r"\(3, 3, 4, 8\)"
    with pytest.raises(errors.InvalidArgumentError, match=message):
        nf.nn.conv2d(x, w, 1, "SAME")
    graph = nf.Graph()
    with graph.as_default():
        with pytest.raises(errors.InvalidArgumentError,
                           match=r"Conv2D op.*input shape \(None, 5, 5, 3\).*filter shape"):
            nf.nn.conv2d(v1.placeholder(nf.float32, [None, 5, 5, 3]), w, 1, "SAME")
    with pytest.raises(errors.InvalidArgumentError, match="in_channels 4"):
        nf.nn.depthwise_conv2d(x, np.ones((3, 3, 4, 1), np.float32), 1, "SAME")


def test_argument_errors():
    x, w = np.ones((1, 5, 5, 1), np.float32), np.ones((3, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="data_format must be 'NHWC' or 'NCHW'"):
        nf.nn.conv2d(x, w, 1, "SAME", data_format="HWNC")
    with pytest.raises(ValueError, match="strides must be an int or a list of 1, 2 or 4"):
        nf.nn.conv2d(x, w, [1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="batch and channel"):
        nf.nn.conv2d(x, w, [2, 1, 1, 1], "SAME")
    with pytest.raises(errors.InvalidArgumentError, match="input must be rank 4"):
        nf.nn.conv2d(np.ones((5, 5, 1), np.float32), w, 1, "SAME")
    with pytest.raises(errors.InvalidArgumentError, match="output size would be negative"):
        nf.nn.conv2d(np.ones((1, 2, 2, 1), np.float32), w, 1, "VALID")
    with pytest.raises(errors.InvalidArgumentError, match="does not match the convolution"):
        nf.nn.conv2d_transpose(np.ones((1, 4, 4, 1), np.float32), w, [1, 5, 5, 1], 2)
    with pytest.raises(errors.InvalidArgumentError, match="bias of shape"):
        nf.nn.bias_add(np.ones((2, 3), np.float32), np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"pointwise_filter must have shape \[1, 1"):
        nf.nn.separable_conv2d(np.ones((1, 5, 5, 1), np.float32), w,
                               np.ones((3, 3, 1, 1), np.float32), 1, "SAME")
