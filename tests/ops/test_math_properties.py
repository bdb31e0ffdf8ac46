"""Property tests (hypothesis) for the elementwise math ops: random shapes and broadcasting
pairs against NumPy, eagerly and in graphs, and a gradient check on drawn samples."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neuroflow as nf
from neuroflow.compat import v1
from tests.optable import OpCase, check_gradient

SETTINGS = settings(max_examples=25, deadline=None)

# name: (nf op, NumPy reference, range of x, range of y); ranges keep y away from 0 where it
# divides and x positive where it is a base.
BINARY = {
    "add": (nf.add, np.add, (-5, 5), (-5, 5)),
    "subtract": (nf.subtract, np.subtract, (-5, 5), (-5, 5)),
    "multiply": (nf.multiply, np.multiply, (-5, 5), (-5, 5)),
    "divide": (nf.divide, np.divide, (-5, 5), (0.5, 4)),
    "maximum": (nf.maximum, np.maximum, (-5, 5), (-5, 5)),
    "minimum": (nf.minimum, np.minimum, (-5, 5), (-5, 5)),
    "pow": (nf.pow, np.power, (0.25, 3), (-2, 2)),
    "squared_difference": (nf.math.squared_difference, lambda x, y: (x - y) ** 2,
                           (-5, 5), (-5, 5)),
    "floordiv": (nf.floordiv, lambda x, y: np.floor(x / y), (-5, 5), (0.5, 4)),
    "floormod": (nf.floormod, np.mod, (-5, 5), (-4, -0.5)),
    "less": (nf.less, np.less, (-5, 5), (-5, 5)),
    "greater_equal": (nf.greater_equal, np.greater_equal, (-5, 5), (-5, 5)),
    "equal": (nf.equal, np.equal, (-2, 2), (-2, 2)),
}
DIFFERENTIABLE = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "pow",
                  "squared_difference", "floormod"]


def _values(shape, bounds, dtype, integral=False):
    lo, hi = bounds
    if integral:  # small integers, so that equal and the ties of the extrema do happen
        elements = st.integers(int(np.ceil(lo)), int(np.floor(hi))).map(float)
    else:
        elements = st.floats(lo, hi, allow_nan=False, allow_infinity=False,
                             width=np.dtype(dtype).itemsize * 8)
    return hnp.arrays(dtype, shape, elements=elements)


@st.composite
def broadcasting_pair(draw, name, dtype=np.float64):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                    max_side=4))
    _, _, xb, yb = BINARY[name]
    integral = name in ("equal", "less", "greater_equal") and draw(st.booleans())
    x = draw(_values(shapes.input_shapes[0], xb, dtype, integral))
    y = draw(_values(shapes.input_shapes[1], yb, dtype, integral))
    return x, y


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_ops_broadcast_as_numpy(name, data):
    fn, ref, _, _ = BINARY[name]
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    x, y = data.draw(broadcasting_pair(name, dtype), label="x, y")
    want = ref(x, y)
    got = fn(nf.constant(x), nf.constant(y))
    assert got.shape == want.shape
    assert got.dtype == (nf.bool if want.dtype == bool else nf.as_dtype(dtype))
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)
    # The Python scalar form: the scalar takes the tensor's dtype.
    scalar = float(y.reshape(-1)[0]) if y.size else 1.0
    np.testing.assert_allclose(fn(nf.constant(x), scalar).numpy(),
                               ref(x, np.asarray(scalar, dtype)), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["add", "multiply", "maximum", "less"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_static_shapes_in_graphs_match_the_values(name, data):
    fn = BINARY[name][0]
    x, y = data.draw(broadcasting_pair(name), label="x, y")
    unknown = data.draw(st.booleans(), label="unknown dims")
    graph = nf.Graph()
    with graph.as_default():
        px = v1.placeholder(nf.float64, [None] * x.ndim if unknown else x.shape)
        py = v1.placeholder(nf.float64, y.shape)
        out = fn(px, py)
    want = np.broadcast_shapes(x.shape, y.shape)
    assert out.shape.is_compatible_with(want)
    if not unknown:
        assert tuple(out.shape) == want
    with v1.Session(graph=graph) as sess:
        got = sess.run(out, {px: x, py: y})
    np.testing.assert_array_equal(got, fn(nf.constant(x), nf.constant(y)).numpy())


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_binary_gradients_on_drawn_broadcasting_pairs(name, data):
    fn = BINARY[name][0]
    x, y = data.draw(broadcasting_pair(name), label="x, y")
    # Hypothesis favours simple values (0, 1, the bounds): shift x off them, then keep away
    # from the kinks (ties of the extrema, the jumps of x mod y at integer quotients).
    x = x + 0.1234567
    if name in ("maximum", "minimum"):
        assume(np.all(np.abs(x - y) > 1e-3))
    if name == "floormod":
        q = x / y
        assume(np.all(np.abs(q - np.round(q)) > 1e-3))
    check_gradient(OpCase(name, fn, [(x, y)]))


@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                    elements=st.floats(-50, 50)),
       lo=st.floats(-3, 0), width=st.floats(0, 3))
def test_clip_by_value_matches_numpy_and_stays_in_range(x, lo, width):
    got = nf.clip_by_value(nf.constant(x), lo, lo + width).numpy()
    np.testing.assert_array_equal(got, np.clip(x, lo, lo + width))
    assert got.shape == x.shape


@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-10, 10)),
       clip=st.floats(0.1, 5))
def test_clip_by_norm_bounds_the_norm_and_keeps_the_direction(x, clip):
    got = nf.clip_by_norm(nf.constant(x), clip).numpy()
    norm = np.sqrt(np.sum(x * x))
    assert np.sqrt(np.sum(got * got)) <= clip * (1 + 1e-12)
    np.testing.assert_allclose(got * max(norm, clip), x * clip, rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
                    elements=st.floats(-1e4, 1e4)))
def test_unary_functions_against_numpy(x):
    xt = nf.constant(x)
    np.testing.assert_allclose(nf.sigmoid(xt).numpy(), 0.5 * (1 + np.tanh(x / 2)),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(nf.abs(xt).numpy(), np.abs(x))
    np.testing.assert_array_equal(nf.round(xt).numpy(), np.round(x))
    np.testing.assert_array_equal(nf.sign(xt).numpy(), np.sign(x))
    np.testing.assert_allclose(nf.tanh(xt).numpy(), np.tanh(x))
