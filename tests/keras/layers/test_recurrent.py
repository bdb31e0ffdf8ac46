"""Recurrent layers (neuroflow/keras/layers/recurrent*.py): SimpleRNN, LSTM, GRU, RNN with
cells, StackedRNNCells, Bidirectional, TimeDistributed -- the one-call layer check, forward
values against NumPy transcriptions of Keras's equations and against PyTorch, float64
finite-difference gradients, eager == nf.function, masks, initial and stateful states,
the fused path == the generic path, and learned outcomes."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.layer_helper import check_layer
from tests.keras.layers.helpers_core import SAVE

try:
    import torch
except ImportError:  # the oracle tests skip without torch
    torch = None

L = keras.layers
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")


# -- NumPy transcriptions of the Keras equations ---------------------------------------------
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_simple_rnn(weights, activation=np.tanh):
    kernel, recurrent, bias = (list(weights) + [0.0])[:3]

    def step(x, states):
        h = activation(x @ kernel + states[0] @ recurrent + bias)
        return h, [h]
    return step


def np_lstm(weights):
    kernel, recurrent, bias = weights

    def step(x, states):
        h, c = states
        i, f, g, o = np.split(x @ kernel + h @ recurrent + bias, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        return h, [h, c]
    return step


def np_gru(weights, reset_after=True):
    kernel, recurrent, bias = weights
    units = recurrent.shape[0]

    def step(x, states):
        h = states[0]
        if reset_after:
            x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)
            r_z, r_r, r_h = np.split(h @ recurrent + bias[1], 3, axis=-1)
            z, r = _sigmoid(x_z + r_z), _sigmoid(x_r + r_r)
            hh = np.tanh(x_h + r * r_h)
        else:
            x_z, x_r, x_h = np.split(x @ kernel + bias, 3, axis=-1)
            r_z, r_r = np.split(h @ recurrent[:, :2 * units], 2, axis=-1)
            z, r = _sigmoid(x_z + r_z), _sigmoid(x_r + r_r)
            hh = np.tanh(x_h + (r * h) @ recurrent[:, 2 * units:])
        h = z * h + (1 - z) * hh
        return h, [h]
    return step


def np_rnn(step, x, states, go_backwards=False, mask=None, zero_output_for_mask=False):
    """Keras's loop: outputs in processing order; a masked step keeps the states and
    repeats the previous output (zeros with zero_output_for_mask)."""
    order = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    outputs = []
    for t in order:
        out, new = step(x[:, t], states)
        if mask is not None:
            keep = mask[:, t][:, None]
            new = [np.where(keep, n, s) for n, s in zip(new, states)]
            previous = np.zeros_like(out) if zero_output_for_mask or not outputs \
                else outputs[-1]
            out = np.where(keep, out, previous)
        states = new
        outputs.append(out)
    return np.stack(outputs, axis=1), states


KINDS = {
    "simple_rnn": (lambda **kw: L.SimpleRNN(3, **kw), np_simple_rnn, 1),
    "simple_rnn_relu": (lambda **kw: L.SimpleRNN(3, activation="relu", **kw),
                        lambda w: np_simple_rnn(w, lambda v: np.maximum(v, 0)), 1),
    "lstm": (lambda **kw: L.LSTM(3, **kw), np_lstm, 2),
    "gru": (lambda **kw: L.GRU(3, **kw), np_gru, 1),
    "gru_reset_before": (lambda **kw: L.GRU(3, reset_after=False, **kw),
                         lambda w: np_gru(w, reset_after=False), 1),
}


def _data(shape, seed=0, dtype="float32"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _fused_available(name):
    try:
        from neuroflow.ops import recurrent
    except ImportError:
        return False
    return hasattr(recurrent, name)


# -- the one-call check ----------------------------------------------------------------------
@pytest.mark.parametrize("make, expected, n_weights", [
    (lambda: L.SimpleRNN(3), (2, 3), 3),
    (lambda: L.SimpleRNN(3, use_bias=False, return_sequences=True), (2, 5, 3), 2),
    (lambda: L.LSTM(3, return_sequences=True), (2, 5, 3), 3),
    (lambda: L.LSTM(2, go_backwards=True, dropout=0.2, recurrent_dropout=0.2), (2, 2), 3),
    (lambda: L.GRU(3), (2, 3), 3),
    (lambda: L.GRU(3, reset_after=False, return_sequences=True), (2, 5, 3), 3),
    (lambda: L.RNN(L.LSTMCell(3)), (2, 3), 3),
    (lambda: L.RNN([L.GRUCell(3), L.SimpleRNNCell(2)], return_sequences=True), (2, 5, 2), 6),
    (lambda: L.Bidirectional(L.LSTM(3)), (2, 6), 6),
    (lambda: L.Bidirectional(L.GRU(2, return_sequences=True), merge_mode="sum"), (2, 5, 2), 6),
    (lambda: L.TimeDistributed(L.Dense(4)), (2, 5, 4), 2),
], ids=["simple_rnn", "simple_rnn_nobias", "lstm", "lstm_dropout", "gru", "gru_reset_before",
        "rnn_cell", "rnn_stacked", "bidirectional", "bidirectional_sum", "time_distributed"])
def test_layer_check(tmp_path, make, expected, n_weights):
    prototype = make()

    def factory(**config):
        return type(prototype).from_config(config) if config else make()
    factory.__name__ = type(prototype).__name__
    factory.from_config = type(prototype).from_config
    check_layer(factory, {}, input_shape=(2, 5, 4), expected_output_shape=expected,
                expected_num_weights=n_weights, save=SAVE, tmp_path=tmp_path)


def test_weight_names_shapes_and_initializers():
    x = _data((2, 4, 5))
    lstm, gru = L.LSTM(3), L.GRU(3)
    gru_before, simple = L.GRU(3, reset_after=False), L.SimpleRNN(3)
    for layer in (lstm, gru, gru_before, simple):
        layer(x)
    assert [tuple(w.shape) for w in lstm.weights] == [(5, 12), (3, 12), (12,)]
    assert [tuple(w.shape) for w in gru.weights] == [(5, 9), (3, 9), (2, 9)]
    assert [tuple(w.shape) for w in gru_before.weights] == [(5, 9), (3, 9), (9,)]
    assert [tuple(w.shape) for w in simple.weights] == [(5, 3), (3, 3), (3,)]
    assert [w.path.split("/")[-1] for w in lstm.weights] == ["kernel", "recurrent_kernel",
                                                             "bias"]
    # unit_forget_bias: the f slice (second of i, f, c, o) starts at one
    np.testing.assert_array_equal(lstm.cell.bias.numpy(), [0] * 3 + [1] * 3 + [0] * 6)
    no_forget = L.LSTM(3, unit_forget_bias=False)
    no_forget(x)
    np.testing.assert_array_equal(no_forget.cell.bias.numpy(), np.zeros(12))
    # recurrent kernels are orthogonal
    rk = simple.cell.recurrent_kernel.numpy()
    np.testing.assert_allclose(rk @ rk.T, np.eye(3), atol=1e-5)
    assert lstm.units == 3 and lstm.recurrent_activation is lstm.cell.recurrent_activation


# -- forward values --------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["generic", "auto"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_forward_matches_numpy(kind, go_backwards, path):
    make, reference, n_states = KINDS[kind]
    layer = make(return_sequences=True, return_state=True, go_backwards=go_backwards,
                 bias_initializer="random_normal", use_cudnn=False if path == "generic" else "auto")
    x = _data((2, 5, 4))
    initial = [_data((2, 3), seed=i + 1) for i in range(n_states)]
    outputs = layer(x, initial_state=initial)
    weights = [w.numpy() for w in layer.weights]
    expected, states = np_rnn(reference(weights), x, initial, go_backwards)
    np.testing.assert_allclose(outputs[0].numpy(), expected, rtol=1e-5, atol=1e-5)
    assert len(outputs) == 1 + n_states
    for got, want in zip(outputs[1:], states):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)
    # the last output alone, with zero initial states
    last = make(go_backwards=go_backwards, use_cudnn=False if path == "generic" else "auto")
    last(x)
    last.set_weights(weights)
    expected, _ = np_rnn(reference(weights), x, [np.zeros((2, 3))] * n_states, go_backwards)
    np.testing.assert_allclose(last(x).numpy(), expected[:, -1], rtol=1e-5, atol=1e-5)


@needs_torch
def test_lstm_matches_torch_values_and_gradients():
    x = _data((3, 6, 4))
    layer = L.LSTM(5, return_sequences=True, return_state=True,
                   bias_initializer="random_normal", use_cudnn=False)
    layer(x)
    kernel, recurrent, bias = layer.weights
    net = torch.nn.LSTM(4, 5, batch_first=True).double()
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(kernel.numpy().T.astype("float64")))
        net.weight_hh_l0.copy_(torch.from_numpy(recurrent.numpy().T.astype("float64")))
        net.bias_ih_l0.copy_(torch.from_numpy(bias.numpy().astype("float64")))
        net.bias_hh_l0.zero_()
    seed = _data((3, 6, 5), seed=7)
    tx = torch.from_numpy(x.astype("float64"))
    t_out, (t_h, t_c) = net(tx)
    (t_out * torch.from_numpy(seed.astype("float64"))).sum().backward()
    with nf.GradientTape() as tape:
        out, h, c = layer(x)
        loss = nf.reduce_sum(out * seed)
    grads = tape.gradient(loss, [kernel, recurrent, bias])
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h.numpy(), t_h[0].detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c.numpy(), t_c[0].detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads[0].numpy(), net.weight_ih_l0.grad.numpy().T, rtol=1e-3,
                               atol=1e-4)
    np.testing.assert_allclose(grads[1].numpy(), net.weight_hh_l0.grad.numpy().T, rtol=1e-3,
                               atol=1e-4)
    np.testing.assert_allclose(grads[2].numpy(), net.bias_ih_l0.grad.numpy(), rtol=1e-3,
                               atol=1e-4)


def _torch_gru_order(matrix, units):
    """Keras gate blocks z, r, h -> torch's r, z, n (along the last axis)."""
    z, r, h = np.split(matrix, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1)


