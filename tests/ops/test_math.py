"""Op-table cases for elementwise math (neuroflow/ops/math.py and its math_* modules), and
focused tests for what the table cannot express: dtype rules, Python operators, errors,
tie-breaking gradients, numerical stability, erf's two implementations, clipping."""
import math
import sys
import warnings

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from neuroflow.ops import math_functions
from neuroflow.ops.math_erf import erf_numpy
from tests.optable import OpCase, binary, parametrize, torch, torch_op, unary

RNG = np.random.default_rng(7)


def _signed(low, high, seed=0):
    """Unary samples with both signs, |x| in [low, high] (away from a pole at 0)."""
    return [(s * np.random.default_rng(seed).choice([-1.0, 1.0], np.shape(s)),)
            for (s,) in unary(low, high, seed=seed)]


def _ints(op_samples):
    return [(np.array([7, -7, 5, -5, 0], np.int32), np.array([2, 2, -3, -3, 4], np.int32)),
            (np.array([[9, -9], [4, 1]], np.int64), np.array([4], np.int64))] + op_samples


def _bools():
    return [(RNG.random((3, 4)) > 0.5, RNG.random((3, 4)) > 0.5),
            (RNG.random((2, 3)) > 0.5, RNG.random((3,)) > 0.5),
            (np.array(True), RNG.random((4,)) > 0.5)]


def _where_samples():
    return [(RNG.random((3, 4)) > 0.5, RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))),
            (RNG.random((3, 1)) > 0.5, RNG.normal(size=(4,)), RNG.normal(size=(3, 4))),
            (np.array(False), RNG.normal(size=()), RNG.normal(size=(2, 3)))]


def _clip_norm_samples():
    return [(np.array(-2.5),), (RNG.normal(size=(4,)) * 3,), (RNG.normal(size=(3, 4)) * 0.05,),
            (RNG.normal(size=(2, 3, 2)),)]


def _torch_clip_norm(clip, dims=None):
    def fn(t):
        norm = torch.sqrt((t * t).sum(dim=dims, keepdim=dims is not None))
        return t * clip / torch.clamp(norm, min=clip)
    return fn


def _torch_global(t1, t2):
    norm = torch.sqrt((t1 * t1).sum() + (t2 * t2).sum())
    scale = 1.5 / torch.clamp(norm, min=1.5)
    return t1 * scale, t2 * scale, norm


def _nf_global(t1, t2):
    (c1, c2), norm = nf.clip_by_global_norm([t1, t2], 1.5)
    return c1, c2, norm


def _fn(name):
    return lambda *xs: getattr(torch, name)(*xs)


