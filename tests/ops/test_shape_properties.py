"""Property tests: shape ops over random shapes, axes and dtypes against NumPy, with the
graph's static shape checked and a gradient (the adjoint) checked on every example.

The gradient check uses linearity: for a shape op f, <f(x), w> == <x, f^T(w)>, where the
tape's gradient of sum(f(x) * w) with respect to x is f^T(w).
"""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuroflow as nf
from neuroflow.compat import v1

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DTYPES = [np.float32, np.float64, np.int32]


@st.composite
def arrays(draw, min_rank=0, max_rank=4):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=min_rank, max_size=max_rank)))
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**16))
    values = np.random.default_rng(seed).integers(-9, 10, shape)
    return values.astype(dtype)


def _check(fn, np_fn, x):
    """Values, dtype and static shape against NumPy; the adjoint identity for floats."""
    got = fn(nf.constant(x))
    want = np_fn(x)
    np.testing.assert_array_equal(got.numpy(), want)
    assert got.numpy().dtype == want.dtype
    with nf.Graph().as_default():
        placeholder = v1.placeholder(nf.as_dtype(x.dtype), [None] + list(x.shape[1:])
                                     if x.ndim else [])
        symbolic = fn(placeholder)
    assert symbolic.shape.is_compatible_with(want.shape), (symbolic.shape, want.shape)
    if x.dtype.kind == "f":
        x64 = nf.constant(x.astype(np.float64))
        w = np.random.default_rng(0).standard_normal(np.shape(want))
        with nf.GradientTape() as tape:
            tape.watch(x64)
            y = fn(x64)
            inner = nf.reduce_sum(y * w)
        grad = tape.gradient(inner, x64).numpy()
        np.testing.assert_allclose(float(inner.numpy()), float(np.sum(grad * x)), rtol=1e-9,
                                   atol=1e-9)


@SETTINGS
@given(arrays(min_rank=1), st.data())
def test_transpose(x, data):
    perm = data.draw(st.permutations(range(x.ndim)))
    _check(lambda t: nf.transpose(t, perm), lambda a: np.transpose(a, perm), x)


@SETTINGS
@given(arrays(), st.data())
def test_reshape(x, data):
    n = x.size
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    first = data.draw(st.sampled_from(divisors))
    shape = [first, -1] if data.draw(st.booleans()) else [n // first, first]
    _check(lambda t: nf.reshape(t, shape), lambda a: np.reshape(a, shape), x)


@SETTINGS
@given(arrays(min_rank=1), st.data())
def test_reverse_and_expand_dims(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    _check(lambda t: nf.reverse(t, [axis]), lambda a: np.flip(a, axis), x)
    new_axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    _check(lambda t: nf.expand_dims(t, new_axis), lambda a: np.expand_dims(a, new_axis), x)


@SETTINGS
@given(arrays(min_rank=1), st.data())
def test_concat_and_stack(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    _check(lambda t: nf.concat([t, t * 2], axis), lambda a: np.concatenate([a, a * 2], axis), x)
    stack_axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    _check(lambda t: nf.stack([t, t], stack_axis), lambda a: np.stack([a, a], stack_axis), x)


@SETTINGS
@given(arrays(min_rank=1), st.data())
def test_split_and_squeeze(x, data):
    axis = data.draw(st.integers(0, x.ndim - 1))
    parts = data.draw(st.sampled_from([d for d in range(1, x.shape[axis] + 1)
                                       if x.shape[axis] % d == 0]))
    _check(lambda t: nf.concat(nf.split(t, parts, axis)[::-1], axis),
           lambda a: np.concatenate(np.split(a, parts, axis)[::-1], axis), x)
    ones = x.reshape((1,) + x.shape + (1,))
    _check(lambda t: nf.squeeze(t), lambda a: np.squeeze(a), ones)


@SETTINGS
@given(arrays(min_rank=1, max_rank=3), st.data())
def test_tile_pad_broadcast(x, data):
    multiples = data.draw(st.lists(st.integers(1, 3), min_size=x.ndim, max_size=x.ndim))
    _check(lambda t: nf.tile(t, multiples), lambda a: np.tile(a, multiples), x)
    pads = [[data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))] for _ in x.shape]
    _check(lambda t: nf.pad(t, pads), lambda a: np.pad(a, pads), x)
    mirror = [[min(p, d - 1) for p in pair] for pair, d in zip(pads, x.shape)]
    _check(lambda t: nf.pad(t, mirror, mode="REFLECT"),
           lambda a: np.pad(a, mirror, mode="reflect"), x)
    target = [data.draw(st.integers(1, 3))] + [data.draw(st.sampled_from([d, d]))
                                               for d in x.shape]
    _check(lambda t: nf.broadcast_to(t, target), lambda a: np.broadcast_to(a, target), x)


@SETTINGS
@given(arrays(min_rank=1), st.data())
def test_gather_and_slicing(x, data):
    axis = data.draw(st.integers(0, x.ndim - 1))
    indices = data.draw(st.lists(st.integers(0, x.shape[axis] - 1), min_size=1, max_size=5))
    _check(lambda t: nf.gather(t, indices, axis=axis), lambda a: np.take(a, indices, axis), x)
    start = data.draw(st.integers(-x.shape[0], x.shape[0]))
    step = data.draw(st.sampled_from([1, 2, -1, -2]))
    _check(lambda t: t[start::step], lambda a: a[start::step], x)