@needs_torch
def test_gru_reset_after_matches_torch():
    x = _data((3, 6, 4))
    layer = L.GRU(5, return_sequences=True, bias_initializer="random_normal",
                  use_cudnn=False)
    layer(x)
    kernel, recurrent, bias = (w.numpy().astype("float64") for w in layer.weights)
    net = torch.nn.GRU(4, 5, batch_first=True).double()
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(_torch_gru_order(kernel, 5).T.copy()))
        net.weight_hh_l0.copy_(torch.from_numpy(_torch_gru_order(recurrent, 5).T.copy()))
        net.bias_ih_l0.copy_(torch.from_numpy(_torch_gru_order(bias[0], 5)))
        net.bias_hh_l0.copy_(torch.from_numpy(_torch_gru_order(bias[1], 5)))
        expected, _ = net(torch.from_numpy(x.astype("float64")))
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


@needs_torch
def test_simple_rnn_matches_torch():
    x = _data((3, 6, 4))
    layer = L.SimpleRNN(5, return_sequences=True, bias_initializer="random_normal",
                        use_cudnn=False)
    layer(x)
    kernel, recurrent, bias = (w.numpy().astype("float64") for w in layer.weights)
    net = torch.nn.RNN(4, 5, batch_first=True, nonlinearity="tanh").double()
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(kernel.T.copy()))
        net.weight_hh_l0.copy_(torch.from_numpy(recurrent.T.copy()))
        net.bias_ih_l0.copy_(torch.from_numpy(bias))
        net.bias_hh_l0.zero_()
        expected, _ = net(torch.from_numpy(x.astype("float64")))
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


