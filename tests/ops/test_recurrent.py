"""Op-table cases and behaviour tests for the fused recurrent ops
(neuroflow/ops/recurrent/): ``lstm``, ``gru`` and ``simple_rnn``.

The references: a plain NumPy forward written here, torch.nn.LSTM / GRU / RNN (weights
mapped from Keras's layout) for forward values and gradients, and each op composed from
ordinary neuroflow ops (``_*_composed`` in each cell's module), which also carries the
higher orders.
"""
import warnings

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.backend import jit
from neuroflow.compat import v1
from neuroflow.ops import recurrent
from neuroflow.ops.recurrent import gru_cell as gru_ops
from neuroflow.ops.recurrent import lstm_cell as lstm_ops
from neuroflow.ops.recurrent import simple_rnn_cell as rnn_ops
from tests.optable import OpCase, parametrize, torch

B, T, IN, U = 2, 3, 3, 3


def _draw(*shapes, scale=0.6, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-scale, scale, s) for s in shapes)


def _lstm_sample(bias=True, seed=0, batch=B, steps=T, units=U):
    shapes = [(batch, steps, IN), (batch, units), (batch, units), (IN, 4 * units),
              (units, 4 * units)] + ([(4 * units,)] if bias else [])
    return _draw(*shapes, seed=seed)


def _gru_sample(bias_shape, seed=0, batch=B, steps=T, units=U):
    shapes = [(batch, steps, IN), (batch, units), (IN, 3 * units), (units, 3 * units)]
    if bias_shape is not None:
        shapes.append(bias_shape)
    return _draw(*shapes, seed=seed)


def _rnn_sample(bias=True, seed=0, steps=T):
    shapes = [(B, steps, IN), (B, U), (IN, U), (U, U)] + ([(U,)] if bias else [])
    return _draw(*shapes, scale=0.9, seed=seed)


# -- NumPy references -----------------------------------------------------------------------


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _order(x, go_backwards):
    steps = range(x.shape[1])
    return reversed(steps) if go_backwards else steps


def np_lstm(x, h, c, kernel, recurrent_kernel, bias=None, go_backwards=False):
    outs = []
    for t in _order(x, go_backwards):
        z = x[:, t] @ kernel + h @ recurrent_kernel + (0 if bias is None else bias)
        i, f, cand, o = np.split(z, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(cand)
        h = _sigmoid(o) * np.tanh(c)
        outs.append(h)
    return np.stack(outs, axis=1), h, c


def np_gru(x, h, kernel, recurrent_kernel, bias=None, reset_after=True, go_backwards=False):
    units = recurrent_kernel.shape[0]
    if bias is None:
        b_in, b_rec = 0, 0
    else:
        b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, 0)
    outs = []
    for t in _order(x, go_backwards):
        xz = x[:, t] @ kernel + b_in
        if reset_after:
            hr = h @ recurrent_kernel + b_rec
            z = _sigmoid(xz[:, :units] + hr[:, :units])
            r = _sigmoid(xz[:, units:2 * units] + hr[:, units:2 * units])
            hh = np.tanh(xz[:, 2 * units:] + r * hr[:, 2 * units:])
        else:
            hr = h @ recurrent_kernel[:, :2 * units]
            z = _sigmoid(xz[:, :units] + hr[:, :units])
            r = _sigmoid(xz[:, units:2 * units] + hr[:, units:])
            hh = np.tanh(xz[:, 2 * units:] + (r * h) @ recurrent_kernel[:, 2 * units:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, axis=1), h


_NP_ACTIVATIONS = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0), "sigmoid": _sigmoid,
                   "linear": lambda a: a}


def np_simple_rnn(x, h, kernel, recurrent_kernel, bias=None, activation="tanh",
                  go_backwards=False):
    outs = []
    for t in _order(x, go_backwards):
        h = _NP_ACTIVATIONS[activation](
            x[:, t] @ kernel + h @ recurrent_kernel + (0 if bias is None else bias))
        outs.append(h)
    return np.stack(outs, axis=1), h


