"""The same seed gives bit-identical weights after training, run after run: in one process
and in fresh interpreters (model.fit with shuffling, dropout and augmentation)."""
import hashlib
import os
import subprocess
import sys

import numpy as np

from neuroflow import keras

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def train_digest() -> str:
    """Trains a small seeded model; returns the sha256 of its weights."""
    keras.utils.set_random_seed(123)
    rng = np.random.default_rng(0)
    x = rng.random((96, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, 96)
    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.RandomTranslation(0.1, 0.1),
        keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.Flatten(),
        keras.layers.Dropout(0.3), keras.layers.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=2, shuffle=True, verbose=0)
    return hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()


def _fresh_digest():
    code = "from tests.reliability.test_determinism import train_digest; print(train_digest())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300, cwd=ROOT)
    return out.stdout.strip().splitlines()[-1]


def test_same_seed_same_weights_across_interpreters():
    first, second = _fresh_digest(), _fresh_digest()
    assert len(first) == 64 and first == second


def test_same_seed_same_weights_in_one_process():
    assert train_digest() == train_digest()