# -- gradients -------------------------------------------------------------------------------
def _loss_and_grads(layer, x, seed):
    x = nf.constant(x)
    with nf.GradientTape() as tape:
        tape.watch(x)
        loss = nf.reduce_sum(layer(x) * seed)
    return loss, tape.gradient(loss, list(layer.trainable_weights) + [x])


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_gradients_match_finite_differences(kind):
    make = KINDS[kind][0]
    layer = make(return_sequences=True, dtype="float64", bias_initializer="random_normal",
                 use_cudnn=False)
    x = _data((2, 3, 2), dtype="float64")
    seed = _data((2, 3, 3), seed=3, dtype="float64")
    _, grads = _loss_and_grads(layer, x, seed)
    eps = 1e-6
    for variable, grad in zip(layer.trainable_weights, grads):
        value = variable.numpy().copy()
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            for sign in (1, -1):
                shifted = value.copy()
                shifted[index] += sign * eps
                variable.assign(shifted)
                numeric[index] += sign * float(nf.reduce_sum(layer(x) * seed)) / (2 * eps)
        variable.assign(value)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-5, atol=1e-7,
                                   err_msg=f"{kind}: {variable.path}")
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        for sign in (1, -1):
            shifted = x.copy()
            shifted[index] += sign * eps
            numeric[index] += sign * float(nf.reduce_sum(layer(shifted) * seed)) / (2 * eps)
    np.testing.assert_allclose(grads[-1].numpy(), numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_rnn"])
def test_eager_equals_nf_function(kind):
    layer = KINDS[kind][0](return_sequences=True, return_state=True, go_backwards=True,
                           use_cudnn=False)
    x = _data((2, 4, 3))
    eager = layer(x)

    @nf.function
    def traced(inputs):
        with nf.GradientTape() as tape:
            outputs = layer(inputs)
            loss = nf.reduce_sum(outputs[0] * outputs[0])
        return outputs, tape.gradient(loss, layer.trainable_weights)
    outputs, grads = traced(nf.constant(x))
    for a, b in zip(eager, outputs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    with nf.GradientTape() as tape:
        loss = nf.reduce_sum(layer(x)[0] ** 2)
    for a, b in zip(tape.gradient(loss, layer.trainable_weights), grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)


# -- the fused path == the generic path -------------------------------------------------------
@pytest.mark.parametrize("case", [
    ("lstm", {}), ("lstm", {"go_backwards": True, "use_bias": False}),
    ("gru", {}), ("gru", {"go_backwards": True}), ("gru", {"reset_after": False}),
    ("simple_rnn", {}), ("simple_rnn", {"activation": "relu", "go_backwards": True}),
], ids=lambda c: f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items())}")
def test_fused_path_equals_generic_path(case):
    kind, kwargs = case
    cls = {"lstm": L.LSTM, "gru": L.GRU, "simple_rnn": L.SimpleRNN}[kind]
    n_states = 2 if kind == "lstm" else 1
    fused = cls(3, return_sequences=True, return_state=True, dtype="float64",
                use_cudnn=True, **kwargs)
    generic = cls(3, return_sequences=True, return_state=True, dtype="float64",
                  use_cudnn=False, **kwargs)
    x = _data((2, 5, 4), dtype="float64")
    initial = [nf.constant(_data((2, 3), seed=i + 1, dtype="float64"))
               for i in range(n_states)]
    fused(x)
    generic(x)
    generic.set_weights([w + 0.1 for w in fused.get_weights()])
    fused.set_weights(generic.get_weights())
    seed = _data((2, 5, 3), seed=9, dtype="float64")
    results = []
    for layer in (fused, generic):
        inputs = nf.constant(x)
        with nf.GradientTape() as tape:
            tape.watch(inputs)
            tape.watch(initial)
            outputs = layer(inputs, initial_state=initial)
            loss = nf.reduce_sum(outputs[0] * seed) + nf.reduce_sum(nf.add_n(outputs[1:]))
        grads = tape.gradient(loss, list(layer.trainable_weights) + [inputs] + initial)
        results.append([o.numpy() for o in outputs] + [g.numpy() for g in grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)

    # the fused path also runs sequences of unknown length in a functional model
    inputs = keras.Input((None, 4), dtype="float64")
    model = keras.Model(inputs, cls(3, dtype="float64", use_cudnn=True, **kwargs)(inputs))
    model.layers[-1].set_weights(generic.get_weights())
    np.testing.assert_allclose(model.predict(x, verbose=0), generic(x)[0].numpy()[:, -1],
                               rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU, L.SimpleRNN])
def test_fused_input_dropout_equals_the_cells(cls):
    """Input dropout before the fused op: the one mask per sequence the cell would reuse at
    every step, so with the same seeds both paths agree."""
    x = _data((4, 5, 3))
    fused, generic = (cls(4, dropout=0.5, seed=3, use_cudnn=flag) for flag in (True, False))
    fused(x)
    generic(x)
    generic.set_weights(fused.get_weights())
    nf.random.set_seed(1)
    dropped = fused(x, training=True).numpy()
    nf.random.set_seed(1)
    np.testing.assert_allclose(generic(x, training=True).numpy(), dropped, rtol=1e-5,
                               atol=1e-6)
    assert not np.allclose(dropped, fused(x).numpy(), atol=1e-3)


def test_fused_path_choice():
    x = _data((2, 3, 4))
    layer = L.LSTM(3, use_cudnn=True, recurrent_dropout=0.5)
    with pytest.raises(ValueError, match=r"use_cudnn=True.*recurrent_dropout"):
        layer(x)
    with pytest.raises(ValueError, match=r"use_cudnn=True.*activation"):
        L.GRU(3, use_cudnn=True, activation="relu")(x)
    with pytest.raises(ValueError, match="use_cudnn"):
        L.LSTM(3, use_cudnn="yes")


def test_unknown_timesteps_on_the_generic_path_is_a_clear_error():
    inputs = keras.Input((None, 4))
    with pytest.raises(ValueError, match=r"needs their number.*keras.Input\(shape="):
        L.LSTM(3, use_cudnn=False)(inputs)
    with pytest.raises(ValueError, match="needs their number"):
        L.RNN(L.GRUCell(3))(inputs)


# -- masks, states ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_mask_keeps_previous_state(kind, go_backwards):
    make, reference, n_states = KINDS[kind]
    x = _data((4, 5, 2))  # the padded steps hold garbage, not zeros: the mask must act
    lengths = [5, 3, 1]
    mask = np.arange(5)[None, :] < np.array(lengths)[:, None]
    mask = np.concatenate([mask, [[False, True, True, False, True]]])  # holes anywhere
    layer = make(return_sequences=True, go_backwards=go_backwards)
    outputs = layer(x, mask=mask).numpy()
    weights = [w.numpy() for w in layer.weights]
    zeros = [np.zeros((4, 3))] * n_states
    expected, _ = np_rnn(reference(weights), x, zeros, go_backwards, mask)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)
    # the last output equals the unpadded sequence's
    last = make(go_backwards=go_backwards)
    last(x)
    last.set_weights(weights)
    final = last(x, mask=nf.constant(mask)).numpy()
    for i, n in enumerate(lengths):
        np.testing.assert_allclose(final[i], last(x[i:i + 1, :n]).numpy()[0], rtol=1e-5,
                                   atol=1e-6)
    # zero_output_for_mask: masked steps output zeros
    zeroed = make(return_sequences=True, go_backwards=go_backwards, zero_output_for_mask=True)
    zeroed(x)
    zeroed.set_weights(weights)
    expected, _ = np_rnn(reference(weights), x, zeros, go_backwards, mask, True)
    np.testing.assert_allclose(zeroed(x, mask=mask).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_initial_state_in_a_saved_functional_model(tmp_path):
    """An encoder's final states start a decoder (the seq2seq pattern); saved and loaded."""
    nf.random.set_seed(3)
    encoder_inputs, decoder_inputs = keras.Input((4, 3)), keras.Input((5, 2))
    _, h, c = L.LSTM(6, return_state=True, name="encoder")(encoder_inputs)
    decoded = L.LSTM(6, return_sequences=True, name="decoder")(decoder_inputs,
                                                                initial_state=[h, c])
    model = keras.Model([encoder_inputs, decoder_inputs], L.Dense(1, name="head")(decoded))
    a, b = _data((2, 4, 3)), _data((2, 5, 2), seed=1)
    out = model.predict([a, b], verbose=0)
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    _, h, c = encoder(a)
    started = decoder(b, initial_state=[h, c]).numpy()
    np.testing.assert_allclose(model.get_layer("head")(started).numpy(), out, rtol=1e-5,
                               atol=1e-6)
    assert not np.allclose(decoder(b).numpy(), started, atol=1e-3)
    if SAVE:
        path = str(tmp_path / "seq2seq.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict([a, b], verbose=0), out, rtol=1e-5,
                                   atol=1e-6)


def test_stateful_carries_states_across_batches():
    x = _data((2, 6, 3))
    stateful = L.GRU(4, stateful=True, return_sequences=True)
    full = L.GRU(4, return_sequences=True)
    first = stateful(x[:, :3]).numpy()
    full(x)
    full.set_weights(stateful.get_weights())
    second = stateful(x[:, 3:]).numpy()
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), full(x).numpy(),
                               rtol=1e-5, atol=1e-6)
    assert len(stateful.weights) == 3 and len(stateful.states) == 1  # states are no weights
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, :3]).numpy(), first, rtol=1e-6)
    with pytest.raises(ValueError, match="same size"):
        stateful(x[:1])
    with pytest.raises(AttributeError, match="Layer must be stateful"):
        full.reset_states()


