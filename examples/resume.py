"""Training that survives being killed: run it, kill it (Ctrl-C, ``kill -9``, a power cut),
run it again, and it ends with the same weights, bit for bit, as a run never interrupted.

An MLP with dropout and Gaussian noise learns a generated classification task from shuffled
batches, with Adam under a decaying learning rate. ``BackupAndRestore`` backs up the whole
training state every few batches; a restarted run goes on at the next batch.

    python examples/resume.py --backup-dir /tmp/resume-demo      # kill it, run it again
    python examples/resume.py --backup-dir /tmp/resume-demo --progress

The last line printed is the sha256 of the final weights.
"""
from __future__ import annotations

import argparse
import hashlib
import os

import numpy as np

from neuroflow import keras


def make_data(n=200, features=8, classes=3, seed=0):
    """Points around ``classes`` random centres, labelled by their centre."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(classes, features))
    labels = rng.integers(0, classes, size=n)
    x = (centres[labels] + rng.normal(size=(n, features))).astype(np.float32)
    return x, labels.astype(np.int32)


def make_model(features=8, classes=3):
    schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=0.01, decay_steps=10, decay_rate=0.9)
    model = keras.Sequential([
        keras.Input(shape=(features,)),
        keras.layers.GaussianNoise(0.1),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(classes),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def weights_checksum(model) -> str:
    digest = hashlib.sha256()
    for array in model.get_weights():
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


class Progress(keras.callbacks.Callback):
    """Prints ``batch <epoch> <batch>`` after every batch (for a supervisor to follow); the
    first line shows where a restarted run went on."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        print(f"batch {self.epoch} {batch}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backup-dir", default=os.path.join("runs", "resume-backup"))
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--save-freq", type=int, default=3, help="batches between backups")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--progress", action="store_true", help="print a line per batch")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)  # Python, NumPy and neuroflow: initial weights
    x, y = make_data()
    model = make_model()
    callbacks = [keras.callbacks.TerminateOnNaN(),
                 keras.callbacks.BackupAndRestore(args.backup_dir, save_freq=args.save_freq)]
    if args.progress:
        callbacks.append(Progress())
    history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
                        callbacks=callbacks, verbose=0)
    if history.history:
        print(f"loss {history.history['loss'][-1]:.6f} "
              f"accuracy {history.history['accuracy'][-1]:.4f}")
    print(f"weights sha256 {weights_checksum(model)}", flush=True)


if __name__ == "__main__":
    main()
