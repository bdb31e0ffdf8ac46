"""Property tests: reductions over random shapes, axes and keepdims against NumPy."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuroflow as nf
from neuroflow.compat import v1

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def shape_and_axis(draw, min_rank=0):
    """A shape (rank <= 4, dims 1..4) and an axis spec: None, an int or a list of distinct
    axes, each possibly negative."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=min_rank, max_size=4)))
    rank = len(shape)
    kind = draw(st.sampled_from(["none", "int", "list"] if rank else ["none", "list"]))
    if kind == "none":
        axis = None
    else:
        axes = draw(st.lists(st.integers(0, rank - 1), unique=True,
                             min_size=1 if kind == "int" else 0,
                             max_size=1 if kind == "int" else rank)) if rank else []
        axes = [a - rank if draw(st.booleans()) else a for a in axes]
        axis = axes[0] if kind == "int" else axes
    return shape, axis, draw(st.booleans())


def _np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _values(shape, seed, low=-2.0, high=2.0):
    """Distinct float32 values (no ties, so extrema and their gradients are unambiguous)."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    grid = np.linspace(low, high, n) if n > 1 else np.array([0.7])
    return rng.permutation(grid).reshape(shape).astype(np.float32)


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


FLOAT_REDUCTIONS = {
    "reduce_sum": (nf.reduce_sum, np.sum),
    "reduce_mean": (nf.reduce_mean, np.mean),
    "reduce_max": (nf.reduce_max, np.max),
    "reduce_min": (nf.reduce_min, np.min),
    "reduce_prod": (nf.reduce_prod, np.prod),
    "reduce_variance": (nf.math.reduce_variance, np.var),
    "reduce_std": (nf.math.reduce_std, np.std),
    "reduce_logsumexp": (nf.reduce_logsumexp, _np_logsumexp),
    "reduce_euclidean_norm": (nf.math.reduce_euclidean_norm,
                              lambda x, axis=None, keepdims=False: np.sqrt(
                                  np.sum(np.square(x, dtype=np.float64), axis=axis,
                                         keepdims=keepdims))),
}


@pytest.mark.parametrize("name", sorted(FLOAT_REDUCTIONS))
@SETTINGS
@given(spec=shape_and_axis(), seed=st.integers(0, 2**16))
def test_float_reduction_matches_numpy(name, spec, seed):
    shape, axis, keepdims = spec
    ours, ref = FLOAT_REDUCTIONS[name]
    x = _values(shape, seed)
    got = ours(nf.constant(x), axis=axis, keepdims=keepdims)
    want = ref(x.astype(np.float64), axis=_np_axis(axis), keepdims=keepdims)
    assert got.dtype == nf.float32
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_max", "reduce_logsumexp",
                                  "reduce_std"])
@SETTINGS
@given(spec=shape_and_axis(min_rank=1), unknown=st.booleans())
def test_static_shape_matches_eager_shape(name, spec, unknown):
    """The graph shape rule agrees with the value, with known or unknown input dims."""
    shape, axis, keepdims = spec
    ours, _ = FLOAT_REDUCTIONS[name]
    eager = ours(nf.ones(shape), axis=axis, keepdims=keepdims)
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None] * len(shape) if unknown else shape)
        sym = ours(x, axis=axis, keepdims=keepdims)
    assert sym.shape.rank == eager.shape.rank
    assert sym.shape.is_compatible_with(eager.shape)
    if not unknown:
        assert sym.shape.as_list() == list(eager.shape)


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min",
                                  "reduce_prod"])
@SETTINGS
@given(spec=shape_and_axis(), seed=st.integers(0, 2**16))
def test_gradient_matches_closed_form(name, spec, seed):
    shape, axis, keepdims = spec
    ours, ref = FLOAT_REDUCTIONS[name]
    x64 = _values(shape, seed, 0.5, 1.5).astype(np.float64)
    x = nf.constant(x64)
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = ours(x, axis=axis, keepdims=keepdims)
    g = tape.gradient(y, x).numpy()
    ax = _np_axis(axis)
    count = x64.size / max(np.size(ref(x64, axis=ax, keepdims=True)), 1)
    if name == "reduce_sum":
        want = np.ones_like(x64)
    elif name == "reduce_mean":
        want = np.full_like(x64, 1.0 / count)
    elif name == "reduce_prod":
        want = np.prod(x64, axis=ax, keepdims=True) / x64
    else:
        want = (x64 == ref(x64, axis=ax, keepdims=True)).astype(np.float64)
    assert g.shape == shape
    np.testing.assert_allclose(g, want, rtol=1e-10)


@SETTINGS
@given(spec=shape_and_axis(), seed=st.integers(0, 2**16))
def test_logical_and_counting_reductions(spec, seed):
    shape, axis, keepdims = spec
    rng = np.random.default_rng(seed)
    b = rng.uniform(size=shape) > 0.5
    ax = _np_axis(axis)
    np.testing.assert_array_equal(nf.reduce_all(b, axis=axis, keepdims=keepdims).numpy(),
                                  np.all(b, axis=ax, keepdims=keepdims))
    np.testing.assert_array_equal(nf.reduce_any(b, axis=axis, keepdims=keepdims).numpy(),
                                  np.any(b, axis=ax, keepdims=keepdims))
    ints = rng.integers(-1, 2, shape).astype(np.int32)
    count = nf.math.count_nonzero(ints, axis=axis, keepdims=keepdims)
    assert count.dtype == nf.int64
    want = np.sum(ints != 0, axis=ax, keepdims=keepdims)
    np.testing.assert_array_equal(count.numpy(), want)
    total = nf.reduce_sum(ints, axis=axis, keepdims=keepdims)
    assert total.numpy().dtype == np.int32
    np.testing.assert_array_equal(total.numpy(), np.sum(ints, axis=ax, keepdims=keepdims))


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data(),
       seed=st.integers(0, 2**16))
def test_arg_extrema_and_cumsum(shape, data, seed):
    rank = len(shape)
    axis = data.draw(st.integers(-rank, rank - 1))
    exclusive, reverse = data.draw(st.booleans()), data.draw(st.booleans())
    x = _values(tuple(shape), seed)
    np.testing.assert_array_equal(nf.argmax(x, axis=axis).numpy(), np.argmax(x, axis=axis))
    np.testing.assert_array_equal(nf.argmin(x, axis=axis).numpy(), np.argmin(x, axis=axis))
    x64 = x.astype(np.float64)
    flipped = np.flip(x64, axis) if reverse else x64
    want = np.cumsum(flipped, axis=axis) - (flipped if exclusive else 0)
    want = np.flip(want, axis) if reverse else want
    got = nf.cumsum(x64, axis=axis, exclusive=exclusive, reverse=reverse).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # the gradient of cumsum is the cumsum of the other direction
    xt = nf.constant(x64)
    w = np.random.default_rng(seed + 1).uniform(size=x64.shape)
    with nf.GradientTape() as tape:
        tape.watch(xt)
        y = nf.reduce_sum(nf.cumsum(xt, axis=axis, exclusive=exclusive, reverse=reverse) * w)
    flipped_w = w if reverse else np.flip(w, axis)
    gw = np.cumsum(flipped_w, axis=axis) - (flipped_w if exclusive else 0)
    gw = gw if reverse else np.flip(gw, axis)
    np.testing.assert_allclose(tape.gradient(y, xt).numpy(), gw, rtol=1e-12, atol=1e-12)