def test_stateful_lstm_in_a_model_predicts_chunk_by_chunk():
    nf.random.set_seed(0)
    model = keras.Sequential([keras.Input(batch_shape=(2, 3, 2)),
                              L.LSTM(4, stateful=True, return_sequences=True)])
    x = _data((2, 6, 2))
    chunks = [model.predict(x[:, :3], verbose=0), model.predict(x[:, 3:], verbose=0)]
    reference = L.LSTM(4, return_sequences=True)
    reference(x)
    reference.set_weights(model.get_weights())
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), reference(x).numpy(),
                               rtol=1e-5, atol=1e-6)
    model.layers[0].reset_states()
    np.testing.assert_allclose(model.predict(x[:, :3], verbose=0), chunks[0], rtol=1e-6)


def test_dropout_acts_in_training_only():
    x = _data((4, 5, 3))
    for kwargs in ({"dropout": 0.5}, {"recurrent_dropout": 0.5}):
        layer = L.LSTM(4, seed=1, **kwargs)
        inference = layer(x).numpy()
        np.testing.assert_array_equal(layer(x, training=False).numpy(), inference)
        assert not np.allclose(layer(x, training=True).numpy(), inference)


def test_stacked_cells_equal_two_layers():
    x = _data((2, 4, 3))
    stacked = L.RNN([L.LSTMCell(4), L.GRUCell(2)], return_state=True)
    output, h1, c1, h2 = stacked(x)
    first, second = L.LSTM(4, return_sequences=True), L.GRU(2)
    first(x)
    first.set_weights(stacked.get_weights()[:3])
    hidden = first(x)
    second(hidden)
    second.set_weights(stacked.get_weights()[3:])
    np.testing.assert_allclose(output.numpy(), second(hidden).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h2.numpy(), output.numpy())
    np.testing.assert_allclose(h1.numpy(), hidden.numpy()[:, -1], rtol=1e-5, atol=1e-6)


