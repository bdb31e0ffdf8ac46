"""Op-table cases for nf.nn normalization, dropout and lookups
(neuroflow/ops/normalization.py, neuroflow/ops/lookup.py).

Where an op takes no scalar (layer norm over an axis, 4-D LRN, top-k over the last axis,
lookups), its samples start at the smallest rank it accepts. Dropout is random, so the table
tests its masking primitive with fixed noise; its randomness is tested below.
"""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from neuroflow.ops import normalization
from tests.optable import OpCase, binary, parametrize, torch, unary


def _draw(*shapes, low=-2.0, high=2.0, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(low, high, s) for s in shapes)


def _np_moments(x, axes, keepdims=False):
    return np.mean(x, axis=axes, keepdims=keepdims), np.var(x, axis=axes, keepdims=keepdims)


def _np_layer_norm(x, axes, gamma=1.0, beta=0.0, eps=1e-3):
    mean = np.mean(x, axis=axes, keepdims=True)
    var = np.var(x, axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _np_lrn(x, r, bias, alpha, beta):
    sq = np.pad(x * x, [(0, 0)] * 3 + [(r, r)])
    window = sum(sq[..., i:i + x.shape[-1]] for i in range(2 * r + 1))
    return x / (bias + alpha * window) ** beta


def _torch_lrn(x, r, bias, alpha, beta):
    # torch divides alpha by the window size and works channels-first
    size = 2 * r + 1
    y = torch.nn.functional.local_response_norm(x.permute(0, 3, 1, 2), size, alpha * size,
                                                beta, bias)
    return y.permute(0, 2, 3, 1)


def _np_top_k(x, k):
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, idx, -1), idx


IDS_2D = np.array([[0, 2, 2], [4, 0, 1]])      # repeated ids: the gradient must accumulate
IDS_1D = np.array([3, 3, 1, 0])
KINKS_04 = (0.4,)


def _with_ids(params, ids):
    return (params, ids)


def _bn_samples():
    rng = np.random.default_rng(0)
    out = []
    for xs, ps in (((), ()), ((5,), (5,)), ((4, 3), (3,)), ((2, 3, 4), (4,)), ((4, 3), ())):
        out.append((rng.uniform(-2, 2, xs), rng.uniform(-1, 1, ps), rng.uniform(0.5, 2, ps),
                    rng.uniform(-1, 1, ps), rng.uniform(0.5, 2, ps)))
    return out


