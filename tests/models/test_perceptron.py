"""The perceptron learns AND and OR with its rule, never XOR; a 2-layer MLP learns XOR."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from neuroflow.models import Perceptron

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)


@pytest.mark.parametrize("name,labels", [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1])])
def test_perceptron_converges_on_separable_functions(name, labels):
    p = Perceptron(seed=0).fit(X, labels)
    assert p.converged_ and p.epochs_ < 20
    np.testing.assert_array_equal(p.predict(X), labels)
    assert p.errors_[-1] == 0


def test_perceptron_never_solves_xor():
    p = Perceptron(max_epochs=200, seed=0).fit(X, [0, 1, 1, 0])
    assert not p.converged_ and p.epochs_ == 200
    assert p.score(X, [0, 1, 1, 0]) <= 0.75  # no line separates XOR
    assert min(p.errors_) > 0


def test_two_layer_mlp_learns_xor():
    keras.utils.set_random_seed(1) if hasattr(keras, "utils") else nf.random.set_seed(1)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    model.fit(X, np.array([0, 1, 1, 0], np.float32), epochs=300, batch_size=4, verbose=0)
    predicted = (model.predict(X, verbose=0)[:, 0] > 0.5).astype(int)
    np.testing.assert_array_equal(predicted, [0, 1, 1, 0])


def test_step_activation_has_zero_gradient():
    x = nf.Variable([-1.0, 0.5, 2.0])
    with nf.GradientTape() as tape:
        y = nf.reduce_sum(nf.nn.step(x))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.0, 0.0, 0.0])


def test_perceptron_input_errors():
    with pytest.raises(ValueError, match="labels"):
        Perceptron().fit(X, [0, 1, 2, 0])
    with pytest.raises(ValueError, match="not fitted"):
        Perceptron().predict(X)
