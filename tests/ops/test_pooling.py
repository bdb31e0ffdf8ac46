"""Op-table cases and focused tests for pooling (neuroflow/ops/pooling.py).

The torch oracle pads by hand to reproduce TensorFlow's SAME padding (odd cell at the end):
with -inf for max pooling, and for average pooling it divides the zero-padded window sums by
the number of real cells, as TensorFlow does.
"""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from neuroflow.core import errors
from neuroflow.ops import im2col
from tests.optable import OpCase, parametrize

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the oracle checks skip without torch
    torch = F = None


def _distinct(shape, seed):
    """Values at least 0.05 apart, so no window has a near-tie for its maximum."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.05 - n * 0.025).reshape(shape)


def _tf_pads(sizes, ksize, strides, padding):
    pads = []
    for i, (n, k, s) in enumerate(zip(sizes, ksize, strides)):
        if padding == "SAME":
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        elif padding == "VALID":
            pads.append((0, 0))
        else:
            pads.append(tuple(padding[i]))
    return pads


def torch_pool(kind, n, ksize, strides, padding, channels_last=True):
    """torch max/avg pooling reproducing TensorFlow's padding rules."""
    ksize = (ksize,) * n if isinstance(ksize, int) else tuple(ksize)
    strides = (strides,) * n if isinstance(strides, int) else tuple(strides)

    def fn(x):
        if channels_last:
            x = x.permute(0, n + 1, *range(1, n + 1))
        flat = []
        for lo, hi in reversed(_tf_pads(x.shape[2:], ksize, strides, padding)):
            flat += [lo, hi]
        pool = getattr(F, f"{kind}_pool{n}d")
        if kind == "max":
            y = pool(F.pad(x, flat, value=-np.inf), ksize, strides)
        else:
            y = pool(F.pad(x, flat), ksize, strides) / pool(
                F.pad(torch.ones_like(x), flat), ksize, strides)
        return y.permute(0, *range(2, n + 2), 1) if channels_last else y
    return fn


def pool_case(kind, name, x_shape, ksize, strides, padding, fmt=None, n=2, seed=0,
              square=False, fn=None):
    fmt = fmt or {1: "NWC", 2: "NHWC", 3: "NDHWC"}[n]
    op = fn or getattr(nf.nn, f"{kind}_pool{n}d")
    channels_last = fmt.endswith("C")
    pad = padding
    if not isinstance(padding, str):  # explicit: spatial pairs for the torch reference
        pad = padding[1:-1] if channels_last else padding[2:]
    reference = torch_pool(kind, n, _spatial(ksize, n, channels_last),
                           _spatial(strides, n, channels_last), pad, channels_last)

    def forward(x):
        y = op(x, ksize, strides, padding, data_format=fmt)
        return nf.multiply(y, y) if square else y
    torch_fn = (lambda x: reference(x) ** 2) if square else reference
    return OpCase(name, forward, [(_distinct(x_shape, seed),)], torch_fn=torch_fn)


def _spatial(arg, n, channels_last):
    if isinstance(arg, int):
        return (arg,) * n
    if len(arg) == n + 2:
        return tuple(arg[1:-1] if channels_last else arg[2:])
    return tuple(arg) * (n if len(arg) == 1 else 1)