CASES = [
    OpCase("moments", lambda x: nf.nn.moments(x, axes=[0]),
           [_draw((5,)), _draw((3, 4), seed=1), _draw((2, 3, 2), seed=2)],
           torch_fn=lambda x: (x.mean(0), x.var(0, unbiased=False)),
           ref=lambda x: _np_moments(x, (0,))),
    OpCase("moments_scalar", lambda x: nf.nn.moments(x, axes=[]), [_draw(())],
           ref=lambda x: (x, np.zeros_like(x))),
    OpCase("moments_keepdims", lambda x: nf.nn.moments(x, axes=[0, 2], keepdims=True),
           [_draw((2, 3, 4)), _draw((3, 1, 2), seed=1)],
           torch_fn=lambda x: (x.mean((0, 2), keepdim=True),
                               x.var((0, 2), unbiased=False, keepdim=True)),
           ref=lambda x: _np_moments(x, (0, 2), keepdims=True)),
    OpCase("batch_normalization",
           lambda x, m, v, o, s: nf.nn.batch_normalization(x, m, v, o, s, 1e-3), _bn_samples(),
           torch_fn=lambda x, m, v, o, s: (x - m) * torch.rsqrt(v + 1e-3) * s + o,
           ref=lambda x, m, v, o, s: (x - m) / np.sqrt(v + 1e-3) * s + o),
    OpCase("batch_normalization_no_affine",
           lambda x, m, v: nf.nn.batch_normalization(x, m, v, None, None, 1e-3),
           [s[:3] for s in _bn_samples()],
           ref=lambda x, m, v: (x - m) / np.sqrt(v + 1e-3)),
    OpCase("layer_normalization",
           lambda x, g, b: nf.nn.layer_normalization(x, gamma=g, beta=b),
           [_draw((5,), (5,), (5,)), _draw((3, 4), (4,), (4,), seed=1),
            _draw((2, 3, 4), (4,), (4,), seed=2)],
           torch_fn=lambda x, g, b: torch.nn.functional.layer_norm(x, g.shape, g, b, 1e-3),
           ref=lambda x, g, b: _np_layer_norm(x, -1, g, b)),
    OpCase("layer_normalization_plain", nf.nn.layer_normalization,
           [_draw((5,)), _draw((3, 4), seed=1), _draw((2, 3, 4), seed=2)],
           torch_fn=lambda x: torch.nn.functional.layer_norm(x, x.shape[-1:], eps=1e-3),
           ref=lambda x: _np_layer_norm(x, -1)),
    OpCase("layer_normalization_two_axes",
           lambda x, g, b: nf.nn.layer_normalization(x, axis=[1, 2], gamma=g, beta=b,
                                                     epsilon=1e-5),
           [_draw((2, 3, 4), (3, 4), (3, 4)), _draw((3, 2, 2), (2, 2), (2,), seed=1)],
           torch_fn=lambda x, g, b: torch.nn.functional.layer_norm(x, x.shape[1:], g,
                                                                   b.expand(x.shape[1:]), 1e-5),
           ref=lambda x, g, b: _np_layer_norm(x, (1, 2), g, b, 1e-5)),
    # weights over a non-trailing axis, given in the normalized axes' shape (as Keras keeps them)
    OpCase("layer_normalization_middle_axis",
           lambda x, g, b: nf.nn.layer_normalization(x, axis=1, gamma=g, beta=b),
           [_draw((2, 3, 4), (3,), (3,))],
           ref=lambda x, g, b: _np_layer_norm(x, 1, g[:, None], b[:, None])),
    OpCase("l2_normalize", lambda x: nf.nn.l2_normalize(x, axis=-1),
           unary(kinks=(0.0,))[1:],
           torch_fn=lambda x: torch.nn.functional.normalize(x, dim=-1),
           ref=lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)),
    OpCase("l2_normalize_all_axes", nf.nn.l2_normalize, unary(kinks=(0.0,)),
           torch_fn=lambda x: x / torch.linalg.vector_norm(x),
           ref=lambda x: x / np.sqrt(np.sum(x * x))),
    OpCase("l2_normalize_complex",
           lambda x, y: nf.math.imag(nf.nn.l2_normalize(nf.complex(x, y), axis=0)),
           [_draw((4,), (4,)), _draw((3, 2), (3, 2), seed=1)],
           ref=lambda x, y: y / np.sqrt(np.sum(x * x + y * y, axis=0))),
    OpCase("local_response_normalization",
           lambda x: nf.nn.local_response_normalization(x, depth_radius=2, bias=1.5,
                                                        alpha=0.3, beta=0.75),
           [_draw((1, 2, 2, 6)), _draw((2, 1, 1, 3), seed=1), _draw((1, 1, 2, 1), seed=2)],
           torch_fn=lambda x: _torch_lrn(x, 2, 1.5, 0.3, 0.75),
           ref=lambda x: _np_lrn(x, 2, 1.5, 0.3, 0.75)),
    OpCase("lrn_defaults", nf.nn.lrn, [_draw((1, 2, 1, 12))],
           torch_fn=lambda x: _torch_lrn(x, 5, 1.0, 1.0, 0.5),
           ref=lambda x: _np_lrn(x, 5, 1.0, 1.0, 0.5)),
    OpCase("dropout_mask", lambda x, u: normalization._dropout(x, u, 0.4),
           binary(low2=0.0, high2=1.0, kinks=KINKS_04),
           ref=lambda x, u: np.where(u >= 0.4, x / 0.6, 0.0)),
    OpCase("embedding_lookup", nf.nn.embedding_lookup,
           [_with_ids(_draw((5, 3))[0], IDS_2D), _with_ids(_draw((4,), seed=1)[0], IDS_1D),
            _with_ids(_draw((5, 2, 2), seed=2)[0], np.array(3))],
           torch_fn=lambda p, ids: p[ids], ref=lambda p, ids: p[ids]),
    # squared, so the second-order check runs the gradient ops' own gradients
    OpCase("embedding_lookup_squared", lambda p, ids: nf.nn.embedding_lookup(p, ids) ** 2,
           [_with_ids(_draw((5, 3))[0], IDS_2D)], ref=lambda p, ids: p[ids] ** 2),
    OpCase("top_k_squared", lambda x: nf.nn.top_k(x, k=2).values ** 2,
           [_draw((3, 4), seed=1)], ref=lambda x: _np_top_k(x, 2)[0] ** 2),
    OpCase("dropout_mask_squared", lambda x, u: normalization._dropout(x, u, 0.4) ** 2,
           [_draw((3, 4), (4,), low=0.0, high=1.0, seed=4)],
           ref=lambda x, u: np.where(u >= 0.4, x / 0.6, 0.0) ** 2),
    OpCase("top_k", lambda x: nf.nn.top_k(x, k=2),
           [_draw((5,)), _draw((3, 4), seed=1), _draw((2, 3, 2), seed=2)],
           torch_fn=lambda x: torch.topk(x, 2), ref=lambda x: _np_top_k(x, 2)),
    # rows much longer than k take the partition path
    OpCase("top_k_long_rows", lambda x: nf.nn.top_k(x, k=3), [_draw((2, 40))],
           torch_fn=lambda x: torch.topk(x, 3), ref=lambda x: _np_top_k(x, 3)),
    OpCase("in_top_k", lambda p, t: nf.nn.in_top_k(t, p, 2),
           [(_draw((4, 5))[0], np.array([0, 1, 2, 4]))], grad=False,
           ref=lambda p, t: np.sum(p > p[np.arange(4), t][:, None], axis=1) < 2),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


