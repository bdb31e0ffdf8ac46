"""Embedding (neuroflow/keras/layers/core.py) with the recurrent layers: the lookup is a
gather, ``mask_zero``'s mask fed to an RNN by hand (layers do not propagate masks yet) makes
its output independent of the padding, and an Embedding + LSTM model learns.

The layer's own checks (config, save, values, gradient, errors) are in test_core.py."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras

L = keras.layers


def test_lookup_is_a_gather_and_input_length_is_ignored():
    layer = L.Embedding(7, 3, input_length=4)  # Keras 2's argument: accepted, unused
    ids = np.array([[1, 6, 0, 2], [3, 3, 5, 4]])
    out = layer(ids)
    np.testing.assert_array_equal(out.numpy(), nf.gather(layer.embeddings, ids).numpy())
    assert out.shape == (2, 4, 3)
    assert "input_length" not in layer.get_config()
    assert layer.compute_mask(ids) is None


class _MaskedClassifier(keras.Model):
    """Embedding -> RNN -> Dense, passing the embedding's mask to the RNN explicitly."""

    def __init__(self, rnn, vocabulary=10):
        super().__init__()
        self.embedding = L.Embedding(vocabulary, 8, mask_zero=True)
        self.rnn = rnn
        self.head = L.Dense(1, activation="sigmoid")

    def call(self, ids, training=None):
        mask = self.embedding.compute_mask(ids)
        return self.head(self.rnn(self.embedding(ids), mask=mask, training=training))


@pytest.mark.parametrize("make_rnn", [lambda: L.LSTM(4), lambda: L.GRU(4, go_backwards=True),
                                      lambda: L.Bidirectional(L.SimpleRNN(3))],
                         ids=["lstm", "gru_backwards", "bidirectional"])
def test_mask_zero_makes_the_padding_invisible(make_rnn):
    model = _MaskedClassifier(make_rnn())
    short = np.array([[4, 2, 7]])
    padded = np.array([[4, 2, 7, 0, 0, 0]])
    expected = model(short).numpy()
    np.testing.assert_allclose(model(padded).numpy(), expected, rtol=1e-5, atol=1e-6)
    mask = model.embedding.compute_mask(nf.constant(padded))
    np.testing.assert_array_equal(mask.numpy(), [[True] * 3 + [False] * 3])
    # the mask travels with the embedding's output to the next layer (Keras's propagation);
    # without it (nf.identity makes a tensor without one) the padding changes the result
    embedded = model.embedding(padded)
    np.testing.assert_array_equal(embedded._keras_mask.numpy(), mask.numpy())
    np.testing.assert_allclose(model.head(model.rnn(embedded)).numpy(), expected, rtol=1e-5,
                               atol=1e-6)
    unmasked = model.head(model.rnn(nf.identity(embedded))).numpy()
    assert not np.allclose(unmasked, expected, atol=1e-4)


def test_embedding_lstm_learns_with_padded_sequences():
    """Label: does token 1 occur in a sequence of 2 to 8 tokens, zero-padded to 8."""
    rng = np.random.default_rng(0)
    n, steps = 640, 8
    ids = rng.integers(2, 10, (n, steps))
    lengths = rng.integers(2, steps + 1, n)
    for row in np.flatnonzero(rng.random(n) < 0.5):
        ids[row, rng.integers(0, lengths[row])] = 1
    ids[np.arange(steps)[None, :] >= lengths[:, None]] = 0
    labels = (ids == 1).any(axis=1).astype("float32")[:, None]
    nf.random.set_seed(0)
    model = _MaskedClassifier(L.LSTM(8))
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(ids[:512], labels[:512], epochs=8, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(ids[512:], labels[512:], verbose=0)
    assert accuracy >= 0.9
