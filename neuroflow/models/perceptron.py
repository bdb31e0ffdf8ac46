"""Rosenblatt's perceptron: a step activation and the perceptron learning rule.

The step function has a zero gradient almost everywhere, so gradient descent cannot train
it; the perceptron rule does instead: for each misclassified sample, w += lr * (y - y_hat) x.
It converges on linearly separable data (AND, OR) and never on XOR.
"""
from __future__ import annotations

import numpy as np

from neuroflow.core.op import convert_to_tensor
from neuroflow.ops import activations
from neuroflow.ops.linalg import matmul


class Perceptron:
    """A single-layer perceptron with 0/1 outputs.

    >>> p = nf.models.Perceptron().fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 0, 0, 1])
    >>> p.converged_, p.predict([[1, 1]])
    (True, array([1]))
    """

    def __init__(self, learning_rate: float = 1.0, max_epochs: int = 100, seed: int | None = 0):
        if learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate}")
        self.learning_rate = learning_rate
        self.max_epochs = int(max_epochs)
        self.seed = seed
        self.weights_ = None
        self.bias_ = None
        self.converged_ = False
        self.epochs_ = 0
        self.errors_ = []

    def _net(self, x):
        return matmul(convert_to_tensor(x), convert_to_tensor(self.weights_[:, None]))[:, 0] \
            + self.bias_

    def predict(self, x) -> np.ndarray:
        """0/1 predictions: step(x @ w + b)."""
        if self.weights_ is None:
            raise ValueError("This Perceptron is not fitted yet: call fit(x, y) first.")
        x = np.asarray(x, np.float32)
        return activations.step(self._net(x)).numpy().astype(np.int64)

    def fit(self, x, y) -> Perceptron:
        """Applies the perceptron rule, epoch by epoch, until an epoch makes no mistake."""
        x = np.asarray(x, np.float32)
        y = np.asarray(y).reshape(-1)
        if x.ndim != 2 or len(x) != len(y):
            raise ValueError(f"x must be (samples, features) and y (samples,); got x "
                             f"{x.shape} and y {y.shape}")
        if not np.isin(y, (0, 1)).all():
            raise ValueError("Perceptron labels must be 0 or 1")
        rng = np.random.default_rng(self.seed)
        self.weights_ = np.zeros(x.shape[1], np.float32)
        self.bias_ = np.float32(0.0)
        self.errors_ = []
        self.converged_ = False
        for epoch in range(1, self.max_epochs + 1):
            mistakes = 0
            for i in rng.permutation(len(x)):
                predicted = int(self.predict(x[i:i + 1])[0])
                update = self.learning_rate * (int(y[i]) - predicted)
                if update:
                    self.weights_ += update * x[i]
                    self.bias_ += np.float32(update)
                    mistakes += 1
            self.errors_.append(mistakes)
            self.epochs_ = epoch
            if mistakes == 0:
                self.converged_ = True
                break
        return self

    def score(self, x, y) -> float:
        return float(np.mean(self.predict(x) == np.asarray(y).reshape(-1)))
