"""Activations (neuroflow/ops/activations.py, neuroflow/ops/softmax.py): op-table cases plus
focused tests for stability, dtypes, TF semantics and the hand gradient rules."""
import math

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from tests.optable import OpCase, parametrize, torch, torch_op, unary

F = torch.nn.functional if torch is not None else None


def _np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _np_log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _np_gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _torch_fn(name, **kw):
    return lambda *xs: getattr(F, name)(*xs, **kw)


# samples of rank >= 1 for softmax-like ops (a scalar has no class axis)
def _ranked(low=-3.0, high=3.0, seed=0):
    return [s for s in unary(low, high, seed=seed) if np.ndim(s[0]) > 0]


CASES = [
    OpCase("relu", nf.nn.relu, unary(kinks=(0,)), torch_fn=torch_op("relu"),
           ref=lambda x: np.maximum(x, 0)),
    OpCase("relu6", nf.nn.relu6, unary(-2, 8, kinks=(0, 6)), torch_fn=_torch_fn("relu6"),
           ref=lambda x: np.clip(x, 0, 6)),
    OpCase("leaky_relu", nf.nn.leaky_relu, unary(kinks=(0,)),
           torch_fn=_torch_fn("leaky_relu", negative_slope=0.2),
           ref=lambda x: np.where(x > 0, x, 0.2 * x)),
    OpCase("leaky_relu_alpha_1.5", lambda x: nf.nn.leaky_relu(x, alpha=1.5), unary(kinks=(0,)),
           torch_fn=_torch_fn("leaky_relu", negative_slope=1.5),
           ref=lambda x: np.where(x > 0, x, 1.5 * x)),
    OpCase("elu", nf.nn.elu, unary(-3, 3, kinks=(0,)), torch_fn=_torch_fn("elu"), ref=_elu),
    OpCase("selu", nf.nn.selu, unary(-3, 3, kinks=(0,)), torch_fn=_torch_fn("selu"),
           ref=lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(
               np.minimum(x, 0)))),
    OpCase("gelu", nf.nn.gelu, unary(-3, 3), torch_fn=_torch_fn("gelu"), ref=_np_gelu),
    OpCase("gelu_tanh", lambda x: nf.nn.gelu(x, approximate=True), unary(-3, 3),
           torch_fn=_torch_fn("gelu", approximate="tanh"), ref=_np_gelu_tanh),
    OpCase("silu", nf.nn.silu, unary(-3, 3), torch_fn=_torch_fn("silu"),
           ref=lambda x: x * _sigmoid(x)),
    OpCase("swish_beta", lambda x: nf.nn.swish(x, beta=1.7), unary(-3, 3),
           torch_fn=lambda x: x * torch.sigmoid(1.7 * x), ref=lambda x: x * _sigmoid(1.7 * x)),
    OpCase("softplus", nf.nn.softplus, unary(-5, 5), torch_fn=_torch_fn("softplus"),
           ref=lambda x: np.log1p(np.exp(x))),
    OpCase("softsign", nf.nn.softsign, unary(kinks=(0,)), torch_fn=_torch_fn("softsign"),
           ref=lambda x: x / (1 + np.abs(x))),
    OpCase("sigmoid", nf.nn.sigmoid, unary(-4, 4), torch_fn=torch_op("sigmoid"), ref=_sigmoid),
    OpCase("tanh", nf.nn.tanh, unary(), torch_fn=torch_op("tanh"), ref=np.tanh),
    OpCase("hard_sigmoid", nf.nn.hard_sigmoid, unary(-5, 5, kinks=(-3, 3)),
           torch_fn=_torch_fn("hardsigmoid"), ref=lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    OpCase("step", nf.nn.step, unary(kinks=(0,)), torch_fn=lambda x: (x > 0).to(x.dtype),
           ref=lambda x: (x > 0).astype(x.dtype)),
    OpCase("softmax", nf.nn.softmax, _ranked(), torch_fn=_torch_fn("softmax", dim=-1),
           ref=_np_softmax),
    OpCase("softmax_axis0", lambda x: nf.nn.softmax(x, axis=0), _ranked(seed=1),
           torch_fn=_torch_fn("softmax", dim=0), ref=lambda x: _np_softmax(x, 0)),
    OpCase("log_softmax", nf.nn.log_softmax, _ranked(), torch_fn=_torch_fn("log_softmax", dim=-1),
           ref=_np_log_softmax),
    OpCase("log_softmax_axis0", lambda x: nf.nn.log_softmax(x, axis=0), _ranked(seed=2),
           torch_fn=_torch_fn("log_softmax", dim=0), ref=lambda x: _np_log_softmax(x, 0)),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


# -- focused tests -----------------------------------------------------------------------


def _value_and_grad(fn, x):
    x = nf.constant(x)
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        weights = np.linspace(0.5, 1.5, y.shape.num_elements()).reshape(y.shape)
        loss = nf.reduce_sum(y * nf.constant(weights.astype(y.dtype.np_dtype)))
    return y.numpy(), tape.gradient(loss, x).numpy()


BIG = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, -1e4, -1e4 + 1.0]], np.float32)