CASES = [
    OpCase("add", nf.add, binary(), torch_fn=torch_op("add"), ref=np.add),
    OpCase("subtract", nf.subtract, binary(), torch_fn=torch_op("sub"), ref=np.subtract),
    OpCase("multiply", nf.multiply, binary(), torch_fn=torch_op("mul"), ref=np.multiply),
    OpCase("divide", nf.divide, binary(low2=0.5, high2=2.0), torch_fn=torch_op("div"),
           ref=np.divide),
    OpCase("negative", nf.negative, unary(), torch_fn=torch_op("neg"), ref=np.negative),
    OpCase("floordiv", nf.floordiv, _ints(binary(-4, 4, 0.5, 2.0)),
           torch_fn=torch_op("floor_divide"), ref=lambda x, y: (
               np.floor(x / y) if x.dtype.kind == "f" else np.floor_divide(x, y)),
           grad=False),
    OpCase("floormod", nf.floormod, _ints(binary(-4, 4, 0.5, 2.0))
           + [(RNG.uniform(-4, 4, (3, 4)), RNG.uniform(-2.0, -0.5, (4,)))],
           torch_fn=torch_op("remainder"), ref=np.mod),
    OpCase("maximum", nf.maximum, binary(), torch_fn=torch_op("maximum"), ref=np.maximum),
    OpCase("minimum", nf.minimum, binary(), torch_fn=torch_op("minimum"), ref=np.minimum),
    OpCase("pow", nf.pow, binary(0.3, 2.0, -2.0, 2.0), torch_fn=torch_op("pow"),
           ref=np.power),
    OpCase("squared_difference", nf.math.squared_difference, binary(),
           torch_fn=lambda x, y: (x - y) ** 2, ref=lambda x, y: (x - y) ** 2),
    OpCase("square", nf.square, unary(), torch_fn=torch_op("square"), ref=np.square),
    OpCase("reciprocal", nf.math.reciprocal, _signed(0.3, 2.0),
           torch_fn=torch_op("reciprocal"), ref=np.reciprocal),
    OpCase("add_n", lambda a, b, c: nf.add_n([a, b, c]),
           [tuple(RNG.normal(size=s) for _ in range(3)) for s in [(), (4,), (3, 4)]],
           torch_fn=lambda a, b, c: a + b + c, ref=lambda a, b, c: a + b + c),
    OpCase("abs", nf.abs, unary(kinks=(0,)), torch_fn=torch_op("abs"), ref=np.abs),
    OpCase("sign", nf.sign, unary(kinks=(0,)), torch_fn=torch_op("sign"), ref=np.sign),
    OpCase("sqrt", nf.sqrt, unary(0.2, 3.0), torch_fn=torch_op("sqrt"), ref=np.sqrt),
    OpCase("rsqrt", nf.math.rsqrt, unary(0.2, 3.0), torch_fn=torch_op("rsqrt"),
           ref=lambda x: 1 / np.sqrt(x)),
    OpCase("exp", nf.exp, unary(), torch_fn=torch_op("exp"), ref=np.exp),
    OpCase("expm1", nf.math.expm1, unary(), torch_fn=torch_op("expm1"), ref=np.expm1),
    OpCase("log", nf.math.log, unary(0.2, 3.0), torch_fn=torch_op("log"), ref=np.log),
    OpCase("log1p", nf.math.log1p, unary(-0.6, 2.0), torch_fn=torch_op("log1p"),
           ref=np.log1p),
    OpCase("sin", nf.sin, unary(-3, 3), torch_fn=torch_op("sin"), ref=np.sin),
    OpCase("cos", nf.cos, unary(-3, 3), torch_fn=torch_op("cos"), ref=np.cos),
    OpCase("tan", nf.math.tan, unary(-1.2, 1.2), torch_fn=torch_op("tan"), ref=np.tan),
    OpCase("tanh", nf.tanh, unary(-3, 3), torch_fn=torch_op("tanh"), ref=np.tanh),
    OpCase("sigmoid", nf.sigmoid, unary(-5, 5), torch_fn=torch_op("sigmoid"),
           ref=lambda x: 1 / (1 + np.exp(-x))),
    OpCase("erf", nf.math.erf, unary(-2.5, 2.5), torch_fn=torch_op("erf"),
           ref=np.vectorize(math.erf)),
    OpCase("floor", nf.math.floor, unary(-3, 3), torch_fn=torch_op("floor"), ref=np.floor,
           grad=False),
    OpCase("ceil", nf.math.ceil, unary(-3, 3), torch_fn=torch_op("ceil"), ref=np.ceil,
           grad=False),
    OpCase("round", nf.round, unary(-3, 3) + [(np.array([0.5, 1.5, 2.5, -0.5, -2.5]),)],
           torch_fn=torch_op("round"), ref=np.round, grad=False),
    OpCase("equal", nf.equal, binary() + _ints([]) + [(np.array([1.0, 2.0]), np.array(2.0))],
           torch_fn=torch_op("eq"), ref=np.equal, grad=False),
    OpCase("not_equal", nf.not_equal, binary() + [(np.array([1.0, 2.0]), np.array(2.0))],
           torch_fn=torch_op("ne"), ref=np.not_equal, grad=False),
    OpCase("less", nf.less, binary() + _ints([]), torch_fn=torch_op("lt"), ref=np.less,
           grad=False),
    OpCase("less_equal", nf.less_equal, binary() + [(np.arange(3.0), np.array(1.0))],
           torch_fn=torch_op("le"), ref=np.less_equal, grad=False),
    OpCase("greater", nf.greater, binary() + _ints([]), torch_fn=torch_op("gt"),
           ref=np.greater, grad=False),
    OpCase("greater_equal", nf.greater_equal, binary() + [(np.arange(3.0), np.array(1.0))],
           torch_fn=torch_op("ge"), ref=np.greater_equal, grad=False),
    OpCase("logical_and", nf.logical_and, _bools(), torch_fn=torch_op("logical_and"),
           ref=np.logical_and, grad=False),
    OpCase("logical_or", nf.logical_or, _bools(), torch_fn=torch_op("logical_or"),
           ref=np.logical_or, grad=False),
    OpCase("logical_xor", nf.math.logical_xor, _bools(), torch_fn=torch_op("logical_xor"),
           ref=np.logical_xor, grad=False),
    OpCase("logical_not", nf.logical_not, [(b,) for b, _ in _bools()],
           torch_fn=torch_op("logical_not"), ref=np.logical_not, grad=False),
    OpCase("where", nf.where, _where_samples(), torch_fn=torch_op("where"), ref=np.where),
    OpCase("where_indices", nf.where,
           [(np.array(True),), (RNG.random((3, 4)) > 0.5,),
            (np.array([0.0, 2.0, 0.0, -1.0]),), (RNG.random((2, 2, 3)) > 0.5,)],
           torch_fn=torch_op("argwhere"), ref=np.argwhere, grad=False),
    OpCase("clip_by_value", lambda t: nf.clip_by_value(t, -1.0, 1.0), unary(kinks=(-1, 1)),
           torch_fn=lambda t: torch.clamp(t, -1.0, 1.0), ref=lambda t: np.clip(t, -1, 1)),
    OpCase("clip_by_value_tensor_bounds", nf.clip_by_value,
           [(RNG.uniform(-2, 2, (3, 4)), RNG.uniform(-1.5, -0.5, (4,)),
             RNG.uniform(0.5, 1.5, (3, 1)))],
           torch_fn=lambda t, lo, hi: torch.minimum(torch.maximum(t, lo), hi),
           ref=lambda t, lo, hi: np.minimum(np.maximum(t, lo), hi)),
    OpCase("clip_by_norm", lambda t: nf.clip_by_norm(t, 1.0), _clip_norm_samples(),
           torch_fn=_torch_clip_norm(1.0)),
    OpCase("clip_by_norm_axes", lambda t: nf.clip_by_norm(t, 0.8, axes=[1]),
           [(RNG.normal(size=(3, 4)) * np.array([[0.1], [1.0], [3.0]]),)],
           torch_fn=_torch_clip_norm(0.8, dims=(1,))),
    OpCase("clip_by_global_norm", _nf_global,
           [(RNG.normal(size=(3,)), RNG.normal(size=(2, 2))),
            (RNG.normal(size=(2,)) * 0.1, RNG.normal(size=()) * 0.1)],
           torch_fn=_torch_global),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


# -- dtype rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in CASES], ids=str)
def test_float32_stays_float32(case):
    sample = [x.astype(np.float32) if x.dtype == np.float64 else x for x in case.samples[-1]]
    outs = case.fn(*[nf.constant(x) for x in sample])
    for out in outs if isinstance(outs, (list, tuple)) else [outs]:
        assert out.dtype in (nf.float32, nf.bool, nf.int64, nf.int32), (case.name, out.dtype)


@pytest.mark.parametrize("fn, tf_name", [
    (nf.add, "AddV2"), (nf.subtract, "Sub"), (nf.multiply, "Mul"), (nf.divide, "RealDiv"),
    (nf.maximum, "Maximum"), (nf.pow, "Pow"), (nf.floordiv, "FloorDiv"),
    (nf.floormod, "FloorMod"), (nf.less, "Less"), (nf.equal, "Equal"),
    (nf.math.squared_difference, "SquaredDifference")])
def test_mixed_dtypes_are_an_error_naming_op_and_dtypes(fn, tf_name):
    a = nf.constant([1.0, 2.0], dtype=nf.float32)
    b = nf.constant([1.0, 2.0], dtype=nf.float64)
    with pytest.raises(nf.errors.InvalidArgumentError) as err:
        fn(a, b)
    assert tf_name in str(err.value) and "float32" in str(err.value)
    assert "float64" in str(err.value)
    with nf.Graph().as_default():  # the graph builder checks too, before anything runs
        with pytest.raises(nf.errors.InvalidArgumentError, match=tf_name):
            fn(v1.placeholder(nf.float32, [2]), v1.placeholder(nf.float64, [2]))


def test_mixed_int_and_float_tensors_are_an_error():
    with pytest.raises(nf.errors.InvalidArgumentError, match="int32"):
        nf.constant([1, 2]) + nf.constant([1.0, 2.0])
    with pytest.raises(nf.errors.InvalidArgumentError, match="RealDiv"):
        nf.constant([1, 2]) / nf.constant([1.0, 2.0])


def test_python_scalars_take_the_tensor_dtype():
    for dtype in (nf.float16, nf.float32, nf.float64, nf.int32, nf.int64):
        x = nf.constant([1, 2], dtype=dtype)
        for out in (x + 1, 1 + x, x * 2, 3 - x, x ** 2, nf.maximum(x, 1), x // 2, x % 2):
            assert out.dtype == dtype
    x = nf.constant([1.0, 2.0], dtype=nf.float64)
    assert (2.5 * x).dtype == nf.float64 and (x < 1.5).dtype == nf.bool


@pytest.mark.parametrize("expr", [
    lambda x: x + 1.0, lambda x: 1.0 + x, lambda x: x * 0.5, lambda x: x - 2.0,
    lambda x: x < 0.5, lambda x: nf.maximum(x, 1.0), lambda x: x ** 0.5, lambda x: x // 1.0,
    lambda x: nf.equal(x, 2.0), lambda x: nf.where(x > 0, x, 0.0)])
def test_python_float_with_int_tensor_is_a_type_error(expr):
    with pytest.raises(TypeError, match="int32"):
        expr(nf.constant([1, 2]))


@pytest.mark.parametrize("dtype, result", [
    (nf.int8, nf.float32), (nf.uint8, nf.float32), (nf.int16, nf.float32),
    (nf.int32, nf.float64), (nf.int64, nf.float64), (nf.float32, nf.float32)])
def test_divide_integers_as_tf_truediv(dtype, result):
    x = nf.constant([1, 3], dtype=dtype)
    for out in (nf.divide(x, 2), x / 2, x / x, nf.math.truediv(x, x)):
        assert out.dtype == result
    np.testing.assert_allclose((x / 2).numpy(), [0.5, 1.5])
    np.testing.assert_allclose((6 / x).numpy(), [6.0, 2.0])
    assert nf.divide(1, 2).numpy() == 0.5 and nf.divide(1, 2).dtype == nf.float64
    graph = nf.Graph()
    with graph.as_default():
        ph = v1.placeholder(dtype, [None])
        out = ph / 2
        assert out.dtype == result and out.shape.as_list() == [None]
    with v1.Session(graph=graph) as sess:
        np.testing.assert_allclose(sess.run(out, {ph: np.array([1, 3], dtype.np_dtype)}),
                                   [0.5, 1.5])


# -- Python operators ---------------------------------------------------------------------


def test_python_operators_match_numpy():
    a = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
    b = np.array([2.0, -3.0, 0.5], np.float32)
    x, y = nf.constant(a), nf.constant(b)
    pairs = [(x + 1, a + 1), (1 + x, 1 + a), (x - y, a - b), (1 - x, 1 - a),
             (2.0 * x, 2 * a), (x * y, a * b), (x / y, a / b), (2 / x, 2 / a), (x ** 2, a ** 2),
             (2 ** x, 2.0 ** a), (x // 2, np.floor(a / 2)), (7 // y, np.floor(7 / b)),
             (x % 3, np.mod(a, 3)), (-7 % y, np.mod(-7, b)), (-x, -a), (+x, a),
             (abs(x), np.abs(a)), (x < y, a < b), (x <= 1.5, a <= 1.5), (x > y, a > b),
             (x >= 3, a >= 3), (y > x, b > a)]
    for got, want in pairs:
        assert got.dtype == nf.as_dtype(want.dtype), (got, want)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    p, q = x > 0, y > 0
    for got, want in [(p & q, (a > 0) & (b > 0)), (p | q, (a > 0) | (b > 0)),
                      (p ^ q, (a > 0) ^ (b > 0)), (~p, ~(a > 0)), (p & True, a > 0)]:
        np.testing.assert_array_equal(got.numpy(), want)


def test_python_operators_on_variables_graphs_and_gradients():
    v = nf.Variable([1.0, -2.0, 3.0])
    with nf.GradientTape() as tape:
        loss = nf.reduce_sum(v ** 2 + 3 * v - abs(v) / 2 + v % 2)
    np.testing.assert_allclose(tape.gradient(loss, v).numpy(), [5.5, 0.5, 9.5])
    assert np.array_equal((v > 0).numpy(), [True, False, True])
    graph = nf.Graph()
    with graph.as_default():
        ph = v1.placeholder(nf.float32, [None])
        out = (ph * 2 + 1) // 2 - (ph ** 2) % 3
        assert out.shape.as_list() == [None] and out.dtype == nf.float32
    with v1.Session(graph=graph) as sess:
        got = sess.run(out, {ph: np.array([1.0, 2.0, 5.0], np.float32)})
    np.testing.assert_allclose(got, [0.0, 1.0, 4.0])


def test_integer_operators():
    x = nf.constant([7, -7, 6])
    np.testing.assert_array_equal((x // 2).numpy(), [3, -4, 3])
    np.testing.assert_array_equal((x % 3).numpy(), [1, 2, 0])
    np.testing.assert_array_equal((x % -3).numpy(), [-2, -1, 0])
    q, r = x // nf.constant([2, 3, -4]), x % nf.constant([2, 3, -4])
    np.testing.assert_array_equal(q.numpy() * [2, 3, -4] + r.numpy(), x.numpy())
    assert (x // 2).dtype == nf.int32 and (x ** 2).dtype == nf.int32


# -- errors ---------------------------------------------------------------------------------


def test_integer_division_by_zero_is_an_error():
    with pytest.raises(nf.errors.InvalidArgumentError, match="FloorDiv.*division by zero"):
        nf.floordiv(nf.constant([1, 2]), nf.constant([1, 0]))
    with pytest.raises(nf.errors.InvalidArgumentError, match="FloorMod"):
        nf.constant([1, 2]) % 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isinf(nf.floordiv(1.0, 0.0).numpy())  # floats: inf, as TF, and no warning


def test_float_only_functions_reject_integers():
    x = nf.constant([4, 9])
    for fn, name in [(nf.sqrt, "Sqrt"), (nf.exp, "Exp"), (nf.math.log, "Log"),
                     (nf.sigmoid, "Sigmoid"), (nf.math.erf, "Erf"), (nf.tanh, "Tanh"),
                     (nf.math.floor, "Floor")]:
        with pytest.raises(nf.errors.InvalidArgumentError, match=f"{name}.*int32"):
            fn(x)
        with nf.Graph().as_default():
            with pytest.raises(nf.errors.InvalidArgumentError, match=name):
                fn(v1.placeholder(nf.int32, [2]))
    with pytest.raises(nf.errors.InvalidArgumentError, match="LogicalAnd.*float32"):
        nf.logical_and(nf.constant([1.0]), nf.constant([0.0]))
    with pytest.raises(nf.errors.InvalidArgumentError, match="Pow"):
        nf.pow(nf.constant([2]), -1)  # integers to negative integer powers, as TF
    with pytest.raises(nf.errors.InvalidArgumentError, match=r"AddV2.*\(2, 3\), \(4,\)"):
        nf.add(nf.ones([2, 3]), nf.ones([4]))
    with nf.Graph().as_default():
        with pytest.raises(nf.errors.InvalidArgumentError, match=r"\(None, 3\).*\(4,\)"):
            v1.placeholder(nf.float32, [None, 3]) * v1.placeholder(nf.float32, [4])


def test_domain_edges_give_inf_and_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nf.math.log(0.0).numpy() == -np.inf and np.isnan(nf.math.log(-1.0).numpy())
        assert np.isnan(nf.sqrt(-1.0).numpy()) and nf.math.rsqrt(0.0).numpy() == np.inf
        assert nf.math.reciprocal(0.0).numpy() == np.inf
        assert nf.math.log1p(-1.0).numpy() == -np.inf


# -- gradients the table cannot express ------------------------------------------------------


def _grads(fn, *values):
    xs = [nf.constant(v) for v in values]
    with nf.GradientTape() as tape:
        tape.watch(xs)
        out = fn(*xs)
    return [None if g is None else g.numpy() for g in tape.gradient(out, xs)]


def test_extrema_ties_send_the_gradient_to_x():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 3.0])
    gx, gy = _grads(lambda a, b: nf.reduce_sum(nf.maximum(a, b)), x, y)
    np.testing.assert_array_equal(gx, [1, 0, 1])
    np.testing.assert_array_equal(gy, [0, 1, 0])
    gx, gy = _grads(lambda a, b: nf.reduce_sum(nf.minimum(a, b)), x, y)
    np.testing.assert_array_equal(gx, [1, 1, 1])
    np.testing.assert_array_equal(gy, [0, 0, 0])
    gx, gy = _grads(lambda a, b: nf.reduce_sum(nf.maximum(a, b)), x, np.array(2.0))
    np.testing.assert_array_equal(gx, [0, 1, 1])
    assert gy.shape == () and gy == 1  # broadcast y collects its share


def test_clip_by_value_gradient_passes_inside_the_range_ends_included():
    t = np.array([-2.0, -1.0, 0.5, 1.0, 3.0])
    g, glo, ghi = _grads(lambda a, lo, hi: nf.reduce_sum(nf.clip_by_value(a, lo, hi)),
                         t, np.array(-1.0), np.array(1.0))
    np.testing.assert_array_equal(g, [0, 1, 1, 1, 0])
    assert glo == 1 and ghi == 1
    with pytest.raises(ValueError, match="broadcast"):
        nf.clip_by_value(nf.constant([1.0, 2.0]), nf.zeros([3, 1]), 1.0)


def test_non_differentiable_ops_give_no_gradient():
    x = nf.constant([0.5, -1.5])
    with nf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outs = [nf.cast(nf.less(x, 0.0), nf.float32), nf.math.floor(x), nf.round(x),
                nf.floordiv(x, 2.0), nf.cast(nf.equal(x, x), nf.float32)]
        signs = nf.sign(x)
    for out in outs:
        assert tape.gradient(out, x) is None
    g = tape.gradient(signs, x)  # TF: sign has a zero gradient, not None
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


def test_where_gradient_goes_to_the_chosen_branch_and_none_to_condition():
    c = nf.constant([[True, False, True]])
    gx, gy = _grads(lambda a, b: nf.reduce_sum(nf.where(c, a, b) * 2.0),
                    np.ones((2, 3)), np.array(5.0))
    np.testing.assert_array_equal(gx, [[2, 0, 2], [2, 0, 2]])
    assert gy == 4.0
    (g,) = _grads(lambda a: nf.reduce_sum(nf.where(a > 0, a, 0.0)), np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0])
    with nf.Graph().as_default():
        out = nf.where(v1.placeholder(nf.bool, [3]), v1.placeholder(nf.float32, [3]), 0.0)
        grads = out.op.op_def.grad_fn(out.op, nf.ones([3]))
        assert grads[0] is None and grads[1].shape.as_list() == [3]
        assert grads[2].shape.as_list() == []
    with pytest.raises(ValueError, match="either only condition"):
        nf.where(nf.constant([True]), 1.0)
    with pytest.raises(nf.errors.InvalidArgumentError, match="bool"):
        nf.where(nf.constant([1.0]), 1.0, 2.0)


def test_where_indices_static_shape_and_dtype():
    with nf.Graph().as_default():
        out = nf.where(v1.placeholder(nf.bool, [None, 3]))
        assert out.shape.as_list() == [None, 2] and out.dtype == nf.int64
    out = nf.where(nf.constant([[True, False], [True, True]]))
    assert out.dtype == nf.int64
    np.testing.assert_array_equal(out.numpy(), [[0, 0], [1, 0], [1, 1]])


def test_pow_gradient_at_non_positive_bases():
    gx, gy = _grads(lambda a, b: nf.reduce_sum(nf.pow(a, b)),
                    np.array([0.0, -2.0, 2.0]), np.array([2.0, 3.0, 3.0]))
    np.testing.assert_allclose(gx, [0.0, 12.0, 12.0])
    np.testing.assert_allclose(gy, [0.0, 0.0, 8 * np.log(2)])  # log term taken as 0, as TF


@pytest.mark.skipif(torch is None, reason="torch is not installed (the oracle is optional)")
def test_abs_of_complex_value_and_gradient():
    z = np.array([3 + 4j, -1 + 0.5j, 0.2 - 2j])
    w = np.array([1.0, 0.5, 2.0])
    x = nf.constant(z)
    with nf.GradientTape() as tape:
        tape.watch(x)
        out = nf.abs(x)
        loss = nf.reduce_sum(out * w)
    assert out.dtype == nf.float64
    np.testing.assert_allclose(out.numpy(), np.abs(z))
    grad = tape.gradient(loss, x).numpy()
    tz = torch.tensor(z, requires_grad=True)
    (torch.abs(tz) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(grad, tz.grad.numpy(), rtol=1e-10)
    eps = 1e-6  # d loss / d Re + i d loss / d Im, by central differences
    fd = [(np.sum(w * np.abs(z + d), 1) - np.sum(w * np.abs(z - d), 1)) / (2 * eps)
          for d in (eps * np.eye(3), 1j * eps * np.eye(3))]
    np.testing.assert_allclose(grad, fd[0] + 1j * fd[1], rtol=1e-6)
    assert _grads(lambda a: nf.reduce_sum(nf.abs(a)), np.array([0j]))[0] == 0


COMPLEX_OPS = ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid", "square",
               "reciprocal", "expm1", "log1p", "pow", "multiply", "divide"]


@pytest.mark.skipif(torch is None, reason="torch is not installed (the oracle is optional)")
@pytest.mark.parametrize("name", COMPLEX_OPS)
def test_complex_values_and_gradients_match_torch(name):
    z = np.array([0.3 + 0.4j, -0.5 + 0.2j, 1.1 - 0.7j])
    upstream = np.array([1.0 - 0.5j, 0.25 + 2.0j, -1.0 + 0.0j])
    nf_fn = getattr(nf, name, None) or getattr(nf.math, name)
    torch_fn = getattr(torch, name, None)
    if name in ("pow", "multiply", "divide"):
        nf_fn, torch_fn = (lambda f: lambda a: f(a, a - 1.5j))(nf_fn), \
            (lambda f: lambda a: f(a, a - 1.5j))(torch_fn)
    x = nf.constant(z)
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = nf_fn(x)
    grad = tape.gradient(y, x, output_gradients=nf.constant(upstream)).numpy()
    tz = torch.tensor(z, requires_grad=True)
    ty = torch_fn(tz)
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad, tz.grad.numpy(), rtol=1e-10)


# -- numerics -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_at_large_magnitudes(dtype):
    x = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 1e4], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got, (g,) = nf.sigmoid(x).numpy(), _grads(lambda a: nf.reduce_sum(nf.sigmoid(a)), x)
    assert got.dtype == dtype and np.all(np.isfinite(g))
    want = np.array([0.0, math.exp(-100), math.exp(-30) / (1 + math.exp(-30)), 0.5,
                     1 / (1 + math.exp(-30)), 1.0])
    tiny = np.finfo(dtype).tiny  # exp(-100) is subnormal in float32: absolute precision only
    np.testing.assert_allclose(got, want.astype(dtype), rtol=1e-6 if dtype == np.float32 else
                               1e-14, atol=tiny)


def test_erf_numpy_implementation_matches_the_stdlib():
    x = np.concatenate([np.linspace(-7, 7, 1401), [0.0, 1e-12, -3e-9, 2.5, -2.5, 6.0, 6.01]])
    want = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf_numpy(x), want, rtol=2e-15, atol=1e-16)
    x32 = x.astype(np.float32)
    got32 = erf_numpy(x32)
    assert got32.dtype == np.float32
    want32 = np.array([math.erf(float(v)) for v in x32], np.float32)
    np.testing.assert_allclose(got32, want32, rtol=1.2e-7, atol=1e-30)
    assert erf_numpy(np.float64(0.5)) == pytest.approx(math.erf(0.5), rel=1e-15)
    assert np.isnan(erf_numpy(np.array([np.nan]))[0])
    np.testing.assert_array_equal(erf_numpy(np.array([np.inf, -np.inf])), [1.0, -1.0])


