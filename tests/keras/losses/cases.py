"""The loss test table: each Keras loss with sample inputs and a reference (torch or NumPy)
for its per-sample values."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from neuroflow import keras

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the references that need torch skip without it
    torch = F = None

EPS = 1e-7
N, C = 4, 3


@dataclasses.dataclass
class LossCase:
    id: str
    cls: type
    fn: Callable
    names: tuple           # string identifiers that must give this class
    make: Callable         # rng -> (y_true, y_pred), float64
    ref: Callable          # (y_true, y_pred) -> per-sample losses
    kwargs: dict = dataclasses.field(default_factory=dict)
    needs_torch: bool = False

    def __str__(self):
        return self.id


def _t(x):
    return torch.tensor(np.asarray(x, dtype=np.float64))


def _regression(rng):
    return rng.uniform(-2, 2, (N, C)), rng.uniform(-2, 2, (N, C))


def _positive(rng):
    return rng.uniform(0.2, 2, (N, C)), rng.uniform(0.2, 2, (N, C))


def _binary_probs(rng):
    return rng.integers(0, 2, (N, C)).astype(np.float64), rng.uniform(0.05, 0.95, (N, C))


def _binary_logits(rng):
    return rng.integers(0, 2, (N, C)).astype(np.float64), rng.uniform(-3, 3, (N, C))


def _one_hot(rng):
    return np.eye(C)[rng.integers(0, C, N)]


def _categorical_probs(rng):
    p = rng.uniform(0.1, 1.0, (N, C))
    return _one_hot(rng), p / p.sum(-1, keepdims=True)


def _categorical_logits(rng):
    return _one_hot(rng), rng.uniform(-3, 3, (N, C))


def _sparse_logits(rng):
    return rng.integers(0, C, N).astype(np.int64), rng.uniform(-3, 3, (N, C))


def _sparse_probs(rng):
    p = rng.uniform(0.1, 1.0, (N, C))
    return rng.integers(0, C, N).astype(np.int64), p / p.sum(-1, keepdims=True)


def _distributions(rng):
    a, b = rng.uniform(0.1, 1.0, (N, C)), rng.uniform(0.1, 1.0, (N, C))
    return a / a.sum(-1, keepdims=True), b / b.sum(-1, keepdims=True)


def _signed(rng):
    return rng.choice([-1.0, 1.0], (N, C)), rng.uniform(-2, 2, (N, C))


def _hinge_ref(t, p):
    return np.maximum(1 - t * p, 0).mean(-1)


def _smoothed(t, amount, classes):
    return t * (1 - amount) + amount / classes


CASES = [
    LossCase("mse", keras.losses.MeanSquaredError, keras.losses.mean_squared_error,
             ("mse", "MSE", "mean_squared_error", "MeanSquaredError"), _regression,
             lambda t, p: F.mse_loss(_t(p), _t(t), reduction="none").mean(-1).numpy(),
             needs_torch=True),
    LossCase("mae", keras.losses.MeanAbsoluteError, keras.losses.mean_absolute_error,
             ("mae", "mean_absolute_error"), _regression,
             lambda t, p: F.l1_loss(_t(p), _t(t), reduction="none").mean(-1).numpy(),
             needs_torch=True),
    LossCase("mape", keras.losses.MeanAbsolutePercentageError,
             keras.losses.mean_absolute_percentage_error,
             ("mape", "mean_absolute_percentage_error"), _positive,
             lambda t, p: 100 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), EPS)), -1)),
    LossCase("msle", keras.losses.MeanSquaredLogarithmicError,
             keras.losses.mean_squared_logarithmic_error,
             ("msle", "mean_squared_logarithmic_error"), _positive,
             lambda t, p: np.mean((np.log1p(p) - np.log1p(t)) ** 2, -1)),
    LossCase("huber", keras.losses.Huber, keras.losses.huber, ("huber", "huber_loss"),
             _regression,
             lambda t, p: F.huber_loss(_t(p), _t(t), delta=1.5,
                                       reduction="none").mean(-1).numpy(),
             kwargs={"delta": 1.5}, needs_torch=True),
    LossCase("log_cosh", keras.losses.LogCosh, keras.losses.log_cosh, ("log_cosh", "logcosh"),
             _regression, lambda t, p: np.mean(np.log(np.cosh(p - t)), -1)),
    LossCase("cosine_similarity", keras.losses.CosineSimilarity,
             keras.losses.cosine_similarity, ("cosine_similarity",), _regression,
             lambda t, p: -F.cosine_similarity(_t(t), _t(p), dim=-1).numpy(),
             needs_torch=True),
    LossCase("bce", keras.losses.BinaryCrossentropy, keras.losses.binary_crossentropy,
             ("bce", "binary_crossentropy"), _binary_probs,
             lambda t, p: F.binary_cross_entropy(_t(p), _t(t),
                                                 reduction="none").mean(-1).numpy(),
             needs_torch=True),
    LossCase("bce_logits_smoothing", keras.losses.BinaryCrossentropy,
             keras.losses.binary_crossentropy, (), _binary_logits,
             lambda t, p: F.binary_cross_entropy_with_logits(
                 _t(p), _t(t * 0.8 + 0.1), reduction="none").mean(-1).numpy(),
             kwargs={"from_logits": True, "label_smoothing": 0.2}, needs_torch=True),
    LossCase("cce", keras.losses.CategoricalCrossentropy,
             keras.losses.categorical_crossentropy, ("categorical_crossentropy",),
             _categorical_probs,
             lambda t, p: F.cross_entropy(torch.log(_t(p)), _t(t),
                                          reduction="none").numpy(),
             needs_torch=True),
    LossCase("cce_logits_smoothing", keras.losses.CategoricalCrossentropy,
             keras.losses.categorical_crossentropy, (), _categorical_logits,
             lambda t, p: F.cross_entropy(_t(p), torch.tensor(t.argmax(-1)),
                                          label_smoothing=0.1, reduction="none").numpy(),
             kwargs={"from_logits": True, "label_smoothing": 0.1}, needs_torch=True),
    LossCase("scce", keras.losses.SparseCategoricalCrossentropy,
             keras.losses.sparse_categorical_crossentropy,
             ("sparse_categorical_crossentropy",), _sparse_probs,
             lambda t, p: -np.log(p[np.arange(N), t])),
    LossCase("scce_logits", keras.losses.SparseCategoricalCrossentropy,
             keras.losses.sparse_categorical_crossentropy, (), _sparse_logits,
             lambda t, p: F.cross_entropy(_t(p), torch.tensor(t), reduction="none").numpy(),
             kwargs={"from_logits": True}, needs_torch=True),
    LossCase("kld", keras.losses.KLDivergence, keras.losses.kl_divergence,
             ("kld", "KLD", "kl_divergence", "kullback_leibler_divergence"), _distributions,
             lambda t, p: F.kl_div(torch.log(_t(p)), _t(t), reduction="none").sum(-1).numpy(),
             needs_torch=True),
    LossCase("poisson", keras.losses.Poisson, keras.losses.poisson, ("poisson",), _positive,
             lambda t, p: F.poisson_nll_loss(_t(p), _t(t), log_input=False, eps=EPS,
                                             reduction="none").mean(-1).numpy(),
             needs_torch=True),
    LossCase("hinge", keras.losses.Hinge, keras.losses.hinge, ("hinge",), _signed, _hinge_ref),
    LossCase("hinge_01_labels", keras.losses.Hinge, keras.losses.hinge, (), _binary_logits,
             lambda t, p: _hinge_ref(2 * t - 1, p)),
    LossCase("squared_hinge", keras.losses.SquaredHinge, keras.losses.squared_hinge,
             ("squared_hinge",), _signed,
             lambda t, p: np.mean(np.maximum(1 - t * p, 0) ** 2, -1)),
    LossCase("categorical_hinge", keras.losses.CategoricalHinge,
             keras.losses.categorical_hinge, ("categorical_hinge",), _categorical_logits,
             lambda t, p: np.maximum(np.max((1 - t) * p, -1) - np.sum(t * p, -1) + 1, 0)),
]


def sample(case, seed=0):
    y_true, y_pred = case.make(np.random.default_rng(seed))
    return y_true, y_pred
