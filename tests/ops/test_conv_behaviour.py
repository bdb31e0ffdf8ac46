"""Focused tests for convolutions: static shapes, dtypes, the kernels against a direct
definition piece by piece and threaded, recycled outputs and scratch buffers, error messages
(the op table is in test_conv.py)."""
import gc

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.backend import threads
from neuroflow.compat import v1
from neuroflow.core import errors
from neuroflow.ops import conv_kernels, conv_runtime, im2col


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


def test_filter_gradient_reuses_small_forward_patches(monkeypatch):
    """Patches no bigger than the output (few input channels) are kept for the filter
    gradient; bigger ones are gathered again instead."""
    monkeypatch.setattr(threads, "BLAS_THREADS", 1)
    x = nf.constant(_uniform((2, 6, 6, 2), 0).astype(np.float32))
    w = nf.constant(_uniform((3, 3, 2, 32), 1).astype(np.float32))
    im2col.patch_cache.clear()
    with nf.GradientTape() as tape:
        tape.watch(w)
        y = nf.nn.conv2d(x, w, 1, "SAME")
    assert len(im2col.patch_cache) == 1  # kept by the forward pass under a tape
    gw = tape.gradient(y, w)
    assert len(im2col.patch_cache) == 0  # taken by the filter gradient
    from neuroflow.ops.conv import _conv_filter_grad
    again = _conv_filter_grad(x, np.asarray([3, 3, 2, 32], np.int32), nf.ones_like(y),
                              strides=(1, 1), dilations=(1, 1), padding="SAME",
                              data_format="NHWC")  # gathers the patches again
    np.testing.assert_allclose(gw.numpy(), again.numpy(), rtol=1e-6)
    wide = nf.constant(_uniform((3, 3, 2, 4), 2).astype(np.float32))
    with nf.GradientTape() as tape:
        tape.watch(wide)
        nf.nn.conv2d(x, wide, 1, "SAME")  # 18 patch columns for 4 output channels
    assert len(im2col.patch_cache) == 0


def test_patch_cache_is_released_with_its_input():
    im2col.patch_cache.clear()
    with nf.GradientTape():
        x = nf.constant(_uniform((1, 5, 5, 2), 0).astype(np.float32))
        nf.nn.conv2d(x, nf.constant(np.ones((3, 3, 2, 18), np.float32)), 1, "SAME")
    assert len(im2col.patch_cache) == 1
    del x
    gc.collect()
    assert len(im2col.patch_cache) == 0


def test_graph_gradient_marks_forward_to_keep_patches():
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, 6, 6, 2])
        w = v1.placeholder(nf.float32, [3, 3, 2, 18])
        y = nf.nn.conv2d(x, w, 1, "SAME")
        gw = nf.gradients(nf.reduce_sum(y), w)[0]
    assert y.op.attrs.get("keep_patches") is True
    xv = _uniform((2, 6, 6, 2), 0).astype(np.float32)
    with v1.Session(graph=graph) as sess:
        got = sess.run(gw, {x: xv, w: np.ones((3, 3, 2, 18), np.float32)})
    padded = np.pad(xv, ((0, 0), (1, 1), (1, 1), (0, 0)))
    want = np.stack([padded[:, i:i + 6, j:j + 6].sum(axis=(0, 1, 2))
                     for i in range(3) for j in range(3)]).reshape(3, 3, 2, 1)
    np.testing.assert_allclose(got, np.broadcast_to(want, (3, 3, 2, 18)), rtol=1e-5,
                               atol=1e-5)


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
def test_kernels_give_the_same_results_piece_by_piece(monkeypatch, strides, padding,
                                                      data_format):
    x = _uniform((5, 9, 8, 6) if data_format == "NHWC" else (5, 6, 9, 8), 0)
    w = _uniform((3, 3, 6, 4), 1)
    whole = _conv_and_grads(x, w, strides, padding, data_format)
    for name in ("PIECE_BYTES", "GRAD_PIECE_MACS"):
        monkeypatch.setattr(conv_kernels, name, 1)  # one batch item per piece
    assert len(conv_kernels._pieces(5, 100, 1)) == 5
    for count in (1, 2):  # one part, or the batch split over two threads
        monkeypatch.setattr(threads, "BLAS_THREADS", count)
        pieces = _conv_and_grads(x, w, strides, padding, data_format)
        for a, b in zip(whole, pieces):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