def test_erf_uses_scipy_when_it_imports_and_numpy_otherwise(monkeypatch):
    scipy_special = pytest.importorskip("scipy.special", reason="SciPy is optional")
    x = np.linspace(-4, 4, 101)
    monkeypatch.setattr(math_functions, "_erf_fn", None)
    np.testing.assert_allclose(nf.math.erf(x).numpy(), scipy_special.erf(x), rtol=1e-15)
    assert math_functions._erf_fn is scipy_special.erf
    monkeypatch.setattr(math_functions, "_erf_fn", None)
    monkeypatch.setitem(sys.modules, "scipy.special", None)  # makes the import fail
    np.testing.assert_allclose(nf.math.erf(x).numpy(), scipy_special.erf(x), rtol=2e-15,
                               atol=1e-16)
    assert math_functions._erf_fn is erf_numpy


def test_round_halves_to_even_and_keeps_integers():
    x = nf.constant([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999])
    np.testing.assert_array_equal(nf.round(x).numpy(), [0, 2, 2, 0, -2, 2])
    i = nf.constant([1, -3])
    assert nf.round(i).dtype == nf.int32
    np.testing.assert_array_equal(nf.round(i).numpy(), [1, -3])


def test_floordiv_of_floats_is_floor_of_the_quotient():
    assert nf.floordiv(1.0, 0.1).numpy() == 10.0  # floor(1 / 0.1); Python's 1.0 // 0.1 is 9
    np.testing.assert_array_equal(nf.floordiv(nf.constant([8.4, -8.4]), 4.0).numpy(),
                                  [2.0, -3.0])
    np.testing.assert_allclose(nf.floormod(nf.constant([5.5, -5.5]), -2.0).numpy(),
                               [-0.5, -1.5])