CASES = [
    pool_case("max", "max_pool2d_valid_2", (2, 4, 4, 2), 2, 2, "VALID"),
    pool_case("max", "max_pool2d_same_3_stride2_odd_pad", (1, 5, 6, 2), 3, 2, "SAME", seed=1),
    pool_case("max", "max_pool2d_same_2_stride1", (1, 4, 5, 2), 2, 1, "SAME", seed=2),
    pool_case("max", "max_pool2d_same_3_stride3", (1, 7, 8, 1), 3, 3, "SAME", seed=3),
    pool_case("max", "max_pool2d_valid_2x3_stride_1x2", (1, 5, 7, 2), [2, 3], [1, 2], "VALID",
              seed=4),
    pool_case("max", "max_pool2d_valid_leftover", (1, 5, 5, 2), 2, 2, "VALID", seed=5),
    pool_case("max", "max_pool2d_nchw_same", (1, 2, 5, 5), [1, 1, 2, 2], [1, 1, 2, 2], "SAME",
              fmt="NCHW", seed=6),
    pool_case("max", "max_pool2d_explicit", (1, 5, 6, 2), 3, 2,
              [[0, 0], [1, 1], [0, 1], [0, 0]], seed=7),
    pool_case("max", "max_pool2d_squared", (1, 5, 5, 2), 3, 2, "SAME", seed=8, square=True),
    pool_case("max", "max_pool1d_same_stride2", (2, 7, 2), 3, 2, "SAME", n=1, seed=9),
    pool_case("max", "max_pool1d_ncw_valid", (1, 2, 7), 2, 2, "VALID", fmt="NCW", n=1,
              seed=10),
    pool_case("max", "max_pool3d_same", (1, 3, 4, 3, 1), 2, 2, "SAME", n=3, seed=11),
    pool_case("max", "max_pool_generic_rank4", (1, 5, 4, 2), [1, 3, 2, 1], [1, 2, 2, 1],
              "SAME", seed=12, fn=nf.nn.max_pool),
    pool_case("avg", "avg_pool2d_valid_2", (2, 4, 4, 2), 2, 2, "VALID"),
    pool_case("avg", "avg_pool2d_same_3_stride2_odd_pad", (1, 5, 6, 2), 3, 2, "SAME", seed=1),
    pool_case("avg", "avg_pool2d_same_3_stride1", (1, 4, 5, 2), 3, 1, "SAME", seed=2),
    pool_case("avg", "avg_pool2d_valid_2x3_stride_1x2", (1, 5, 7, 2), [2, 3], [1, 2], "VALID",
              seed=4),
    pool_case("avg", "avg_pool2d_nchw_same", (1, 2, 5, 5), 2, 2, "SAME", fmt="NCHW", seed=6),
    pool_case("avg", "avg_pool2d_squared", (1, 5, 5, 2), 3, 2, "SAME", seed=8, square=True),
    pool_case("avg", "avg_pool1d_same_stride2", (2, 7, 2), 3, 2, "SAME", n=1, seed=9),
    pool_case("avg", "avg_pool3d_same", (1, 3, 4, 3, 1), 2, 2, "SAME", n=3, seed=11),
    pool_case("avg", "avg_pool_generic_rank3", (2, 6, 2), [2], [2], "VALID", n=1, seed=12,
              fn=nf.nn.avg_pool),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


# -- semantics the table does not express -----------------------------------------------------

def test_avg_pool_same_divides_by_real_cells():
    x = nf.ones([1, 3, 3, 1])
    y = nf.nn.avg_pool2d(x, 2, 2, "SAME").numpy()
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1), np.float32))
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    y = nf.nn.avg_pool2d(x, 2, 2, "SAME").numpy()[0, :, :, 0]
    np.testing.assert_allclose(y, [[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8]])


def test_max_pool_padding_never_wins():
    x = -np.ones((1, 3, 3, 1), np.float32) - np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    same = nf.nn.max_pool2d(x, 3, 1, "SAME").numpy()
    explicit = nf.nn.max_pool2d(x, 3, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]).numpy()
    assert (same < 0).all() and (explicit < 0).all()
    np.testing.assert_array_equal(same, explicit)


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = nf.constant(np.zeros((1, 4, 4, 1), np.float32))  # ReLU zeros: every window ties
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = nf.nn.max_pool2d(x, 2, 2, "VALID")
    g = tape.gradient(y, x).numpy()[0, :, :, 0]
    want = np.zeros((4, 4), np.float32)
    want[::2, ::2] = 1
    np.testing.assert_array_equal(g, want)
    x = nf.constant(np.zeros((1, 3, 3, 1), np.float32))  # overlapping windows
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = nf.nn.max_pool2d(x, 2, 1, "VALID")
    assert tape.gradient(y, x).numpy().sum() == 4