# -- PyTorch oracles (weights mapped from Keras's layout) -----------------------------------


def _torch_run(module, params, x, state, go_backwards):
    module = module.double()
    inputs = x.flip(1) if go_backwards else x
    return torch.func.functional_call(module, params, (inputs, state))


def torch_lstm(x, h, c, kernel, recurrent_kernel, bias=None, go_backwards=False):
    module = torch.nn.LSTM(kernel.shape[0], recurrent_kernel.shape[0], batch_first=True,
                           bias=bias is not None)
    params = {"weight_ih_l0": kernel.T, "weight_hh_l0": recurrent_kernel.T}
    if bias is not None:  # torch has two biases: ours in one, zeros in the other
        params.update(bias_ih_l0=bias, bias_hh_l0=torch.zeros_like(bias))
    out, (h, c) = _torch_run(module, params, x, (h[None], c[None]), go_backwards)
    return out, h[0], c[0]


def _torch_gru_order(w, units):
    """Keras's z, r, h gate columns (last axis) as torch's r, z, n rows."""
    z, r, h = w[..., :units], w[..., units:2 * units], w[..., 2 * units:]
    return torch.cat([r, z, h], dim=-1)


def torch_gru(x, h, kernel, recurrent_kernel, bias=None, go_backwards=False):
    units = recurrent_kernel.shape[0]
    module = torch.nn.GRU(kernel.shape[0], units, batch_first=True, bias=bias is not None)
    params = {"weight_ih_l0": _torch_gru_order(kernel, units).T,
              "weight_hh_l0": _torch_gru_order(recurrent_kernel, units).T}
    if bias is not None:
        params.update(bias_ih_l0=_torch_gru_order(bias[0], units),
                      bias_hh_l0=_torch_gru_order(bias[1], units))
    out, h = _torch_run(module, params, x, h[None], go_backwards)
    return out, h[0]


def torch_rnn(x, h, kernel, recurrent_kernel, bias=None, activation="tanh",
              go_backwards=False):
    module = torch.nn.RNN(kernel.shape[0], recurrent_kernel.shape[0], batch_first=True,
                          nonlinearity=activation, bias=bias is not None)
    params = {"weight_ih_l0": kernel.T, "weight_hh_l0": recurrent_kernel.T}
    if bias is not None:
        params.update(bias_ih_l0=bias, bias_hh_l0=torch.zeros_like(bias))
    out, h = _torch_run(module, params, x, h[None], go_backwards)
    return out, h[0]


# -- the table ------------------------------------------------------------------------------


def _case(name, fn, samples, torch_fn, ref):
    return OpCase(name, fn, samples, torch_fn=torch_fn, ref=ref)


