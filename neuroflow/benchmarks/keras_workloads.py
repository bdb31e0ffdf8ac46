"""Keras-level workloads: one epoch of ``model.fit`` against a plain PyTorch training loop
over the same data, batches, initial weights and optimizer (Adam, Keras's epsilon).

A "step" is one epoch. Each side's step returns the epoch's mean training loss, and carries
a ``probe()`` that returns the current model's inference loss on the first batch (so tests
can check both sides start from the same function).

- ``keras_mlp``: the 784-256-256-10 MLP of the ``mlp`` workload, 2,048 random samples,
  batch 128.
- ``keras_cnn``: the CNN of the ``cnn`` workload, 1,024 random images, batch 64.
- ``fit_mnist``: the default ``neuroflow train`` CNN (``build_cnn``: RandomTranslation and
  RandomRotation augmentation, dropout 0.5) on the 4,000 MNIST training digits, batch 64,
  with the accuracy metric, as ``neuroflow train`` compiles it (no validation split and no
  callbacks: those are I/O, not the training loop). The PyTorch side runs the same layers;
  the augmentation is the same pair of bilinear resamplings (translation, then rotation, zero
  fill) done with ``affine_grid`` / ``grid_sample``.
"""
from __future__ import annotations

import math

import numpy as np

MLP_SAMPLES, MLP_BATCH = 2048, 128
CNN_SAMPLES, CNN_BATCH = 1024, 64
MNIST_BATCH = 64
TRANSLATION, ROTATION = 0.1, 0.04  # build_cnn's augmentation factors


# -- data and weights ----------------------------------------------------------------------


def mlp_data(samples=MLP_SAMPLES, seed=0):
    rng = np.random.default_rng(seed + 1)
    return (rng.standard_normal((samples, 784)).astype(np.float32),
            rng.integers(0, 10, samples).astype(np.int64))


def cnn_data(samples=CNN_SAMPLES, seed=0):
    rng = np.random.default_rng(seed + 1)
    return (rng.random((samples, 28, 28, 1)).astype(np.float32),
            rng.integers(0, 10, samples).astype(np.int64))


def mnist_data(samples=None):
    """The MNIST training digits as ``neuroflow train`` prepares them (float32 NHWC)."""
    from neuroflow.train import load_dataset
    (x, y), _ = load_dataset("mnist")
    if samples is not None:
        x, y = x[:samples], y[:samples]
    return x, y.astype(np.int64)


def _flat_weights(layers):
    return [a for pair in layers for a in pair]


# -- the Keras side (any Keras module: neuroflow.keras, or tf.keras for the TF column) -----


def _compile(model, keras, metrics=None):
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=metrics)
    return model


def keras_mlp_model(keras, seed=0):
    from neuroflow.benchmarks.workloads import _MLP, _mlp_weights
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(10)])
    model.set_weights(_flat_weights(_mlp_weights(_MLP, seed)))
    return _compile(model, keras)


def keras_cnn_model(keras, seed=0):
    from neuroflow.benchmarks.workloads import _cnn_weights
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)),
                              keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
                              keras.layers.MaxPooling2D(2),
                              keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
                              keras.layers.MaxPooling2D(2),
                              keras.layers.Flatten(),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10)])
    model.set_weights(_flat_weights(_cnn_weights(seed)))
    return _compile(model, keras)


def keras_fit_step(model, x, y, batch, shuffle=True):
    """One epoch of ``model.fit`` (verbose=0); returns its mean loss; ``.probe()`` attached."""
    def step():
        return model.fit(x, y, batch_size=batch, epochs=1, verbose=0,
                         shuffle=shuffle).history["loss"][-1]

    def probe():
        return model.evaluate(x[:batch], y[:batch], batch_size=batch, verbose=0,
                              return_dict=True)["loss"]
    step.probe = probe
    return step


def nf_keras_mlp(samples=MLP_SAMPLES, shuffle=True, seed=0):
    from neuroflow import keras
    x, y = mlp_data(samples, seed)
    return keras_fit_step(keras_mlp_model(keras, seed), x, y.astype(np.int32), MLP_BATCH,
                          shuffle)


def nf_keras_cnn(samples=CNN_SAMPLES, shuffle=True, seed=0):
    from neuroflow import keras
    x, y = cnn_data(samples, seed)
    return keras_fit_step(keras_cnn_model(keras, seed), x, y.astype(np.int32), CNN_BATCH,
                          shuffle)


def nf_fit_mnist(samples=None, regularize=True, shuffle=True, seed=0):
    """``regularize=False`` drops the augmentation and the dropout (for the equality tests)."""
    from neuroflow import keras
    from neuroflow.benchmarks.workloads import _cnn_weights
    from neuroflow.models.builders import build_cnn
    keras.utils.set_random_seed(seed)
    x, y = mnist_data(samples)
    model = build_cnn(x.shape[1:], 10, augment=regularize, dropout=0.5 if regularize else 0.0)
    model.set_weights(_flat_weights(_cnn_weights(seed)))  # the same start as the torch side
    _compile(model, keras, metrics=["accuracy"])
    return keras_fit_step(model, x, y.astype(np.int32), MNIST_BATCH, shuffle)


# -- the PyTorch side ----------------------------------------------------------------------


