"""Op-table cases and focused tests for reductions (neuroflow/ops/reduce.py)."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from tests.optable import OpCase, parametrize, torch

RNG = np.random.default_rng(7)
SCALAR, VECTOR, MATRIX, CUBE = (), (5,), (3, 4), (2, 3, 4)


def _draw(shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape)


def _all_dims(x):
    return tuple(range(x.ndim))


def _torch_reduce(fn, dim=None, keepdim=False, **kw):
    """torch.<fn> over ``dim`` (all dims when None), coping with 0-d inputs."""
    def call(x):
        d = _all_dims(x) if dim is None else dim
        if x.ndim == 0:
            return fn(x.reshape(1), dim=0, **kw)
        return fn(x, dim=d, keepdim=keepdim, **kw)
    return call


def _reduction_cases(name, nf_fn, torch_fn, np_fn, low=-2.0, high=2.0, scalar=True, **kw):
    """The same reduction over all axes, one axis, negative axes, an axis list, keepdims."""
    shapes = [SCALAR, VECTOR, MATRIX, CUBE] if scalar else [VECTOR, MATRIX, CUBE]
    tf = torch_fn is not None

    def t(dim=None, keepdim=False):
        return _torch_reduce(torch_fn, dim, keepdim, **kw) if tf else None
    return [
        OpCase(f"{name}_all", lambda x: nf_fn(x), [(_draw(s, low, high),) for s in shapes],
               torch_fn=t(), ref=lambda x: np_fn(x)),
        OpCase(f"{name}_axis0", lambda x: nf_fn(x, axis=0),
               [(_draw(s, low, high),) for s in (VECTOR, MATRIX, CUBE)],
               torch_fn=t(0), ref=lambda x: np_fn(x, axis=0)),
        OpCase(f"{name}_axis-1_keepdims", lambda x: nf_fn(x, axis=-1, keepdims=True),
               [(_draw(s, low, high),) for s in (MATRIX, CUBE)],
               torch_fn=t(-1, True), ref=lambda x: np_fn(x, axis=-1, keepdims=True)),
        OpCase(f"{name}_axes[0,-1]", lambda x: nf_fn(x, axis=[0, -1]),
               [(_draw(s, low, high),) for s in (MATRIX, CUBE)],
               torch_fn=t((0, -1)), ref=lambda x: np_fn(x, axis=(0, -1))),
        OpCase(f"{name}_axes[2,0]_keepdims", lambda x: nf_fn(x, axis=[2, 0], keepdims=True),
               [(_draw(CUBE, low, high),)],
               torch_fn=t((2, 0), True), ref=lambda x: np_fn(x, axis=(2, 0), keepdims=True)),
    ]


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _torch_prod(x):
    return torch.prod(x)


def _np_cumsum(x, axis=0, exclusive=False, reverse=False):
    if reverse:
        x = np.flip(x, axis)
    out = np.cumsum(x, axis=axis)
    if exclusive:
        out = out - x
    return np.flip(out, axis) if reverse else out


def _torch_cumsum(axis=0, exclusive=False, reverse=False):
    def call(x):
        if reverse:
            x = torch.flip(x, [axis])
        out = torch.cumsum(x, dim=axis)
        if exclusive:
            out = out - x
        return torch.flip(out, [axis]) if reverse else out
    return call


_SUM_LIKE = (
    _reduction_cases("reduce_sum", nf.reduce_sum, torch and torch.sum, np.sum)
    + _reduction_cases("reduce_mean", nf.reduce_mean, torch and torch.mean, np.mean)
    + _reduction_cases("reduce_max", nf.reduce_max, torch and torch.amax, np.max)
    + _reduction_cases("reduce_min", nf.reduce_min, torch and torch.amin, np.min)
    + _reduction_cases("reduce_variance", nf.math.reduce_variance, torch and torch.var, np.var,
                       correction=0)
    + _reduction_cases("reduce_std", nf.math.reduce_std, torch and torch.std, np.std,
                       scalar=False, correction=0)
    + _reduction_cases("reduce_logsumexp", nf.reduce_logsumexp, torch and torch.logsumexp,
                       _np_logsumexp, scalar=False)
    + _reduction_cases("reduce_euclidean_norm", nf.math.reduce_euclidean_norm,
                       torch and torch.linalg.vector_norm,
                       lambda x, axis=None, keepdims=False: np.sqrt(
                           np.sum(x * x, axis=axis, keepdims=keepdims)))
)

_PROD_SAMPLES = [(_draw(s, 0.5, 1.5) * np.sign(_draw(s)),) for s in (SCALAR, VECTOR, MATRIX)]

CASES = _SUM_LIKE + [
    OpCase("reduce_prod_all", nf.reduce_prod, _PROD_SAMPLES, torch_fn=lambda x: torch.prod(x),
           ref=np.prod),
    OpCase("reduce_prod_axis1", lambda x: nf.reduce_prod(x, axis=1),
           [(_draw(s, 0.5, 1.5),) for s in (MATRIX, CUBE)],
           torch_fn=lambda x: torch.prod(x, dim=1), ref=lambda x: np.prod(x, axis=1)),
    OpCase("reduce_prod_axis-1_keepdims", lambda x: nf.reduce_prod(x, axis=-1, keepdims=True),
           [(_draw(s, -1.5, 1.5),) for s in (VECTOR, CUBE)],
           torch_fn=lambda x: torch.prod(x, dim=-1, keepdim=True),
           ref=lambda x: np.prod(x, axis=-1, keepdims=True)),
    OpCase("reduce_prod_with_zeros", lambda x: nf.reduce_prod(x, axis=1),
           [(np.array([[0.0, 2.0, 3.0], [1.5, 0.0, 0.0], [2.0, 0.5, -1.0]]),)],
           torch_fn=lambda x: torch.prod(x, dim=1), ref=lambda x: np.prod(x, axis=1),
           skip={"second_order": "the second derivative of reduce_prod is not exact where a "
                                 "group holds a zero (the gradient treats the zero count as "
                                 "constant), as TensorFlow's"}),
    OpCase("reduce_max_ties", lambda x: nf.reduce_max(x, axis=1),
           [(np.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0], [0.1, -1.0, 4.0, 0.2]]),)],
           torch_fn=lambda x: torch.amax(x, dim=1), ref=lambda x: np.max(x, axis=1),
           skip={"gradient": "finite differences are undefined at tied maxima (torch.amax, "
                             "which also splits the gradient equally, is the oracle)",
                 "second_order": "finite differences are undefined at tied maxima"}),
    OpCase("reduce_min_ties", lambda x: nf.reduce_min(x),
           [(np.array([[1.0, -3.0], [-3.0, 0.5]]),)],
           torch_fn=lambda x: torch.amin(x), ref=np.min,
           skip={"gradient": "finite differences are undefined at tied minima (torch.amin is "
                             "the oracle)",
                 "second_order": "finite differences are undefined at tied minima"}),
    OpCase("reduce_logsumexp_large", lambda x: nf.reduce_logsumexp(x, axis=-1),
           [(np.array([[1e4, 1e4 - 1.0, -1e4], [-3.0, 2.0, 0.5]]),)],
           torch_fn=lambda x: torch.logsumexp(x, dim=-1),
           ref=lambda x: _np_logsumexp(x, axis=-1)),
    OpCase("reduce_all", lambda x: nf.reduce_all(x, axis=1),
           [(RNG.uniform(size=s) > 0.3,) for s in (MATRIX, CUBE)],
           torch_fn=lambda x: torch.all(x, dim=1), ref=lambda x: np.all(x, axis=1), grad=False),
    OpCase("reduce_any", lambda x: nf.reduce_any(x),
           [(RNG.uniform(size=s) > 0.7,) for s in (SCALAR, VECTOR, MATRIX)],
           torch_fn=lambda x: torch.any(x), ref=np.any, grad=False),
    OpCase("count_nonzero", lambda x: nf.math.count_nonzero(x, axis=0),
           [(RNG.integers(-1, 2, s).astype(np.int32),) for s in (VECTOR, MATRIX, CUBE)]
           + [(np.where(RNG.uniform(size=MATRIX) > 0.5, _draw(MATRIX), 0.0),)],
           torch_fn=lambda x: torch.count_nonzero(x, dim=0),
           ref=lambda x: np.count_nonzero(x, axis=0), grad=False),
    OpCase("argmax", lambda x: nf.argmax(x, axis=-1),
           [(_draw(s),) for s in (VECTOR, MATRIX, CUBE)],
           torch_fn=lambda x: torch.argmax(x, dim=-1), ref=lambda x: np.argmax(x, axis=-1),
           grad=False),
    OpCase("argmax_default_axis", nf.argmax, [(_draw(s),) for s in (VECTOR, MATRIX)],
           torch_fn=lambda x: torch.argmax(x, dim=0), ref=lambda x: np.argmax(x, axis=0),
           grad=False),
    OpCase("argmin", lambda x: nf.argmin(x, axis=1), [(_draw(s),) for s in (MATRIX, CUBE)],
           torch_fn=lambda x: torch.argmin(x, dim=1), ref=lambda x: np.argmin(x, axis=1),
           grad=False),
    OpCase("cumsum", nf.cumsum, [(_draw(s),) for s in (VECTOR, MATRIX, CUBE)],
           torch_fn=_torch_cumsum(), ref=_np_cumsum),
    OpCase("cumsum_axis-1_exclusive", lambda x: nf.cumsum(x, axis=-1, exclusive=True),
           [(_draw(s),) for s in (VECTOR, MATRIX, CUBE)],
           torch_fn=_torch_cumsum(-1, exclusive=True),
           ref=lambda x: _np_cumsum(x, -1, exclusive=True)),
    OpCase("cumsum_axis1_reverse", lambda x: nf.cumsum(x, axis=1, reverse=True),
           [(_draw(s),) for s in (MATRIX, CUBE)], torch_fn=_torch_cumsum(1, reverse=True),
           ref=lambda x: _np_cumsum(x, 1, reverse=True)),
    OpCase("cumsum_exclusive_reverse", lambda x: nf.cumsum(x, exclusive=True, reverse=True),
           [(_draw(s),) for s in (VECTOR, MATRIX)],
           torch_fn=_torch_cumsum(0, exclusive=True, reverse=True),
           ref=lambda x: _np_cumsum(x, 0, exclusive=True, reverse=True)),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


# -- focused tests ------------------------------------------------------------------------


def _grad(fn, x):
    x = nf.constant(x)
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.gradient(y, x).numpy()


def test_namespaces():
    for name in ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
                 "reduce_std", "reduce_variance", "reduce_logsumexp", "reduce_all",
                 "reduce_any", "argmax", "argmin", "cumsum", "count_nonzero"]:
        assert getattr(nf, name) is getattr(nf.math, name), name


@pytest.mark.parametrize("fn", [nf.reduce_sum, nf.reduce_mean, nf.reduce_max, nf.reduce_min,
                                nf.reduce_prod, nf.math.reduce_std, nf.math.reduce_variance,
                                nf.reduce_logsumexp, nf.cumsum, nf.math.reduce_euclidean_norm])
def test_float32_stays_float32(fn):
    x = nf.constant(RNG.uniform(0.5, 1.5, (3, 4)).astype(np.float32))
    assert fn(x).dtype == nf.float32
    assert fn(x).numpy().dtype == np.float32
    assert _grad(lambda t: nf.reduce_sum(fn(t)), x.numpy()).dtype == np.float32


def test_int32_sums_stay_int32():
    x = nf.constant([[1, 2], [3, 4]])
    assert nf.reduce_sum(x).numpy().dtype == np.int32
    assert nf.reduce_sum(x).numpy() == 10
    assert nf.reduce_prod(x, axis=0).numpy().tolist() == [3, 8]
    assert nf.cumsum(x, axis=1).numpy().dtype == np.int32
    assert nf.reduce_mean(nf.constant([1, 2])).numpy() == 1  # integer mean truncates, as TF


def test_reduce_max_ties_split_gradient_equally():
    g = _grad(lambda x: nf.reduce_max(x, axis=1),
              np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], np.float32))
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    g = _grad(nf.reduce_min, np.array([[4.0, -1.0], [-1.0, -1.0]]))
    np.testing.assert_allclose(g, [[0, 1 / 3], [1 / 3, 1 / 3]], rtol=1e-12)


@pytest.mark.parametrize("row, want", [
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),
    ([0.0, 0.0, 3.0], [0.0, 0.0, 0.0]),
    ([2.0, 4.0, 0.5], [2.0, 1.0, 8.0]),
    ([0.0], [1.0]),
])
def test_reduce_prod_gradient_with_zeros(row, want):
    g = _grad(nf.reduce_prod, np.array(row))
    np.testing.assert_allclose(g, want, rtol=1e-12)
    assert np.all(np.isfinite(g))


def test_reduce_logsumexp_is_stable():
    x = np.array([1e4, 1e4, -1e4], np.float32)
    y = nf.reduce_logsumexp(x)
    assert y.dtype == nf.float32
    np.testing.assert_allclose(y.numpy(), 1e4 + np.log(2.0), rtol=1e-6)
    g = _grad(nf.reduce_logsumexp, x)
    np.testing.assert_allclose(g, [0.5, 0.5, 0.0], atol=1e-6)
    big = nf.reduce_logsumexp(nf.constant([[-1e4, -1e4 - 2.0]], nf.float64), axis=1)
    np.testing.assert_allclose(big.numpy(), [-1e4 + np.log1p(np.exp(-2.0))], rtol=1e-12)


def test_reduce_logsumexp_infinities():
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 0.0]])
    np.testing.assert_array_equal(nf.reduce_logsumexp(x, axis=1).numpy(), [-np.inf, np.inf, 0])


def test_reduce_std_and_variance_reject_integers():
    with pytest.raises(TypeError, match="floating"):
        nf.math.reduce_std(nf.constant([1, 2]))
    with pytest.raises(TypeError, match="floating"):
        nf.math.reduce_variance([1, 2])


def test_reduce_variance_of_complex_is_real():
    x = nf.constant(np.array([1 + 1j, 3 - 1j], np.complex64))
    v = nf.math.reduce_variance(x)
    assert v.dtype == nf.float32
    np.testing.assert_allclose(v.numpy(), 2.0, rtol=1e-6)


def test_reduce_all_any_need_bool():
    with pytest.raises(TypeError, match="bool"):
        nf.reduce_all(nf.constant([1.0, 0.0]))
    assert nf.reduce_any([[False, True]], axis=0).numpy().tolist() == [False, True]
    assert nf.reduce_all([True, True], keepdims=True).numpy().tolist() == [True]


def test_argmax_attributes():
    x = nf.constant([[1.0, 9.0, 9.0], [7.0, 2.0, 7.0]])
    assert nf.argmax(x).numpy().tolist() == [1, 0, 0]        # axis None means 0, as TF
    assert nf.argmax(x, 1).numpy().tolist() == [1, 0]         # ties: the first index
    assert nf.argmax(x).dtype == nf.int64
    assert nf.argmin(x, axis=-1, output_type=nf.int32).dtype == nf.int32
    assert nf.argmax(x, axis=nf.constant(1)).numpy().tolist() == [1, 0]
    with pytest.raises(TypeError, match="int32 or int64"):
        nf.argmax(x, output_type=nf.float32)
    with pytest.raises(nf.errors.InvalidArgumentError, match="out of range|axis"):
        nf.argmax(x, axis=2)


def test_count_nonzero_dtype_and_keepdims():
    x = nf.constant([[0.0, 1.5], [0.0, -2.0]])
    c = nf.math.count_nonzero(x, axis=0, keepdims=True)
    assert c.dtype == nf.int64 and c.numpy().tolist() == [[0, 2]]
    assert nf.math.count_nonzero(x, dtype=nf.int32).numpy() == 2
    assert nf.math.count_nonzero([True, False, True]).numpy() == 2


def test_cumsum_rejects_scalars_and_bad_axes():
    with pytest.raises(nf.errors.InvalidArgumentError, match="rank"):
        nf.cumsum(nf.constant(1.0))
    with pytest.raises(nf.errors.InvalidArgumentError):
        nf.cumsum(nf.constant([1.0, 2.0]), axis=1)


def test_axis_spellings_agree():
    x = RNG.uniform(size=(2, 3, 4)).astype(np.float32)
    want = np.sum(x, axis=(0, 2))
    for axis in [(0, 2), [0, -1], np.array([2, 0]), nf.constant([0, 2])]:
        np.testing.assert_allclose(nf.reduce_sum(x, axis=axis).numpy(), want, rtol=1e-6)


def test_out_of_range_axis_names_the_op():
    with pytest.raises(nf.errors.InvalidArgumentError, match="Sum"):
        nf.reduce_sum(nf.ones([2, 3]), axis=2)
    with nf.Graph().as_default():
        with pytest.raises(nf.errors.InvalidArgumentError, match="Max.*out of range"):
            nf.reduce_max(v1.placeholder(nf.float32, [None, 3]), axis=-3)


def test_graph_shapes_with_unknown_dims():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 3, 4])
        assert nf.reduce_sum(x, axis=1).shape.as_list() == [None, 4]
        assert nf.reduce_max(x, axis=[0, 2], keepdims=True).shape.as_list() == [1, 3, 1]
        assert nf.argmax(x, axis=-1).shape.as_list() == [None, 3]
        assert nf.cumsum(x, axis=1).shape.as_list() == [None, 3, 4]
        assert nf.reduce_logsumexp(x).shape.as_list() == []
        assert nf.math.reduce_std(x, axis=0).shape.as_list() == [3, 4]
        y = v1.placeholder(nf.float32, None)
        assert nf.reduce_sum(y, axis=0).shape.rank is None
        g = nf.gradients(nf.reduce_prod(x, axis=[1]), x)[0]
        assert g.shape.as_list() == [None, 3, 4]
        with v1.Session() as sess:
            value = RNG.uniform(0.5, 1.5, (2, 3, 4)).astype(np.float32)
            got = sess.run(g, {x: value})
    np.testing.assert_allclose(got, np.prod(value, axis=1, keepdims=True) / value, rtol=1e-5)


def test_symbolic_axis_must_be_constant():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [2, 3])
        a = v1.placeholder(nf.int32, [])
        with pytest.raises(TypeError, match="known when the graph is built"):
            nf.reduce_sum(x, axis=a)
        assert nf.reduce_sum(x, axis=nf.constant(1)).shape.as_list() == [2]


def test_sums_reject_bool_as_tensorflow():
    b = nf.constant([True, False])
    for fn in [nf.reduce_sum, nf.reduce_mean, nf.reduce_prod, nf.cumsum]:
        with pytest.raises(nf.errors.InvalidArgumentError, match="bool"):
            fn(b)
    with nf.Graph().as_default():
        with pytest.raises(nf.errors.InvalidArgumentError, match="Sum.*bool"):
            nf.reduce_sum(v1.placeholder(nf.bool, [2]))


def test_extrema_of_empty_tensors():
    empty = nf.zeros([0, 3])
    np.testing.assert_array_equal(nf.reduce_max(empty, axis=0).numpy(), [-np.inf] * 3)
    np.testing.assert_array_equal(nf.reduce_min(empty, axis=0).numpy(), [np.inf] * 3)
    assert nf.reduce_max(nf.zeros([0], nf.int32)).numpy() == np.iinfo(np.int32).min
    assert nf.reduce_sum(empty).numpy() == 0.0
    assert nf.reduce_logsumexp(empty).numpy() == -np.inf


@pytest.mark.skipif(torch is None, reason="torch is the oracle for complex gradients")
def test_reduce_variance_complex_gradient_matches_torch():
    z = np.array([[1 + 2j, -0.5 + 1j, 3 - 1j], [0.2 - 0.3j, 1j, -2 + 0j]])
    w = np.array([0.7, 1.3])
    t = torch.tensor(z, requires_grad=True)
    (torch.var(t, dim=1, correction=0) * torch.tensor(w)).sum().backward()
    x = nf.constant(z)
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = nf.reduce_sum(nf.math.reduce_variance(x, axis=1) * w)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), t.grad.numpy(), rtol=1e-12)
