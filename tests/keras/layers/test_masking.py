"""Keras's mask propagation: a layer's outputs carry ``compute_mask``'s mask, and the next
layer whose ``call`` takes ``mask`` receives it (Embedding(mask_zero=True), Masking ->
recurrent layers, GlobalAveragePooling1D), in eager calls, Sequential and functional
models."""
import warnings

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras

L = keras.layers


def _sequences():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    x[0, 4:] = 0.0  # padding at the end of the first sequence
    x[1, 2] = 0.0   # and a hole in the second
    return x


def test_masking_layer_zeros_and_masks_the_padded_steps():
    x = _sequences()
    y = L.Masking()(x)
    np.testing.assert_array_equal(y._keras_mask.numpy(),
                                  [[1, 1, 1, 1, 0, 0], [1, 1, 0, 1, 1, 1]])
    np.testing.assert_array_equal(y.numpy(), x)
    assert L.Masking(mask_value=1.5).get_config()["mask_value"] == 1.5


@pytest.mark.parametrize("make_rnn", [lambda: L.LSTM(4), lambda: L.GRU(4),
                                      lambda: L.SimpleRNN(4, go_backwards=True)],
                         ids=["lstm", "gru", "simple_rnn_backwards"])
def test_a_recurrent_layer_after_masking_skips_the_masked_steps(make_rnn):
    x = _sequences()
    rnn = make_rnn()
    masked = rnn(L.Masking()(x)).numpy()
    explicit = rnn(x, mask=np.any(x != 0, axis=-1)).numpy()
    np.testing.assert_allclose(masked, explicit, rtol=1e-6)
    # the first sequence's padding at the end changes nothing
    np.testing.assert_allclose(masked[0], rnn(x[:1, :4]).numpy()[0], rtol=1e-5, atol=1e-6)


def test_recurrent_output_carries_the_mask_only_with_the_sequence():
    y = L.Masking()(_sequences())
    assert L.LSTM(3, return_sequences=True)(y)._keras_mask is not None
    assert getattr(L.LSTM(3)(y), "_keras_mask", None) is None
    out, h, c = L.LSTM(3, return_sequences=True, return_state=True)(y)
    assert out._keras_mask is not None and getattr(h, "_keras_mask", None) is None


def _classifier(kind):
    if kind == "sequential":
        return keras.Sequential([keras.Input((5,)), L.Embedding(10, 4, mask_zero=True),
                                 L.GRU(6), L.Dense(1)])
    inputs = keras.Input((5,))
    h = L.Embedding(10, 4, mask_zero=True)(inputs)
    h = L.Bidirectional(L.LSTM(3, return_sequences=True))(h)
    h = L.Dense(4)(h)  # a Dense on sequences passes the time mask on
    return keras.Model(inputs, L.Dense(1)(L.GlobalAveragePooling1D()(h)))


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_models_pass_the_embedding_mask_on(kind):
    nf.random.set_seed(1)
    model = _classifier(kind)
    padded = np.array([[3, 4, 5, 0, 0], [7, 0, 0, 0, 0]])
    other_padding = np.array([[3, 4, 5, 0, 0], [7, 0, 0, 0, 0]]) * 1
    other_padding[:, 4] = 0
    first = model.predict(padded, verbose=0)
    # the padded tail is skipped: the same ids with the padding shifted give the same
    model2 = _classifier(kind)
    model2.set_weights(model.get_weights())
    np.testing.assert_allclose(model2.predict(other_padding, verbose=0), first, rtol=1e-5)
    # fit runs the same propagation in its compiled step
    model.compile("adam", "mse")
    model.fit(padded, np.ones((2, 1)), epochs=1, verbose=0)


def test_masked_and_unpadded_predictions_agree_in_a_sequential_model():
    nf.random.set_seed(2)
    model = keras.Sequential([keras.Input((None,)), L.Embedding(10, 4, mask_zero=True),
                              L.LSTM(5), L.Dense(1)])
    short, padded = np.array([[3, 4, 5]]), np.array([[3, 4, 5, 0, 0]])
    np.testing.assert_allclose(model(padded).numpy(), model(short).numpy(), rtol=1e-5)


def test_a_layer_without_masking_support_drops_the_mask_with_a_warning():
    embedded = L.Embedding(10, 4, mask_zero=True)(np.array([[1, 2, 0]]))
    with pytest.warns(UserWarning, match="does not support masking"):
        flat = L.Flatten()(embedded)
    assert getattr(flat, "_keras_mask", None) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L.Dense(2)(embedded)  # Dense supports masking: no warning


def test_an_explicit_mask_wins_over_the_attached_one():
    x = L.Masking()(_sequences())
    rnn = L.GRU(3)
    everything = np.ones((2, 6), bool)
    np.testing.assert_allclose(rnn(x, mask=everything).numpy(),
                               rnn(nf.identity(x)).numpy(), rtol=1e-6)


def test_the_loss_leaves_masked_steps_out():
    """A sequence output carrying a mask: the loss averages the unmasked steps only (Keras's
    loss masking), in evaluate and in fit's compiled step."""
    nf.random.set_seed(3)
    model = keras.Sequential([keras.Input((None,)), L.Embedding(10, 4, mask_zero=True),
                              L.LSTM(5, return_sequences=True), L.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ids, labels = np.array([[3, 4, 5, 0, 0]]), np.array([[0, 2, 1, 2, 2]])
    padded = model.evaluate(ids, labels, verbose=0)
    short = model.evaluate(ids[:, :3], labels[:, :3], verbose=0)
    assert padded == pytest.approx(short, rel=1e-5)
    other = labels.copy()
    other[0, 3:] = 0  # the labels of masked steps do not matter
    assert model.evaluate(ids, other, verbose=0) == pytest.approx(padded, rel=1e-6)
    before = model.get_weights()
    model.fit(ids, labels, epochs=2, verbose=0)
    after_padded = model.get_weights()
    model.set_weights(before)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(ids[:, :3], labels[:, :3], epochs=2, verbose=0)
    for a, b in zip(after_padded, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