@pytest.mark.parametrize("fn", [nf.nn.softmax, nf.nn.log_softmax,
                                lambda x: nf.nn.softmax(x, axis=0),
                                lambda x: nf.nn.log_softmax(x, axis=0), nf.nn.softplus,
                                nf.nn.elu, nf.nn.selu, nf.nn.gelu, nf.nn.silu],
                         ids=["softmax", "log_softmax", "softmax0", "log_softmax0", "softplus",
                              "elu", "selu", "gelu", "silu"])
def test_finite_at_1e4(fn):
    y, g = _value_and_grad(fn, BIG)
    assert np.all(np.isfinite(y)), y
    assert np.all(np.isfinite(g)), g


def test_values_at_1e4():
    np.testing.assert_allclose(nf.nn.softmax(BIG).numpy()[0], [1, 0, 0, 0])
    np.testing.assert_allclose(nf.nn.softmax(BIG).numpy()[1],
                               _np_softmax(np.array([0, 0, 0, 1.0])), rtol=1e-6)
    np.testing.assert_allclose(nf.nn.log_softmax(BIG).numpy()[0], [0, -2e4, -1e4, -9997],
                               rtol=1e-6)
    np.testing.assert_allclose(nf.nn.softplus(BIG).numpy()[0], [1e4, 0, math.log(2),
                                                                 math.log1p(math.exp(3))],
                               rtol=1e-6)


@pytest.mark.parametrize("fn", [nf.nn.relu, nf.nn.relu6, nf.nn.leaky_relu, nf.nn.elu,
                                nf.nn.selu, nf.nn.gelu, nf.nn.silu, nf.nn.softplus,
                                nf.nn.softsign, nf.nn.hard_sigmoid, nf.nn.step, nf.nn.softmax,
                                nf.nn.log_softmax], ids=lambda f: getattr(f, "__name__", "fn"))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept(fn, dtype):
    x = np.array([[-1.5, 0.5, 2.0]], dtype)
    y, g = _value_and_grad(fn, x)
    assert y.dtype == dtype and g.dtype == dtype