# -- the kernels against a direct NumPy definition (float64), whole and piece by piece -----

def _pads(sizes, ksizes, strides, dilations, padding):
    if not isinstance(padding, str):
        return [tuple(p) for p in padding]
    pads = []
    for n, k, s, d in zip(sizes, ksizes, strides, dilations):
        eff = (k - 1) * d + 1
        out = -(-n // s) if padding == "SAME" else (n - eff) // s + 1
        total = max((out - 1) * s + eff - n, 0) if padding == "SAME" else 0
        pads.append((total // 2, total - total // 2))
    return pads


def _taps(xp, w, strides, dilations, out):
    """(tap index into w, the (batch, *out, C) slice of xp that tap sees)."""
    for tap in np.ndindex(*w.shape[:-2]):
        yield tap, xp[(slice(None),) + tuple(
            slice(t * d, t * d + (o - 1) * s + 1, s)
            for t, d, o, s in zip(tap, dilations, out, strides))]


def _reference(x, w, dy, strides, dilations, padding):
    """Conv2D and both its gradients, channels last, by definition: tap by tap."""
    pads = _pads(x.shape[1:-1], w.shape[:-2], strides, dilations, padding)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out = tuple((xp.shape[1 + i] - ((k - 1) * d + 1)) // s + 1
                for i, (k, s, d) in enumerate(zip(w.shape[:-2], strides, dilations)))
    y = np.zeros((x.shape[0],) + out + (w.shape[-1],))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    dxp_taps = dict(_taps(dxp, w, strides, dilations, out))
    for tap, seen in _taps(xp, w, strides, dilations, out):
        y += seen @ w[tap]
        dxp_taps[tap] += dy @ w[tap].T  # (views into dxp)
        dw[tap] = seen.reshape(-1, x.shape[-1]).T @ dy.reshape(-1, w.shape[-1])
    crop = (slice(None),) + tuple(slice(lo, lo + n) for (lo, _), n in zip(pads, x.shape[1:-1]))
    return y, dxp[crop], dw


GEOMETRIES = [  # x shape (NHWC), filter shape, strides, dilations, padding
    ((5, 7, 6, 1), (3, 3, 1, 4), (1, 1), (1, 1), "SAME"),  # few channels: tap-major patches
    ((5, 7, 6, 6), (3, 3, 6, 4), (1, 1), (1, 1), "SAME"),  # flat shifted adds
    ((5, 7, 6, 6), (3, 2, 6, 3), (2, 2), (1, 1), "SAME"),  # strided: slice adds
    ((4, 7, 6, 5), (3, 3, 5, 2), (1, 1), (1, 1), "VALID"),  # grid shrinks: slice adds
    ((4, 8, 7, 6), (3, 3, 6, 2), (1, 1), (2, 2), "SAME"),  # dilated, shifted adds
    ((4, 6, 7, 3), (2, 2, 3, 2), (1, 1), (2, 1), "SAME"),  # no unshifted tap
    ((4, 6, 5, 6), (3, 3, 6, 2), (1, 1), (1, 1), [(2, 0), (0, 2)]),  # explicit, same grid
    ((3, 5, 5, 2), (2, 2, 2, 3), (3, 3), (1, 1), "VALID"),  # cells no window sees
]


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: f"{g[0]}-{g[1]}-{g[4]}")
@pytest.mark.parametrize("count, pieces, keep", [
    (1, "one", False), (1, "many", False), (1, "many", True), (2, "one", True),
    (2, "many", False), (3, "many", True),
])
def test_kernels_match_a_direct_definition(monkeypatch, geometry, count, pieces, keep):
    """count: threads the batch is split over; keep: the forward pass keeps its patches
    when the policy allows (few channels, or a split batch) and the filter gradient takes
    them."""
    x_shape, w_shape, strides, dilations, padding = geometry
    rng = _rng(sum(x_shape) + sum(w_shape))
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    pad = padding if isinstance(padding, str) else tuple(tuple(p) for p in padding)
    attrs = dict(strides=strides, dilations=dilations, padding=pad, data_format="NHWC")
    monkeypatch.setattr(threads, "BLAS_THREADS", count)
    if pieces == "many":
        for name in ("PIECE_BYTES", "GRAD_PIECE_MACS"):
            monkeypatch.setattr(conv_kernels, name, 1)
    im2col.patch_cache.clear()
    y = conv_kernels.forward(x, w, keep_patches=keep, **attrs)
    kept = len(im2col.patch_cache)
    assert kept == (keep and (count > 1 or x_shape[-1] * np.prod(w_shape[:2]) <= w_shape[-1]))
    dy = rng.standard_normal(y.shape)
    y_want, dx_want, dw_want = _reference(x, w, dy, strides, dilations, padding)
    np.testing.assert_allclose(y, y_want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv_kernels.input_grad(x_shape, w, dy, **attrs), dx_want,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv_kernels.filter_grad(x, w_shape, dy, **attrs), dw_want,
                               rtol=1e-12, atol=1e-12)
    assert len(im2col.patch_cache) == 0  # taken by the filter gradient


def test_outputs_are_recycled_only_once_unreferenced():
    x1 = _uniform((4, 20, 20, 8), 0).astype(np.float32)  # outputs big enough to recycle
    x2 = _uniform((4, 20, 20, 8), 1).astype(np.float32)
    w = nf.constant(_uniform((3, 3, 8, 16), 2).astype(np.float32))
    y1 = nf.nn.conv2d(x1, w, 1, "SAME")
    first = y1.numpy().copy()
    y2 = nf.nn.conv2d(x2, w, 1, "SAME")
    np.testing.assert_array_equal(y1.numpy(), first)  # still referenced: never rewritten
    assert not np.shares_memory(y1.numpy(), y2.numpy())
    kept = y1.numpy().reshape(-1)  # a view keeps the array referenced as well
    del y1
    y3 = nf.nn.conv2d(x2, w, 1, "SAME")
    assert not np.shares_memory(kept, y3.numpy())
    np.testing.assert_array_equal(kept.reshape(first.shape), first)
    address = kept.__array_interface__["data"][0]
    del kept
    gc.collect()
    y4 = nf.nn.conv2d(x1, w, 1, "SAME")  # now the first output's memory comes back
    assert y4.numpy().__array_interface__["data"][0] == address
    np.testing.assert_array_equal(y4.numpy(), first)
    np.testing.assert_array_equal(y3.numpy(), y2.numpy())


def test_bias_add_into_a_recycled_output():
    value = _uniform((3, 5, 40, 300), 0).astype(np.float32)  # big enough to recycle
    bias = _uniform((300,), 1).astype(np.float32)
    before = value.copy()
    first = nf.nn.bias_add(value, bias).numpy()
    np.testing.assert_array_equal(first, value + bias)
    np.testing.assert_array_equal(value, before)  # the input is never written
    second = nf.nn.bias_add(value, -bias).numpy()
    assert not np.shares_memory(first, second)  # the first result is still referenced
    np.testing.assert_array_equal(first, value + bias)


def test_recycler_rules():
    pool = conv_runtime.Recycler()
    a = pool.empty((300, 300), np.float32)
    b = pool.empty((300, 300), np.float32)
    assert a is not b  # a is still referenced
    del a
    c = pool.empty((300, 300), np.float32)
    assert c is not b and len(pool._pool[((300, 300), "<f4")]) == 2  # a's array came back
    small = pool.empty((4, 4), np.float32)
    assert pool.empty((4, 4), np.float32) is not small and ((4, 4), "<f4") not in pool._pool
    held = [pool.empty((100, 200), np.float64) for _ in range(pool.MAX_PER_SHAPE + 2)]
    assert len(pool._pool[((100, 200), "<f8")]) == pool.MAX_PER_SHAPE  # the rest not kept
    assert len({id(h) for h in held}) == len(held)
    pool.clear()
    assert pool.empty((300, 300), np.float32) is not c


def test_recycled_array_forgets_what_was_cached_for_it():
    pool = conv_runtime.Recycler()
    array = pool.empty((200, 200), np.float32)
    address = id(array)
    conv_runtime.argmax_cache.put(array, "key", np.zeros(3), 24)
    assert conv_runtime.argmax_cache.get(array, "key") is not None
    del array
    again = pool.empty((200, 200), np.float32)
    assert id(again) == address  # the same array, about to hold new values
    assert conv_runtime.argmax_cache.get(again, "key") is None


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