class _MinimalRNNCell(L.Layer):
    """The custom cell of the Keras RNN docs: no output_size, no get_initial_state."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        output = nf.matmul(inputs, self.kernel) + nf.matmul(states[0], self.recurrent_kernel)
        return output, [output]


def test_custom_cell_and_its_stack():
    x = _data((2, 4, 3))
    layer = L.RNN(_MinimalRNNCell(5), return_sequences=True)
    out = layer(x).numpy()
    kernel, recurrent = (w.numpy() for w in layer.weights)
    expected, _ = np_rnn(np_simple_rnn([kernel, recurrent], lambda v: v), x,
                         [np.zeros((2, 5))])
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    stacked = L.RNN([_MinimalRNNCell(5), _MinimalRNNCell(2)], return_state=True)
    output, first, second = stacked(x)
    assert output.shape == (2, 2) and first.shape == (2, 5) and len(stacked.weights) == 4


def test_cell_called_alone():
    cell = L.LSTMCell(3)
    x, h, c = _data((2, 4)), _data((2, 3), 1), _data((2, 3), 2)
    out, (h1, c1) = cell(x, [h, c])
    expected, (eh, ec) = np_lstm([w.numpy() for w in cell.weights])(x, [h, c])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c1.numpy(), ec, rtol=1e-5, atol=1e-6)


def test_regularizers_and_constraints():
    layer = L.GRU(3, kernel_regularizer=keras.regularizers.L2(0.1),
                  recurrent_regularizer="l1", bias_regularizer=keras.regularizers.L2(0.2),
                  kernel_constraint=keras.constraints.NonNeg())
    layer(_data((2, 3, 2)))
    assert len(layer.losses) == 3
    np.testing.assert_allclose(float(layer.losses[0]),
                               0.1 * np.sum(layer.cell.kernel.numpy() ** 2), rtol=1e-5)
    assert layer.cell.kernel.constraint is not None
    config = layer.get_config()
    assert config["kernel_regularizer"]["class_name"] == "L2"
    assert config["kernel_constraint"]["class_name"] == "NonNeg"


def test_config_keys_and_errors():
    config = L.LSTM(4, return_sequences=True, dropout=0.1).get_config()
    for key in ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                "recurrent_initializer", "bias_initializer", "unit_forget_bias",
                "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                "bias_constraint", "dropout", "recurrent_dropout", "seed", "return_sequences",
                "return_state", "go_backwards", "stateful", "unroll", "name"):
        assert key in config, key
    assert config["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert L.GRU(2).get_config()["reset_after"] is True
    assert L.LSTM.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="units"):
        L.LSTM(0)
    with pytest.raises(ValueError, match="dropout"):
        L.GRU(2, dropout=1.5)
    with pytest.raises(ValueError, match="initial state"):
        L.LSTM(2)(_data((2, 3, 2)), initial_state=[np.zeros((2, 2), "float32")])
    with pytest.raises(ValueError, match="state_size"):
        L.RNN(L.Dense(2))


# -- Bidirectional, TimeDistributed ----------------------------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
def test_bidirectional_merge_modes(merge_mode):
    x = _data((2, 5, 3))
    layer = L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode=merge_mode)
    output = layer(x)
    forward = layer.forward_layer(x).numpy()
    backward = layer.backward_layer(x).numpy()[:, ::-1]  # back in time order
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    assert layer.forward_layer.name.startswith("forward_")
    # the backward layer reads the reversed sequence
    weights = [w.numpy() for w in layer.backward_layer.weights]
    reversed_run, _ = np_rnn(np_lstm(weights), x[:, ::-1], [np.zeros((2, 4))] * 2)
    np.testing.assert_allclose(backward, reversed_run[:, ::-1], rtol=1e-5, atol=1e-6)
    expected = {"concat": lambda: np.concatenate([forward, backward], -1),
                "sum": lambda: forward + backward, "ave": lambda: (forward + backward) / 2,
                "mul": lambda: forward * backward, None: lambda: [forward, backward]}
    want = expected[merge_mode]()
    if merge_mode is None:
        for a, b in zip(output, want):
            np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(output.numpy(), want, rtol=1e-5, atol=1e-6)
    assert len(layer.weights) == 6


def test_bidirectional_states_backward_layer_and_errors():
    x = _data((2, 4, 3))
    layer = L.Bidirectional(L.LSTM(3, return_state=True))
    initial = [_data((2, 3), seed=i) for i in range(4)]
    output, fh, fc, bh, bc = layer(x, initial_state=initial)
    f_out, f_h, f_c = layer.forward_layer(x, initial_state=initial[:2])
    b_out, b_h, b_c = layer.backward_layer(x, initial_state=initial[2:])
    np.testing.assert_allclose(output.numpy(), np.concatenate([f_out.numpy(), b_out.numpy()],
                                                              -1), rtol=1e-6)
    for a, b in ((fh, f_h), (fc, f_c), (bh, b_h), (bc, b_c)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert layer.compute_output_shape((None, 4, 3)) == [(None, 6)] + [(None, 3)] * 4

    mixed = L.Bidirectional(L.LSTM(3), backward_layer=L.GRU(2, go_backwards=True))
    assert mixed(x).shape == (2, 5) and len(mixed.weights) == 6
    clone = L.Bidirectional.from_config(mixed.get_config())
    assert isinstance(clone.backward_layer, L.GRU)
    with pytest.raises(ValueError, match="different `go_backwards`"):
        L.Bidirectional(L.LSTM(3), backward_layer=L.LSTM(3))
    with pytest.raises(ValueError, match="Invalid merge mode"):
        L.Bidirectional(L.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="Layer"):
        L.Bidirectional("lstm")


def test_time_distributed():
    x = _data((2, 5, 4))
    dense = L.Dense(3, bias_initializer="random_normal")
    layer = L.TimeDistributed(dense)
    out = layer(x).numpy()
    np.testing.assert_allclose(out, x @ dense.kernel.numpy() + dense.bias.numpy(), rtol=1e-5,
                               atol=1e-6)
    # unknown time length in a functional model; a rank-4 input through Flatten
    inputs = keras.Input((None, 4))
    model = keras.Model(inputs, L.TimeDistributed(L.Dense(2))(inputs))
    assert model.predict(x, verbose=0).shape == (2, 5, 2)
    assert model.predict(x[:, :3], verbose=0).shape == (2, 3, 2)
    flat = L.TimeDistributed(L.Flatten())(_data((2, 5, 2, 3)))
    assert flat.shape == (2, 5, 6)
    assert L.TimeDistributed(L.Dense(7)).compute_output_shape((None, 5, 4)) == (None, 5, 7)
    with pytest.raises(ValueError, match="Layer"):
        L.TimeDistributed(3)


# -- learned outcomes ------------------------------------------------------------------------
@pytest.mark.parametrize("use_cudnn", ["auto", False], ids=["default_path", "generic_path"])
def test_lstm_learns_to_remember_the_first_step(use_cudnn):
    """The label is the sign of the first of 12 steps: only memory solves it; a Dense model on
    the last step is at chance."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((768, 12, 1)).astype("float32")
    y = (x[:, 0, 0] > 0).astype("float32")[:, None]
    nf.random.set_seed(0)
    model = keras.Sequential([keras.Input((12, 1)), L.LSTM(16, use_cudnn=use_cudnn),
                              L.Dense(1, activation="sigmoid")])
    # (at Adam(0.01) and 20 epochs the outcome swung between 0.87 and 0.99 with float32
    # rounding differences; at 0.005 and 30 epochs it is 0.99-1.0 on both paths)
    model.compile(optimizer=keras.optimizers.Adam(0.005), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:512], y[:512], epochs=30, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x[512:], y[512:], verbose=0)
    assert accuracy >= 0.9

    nf.random.set_seed(0)
    last_step = keras.Sequential([keras.Input((1,)), L.Dense(8, activation="relu"),
                                  L.Dense(1, activation="sigmoid")])
    last_step.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                      metrics=["accuracy"])
    last_step.fit(x[:512, -1], y[:512], epochs=20, batch_size=32, verbose=0)
    _, baseline = last_step.evaluate(x[512:, -1], y[512:], verbose=0)
    assert baseline <= 0.65