def test_tf_semantics():
    x = nf.constant([-4.0, -1.0, 0.0, 1.5, 8.0])
    np.testing.assert_allclose(nf.nn.leaky_relu(x).numpy(), [-0.8, -0.2, 0, 1.5, 8])
    np.testing.assert_allclose(nf.nn.hard_sigmoid(x).numpy(), [0, 2 / 6, 0.5, 0.75, 1])
    np.testing.assert_allclose(nf.nn.relu6(x).numpy(), [0, 0, 0, 1.5, 6])
    np.testing.assert_array_equal(nf.nn.step(x).numpy(), [0, 0, 0, 1, 1])
    assert nf.nn.swish is nf.nn.silu
    assert nf.nn.sigmoid is nf.sigmoid and nf.nn.tanh is nf.tanh
    m = nf.constant(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(nf.nn.softmax(m).numpy(), nf.nn.softmax(m, axis=-1).numpy())
    np.testing.assert_allclose(nf.nn.softmax(m, axis=0).numpy(), _np_softmax(m.numpy(), 0),
                               rtol=1e-6)
    # relu keeps integer dtypes, as TF's does; leaky_relu computes them in float32
    assert nf.nn.relu(nf.constant([-2, 3])).numpy().tolist() == [0, 3]
    leaky = nf.nn.leaky_relu(nf.constant([-2, 3]))
    assert leaky.dtype == nf.float32
    np.testing.assert_allclose(leaky.numpy(), [-0.4, 3])


def test_softmax_rejects_integers_and_scalars():
    with pytest.raises(nf.errors.InvalidArgumentError, match="int32"):
        nf.nn.softmax(nf.constant([1, 2]))
    with pytest.raises(nf.errors.InvalidArgumentError):
        nf.nn.softmax(nf.constant(1.0))
    with nf.Graph().as_default():
        with pytest.raises(nf.errors.InvalidArgumentError, match="scalar"):
            nf.nn.log_softmax(v1.placeholder(nf.float32, []))
        with pytest.raises(nf.errors.InvalidArgumentError, match="axis 2"):
            nf.nn.softmax(v1.placeholder(nf.float32, [None, 3]), axis=2)


def test_step_gradient_is_zero_not_none():
    x = nf.constant([-1.0, 0.5, 2.0])
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = nf.reduce_sum(nf.nn.step(x) * 3.0)
    g = tape.gradient(y, x)
    assert g is not None
    np.testing.assert_array_equal(g.numpy(), [0, 0, 0])
    with nf.Graph().as_default():
        p = v1.placeholder(nf.float32, [3])
        (gp,) = nf.gradients(nf.nn.step(p), [p])
        assert gp is not None
        with v1.Session() as sess:
            np.testing.assert_array_equal(sess.run(gp, {p: [-1.0, 0.5, 2.0]}), [0, 0, 0])


# -- the hand gradient rules against the same function composed from basic ops -------------


def _composed_softmax(x, axis):
    e = nf.exp(x)
    return e / nf.reduce_sum(e, axis=axis, keepdims=True)


def _composed_log_softmax(x, axis):
    return x - nf.math.log(nf.reduce_sum(nf.exp(x), axis=axis, keepdims=True))


def _grads_to_third_order(fn, x, w, v):
    """Value, gradient, Hessian-vector product and one third-order term of sum(w * fn(x))."""
    x = nf.constant(x)
    with nf.GradientTape() as t3:
        t3.watch(x)
        with nf.GradientTape() as t2:
            t2.watch(x)
            with nf.GradientTape() as t1:
                t1.watch(x)
                y = nf.reduce_sum(fn(x) * w)
            g = t1.gradient(y, x)
            gv = nf.reduce_sum(g * v)
        h = t2.gradient(gv, x)
        hv = nf.reduce_sum(h * h)
    return [y.numpy(), g.numpy(), h.numpy(), t3.gradient(hv, x).numpy()]


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("fused,composed", [(nf.nn.softmax, _composed_softmax),
                                            (nf.nn.log_softmax, _composed_log_softmax)],
                         ids=["softmax", "log_softmax"])
def test_hand_rules_match_composed(fused, composed, axis):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4, 5))
    w, v = rng.uniform(0.5, 1.5, (3, 4, 5)), rng.normal(size=(3, 4, 5))
    got = _grads_to_third_order(lambda t: fused(t, axis=axis), x, w, v)
    want = _grads_to_third_order(lambda t: composed(t, axis), x, w, v)
    for g, c in zip(got, want):
        np.testing.assert_allclose(g, c, rtol=1e-9, atol=1e-12)
