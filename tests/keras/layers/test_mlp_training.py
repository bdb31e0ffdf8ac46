"""Training test: a small MLP with Dropout learns a separable problem with model.fit."""
import numpy as np

import neuroflow as nf
from neuroflow import keras

L = keras.layers


def _rings(n, rng):
    """Two concentric rings (radius < 1 and 1.5 to 2.5): separable, but not by a line."""
    inner = rng.uniform(0.0, 1.0, n // 2)
    outer = rng.uniform(1.5, 2.5, n - n // 2)
    radius = np.concatenate([inner, outer])
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).astype("float32")
    y = (radius > 1.25).astype("int32")
    order = rng.permutation(n)
    return x[order], y[order]


def test_mlp_with_dropout_learns_rings():
    keras_seed = 1234
    nf.random.set_seed(keras_seed)
    rng = np.random.default_rng(keras_seed)
    x_train, y_train = _rings(512, rng)
    x_test, y_test = _rings(256, rng)
    model = keras.Sequential([
        keras.Input((2,)),
        L.Dense(32, activation="relu"),
        L.Dropout(0.2, seed=1),
        L.Dense(32, activation="relu"),
        L.Dropout(0.2, seed=2),
        L.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=30, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.97, f"test accuracy {accuracy:.3f} (loss {loss:.3f})"
    assert history.history["loss"][-1] < 0.25 * history.history["loss"][0]

    # Dropout is on in fit and off in evaluate/predict: predictions are deterministic
    first = model.predict(x_test, verbose=0)
    np.testing.assert_array_equal(first, model.predict(x_test, verbose=0))
    train_mode = model(x_test, training=True).numpy()
    assert not np.allclose(train_mode, first)
