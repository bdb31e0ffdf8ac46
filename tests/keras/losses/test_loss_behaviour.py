"""What the loss table cannot express: stability at huge logits, label errors, ignore_class,
shape handling, names and errors, custom losses, losses in compile/fit."""
from __future__ import annotations

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from neuroflow.core import errors
from tests.keras.losses.cases import F, torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is the reference here")


def _value_and_grad(loss, y_true, y_pred):
    x = nf.constant(y_pred)
    with nf.GradientTape() as tape:
        tape.watch(x)
        out = loss(y_true, x)
    return out.numpy(), tape.gradient(out, x).numpy()


@needs_torch
def test_from_logits_losses_are_stable_at_logits_1e4():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], np.float32)
    one_hot = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    labels = np.array([1, 1])
    binary = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]], np.float32)
    checks = [
        (keras.losses.CategoricalCrossentropy(from_logits=True), one_hot,
         lambda p: F.cross_entropy(p, torch.tensor(one_hot))),
        (keras.losses.SparseCategoricalCrossentropy(from_logits=True), labels,
         lambda p: F.cross_entropy(p, torch.tensor(labels))),
        (keras.losses.BinaryCrossentropy(from_logits=True), binary,
         lambda p: F.binary_cross_entropy_with_logits(p, torch.tensor(binary))),
    ]
    for loss, y_true, reference in checks:
        value, grad = _value_and_grad(loss, y_true, logits)
        p = torch.tensor(logits, requires_grad=True)
        want = reference(p)
        want.backward()
        assert np.isfinite(value) and np.all(np.isfinite(grad)), loss.name
        np.testing.assert_allclose(value, want.item(), rtol=1e-5)
        np.testing.assert_allclose(grad, p.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_probability_losses_are_finite_at_exact_zero_and_one():
    y_pred = np.array([[0.0, 1.0, 0.0]], np.float32)
    for loss, y_true in [(keras.losses.BinaryCrossentropy(), [[1.0, 0.0, 0.0]]),
                         (keras.losses.CategoricalCrossentropy(), [[1.0, 0.0, 0.0]]),
                         (keras.losses.SparseCategoricalCrossentropy(), [0]),
                         (keras.losses.KLDivergence(), [[1.0, 0.0, 0.0]]),
                         (keras.losses.Poisson(), [[1.0, 0.0, 0.0]])]:
        value, grad = _value_and_grad(loss, np.asarray(y_true, np.float32), y_pred)
        assert np.isfinite(value) and np.all(np.isfinite(grad)), loss.name
    # clipped at epsilon = 1e-7: -log(1e-7) for the missed class
    value = keras.losses.CategoricalCrossentropy()([[1.0, 0.0, 0.0]], y_pred).numpy()
    np.testing.assert_allclose(value, -np.log(1e-7), rtol=1e-4)


def test_log_cosh_is_finite_for_huge_errors():
    value, grad = _value_and_grad(keras.losses.LogCosh(), np.zeros((1, 2), np.float32),
                                  np.array([[1e4, -1e4]], np.float32))
    np.testing.assert_allclose(value, 1e4 - np.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(grad, [[0.5, -0.5]], rtol=1e-6)


@pytest.mark.parametrize("from_logits", [True, False])
def test_out_of_range_sparse_label_names_label_and_class_count(from_logits):
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    with pytest.raises(errors.InvalidArgumentError, match=r"label value of 7.*3 classes"):
        loss(np.array([0, 7]), np.full((2, 3), 1 / 3, np.float32))
    with pytest.raises(errors.InvalidArgumentError, match=r"label value of -1"):
        loss(np.array([-1, 0]), np.full((2, 3), 1 / 3, np.float32))


def test_out_of_range_sparse_label_surfaces_from_compiled_fit():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.zeros((6, 4), np.float32)
    y = np.array([0, 1, 2, 9, 0, 1])
    with pytest.raises(errors.InvalidArgumentError, match=r"label value of 9.*3 classes"):
        model.fit(x, y, epochs=1, batch_size=6, verbose=0)


@needs_torch
@pytest.mark.parametrize("ignore_class", [-1, 2])
def test_ignore_class_averages_over_valid_entries_only(ignore_class):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4))
    labels = np.array([0, ignore_class, 3, 1, ignore_class, 2 if ignore_class != 2 else 0])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                      ignore_class=ignore_class)
    want = F.cross_entropy(torch.tensor(logits), torch.tensor(labels),
                           ignore_index=ignore_class).item()
    np.testing.assert_allclose(loss(labels, logits).numpy(), want, rtol=1e-6)
    per_entry = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=ignore_class, reduction="none")(labels, logits).numpy()
    assert np.all(per_entry[labels == ignore_class] == 0)
    summed = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=ignore_class, reduction="sum")(labels, logits).numpy()
    np.testing.assert_allclose(summed, want * np.sum(labels != ignore_class), rtol=1e-6)


