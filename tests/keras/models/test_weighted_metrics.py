"""As in Keras 3: sample weights weight `weighted_metrics`, not `metrics`."""
import numpy as np

from neuroflow import keras


def test_sample_weights_apply_to_weighted_metrics_only():
    x = np.array([[1.0], [2.0], [3.0], [4.0]], np.float32)
    y = np.array([[0.0], [0.0], [0.0], [0.0]], np.float32)
    weights = np.array([1.0, 0.0, 0.0, 0.0], np.float32)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(
        1, kernel_initializer="ones", bias_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"],
                  weighted_metrics=["mae"])
    logs = model.evaluate(x, y, sample_weight=weights, return_dict=True, verbose=0)
    assert np.isclose(logs["mae"], 2.5)            # unweighted mean of |1|,|2|,|3|,|4|
    assert np.isclose(logs["weighted_mae"], 1.0)   # only the first sample counts