CASES = [
    _case("lstm", recurrent.lstm, [_lstm_sample(), _lstm_sample(seed=1, batch=3, steps=4,
                                                                units=2)],
          torch_lstm, np_lstm),
    _case("lstm_go_backwards", lambda *a: recurrent.lstm(*a, go_backwards=True),
          [_lstm_sample(seed=2)], lambda *a: torch_lstm(*a, go_backwards=True),
          lambda *a: np_lstm(*a, go_backwards=True)),
    _case("lstm_no_bias", recurrent.lstm, [_lstm_sample(bias=False, seed=3)], torch_lstm,
          np_lstm),
    _case("gru", recurrent.gru, [_gru_sample((2, 3 * U)), _gru_sample((2, 9), seed=1)],
          torch_gru, np_gru),
    _case("gru_go_backwards", lambda *a: recurrent.gru(*a, go_backwards=True),
          [_gru_sample((2, 3 * U), seed=2)], lambda *a: torch_gru(*a, go_backwards=True),
          lambda *a: np_gru(*a, go_backwards=True)),
    _case("gru_no_bias", recurrent.gru, [_gru_sample(None, seed=3)], torch_gru, np_gru),
    _case("gru_reset_before", lambda *a: recurrent.gru(*a, reset_after=False),
          [_gru_sample((3 * U,), seed=4)], None, lambda *a: np_gru(*a, reset_after=False)),
    _case("gru_reset_before_backwards_no_bias",
          lambda *a: recurrent.gru(*a, reset_after=False, go_backwards=True),
          [_gru_sample(None, seed=5)], None,
          lambda *a: np_gru(*a, reset_after=False, go_backwards=True)),
    _case("simple_rnn", recurrent.simple_rnn, [_rnn_sample()], torch_rnn, np_simple_rnn),
    _case("simple_rnn_relu", lambda *a: recurrent.simple_rnn(*a, activation="relu"),
          [_rnn_sample(seed=1)], lambda *a: torch_rnn(*a, activation="relu"),
          lambda *a: np_simple_rnn(*a, activation="relu")),
    _case("simple_rnn_backwards_no_bias",
          lambda *a: recurrent.simple_rnn(*a, go_backwards=True),
          [_rnn_sample(bias=False, seed=2)], lambda *a: torch_rnn(*a, go_backwards=True),
          lambda *a: np_simple_rnn(*a, go_backwards=True)),
    _case("simple_rnn_sigmoid", lambda *a: recurrent.simple_rnn(*a, activation="sigmoid"),
          [_rnn_sample(seed=3)], None, lambda *a: np_simple_rnn(*a, activation="sigmoid")),
    _case("simple_rnn_linear", lambda *a: recurrent.simple_rnn(*a, activation=None),
          [_rnn_sample(seed=4)], None, lambda *a: np_simple_rnn(*a, activation="linear")),
]
# the relu kink: a pre-activation within finite-difference reach of 0 would be flaky
for _sample in CASES[9].samples:
    _pre = np_simple_rnn(*_sample, activation="linear")[0]
    assert np.abs(_pre).min() > 1e-3


@parametrize(CASES)
def test_op(case, check):
    check(case)


# -- the fused kernels against the composition ---------------------------------------------

_COMPOSED = {
    "lstm": (recurrent.lstm, lstm_ops._lstm_composed,
             _lstm_sample(seed=7), {}),
    "gru": (recurrent.gru, gru_ops._gru_composed, _gru_sample((2, 3 * U), seed=7),
            {"reset_after": True}),
    "gru_reset_before": (lambda *a, **k: recurrent.gru(*a, reset_after=False, **k),
                         gru_ops._gru_composed, _gru_sample((3 * U,), seed=7),
                         {"reset_after": False}),
    "simple_rnn": (recurrent.simple_rnn, rnn_ops._simple_rnn_composed, _rnn_sample(seed=7),
                   {"activation": "tanh"}),
}


def _values_and_two_orders(fn, sample, pick=lambda outs: outs):
    """The outputs of ``fn`` on ``sample``, and the first and second order gradients of a
    weighted sum of squares of the picked outputs."""
    xs = [nf.constant(a) for a in sample]
    with nf.GradientTape() as outer:
        outer.watch(xs)
        with nf.GradientTape() as inner:
            inner.watch(xs)
            outs = fn(*xs)
            loss = nf.add_n([nf.reduce_sum(o * o * (k + 1.0))
                             for k, o in enumerate(pick(outs))])
        grads = inner.gradient(loss, xs)
        second = nf.add_n([nf.reduce_sum(g * g) for g in grads])
    seconds = outer.gradient(second, xs, unconnected_gradients=nf.UnconnectedGradients.ZERO)
    return [o.numpy() for o in outs] + [t.numpy() for t in grads + seconds]