# -- add_n and clipping ---------------------------------------------------------------------


def test_add_n():
    a = nf.constant([1.0, 2.0])
    assert nf.add_n([a]).numpy().tolist() == [1.0, 2.0]
    assert nf.add_n([a, a, a, a]).numpy().tolist() == [4.0, 8.0]
    with pytest.raises(nf.errors.InvalidArgumentError, match="same shape"):
        nf.add_n([a, nf.constant([1.0])])
    with pytest.raises(ValueError, match="non-empty list"):
        nf.add_n([])
    with nf.Graph().as_default():
        out = nf.add_n([v1.placeholder(nf.float32, [None, 3]),
                        v1.placeholder(nf.float32, [2, None])])
        assert out.shape.as_list() == [2, 3]


def test_clip_by_norm_cases():
    t = nf.constant([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(nf.clip_by_norm(t, 1.0, axes=1).numpy(),
                               [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(nf.clip_by_norm(t, 10.0).numpy(), t.numpy())
    (g,) = _grads(lambda a: nf.reduce_sum(nf.clip_by_norm(a, 1.0)), np.zeros(3))
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])  # finite at an all-zero tensor


def test_clip_by_global_norm_cases():
    a, b = nf.constant([3.0, 0.0]), nf.constant([[4.0]])
    (ca, none, cb), norm = nf.clip_by_global_norm([a, None, b], 2.5)
    assert none is None and float(norm) == 5.0
    np.testing.assert_allclose(ca.numpy(), [1.5, 0.0])
    np.testing.assert_allclose(cb.numpy(), [[2.0]])
    (ca,), norm = nf.clip_by_global_norm((a,), 2.5, use_norm=nf.constant(30.0))
    np.testing.assert_allclose(ca.numpy(), [0.25, 0.0])
    (ca,), _ = nf.clip_by_global_norm([nf.constant([np.inf, 1.0])], 1.0)
    assert np.all(np.isnan(ca.numpy()))  # an infinite norm signals with NaN, as TF
    with pytest.raises(TypeError, match="list or tuple"):
        nf.clip_by_global_norm(a, 1.0)


# -- namespaces -----------------------------------------------------------------------------

NAMES = ["add", "subtract", "multiply", "divide", "floordiv", "floormod", "negative", "abs",
         "sign", "square", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p", "pow", "maximum",
         "minimum", "sin", "cos", "tan", "tanh", "sigmoid", "erf", "floor", "ceil", "round",
         "reciprocal", "add_n", "squared_difference", "equal", "not_equal", "less",
         "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_not",
         "logical_xor", "where", "clip_by_value", "clip_by_norm", "clip_by_global_norm"]


def test_top_level_and_math_namespaces():
    for name in NAMES:
        assert getattr(nf, name) is getattr(nf.math, name), name
    assert nf.math.mod is nf.floormod and nf.math.floor_div is nf.floordiv
    assert nf.math.truediv is nf.divide


def test_add_gradient_needs_no_reduction_when_shapes_show_none():
    """x [None, 3] + b [3]: b cannot stretch x, so x's gradient is dy itself (no op reads x
    for its shape); x [None, 3] + y [None, 3] may stretch either, and is reduced."""
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, 3])
        y = v1.placeholder(nf.float32, [None, 3])
        b = nf.constant(np.array([1.0, 2.0, 3.0], np.float32))
        gx_bias, gb = nf.gradients(nf.reduce_sum(nf.square(x + b)), [x, b])
        gx_sub = nf.gradients(nf.reduce_sum(nf.square(b - x)), [x])[0]
        gx_pair = nf.gradients(nf.reduce_sum(x + y), [x])[0]
    assert gx_bias.op.type != "SumToShapeOf" and gx_sub.op.type != "SumToShapeOf"
    xv = np.arange(6, dtype=np.float32).reshape(2, 3)
    with v1.Session(graph=graph) as sess:
        got = sess.run([gx_bias, gb, gx_sub], {x: xv})
        pair = sess.run(gx_pair, {x: xv[:1], y: np.ones((4, 3), np.float32)})
    np.testing.assert_allclose(got[0], 2 * (xv + [1, 2, 3]))
    np.testing.assert_allclose(got[1], (2 * (xv + [1, 2, 3])).sum(0))
    np.testing.assert_allclose(got[2], -2 * ([1, 2, 3] - xv))
    np.testing.assert_allclose(pair, np.full((1, 3), 4.0))