# -- layer and batch normalization --------------------------------------------------------


def _composed_layer_norm(x, g, b):
    mean, var = nf.nn.moments(x, [-1], keepdims=True)
    return (x - mean) * nf.math.rsqrt(var + 1e-3) * g + b


def test_layer_norm_gradient_matches_composition():
    """The fused op's hand-written gradient against the same maths composed from ops."""
    rng = np.random.default_rng(0)
    x = nf.constant(rng.normal(size=(4, 6)))
    g, b = nf.constant(rng.normal(size=6)), nf.constant(rng.normal(size=6))
    w = rng.normal(size=(4, 6))

    results = []
    for fn in (lambda x, g, b: nf.nn.layer_normalization(x, gamma=g, beta=b),
               _composed_layer_norm):
        with nf.GradientTape(persistent=True) as outer:
            outer.watch([x, g, b])
            with nf.GradientTape() as inner:
                inner.watch([x, g, b])
                loss = nf.reduce_sum(fn(x, g, b) * w)
            grads = inner.gradient(loss, [x, g, b])
            second = nf.reduce_sum(grads[0] * grads[0]) + nf.reduce_sum(grads[1] * x[0])
        seconds = outer.gradient(second, [x, g, b],
                                 unconnected_gradients=nf.UnconnectedGradients.ZERO)
        results.append([t.numpy() for t in grads + seconds])
    for fused, reference in zip(*results):
        np.testing.assert_allclose(fused, reference, rtol=1e-9, atol=1e-10)


def test_layer_norm_third_order_and_graph_second_order_match_composition():
    rng = np.random.default_rng(1)
    xv, gv, bv = rng.normal(size=(2, 5)), rng.normal(size=5), rng.normal(size=5)
    w = rng.normal(size=(2, 5))
    fused = lambda x, g, b: nf.nn.layer_normalization(x, gamma=g, beta=b)
    third = []
    for fn in (fused, _composed_layer_norm):
        x, g, b = nf.constant(xv), nf.constant(gv), nf.constant(bv)
        with nf.GradientTape() as t3:
            t3.watch(x)
            with nf.GradientTape() as t2:
                t2.watch([x, g])
                with nf.GradientTape() as t1:
                    t1.watch([x, g])
                    loss = nf.reduce_sum(fn(x, g, b) * w)
                gx, gg = t1.gradient(loss, [x, g])
                second = nf.reduce_sum(gx * gx * w) + nf.reduce_sum(gg * gg)
            d2 = t2.gradient(second, x)
            total = nf.reduce_sum(d2 * d2)
        third.append(t3.gradient(total, x).numpy())
    np.testing.assert_allclose(third[0], third[1], rtol=1e-8, atol=1e-10)

    graph_results = []
    for fn in (fused, _composed_layer_norm):
        graph = nf.Graph()
        with graph.as_default():
            x = v1.placeholder(nf.float64, [None, 5])
            g = nf.constant(gv)
            gx = nf.gradients(nf.reduce_sum(fn(x, g, nf.constant(bv)) * w), [x])[0]
            d2 = nf.gradients(nf.reduce_sum(gx * gx), [x, g])
        with v1.Session(graph=graph) as sess:
            graph_results.append(sess.run(d2, {x: xv}))
    for a, b in zip(*graph_results):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_layer_norm_float32_and_float16():
    x = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    y = nf.nn.layer_normalization(nf.constant(x), epsilon=1e-5)
    assert y.dtype == nf.float32
    np.testing.assert_allclose(y.numpy(), _np_layer_norm(x, -1, eps=1e-5), atol=1e-5)
    half = nf.nn.layer_normalization(nf.constant(x.astype(np.float16)), epsilon=1e-5)
    assert half.dtype == nf.float16
    np.testing.assert_allclose(half.numpy(), _np_layer_norm(x, -1, eps=1e-5), atol=1e-2)


