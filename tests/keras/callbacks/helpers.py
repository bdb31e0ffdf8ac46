"""Small models and data for the callback tests: every test runs a real ``model.fit``."""
import numpy as np

import neuroflow as nf
from neuroflow import keras


def regression_data(n=32, features=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)[:features] + 0.3).astype(np.float32)
    return x, y


def dense_model(features=3, units=1, optimizer=None, seed=0, metrics=None):
    """A built, compiled ``Input -> Dense(4, relu) -> Dense(units)`` regression model."""
    nf.random.set_seed(seed)
    model = keras.Sequential([keras.Input(shape=(features,)),
                              keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(units)])
    model.compile(optimizer=optimizer or keras.optimizers.SGD(learning_rate=0.05), loss="mse",
                  metrics=metrics)
    return model


def set_logs(key, values):
    """A callback that overwrites ``logs[key]`` with ``values[epoch]`` at each epoch end (put
    it before the callback under test): a loss curve made to order."""
    def on_epoch_end(epoch, logs):
        logs[key] = float(values[epoch])
    return keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)


def weights_by_epoch(store):
    """A callback that appends the model's weights to ``store`` at each epoch end."""
    callback = keras.callbacks.LambdaCallback()
    callback.on_epoch_end = lambda epoch, logs: store.append(callback.model.get_weights())
    return callback