def _first_max_reference(x, ksize, dy):
    """Max pooling over windows that tile ``x`` (channels last), and the gradient ``dy``
    routed to each window's first maximum in row-major order (np.argmax's tie rule)."""
    n = len(ksize)
    split = x.reshape((x.shape[0],) + tuple(d for o, k in zip(x.shape[1:-1], ksize)
                                            for d in (o // k, k)) + (x.shape[-1],))
    order = (0,) + tuple(range(1, 2 * n, 2)) + (2 * n + 1,) + tuple(range(2, 2 * n + 1, 2))
    windows = split.transpose(order)  # (batch, *out, C, *k)
    flat = windows.reshape(windows.shape[:n + 2] + (-1,))
    first = flat.argmax(axis=-1)
    hot = (np.arange(flat.shape[-1]) == first[..., None]) * dy[..., None]
    dx = hot.reshape(windows.shape).transpose(np.argsort(order)).reshape(x.shape)
    return flat.max(axis=-1), dx


@pytest.mark.parametrize("x_shape, ksize", [
    ((5, 6, 8, 3), (2, 2)), ((3, 6, 9, 2), (3, 3)), ((4, 9, 2), (3,)),
    ((3, 4, 6, 4, 2), (2, 2, 2)), ((4, 6, 4, 3), (1, 2)),
], ids=str)
@pytest.mark.parametrize("piece_bytes", [1 << 20, 1])
def test_tiling_windows_match_a_direct_definition(monkeypatch, x_shape, ksize, piece_bytes):
    """Windows that tile the input take a fast path (reshaped views, a tree of pairwise
    maxima); ties are frequent here (small integers, ReLU-like zeros)."""
    from neuroflow.ops import pooling
    monkeypatch.setattr(pooling, "PIECE_BYTES", piece_bytes)  # 1: one batch item per piece
    rng = np.random.default_rng(len(x_shape) + sum(ksize))
    values = np.maximum(rng.integers(-3, 3, x_shape), 0).astype(np.float32)
    values[0] = 0  # every window of the first item ties
    y_want_shape = (x_shape[0],) + tuple(o // k for o, k in zip(x_shape[1:-1], ksize)) \
        + (x_shape[-1],)
    dy = rng.standard_normal(y_want_shape).astype(np.float32)
    y_want, dx_want = _first_max_reference(values, ksize, dy)
    x = nf.constant(values)
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = nf.nn.max_pool(x, list(ksize), list(ksize), "VALID")
        loss = nf.reduce_sum(nf.multiply(y, dy))
    np.testing.assert_array_equal(y.numpy(), y_want)
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), dx_want)
    if len(ksize) == 2:  # channels first, through the same path
        nchw = nf.constant(values.transpose(0, 3, 1, 2))
        with nf.GradientTape() as tape:
            tape.watch(nchw)
            y = nf.nn.max_pool2d(nchw, list(ksize), list(ksize), "VALID", data_format="NCHW")
            loss = nf.reduce_sum(nf.multiply(y, dy.transpose(0, 3, 1, 2)))
        np.testing.assert_array_equal(y.numpy(), y_want.transpose(0, 3, 1, 2))
        np.testing.assert_array_equal(tape.gradient(loss, nchw).numpy(),
                                      dx_want.transpose(0, 3, 1, 2))


@pytest.mark.parametrize("ksize, strides, padding", [
    (2, 2, "VALID"), (3, 2, "SAME"), (2, 1, "SAME"), (3, 3, [[0, 0], [1, 2], [2, 0], [0, 0]]),
])
def test_max_pool_gradient_reuses_the_forward_argmax(ksize, strides, padding):
    rng = np.random.default_rng(0)
    values = np.maximum(rng.standard_normal((2, 7, 6, 3)), 0).astype(np.float32)  # ties
    values[0, :3] = 0.0
    x = nf.constant(values)
    im2col.argmax_cache.clear()
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = nf.nn.max_pool2d(x, ksize, strides, padding)
        loss = nf.reduce_sum(nf.multiply(y, y))
    assert len(im2col.argmax_cache) == 1  # kept by the forward pass under a tape
    kept = tape.gradient(loss, x).numpy()
    assert len(im2col.argmax_cache) == 0  # taken by MaxPoolGrad
    y_plain = nf.nn.max_pool2d(x, ksize, strides, padding)  # no tape: nothing kept
    assert len(im2col.argmax_cache) == 0
    from neuroflow.ops.pooling import _max_pool_grad
    dy = nf.multiply(y_plain, 2.0)
    recomputed = _max_pool_grad(x, y_plain, dy, ksize=(ksize,) * 2 if isinstance(ksize, int)
                                else ksize, strides=(strides, strides),
                                padding=padding if isinstance(padding, str) else
                                tuple(tuple(p) for p in padding[1:3]), data_format="NHWC")
    np.testing.assert_array_equal(kept, recomputed.numpy())
    assert (kept != 0).sum() <= y_plain.numpy().size  # one winner per window at most


def test_graph_gradient_marks_max_pool_to_keep_argmax():
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, 4, 4, 2])
        y = nf.nn.max_pool2d(x, 2, 2, "VALID")
        g, = nf.gradients(nf.reduce_sum(y), [x])
    assert y.op.attrs.get("keep_argmax") is True
    with v1.Session(graph=graph) as sess:
        got = sess.run(g, {x: np.zeros((1, 4, 4, 2), np.float32)})
    want = np.zeros((1, 4, 4, 2), np.float32)
    want[:, ::2, ::2] = 1  # ties: the first cell of each window
    np.testing.assert_array_equal(got, want)