def test_layer_norm_errors():
    with pytest.raises(TypeError, match="floating"):
        nf.nn.layer_normalization(nf.constant([[1, 2]]))
    with pytest.raises(ValueError, match="gamma of shape"):
        nf.nn.layer_normalization(nf.ones([2, 3]), gamma=nf.ones([4]))
    with pytest.raises(ValueError, match="out of range"):
        nf.nn.layer_normalization(nf.ones([2, 3]), axis=2)


def test_layer_norm_graph_with_unknown_batch():
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float64, [None, 4])
        gamma = nf.constant(np.arange(1.0, 5.0))
        y = nf.nn.layer_normalization(x, gamma=gamma)
        assert y.shape.as_list() == [None, 4]
        grad = nf.gradients(nf.reduce_sum(y * y), [x, gamma])
    value = np.random.default_rng(1).normal(size=(3, 4))
    with v1.Session(graph=graph) as sess:
        got, gx, gg = sess.run([y, *grad], {x: value})
    np.testing.assert_allclose(got, _np_layer_norm(value, -1, np.arange(1.0, 5.0)))
    assert gx.shape == (3, 4) and gg.shape == (4,)


def test_moments_float16_reduces_in_float32():
    x = nf.constant(np.full([4096], 1000.0, np.float16) + np.tile([0.0, 2.0], 2048)
                    .astype(np.float16))
    mean, variance = nf.nn.moments(x, [0])
    assert mean.dtype == nf.float16 and variance.dtype == nf.float16
    assert float(mean.numpy()) == 1001.0 and float(variance.numpy()) == 1.0


def test_batch_normalization_float32_stays_float32():
    x = nf.ones([2, 3])
    y = nf.nn.batch_normalization(x, nf.zeros([3]), nf.ones([3]), nf.zeros([3]), nf.ones([3]),
                                  1e-3)
    assert y.dtype == nf.float32
    np.testing.assert_allclose(y.numpy(), np.full((2, 3), 1 / np.sqrt(1.001)), rtol=1e-6)


# -- dropout ------------------------------------------------------------------------------


def test_dropout_statistics_and_scaling():
    x = nf.ones([200, 100])
    y = nf.nn.dropout(x, rate=0.3, seed=5).numpy()
    kept = y != 0
    assert y.dtype == np.float32
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    # 20,000 Bernoulli(0.7) draws: the kept fraction is within 5 sigma (~0.016) of 0.7
    assert abs(kept.mean() - 0.7) < 0.016
    assert abs(y.mean() - 1.0) < 0.03


def test_dropout_values_are_scaled_inputs():
    x = np.random.default_rng(0).normal(size=(50, 20)).astype(np.float32)
    y = nf.nn.dropout(nf.constant(x), rate=0.5).numpy()
    kept = y != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(y[kept], x[kept] * 2, rtol=1e-6)


def test_dropout_seeds():
    x = nf.ones([64])
    nf.random.set_seed(42)
    first = [nf.nn.dropout(x, 0.5, seed=7).numpy() for _ in range(2)]
    nf.random.set_seed(42)
    again = [nf.nn.dropout(x, 0.5, seed=7).numpy() for _ in range(2)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1]), "repeated calls must draw new masks"


def test_dropout_rate_zero_is_identity():
    x = nf.constant([1.0, 2.0])
    assert nf.nn.dropout(x, 0.0) is x
    assert nf.nn.dropout(x, nf.constant(0.0)) is x


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_rate_out_of_range(rate):
    with pytest.raises(ValueError, match=r"range \[0, 1\)"):
        nf.nn.dropout(nf.ones([3]), rate)


def test_dropout_rejects_integers():
    with pytest.raises(ValueError, match="floating point"):
        nf.nn.dropout(nf.constant([1, 2]), 0.5)


def test_dropout_noise_shape_shares_draws():
    y = nf.nn.dropout(nf.ones([50, 8]), 0.5, noise_shape=[50, 1], seed=3).numpy()
    assert np.all(y == y[:, :1])
    assert 0 < (y[:, 0] != 0).sum() < 50
    z = nf.nn.dropout(nf.ones([4, 30]), 0.5, noise_shape=[1, None], seed=3).numpy()
    assert np.all(z == z[:1])