def test_gru_regression_reaches_a_low_loss():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((512, 8, 1)).astype("float32")
    y = 2 * x.mean(axis=1)
    nf.random.set_seed(1)
    model = keras.Sequential([keras.Input((8, 1)), L.GRU(8), L.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.05 * y.var()


@pytest.mark.parametrize("cls, op_type", [(L.LSTM, "LSTM"), (L.GRU, "GRU"),
                                          (L.SimpleRNN, "SimpleRNN")])
def test_default_configuration_takes_the_fused_op(cls, op_type):
    """use_cudnn="auto": one fused op in the traced graph, with or without a mask;
    recurrent dropout falls back to the loop."""
    layer = cls(3)
    x = nf.constant(_data((2, 4, 3)))
    for call in (lambda inputs: layer(inputs),
                 lambda inputs: layer(inputs, mask=np.ones((2, 4), bool))):
        graph = nf.function(call).get_concrete_function(x).graph
        assert op_type in {op.type for op in graph.get_operations()}
    looped = cls(3, recurrent_dropout=0.2)
    graph = nf.function(lambda inputs: looped(inputs, training=True)).get_concrete_function(
        x).graph
    assert op_type not in {op.type for op in graph.get_operations()}


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU, L.SimpleRNN])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_fused_path_equals_the_loop(cls, go_backwards, zero_output):
    """Masks with leading, inner and trailing holes and a nonzero initial state: the fused
    op gives the loop's outputs (zeros before the first unmasked step), states and
    gradients."""
    n_states = 2 if cls is L.LSTM else 1
    x = _data((3, 5, 4), dtype="float64")
    mask = np.array([[0, 1, 1, 0, 1], [1, 1, 1, 0, 0], [0, 0, 1, 1, 1]], bool)
    initial = [nf.constant(_data((3, 2), seed=i + 1, dtype="float64"))
               for i in range(n_states)]
    seed = _data((3, 5, 2), seed=9, dtype="float64")
    fused, loop = (cls(2, return_sequences=True, return_state=True, dtype="float64",
                       use_cudnn=flag, go_backwards=go_backwards) for flag in (True, False))
    results = []
    for layer in (fused, loop):
        layer.zero_output_for_mask = zero_output
        layer(x)
        if layer is loop:
            loop.set_weights(fused.get_weights())
        inputs = nf.constant(x)
        with nf.GradientTape() as tape:
            tape.watch([inputs] + initial)
            outputs = layer(inputs, initial_state=initial, mask=mask)
            loss = nf.reduce_sum(outputs[0] * seed) + nf.reduce_sum(nf.add_n(outputs[1:]))
        grads = tape.gradient(loss, list(layer.trainable_weights) + [inputs] + initial)
        results.append([o.numpy() for o in outputs] + [g.numpy() for g in grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
