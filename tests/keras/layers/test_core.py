"""Core layers (neuroflow/keras/layers/core.py): Identity, Embedding, Flatten, Reshape, Permute,
RepeatVector -- the one-call layer check, values against NumPy, symbolic shapes with an
unknown batch, gradients, argument errors."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.layer_helper import check_layer
from tests.keras.layers.helpers_core import SAVE

L = keras.layers


LAYER_CASES = [
    (L.Identity, {}, (2, 3), (2, 3), 0),
    (L.Flatten, {}, (2, 3, 4), (2, 12), 0),
    (L.Flatten, {}, (2, 3), (2, 3), 0),
    (L.Flatten, {"data_format": "channels_first"}, (2, 3, 2, 2), (2, 12), 0),
    (L.Reshape, {"target_shape": (4, 3)}, (2, 12), (2, 4, 3), 0),
    (L.Reshape, {"target_shape": (-1, 2)}, (2, 3, 4), (2, 6, 2), 0),
    (L.Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3), 0),
    (L.Permute, {"dims": (3, 1, 2)}, (2, 3, 4, 5), (2, 5, 3, 4), 0),
    (L.RepeatVector, {"n": 3}, (2, 4), (2, 3, 4), 0),
]


@pytest.mark.parametrize("cls, kwargs, input_shape, expected, n_weights", LAYER_CASES,
                         ids=lambda v: getattr(v, "__name__", None))
def test_layer_check(tmp_path, cls, kwargs, input_shape, expected, n_weights):
    check_layer(cls, kwargs, input_shape=input_shape, expected_output_shape=expected,
                expected_num_weights=n_weights, save=SAVE, tmp_path=tmp_path)


def test_embedding_layer_check(tmp_path):
    out = check_layer(L.Embedding, {"input_dim": 5, "output_dim": 3}, input_shape=(2, 4),
                      input_dtype="int32", expected_output_shape=(2, 4, 3),
                      expected_num_weights=1, save=SAVE, tmp_path=tmp_path)
    assert out.dtype == nf.float32


def test_embedding_values_and_default_initializer():
    nf.random.set_seed(0)
    layer = L.Embedding(6, 4)
    ids = np.array([[0, 5, 2], [2, 2, 1]])
    out = layer(ids).numpy()
    table = layer.embeddings.numpy()
    np.testing.assert_array_equal(out, table[ids])
    # Keras's "uniform" default is RandomUniform(-0.05, 0.05)
    assert np.abs(table).max() <= 0.05 and table.std() > 0.01
    config = layer.get_config()
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert config["mask_zero"] is False and config["input_dim"] == 6


def test_embedding_gradient_accumulates_repeated_ids():
    layer = L.Embedding(4, 2, embeddings_initializer="ones")
    ids = nf.constant([[1, 1, 3]])
    with nf.GradientTape() as tape:
        loss = nf.reduce_sum(layer(ids) * nf.constant([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]))
    grad = tape.gradient(loss, layer.embeddings)
    grad = grad.numpy() if hasattr(grad, "numpy") else np.asarray(grad)
    np.testing.assert_allclose(grad, [[0, 0], [4, 6], [0, 0], [5, 6]])


def test_embedding_float_ids_are_cast_and_weights_argument():
    table = np.arange(12, dtype="float32").reshape(4, 3)
    layer = L.Embedding(4, 3, weights=[table], trainable=False)
    assert layer.built and not layer.trainable_weights
    np.testing.assert_array_equal(layer(np.array([[3.0, 0.0]], "float32")).numpy(),
                                  table[[[3, 0]]])


def test_embedding_mask_zero_and_regularizer():
    layer = L.Embedding(5, 2, mask_zero=True, embeddings_regularizer=keras.regularizers.L2(0.5))
    ids = nf.constant([[0, 3, 0]])
    layer(ids)
    np.testing.assert_array_equal(layer.compute_mask(ids).numpy(), [[False, True, False]])
    assert len(layer.losses) == 1
    expected = 0.5 * np.sum(layer.embeddings.numpy() ** 2)
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)


def test_embedding_errors():
    with pytest.raises(ValueError, match="input_dim"):
        L.Embedding(0, 3)
    layer = L.Embedding(3, 2)
    with pytest.raises(Exception, match=r"indices.*not in \[0, 3\)"):
        layer(nf.constant([[1, 7]]))


def test_embedding_in_a_trained_model():
    nf.random.set_seed(1)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 10, (64, 5))
    labels = (ids.sum(axis=1) > 22).astype("float32")[:, None]
    model = keras.Sequential([keras.Input((5,), dtype="int32"), L.Embedding(10, 8),
                              L.Flatten(), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    history = model.fit(ids, labels, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_flatten_values_channels_first_order():
    x = np.arange(2 * 3 * 2 * 2, dtype="float32").reshape(2, 3, 2, 2)
    last = L.Flatten()(x).numpy()
    first = L.Flatten(data_format="channels_first")(x).numpy()
    np.testing.assert_array_equal(last, x.reshape(2, -1))
    np.testing.assert_array_equal(first, x.transpose(0, 2, 3, 1).reshape(2, -1))


def test_shape_layers_on_unknown_batch_in_a_trace():
    """Inside nf.function with a [None, ...] signature the batch is dynamic."""
    layers = [L.Flatten(), L.Reshape((-1, 3)), L.Permute((2, 1)), L.RepeatVector(2)]

    @nf.function(input_signature=[nf.TensorSpec([None, 2, 3])])
    def run(x):
        a = layers[0](x)
        return a, layers[1](a), layers[2](x), layers[3](a)

    x = np.arange(12, dtype="float32").reshape(2, 2, 3)
    a, b, c, d = run(nf.constant(x))
    np.testing.assert_array_equal(a.numpy(), x.reshape(2, 6))
    np.testing.assert_array_equal(b.numpy(), x.reshape(2, 2, 3))
    np.testing.assert_array_equal(c.numpy(), x.transpose(0, 2, 1))
    np.testing.assert_array_equal(d.numpy(), np.repeat(x.reshape(2, 1, 6), 2, axis=1))
    a3 = run(nf.constant(np.ones((3, 2, 3), "float32")))[0]  # same trace, another batch size
    assert tuple(a3.shape) == (3, 6) and run.experimental_get_tracing_count() == 1


def test_symbolic_shapes():
    inputs = keras.Input((4, 6))
    assert tuple(L.Flatten()(inputs).shape) == (None, 24)
    assert tuple(L.Reshape((3, -1))(inputs).shape) == (None, 3, 8)
    assert tuple(L.Permute((2, 1))(inputs).shape) == (None, 6, 4)
    assert L.Reshape((3, -1)).compute_output_shape((None, 4, 6)) == (None, 3, 8)
    ragged = keras.Input((None, 6))
    assert tuple(L.Flatten()(ragged).shape) == (None, None)
    assert tuple(L.Reshape((-1, 3))(ragged).shape) == (None, None, 3)


def test_reshape_errors():
    with pytest.raises(ValueError, match="at most one unknown dimension"):
        L.Reshape((-1, -1))
    with pytest.raises(ValueError, match="positive integers"):
        L.Reshape((0, 2))
    with pytest.raises(ValueError, match=r"total size.*input_shape=\(5,\).*target_shape=\(2, -1\)"):
        L.Reshape((2, -1))(nf.zeros([3, 5]))
    with pytest.raises(ValueError, match="total size"):
        L.Reshape((4, 2))(keras.Input((6,)))


def test_permute_and_repeat_vector_errors():
    with pytest.raises(ValueError, match="consecutive and start from 1"):
        L.Permute((0, 1))
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=2"):
        L.Permute((2, 1))(nf.zeros([2, 3]))
    with pytest.raises(ValueError, match=r"repeat_vector.*expected ndim=2, found ndim=3"):
        L.RepeatVector(2)(nf.zeros([2, 3, 4]))
    with pytest.raises(TypeError, match="integer value for `n`"):
        L.RepeatVector(2.5)


def test_flatten_data_format_error():
    with pytest.raises(ValueError, match="data_format"):
        L.Flatten(data_format="channels_middle")