def test_ignore_class_with_every_entry_ignored_is_zero_not_nan():
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    assert float(loss(np.array([-1, -1]), np.zeros((2, 3), np.float32))) == 0.0


def test_sparse_labels_of_shape_batch_by_one():
    logits = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 1, 0])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(loss(labels[:, None], logits).numpy(),
                               loss(labels, logits).numpy())


def test_sequence_losses_take_per_sample_weights():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(2, 3, 4))
    labels = rng.integers(0, 4, (2, 3))
    weight = np.array([1.0, 3.0])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    per_step = loss(labels, logits).numpy()
    assert per_step.shape == (2, 3)
    np.testing.assert_allclose(loss(labels, logits, sample_weight=weight).numpy(),
                               per_step * weight[:, None])
    temporal = rng.uniform(size=(2, 3))
    np.testing.assert_allclose(loss(labels, logits, sample_weight=temporal).numpy(),
                               per_step * temporal)


def test_rank_one_labels_with_column_predictions_do_not_broadcast():
    y_true = np.array([1.0, 2.0, 3.0])
    y_pred = np.array([[1.0], [2.0], [5.0]])
    np.testing.assert_allclose(keras.losses.MeanSquaredError()(y_true, y_pred).numpy(), 4 / 3)
    np.testing.assert_allclose(keras.losses.BinaryCrossentropy()(
        np.array([1.0, 0.0]), np.array([[0.9], [0.1]])).numpy(), -np.log(0.9), rtol=1e-6)


def test_categorical_crossentropy_with_integer_labels_suggests_sparse():
    with pytest.raises(ValueError, match="same shape.*SparseCategoricalCrossentropy"):
        keras.losses.CategoricalCrossentropy()(np.array([0, 1]), np.full((2, 3), 1 / 3))


def test_unknown_name_lists_closest_names():
    with pytest.raises(ValueError, match="Unknown loss: 'mean_sqared_error'.*mean_squared_error"):
        keras.losses.get("mean_sqared_error")


def test_invalid_reduction_is_rejected():
    with pytest.raises(ValueError, match="reduction"):
        keras.losses.MeanSquaredError(reduction="average")


def test_tf2_reduction_names():
    loss = keras.losses.MeanSquaredError(reduction=keras.losses.Reduction.AUTO)
    assert loss.reduction == "sum_over_batch_size"
    none = keras.losses.MeanSquaredError(reduction=keras.losses.Reduction.NONE)
    assert none([[0.0], [1.0]], [[1.0], [1.0]]).numpy().tolist() == [1.0, 0.0]


def test_function_and_subclass_losses():
    def scaled_error(y_true, y_pred):
        return nf.reduce_mean(2.0 * nf.abs(y_pred - y_true), axis=-1)

    wrapped = keras.losses.get(scaled_error)
    assert isinstance(wrapped, keras.losses.LossFunctionWrapper)
    np.testing.assert_allclose(wrapped([[0.0, 1.0]], [[1.0, 1.0]]).numpy(), 1.0)

    class Doubled(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return 2.0 * keras.losses.mean_squared_error(y_true, y_pred)

    np.testing.assert_allclose(Doubled()([[0.0, 2.0]], [[1.0, 1.0]]).numpy(), 2.0)
    config = keras.losses.LossFunctionWrapper(keras.losses.huber, delta=2.0).get_config()
    clone = keras.losses.LossFunctionWrapper.from_config(config)
    np.testing.assert_allclose(clone([[0.0]], [[3.0]]).numpy(), 4.0)


def test_loss_dtype_argument_casts_predictions():
    loss = keras.losses.MeanSquaredError(dtype="float64")
    assert loss(np.zeros((2, 1), np.float32), np.ones((2, 1), np.float32)).dtype == nf.float64
    sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    value = sparse(np.array([1]), np.zeros((1, 4), np.float32))
    np.testing.assert_allclose(value.numpy(), np.log(4.0))


@pytest.mark.parametrize("loss, make_y", [
    ("mse", lambda x: x.sum(1, keepdims=True)),
    ("huber", lambda x: x.sum(1, keepdims=True)),
    ("mae", lambda x: x.sum(1, keepdims=True)),
    ("sparse_categorical_crossentropy", lambda x: (x[:, 0] > 0).astype("int64")),
])
def test_string_losses_train_a_model(loss, make_y):
    nf.random.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = make_y(x)
    units, activation = (2, "softmax") if "sparse" in loss else (1, None)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation)])
    model.compile(keras.optimizers.Adam(0.05), loss)
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