def test_max_pool_integer_input():
    x = np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1)
    y = nf.nn.max_pool2d(x, 2, 2, "SAME")
    assert y.dtype == nf.int32
    np.testing.assert_array_equal(y.numpy()[0, :, :, 0], [[5, 7], [13, 15]])


def test_float32_stays_float32():
    x = nf.constant(_distinct((2, 6, 6, 3), 0).astype(np.float32))
    with nf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outs = [nf.nn.max_pool2d(x, 3, 2, "SAME"), nf.nn.avg_pool2d(x, 3, 2, "SAME")]
    for y in outs:
        g = tape.gradient(y, x)
        assert y.numpy().dtype == np.float32 and g.numpy().dtype == np.float32


# -- static shapes -----------------------------------------------------------------------------

@pytest.mark.parametrize("ksize, strides, padding, expected", [
    (2, 2, "VALID", [None, 14, 14, 32]), (2, 2, "SAME", [None, 14, 14, 32]),
    (3, 2, "VALID", [None, 13, 13, 32]), (3, 3, "SAME", [None, 10, 10, 32]),
    (3, 1, "SAME", [None, 28, 28, 32]),
])
def test_static_shape_with_unknown_batch(ksize, strides, padding, expected):
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, 28, 28, 32])
        for op in (nf.nn.max_pool2d, nf.nn.avg_pool2d):
            assert op(x, ksize, strides, padding).shape.as_list() == expected


def test_graph_gradients_with_unknown_dims():
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, None, 6, 2])
        y_max = nf.nn.max_pool2d(x, 2, 2, "SAME")
        y_avg = nf.nn.avg_pool2d(x, 3, 2, "SAME")
        assert y_max.shape.as_list() == [None, None, 3, 2]
        g_max, = nf.gradients(nf.reduce_sum(y_max), [x])
        g_avg, = nf.gradients(nf.reduce_sum(y_avg), [x])
        assert g_max.shape.as_list() == [None, None, 6, 2]
        assert g_avg.shape.as_list()[2:] == [6, 2]
    xv = _distinct((2, 5, 6, 2), 3).astype(np.float32)
    with v1.Session(graph=graph) as sess:
        gm, ga = sess.run([g_max, g_avg], {x: xv})
    assert gm.shape == xv.shape and gm.sum() == 2 * 3 * 3 * 2
    np.testing.assert_allclose(ga.sum(), 2 * 3 * 3 * 2, rtol=1e-5)


def test_static_shape_with_unknown_rank():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, None)
        assert nf.nn.max_pool2d(x, 2, 2, "VALID").shape.as_list() == [None] * 4
        generic = nf.nn.avg_pool(x, 2, 2, "VALID", data_format="NCW")
        assert generic.shape.as_list() == [None] * 3


# -- errors ------------------------------------------------------------------------------------

def test_argument_errors():
    x = np.ones((1, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="padding must be 'SAME' or 'VALID'.*'FULL'"):
        nf.nn.max_pool2d(x, 2, 2, "FULL")
    with pytest.raises(ValueError, match="padding must be 'SAME' or 'VALID', got"):
        nf.nn.avg_pool2d(x, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])
    with pytest.raises(ValueError, match="cannot be greater than the window size"):
        nf.nn.max_pool2d(x, 2, 2, [[0, 0], [3, 0], [0, 0], [0, 0]])
    with pytest.raises(ValueError, match="ksize must be an int or a list of 1, 2 or 4"):
        nf.nn.max_pool2d(x, [2, 2, 2], 2, "VALID")
    with pytest.raises(ValueError, match="batch and channel"):
        nf.nn.max_pool2d(x, [2, 2, 2, 2], 2, "VALID")
    with pytest.raises(errors.InvalidArgumentError, match=r"input must be rank 4 \(NHWC\)"):
        nf.nn.max_pool2d(np.ones((4, 4, 1), np.float32), 2, 2, "VALID")
    with pytest.raises(errors.InvalidArgumentError, match="output size would be negative"):
        nf.nn.avg_pool2d(x, 5, 1, "VALID")
    with pytest.raises(ValueError, match="data_format must be 'NWC' or 'NCW'"):
        nf.nn.max_pool1d(np.ones((1, 4, 1), np.float32), 2, 2, "VALID", data_format="NHWCX")