def test_dropout_gradient_is_the_mask():
    x = nf.constant(np.random.default_rng(0).normal(size=(20, 10)))
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = nf.nn.dropout(x, 0.25)
        loss = nf.reduce_sum(y * 3.0)
    grad = tape.gradient(loss, x).numpy()
    np.testing.assert_allclose(grad, np.where(y.numpy() != 0, 3.0 / 0.75, 0.0))


def test_dropout_in_a_graph_draws_per_run_and_takes_a_placeholder_rate():
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, 100])
        rate = v1.placeholder(nf.float32, [])
        y = nf.nn.dropout(x, rate, seed=1)
        assert y.shape.as_list() == [None, 100]
    with v1.Session(graph=graph) as sess:
        feed = {x: np.ones((4, 100), np.float32), rate: 0.5}
        a, b = sess.run(y, feed), sess.run(y, feed)
        none_dropped = sess.run(y, {x: np.ones((4, 100), np.float32), rate: 0.0})
    assert not np.array_equal(a, b)
    assert set(np.unique(a)) == {0.0, 2.0}
    np.testing.assert_array_equal(none_dropped, 1.0)


# -- lookups ------------------------------------------------------------------------------


def test_embedding_lookup_gradient_accumulates_repeated_ids():
    params = nf.constant(np.zeros((4, 2)))
    with nf.GradientTape() as tape:
        tape.watch(params)
        loss = nf.reduce_sum(nf.nn.embedding_lookup(params, [[1, 1], [3, 1]]))
    np.testing.assert_array_equal(tape.gradient(loss, params).numpy(),
                                  [[0, 0], [3, 3], [0, 0], [1, 1]])


def test_embedding_lookup_out_of_range_names_the_index():
    with pytest.raises(nf.errors.InvalidArgumentError, match=r"indices\[1\] = 7 is not in"):
        nf.nn.embedding_lookup(nf.ones([5, 2]), [0, 7])
    with pytest.raises(TypeError, match="integers"):
        nf.nn.embedding_lookup(nf.ones([5, 2]), nf.constant([0.0]))


def test_embedding_lookup_sharded_params_use_div_strategy():
    table = np.arange(14.0).reshape(7, 2)
    shards = [nf.constant(table[:3]), nf.constant(table[3:5]), nf.constant(table[5:])]
    got = nf.nn.embedding_lookup(shards, [6, 0, 3, 4])
    np.testing.assert_array_equal(got.numpy(), table[[6, 0, 3, 4]])


def test_embedding_lookup_max_norm():
    table = nf.constant([[3.0, 4.0], [0.3, 0.4]])
    got = nf.nn.embedding_lookup(table, [0, 1], max_norm=1.0).numpy()
    np.testing.assert_allclose(got, [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)


@pytest.mark.parametrize("n", [5, 50])
def test_top_k_ties_keep_the_lower_index_first(n):
    x = np.zeros(n, np.float32)
    x[[1, 3]] = 2.0
    values, indices = nf.nn.top_k(nf.constant(x), k=4)
    np.testing.assert_array_equal(indices.numpy(), [1, 3, 0, 2])
    np.testing.assert_array_equal(values.numpy(), [2, 2, 0, 0])
    assert indices.dtype == nf.int32


def test_top_k_integers_and_errors():
    values, indices = nf.nn.top_k(nf.constant([[3, -5, 7, 7]]), k=3)
    np.testing.assert_array_equal(values.numpy(), [[7, 7, 3]])
    np.testing.assert_array_equal(indices.numpy(), [[2, 3, 0]])
    result = nf.nn.top_k(nf.constant(np.array([0, 255, 1], np.uint8)), k=1)
    assert result.values.numpy()[0] == 255 and result.indices.numpy()[0] == 1
    with pytest.raises(nf.errors.InvalidArgumentError, match="at least k=4"):
        nf.nn.top_k(nf.ones([3]), k=4)
    with pytest.raises(nf.errors.InvalidArgumentError, match="rank >= 1"):
        nf.nn.top_k(nf.constant(1.0))


def test_in_top_k_ties_range_and_non_finite():
    predictions = nf.constant([[0.1, 0.5, 0.5, 0.2],
                               [0.1, 0.5, 0.5, 0.2],
                               [0.9, np.nan, 0.1, 0.2],
                               [0.4, 0.3, 0.2, 0.1]])
    targets = nf.constant([2, 3, 0, 9])
    np.testing.assert_array_equal(nf.nn.in_top_k(targets, predictions, 1).numpy(),
                                  [True, False, False, False])
    np.testing.assert_array_equal(nf.nn.in_top_k(targets, predictions, 3).numpy(),
                                  [True, True, False, False])