def torch_fit_step(model, x, y, batch, shuffle=True, augment=None, accuracy=False):
    """The plain PyTorch epoch: shuffle, slice batches, forward, backward, Adam; the loss
    (and accuracy, when the Keras side tracks it) read back each batch as Keras logs do."""
    import torch
    functional = torch.nn.functional
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)  # Keras's epsilon
    n = len(x)

    def step():
        model.train()
        order = torch.randperm(n) if shuffle else None
        total, correct, batches = 0.0, 0, 0
        for start in range(0, n, batch):
            if order is None:
                xb, yb = x[start:start + batch], y[start:start + batch]
            else:
                index = order[start:start + batch]
                xb, yb = x[index], y[index]
            if augment is not None:
                xb = augment(xb)
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = functional.cross_entropy(logits, yb)
            loss.backward()
            opt.step()
            total += loss.item()
            if accuracy:
                correct += int((logits.argmax(1) == yb).sum())
            batches += 1
        return total / batches

    def probe():
        model.train(False)  # inference mode
        with torch.no_grad():
            return float(functional.cross_entropy(model(x[:batch]), y[:batch]))
    step.probe = probe
    return step


def _torch_tensors(x, y, nchw):
    import torch
    if nchw:
        x = x.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)


def torch_keras_mlp(samples=MLP_SAMPLES, shuffle=True, seed=0):
    from neuroflow.benchmarks.workloads import _MLP, _torch_mlp_model
    x, y = _torch_tensors(*mlp_data(samples, seed), nchw=False)
    model = _torch_mlp_model(_MLP, seed)
    return torch_fit_step(model, x, y, MLP_BATCH, shuffle)


def torch_keras_cnn(samples=CNN_SAMPLES, shuffle=True, seed=0):
    import torch

    from neuroflow.benchmarks.workloads import _cnn_weights, _torch_cnn_layers
    x, y = _torch_tensors(*cnn_data(samples, seed), nchw=True)
    model = torch.nn.Sequential(*_torch_cnn_layers(_cnn_weights(seed)))
    return torch_fit_step(model, x, y, CNN_BATCH, shuffle)


def torch_affine(images, rows):
    """Resamples NCHW ``images`` with per-image pixel-space affine maps ``rows`` (n, 6):
    ``[a0, a1, a2, b0, b1, b2]`` map an output pixel (x, y) to the input point
    (a0 x + a1 y + a2, b0 x + b1 y + b2), as TensorFlow's projective transforms do; bilinear,
    zero outside the image."""
    import torch
    functional = torch.nn.functional
    _, _, height, width = images.shape
    # align_corners=True: normalised -1 and 1 are the centres of the first and last pixels
    sx, sy = 2.0 / (width - 1), 2.0 / (height - 1)
    a0, a1, a2, b0, b1, b2 = rows.unbind(1)
    theta = torch.stack([
        torch.stack([a0, a1 * (sx / sy), a0 + a1 * (sx / sy) + sx * a2 - 1], 1),
        torch.stack([b0 * (sy / sx), b1, b0 * (sy / sx) + b1 + sy * b2 - 1], 1)], 1)
    grid = functional.affine_grid(theta, list(images.shape), align_corners=True)
    return functional.grid_sample(images, grid, mode="bilinear", padding_mode="zeros",
                                  align_corners=True)


def torch_augment(images, shifts=None, angles=None):
    """build_cnn's RandomTranslation(0.1, 0.1) then RandomRotation(0.04), constant fill:
    ``shifts`` (n, 2) are (dy, dx) fractions of the height and width, ``angles`` (n,)
    radians; drawn uniformly when not given."""
    import torch
    n, _, height, width = images.shape
    if shifts is None:
        shifts = (torch.rand(n, 2) * 2 - 1) * TRANSLATION
    if angles is None:
        angles = (torch.rand(n) * 2 - 1) * (2 * math.pi * ROTATION)
    one, zero = torch.ones(n), torch.zeros(n)
    dy, dx = shifts[:, 0] * height, shifts[:, 1] * width
    images = torch_affine(images, torch.stack([one, zero, -dx, zero, one, -dy], 1))
    cos, sin = torch.cos(angles), torch.sin(angles)
    w1, h1 = width - 1.0, height - 1.0
    x_offset = (w1 - (cos * w1 - sin * h1)) * 0.5  # rotation about the image centre
    y_offset = (h1 - (sin * w1 + cos * h1)) * 0.5
    return torch_affine(images, torch.stack([cos, -sin, x_offset, sin, cos, y_offset], 1))


def torch_fit_mnist(samples=None, regularize=True, shuffle=True, seed=0):
    import torch

    from neuroflow.benchmarks.workloads import _cnn_weights, _torch_cnn_layers
    torch.manual_seed(seed)
    x, y = _torch_tensors(*mnist_data(samples), nchw=True)
    layers = _torch_cnn_layers(_cnn_weights(seed))
    if regularize:  # Flatten -> Dropout -> Dense, as build_cnn
        flatten = next(i for i, m in enumerate(layers) if isinstance(m, torch.nn.Flatten))
        layers.insert(flatten + 1, torch.nn.Dropout(0.5))
    model = torch.nn.Sequential(*layers)
    return torch_fit_step(model, x, y, MNIST_BATCH, shuffle,
                          augment=torch_augment if regularize else None, accuracy=True)


# -- the workloads -------------------------------------------------------------------------


def keras_mlp():
    return {"neuroflow": nf_keras_mlp, "pytorch": torch_keras_mlp}


def keras_cnn():
    return {"neuroflow": nf_keras_cnn, "pytorch": torch_keras_cnn}


def fit_mnist():
    return {"neuroflow": nf_fit_mnist, "pytorch": torch_fit_mnist}


def tf_keras_step(name, tf):
    """The TensorFlow column of the Keras workloads: the same Keras code, in ``tf.keras``."""
    model_fn, data_fn, batch = {"keras_mlp": (keras_mlp_model, mlp_data, MLP_BATCH),
                                "keras_cnn": (keras_cnn_model, cnn_data, CNN_BATCH)}[name]
    x, y = data_fn()
    return keras_fit_step(model_fn(tf.keras), x, y.astype(np.int32), batch)