@pytest.mark.parametrize("name", list(_COMPOSED))
@pytest.mark.parametrize("used", ["all", "sequence", "last"])
def test_fused_gradients_match_composition(name, used):
    """First and second order gradients of the fused ops against the same maths composed
    from ops, with the loss on all outputs, the sequence only, or the last state only (the
    engine passes zeros for the others)."""
    fused, composed, sample, attrs = _COMPOSED[name]
    pick = {"all": lambda o: o, "sequence": lambda o: o[:1], "last": lambda o: o[1:]}[used]
    results = [_values_and_two_orders(fn, sample, pick)
               for fn in (fused, lambda *a: composed(*a, go_backwards=False, **attrs))]
    for fused_value, reference in zip(*results):
        np.testing.assert_allclose(fused_value, reference, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", list(_COMPOSED))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_steps_keep_the_state_fused_as_composed(name, go_backwards):
    """With a mask, the fused ops skip the False steps (the state carries over) and give
    the composition's values, first and second order gradients."""
    fused, composed, sample, attrs = _COMPOSED[name]
    mask = np.array([[True, False, True], [False, True, True]])
    results = [_values_and_two_orders(fn, sample) for fn in (
        lambda *a: fused(*a, go_backwards=go_backwards, mask=mask),
        lambda *a: composed(*a, nf.constant(mask), go_backwards=go_backwards, masked=True,
                            **attrs))]
    for fused_value, reference in zip(*results):
        np.testing.assert_allclose(fused_value, reference, rtol=1e-9, atol=1e-11)
    # the second row's masked step (time 0) repeats the state before it: the initial
    # state when processed first, the previous output when processed last
    steps = results[0][0][1]  # the second row's outputs, in processing order
    if go_backwards:
        np.testing.assert_array_equal(steps[2], steps[1])
    else:
        np.testing.assert_array_equal(steps[0], sample[1][1])


def test_masked_op_matches_finite_differences():
    mask = np.array([[True, True, False], [True, False, True]])
    sample = _lstm_sample(seed=12)

    def loss(*values):
        return nf.reduce_sum(recurrent.lstm(*values, mask=mask)[0] ** 2)
    xs = [nf.constant(a) for a in sample]
    with nf.GradientTape() as tape:
        tape.watch(xs)
        value = loss(*xs)
    grads = tape.gradient(value, xs)
    eps = 1e-6
    for i, a in enumerate(sample):
        flat = a.reshape(-1)
        for j in range(0, flat.size, max(1, flat.size // 5)):
            up, down = flat.copy(), flat.copy()
            up[j] += eps
            down[j] -= eps
            args_up = [nf.constant(up.reshape(a.shape)) if k == i else nf.constant(b)
                       for k, b in enumerate(sample)]
            args_down = [nf.constant(down.reshape(a.shape)) if k == i else nf.constant(b)
                         for k, b in enumerate(sample)]
            numeric = (loss(*args_up).numpy() - loss(*args_down).numpy()) / (2 * eps)
            assert grads[i].numpy().reshape(-1)[j] == pytest.approx(numeric, rel=1e-5,
                                                                   abs=1e-8)


def test_mask_shape_is_checked():
    sample = [nf.constant(a) for a in _lstm_sample(seed=13)]
    with pytest.raises(ValueError, match=r"mask shape \[2, 4\] does not match"):
        recurrent.lstm(*sample, mask=np.ones((2, 4), bool))


def test_third_order_matches_composition():
    xs_value = _lstm_sample(seed=8, batch=2, steps=2, units=2)
    results = []
    for fn in (recurrent.lstm, lambda *a: lstm_ops._lstm_composed(*a, go_backwards=False)):
        xs = [nf.constant(a) for a in xs_value]
        with nf.GradientTape() as t3:
            t3.watch(xs[0])
            with nf.GradientTape() as t2:
                t2.watch(xs)
                with nf.GradientTape() as t1:
                    t1.watch(xs)
                    loss = nf.reduce_sum(fn(*xs)[0] ** 2)
                g = t1.gradient(loss, xs)
                second = nf.reduce_sum(g[4] * g[4]) + nf.reduce_sum(g[0] * g[0])
            d2 = t2.gradient(second, xs[0])
            total = nf.reduce_sum(d2 * d2)
        results.append(t3.gradient(total, xs[0]).numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-8, atol=1e-11)


# -- dtypes, numerics, compiled kernels -------------------------------------------------------


@pytest.mark.parametrize("go_backwards", [False, True])
def test_float32_matches_reference_without_warnings(go_backwards):
    """Float32 in, float32 out; huge pre-activations saturate the gates without overflow
    warnings (the sigmoid is computed as a tanh)."""
    sample = [a.astype(np.float32) for a in _lstm_sample(seed=9, batch=4, steps=5, units=6)]
    big = [sample[0] * 1e4] + sample[1:]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for values in (sample, big):
            args = [nf.constant(a) for a in values]
            with nf.GradientTape() as tape:
                tape.watch(args)
                outs = recurrent.lstm(*args, go_backwards=go_backwards)
                loss = nf.reduce_sum(outs[0]) + nf.reduce_sum(outs[2])
            grads = tape.gradient(loss, args)
            assert all(o.dtype == nf.float32 for o in list(outs) + grads)
            assert all(np.isfinite(g.numpy()).all() for g in grads)
            with np.errstate(over="ignore"):  # the plain reference's exp overflows
                want = np_lstm(*[a.astype(np.float64) for a in values],
                               go_backwards=go_backwards)
            for got, w in zip(outs, want):
                np.testing.assert_allclose(got.numpy(), w, rtol=1e-5, atol=1e-5)
        for fn, gate_sample in ((recurrent.gru, _gru_sample((2, 3 * U), seed=9)),
                                (recurrent.simple_rnn, _rnn_sample(seed=9))):
            values = [a.astype(np.float32) for a in gate_sample]
            values[0] = values[0] * 1e4
            outs = fn(*[nf.constant(a) for a in values])
            assert outs[0].dtype == nf.float32 and np.isfinite(outs[0].numpy()).all()


@pytest.mark.skipif(not jit.available(), reason="numba is not installed (or NEUROFLOW_JIT=0)")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_and_numpy_steps_agree(dtype):
    rng = np.random.default_rng(10)
    batch, units = 5, 7
    g = rng.uniform(0.05, 0.95, (batch, 4 * units)).astype(dtype)
    g[:, 3 * units:] = rng.uniform(-0.9, 0.9, (batch, units))
    c_prev, tanh_c, dh, dc = (rng.normal(size=(batch, units)).astype(dtype) for _ in range(4))
    rec = rng.normal(size=g.shape).astype(dtype)
    results = []
    for step in (lstm_ops._lstm_step_numpy, lstm_ops._lstm_step_compiled):
        g_step = g.copy()
        c, tc, h = (np.empty_like(dc) for _ in range(3))
        step(g_step, rec, c_prev, c, tc, h)
        results.append((g_step, c, tc, h))
    for step in (lstm_ops._lstm_step_back_numpy, lstm_ops._lstm_step_back_compiled):
        dz, d_c = np.empty_like(g), dc.copy()
        step(dz, g, c_prev, tanh_c, dh.copy(), d_c, np.empty_like(dc))
        results.append((dz, d_c))
    tol = 1e-6 if dtype == np.float32 else 1e-14
    for a, b in zip(results[0] + results[2], results[1] + results[3]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_jit_switch_gives_the_same_gradients(monkeypatch):
    sample = _lstm_sample(seed=11)

    def grads():
        args = [nf.constant(a) for a in sample]
        with nf.GradientTape() as tape:
            tape.watch(args)
            loss = nf.reduce_sum(recurrent.lstm(*args)[0] ** 2)
        return [g.numpy() for g in tape.gradient(loss, args)]
    monkeypatch.setattr(lstm_ops, "_compiled", lambda dtype: False)
    numpy_path = grads()
    monkeypatch.undo()
    for a, b in zip(numpy_path, grads()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# -- shapes and errors ------------------------------------------------------------------------


def test_unknown_batch_and_time_in_graphs():
    sample = _lstm_sample(seed=12)
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float64, [None, None, IN])
        h0 = v1.placeholder(nf.float64, [None, U])
        c0 = v1.placeholder(nf.float64, [None, U])
        weights = [nf.constant(a) for a in sample[3:]]
        out, h, c = recurrent.lstm(x, h0, c0, *weights, go_backwards=True)
        assert out.shape.as_list() == [None, None, U]
        assert h.shape.as_list() == [None, U] and c.shape.as_list() == [None, U]
        grads = nf.gradients(nf.reduce_sum(out * out) + nf.reduce_sum(c), [x, h0, *weights])
        gru_out, _ = recurrent.gru(x, h0, nf.constant(_gru_sample(None)[2]),
                                   nf.constant(_gru_sample(None)[3]))
        assert gru_out.shape.as_list() == [None, None, U]
    fetched = {}
    with v1.Session(graph=graph) as sess:
        for steps in (2, 5):
            values = _lstm_sample(seed=steps, steps=steps)
            fetched[steps] = sess.run([out] + grads, {x: values[0], h0: values[1],
                                                      c0: values[2]})
    for steps, (got_out, *got_grads) in fetched.items():
        values = _lstm_sample(seed=steps, steps=steps)
        np.testing.assert_allclose(
            got_out, np_lstm(*values[:3], *sample[3:], go_backwards=True)[0], atol=1e-12)
        xs = [nf.constant(a) for a in values[:3]] + [nf.constant(a) for a in sample[3:]]
        with nf.GradientTape() as tape:
            tape.watch(xs)
            o, _, last_c = recurrent.lstm(*xs, go_backwards=True)
            loss = nf.reduce_sum(o * o) + nf.reduce_sum(last_c)
        want = tape.gradient(loss, [xs[0], xs[1]] + xs[3:])
        for g, w in zip(got_grads, want):
            np.testing.assert_allclose(g, w.numpy(), rtol=1e-10, atol=1e-12)


def test_zero_time_steps_return_the_initial_state():
    x, h0, c0, *weights = _lstm_sample(seed=13, steps=0)
    out, h, c = recurrent.lstm(x, h0, c0, *weights)
    assert out.shape == (B, 0, U)
    np.testing.assert_array_equal(h.numpy(), h0)
    np.testing.assert_array_equal(c.numpy(), c0)


@pytest.mark.parametrize("fn, args, message", [
    (recurrent.lstm, lambda s: (s[0], s[1], s[2], np.zeros((10, 4 * U)), s[4], s[5]),
     r"LSTM op: kernel shape \[10, 12\] does not match input_dim 3 of inputs shape \[2, 3, 3\]"),
    (recurrent.lstm, lambda s: (s[0], s[1], np.zeros((B, U + 1)), s[3], s[4], s[5]),
     r"LSTM op: initial_c shape \[2, 4\] does not match \[batch, units\] = \[2, 3\]"),
    (recurrent.lstm, lambda s: (s[0], s[1], s[2], s[3], np.zeros((U, 3 * U)), s[5]),
     r"LSTM op: recurrent_kernel shape \[3, 9\] is not \[units, 4 \* units\]"),
    (recurrent.lstm, lambda s: (s[0], s[1], s[2], s[3], s[4], np.zeros(3 * U)),
     r"LSTM op: bias shape \[9\] does not match \[12\]"),
    (recurrent.lstm, lambda s: (s[0][0], s[1], s[2], s[3], s[4], s[5]),
     r"LSTM op: inputs must be \[batch, time, input_dim\], got shape \[3, 3\]"),
])
@pytest.mark.parametrize("mode", ["eager", "graph"])
def test_shape_errors_name_the_op_and_shapes(fn, args, message, mode):
    values = args(_lstm_sample())
    if mode == "eager":
        with pytest.raises(ValueError, match=message):
            fn(*[nf.constant(a) for a in values])
    else:
        with nf.Graph().as_default():
            phs = [v1.placeholder(nf.float64, a.shape) for a in values]
            with pytest.raises(ValueError, match=message):
                fn(*phs)


def test_gru_bias_shape_follows_reset_after():
    x, h0, kernel, rec, bias = _gru_sample((2, 3 * U))
    with pytest.raises(ValueError, match=r"GRU op: bias shape \[2, 9\] does not match \[9\]"):
        recurrent.gru(x, h0, kernel, rec, bias, reset_after=False)
    with pytest.raises(ValueError, match="activation must be one of"):
        recurrent.simple_rnn(x, h0, kernel[:, :U], rec[:, :U], activation="softplus")
