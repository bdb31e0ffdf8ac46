"""model.fit / evaluate / predict on nf.data datasets."""
import numpy as np

import neuroflow as nf
from neuroflow import keras

Dataset = nf.data.Dataset


def blobs(n=256, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 3, n)
    centers = np.array([[2.0, 0.0], [-2.0, 2.0], [0.0, -2.5]], np.float32)
    x = (centers[y] + rng.normal(0, 0.5, (n, 2))).astype(np.float32)
    return x, y.astype(np.int32)


def classifier():
    nf.random.set_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_on_a_shuffled_batched_prefetched_dataset_learns():
    x, y = blobs()
    train = (Dataset.from_tensor_slices((x, y)).shuffle(256, seed=1).batch(32)
             .prefetch(nf.data.AUTOTUNE))
    model = classifier()
    history = model.fit(train, epochs=8, verbose=0)
    assert len(history.history["loss"]) == 8
    assert history.history["loss"][-1] < history.history["loss"][0]
    x_test, y_test = blobs(128, seed=1)
    test = Dataset.from_tensor_slices((x_test, y_test)).batch(64)
    loss, accuracy = model.evaluate(test, verbose=0)
    assert accuracy > 0.9
    predictions = model.predict(Dataset.from_tensor_slices(x_test).batch(50), verbose=0)
    assert predictions.shape == (128, 3)
    assert np.mean(predictions.argmax(1) == y_test) > 0.9


def test_fit_on_a_repeated_mapped_dataset_with_steps_per_epoch():
    x, y = blobs()
    seen = []

    def scale(features, label):
        seen.append(1)
        return features * 1.0, label
    train = Dataset.from_tensor_slices((x, y)).map(scale).batch(32).repeat()
    model = classifier()
    history = model.fit(train, epochs=3, steps_per_epoch=4, verbose=0,
                        validation_data=Dataset.from_tensor_slices((x, y)).batch(128))
    assert len(history.history["val_accuracy"]) == 3
    # each epoch draws 4 batches of 32 (a step ahead at most)
    assert 3 * 4 * 32 <= len(seen) <= 3 * 5 * 32
