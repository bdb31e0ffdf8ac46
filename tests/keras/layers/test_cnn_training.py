"""A tiny CNN learns with model.fit: is the bright square in the left or the right half?"""
import numpy as np

import neuroflow as nf
from neuroflow import keras

L = keras.layers


def _squares(n, rng, size=12, side=3):
    """Noisy images (std 0.5) with one ``side`` x ``side`` square 1.0 brighter; label 1 when
    it lies in the right half. Positions are drawn so the square never straddles the
    middle."""
    images = rng.normal(0.0, 0.5, (n, size, size, 1)).astype(np.float32)
    labels = rng.integers(0, 2, n)
    rows = rng.integers(0, size - side + 1, n)
    cols = rng.integers(0, size // 2 - side + 1, n) + labels * (size // 2)
    for image, r, c in zip(images, rows, cols):
        image[r:r + side, c:c + side, 0] += 1.0
    return images, labels.astype(np.int32)


def test_tiny_cnn_learns_left_or_right():
    rng = np.random.default_rng(0)
    x_train, y_train = _squares(256, rng)
    x_test, y_test = _squares(128, rng)
    nf.random.set_seed(0)
    model = keras.Sequential([
        keras.Input((12, 12, 1)),
        L.Conv2D(4, 3, activation="relu"),
        L.MaxPooling2D(),
        L.Flatten(),
        L.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=10, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    # seed 0 reaches 0.99 on the held-out images (seeds 0-3 all reach at least 0.96)
    assert accuracy >= 0.95, f"held-out accuracy {accuracy:.3f} after 10 epochs"
