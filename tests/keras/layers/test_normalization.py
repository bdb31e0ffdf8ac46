"""BatchNormalization and LayerNormalization (neuroflow/keras/layers/normalization.py): the
one-call layer check, training vs inference, moving statistics updated inside compiled
``fit`` steps, frozen layers, gradients against torch, and a BatchNormalization MLP trained
to a stated accuracy."""
import importlib.util

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from neuroflow.core.function import Function
from tests.keras.layer_helper import check_layer

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the torch comparisons skip without it
    torch = F = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
L = keras.layers
# model.save / load_model round trips need the `saving` extra (safetensors)
SAVE = importlib.util.find_spec("safetensors") is not None
needs_saving = pytest.mark.skipif(not SAVE, reason="model.save needs safetensors (the "
                                  "`saving` extra), not installed")


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# -- the one-call layer check ------------------------------------------------------------------

@pytest.mark.parametrize("cls, kwargs, input_shape, weights, trainable", [
    (L.BatchNormalization, {}, (4, 3), 4, 2),
    (L.BatchNormalization, {"axis": 1, "momentum": 0.9}, (2, 3, 4, 2), 4, 2),
    (L.BatchNormalization, {"center": False, "scale": False}, (4, 3), 2, 0),
    (L.BatchNormalization, {"gamma_regularizer": "l2", "beta_initializer": "ones"}, (3, 2, 5),
     4, 2),
    (L.LayerNormalization, {}, (2, 5), 2, 2),
    (L.LayerNormalization, {"axis": [1, 2], "epsilon": 1e-5}, (2, 3, 4, 2), 2, 2),
    (L.LayerNormalization, {"rms_scaling": True}, (2, 3, 4), 1, 1),
    (L.LayerNormalization, {"center": False, "scale": False}, (2, 4), 0, 0),
], ids=lambda v: str(v) if not isinstance(v, type) else v.__name__)
def test_check_layer(tmp_path, cls, kwargs, input_shape, weights, trainable):
    check_layer(cls, kwargs, input_shape=input_shape, expected_output_shape=input_shape,
                expected_num_weights=weights, expected_num_trainable_weights=trainable,
                save=SAVE, tmp_path=tmp_path)


def test_config_keys_follow_keras():
    config = L.BatchNormalization().get_config()
    for key, value in {"axis": -1, "momentum": 0.99, "epsilon": 1e-3, "center": True,
                       "scale": True, "synchronized": False}.items():
        assert config[key] == value
    assert config["moving_variance_initializer"]["class_name"] == "Ones"
    config = L.LayerNormalization().get_config()
    assert (config["axis"], config["epsilon"], config["rms_scaling"]) == (-1, 1e-3, False)


# -- BatchNormalization ------------------------------------------------------------------------

def _bn_ref(x, mean, var, gamma, beta, eps=1e-3):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def test_batch_norm_training_uses_batch_statistics_and_inference_moving_ones():
    x = _rand(16, 3) * 3 + 2
    bn = L.BatchNormalization()
    bn.build((None, 3))
    gamma, beta = np.array([1.5, 0.5, 2.0], np.float32), np.array([0.1, -0.2, 0.3], np.float32)
    moving_mean, moving_var = np.array([1.0, 2.0, 3.0], np.float32), np.array(
        [4.0, 0.5, 2.0], np.float32)
    bn.set_weights([gamma, beta, moving_mean, moving_var])
    inference = bn(x).numpy()
    np.testing.assert_allclose(inference, _bn_ref(x, moving_mean, moving_var, gamma, beta),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bn(x, training=False).numpy(), inference)
    training = bn(x, training=True).numpy()
    np.testing.assert_allclose(training, _bn_ref(x, x.mean(0), x.var(0), gamma, beta),
                               rtol=1e-4, atol=1e-4)
    assert not np.allclose(training, inference, atol=1e-2)
    # one training call moved the statistics by (1 - momentum) towards the batch's
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.99 * moving_mean + 0.01 * x.mean(0),
                               rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 * moving_var + 0.01 * x.var(0),
                               rtol=1e-5)


def test_batch_norm_channels_axis_1():
    x = _rand(4, 3, 2, 5)
    bn = L.BatchNormalization(axis=1, epsilon=1e-5)
    y = bn(x, training=True).numpy()
    mean, var = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)
    assert bn.moving_mean.shape == (3,)


def test_moving_statistics_after_fit_are_the_exponential_average():
    """Two batches per epoch, no shuffling: the compiled train step must run the assign ops
    on every step, so the statistics follow the recurrence batch by batch."""
    x = np.concatenate([_rand(8, 3, seed=1) * 2 + 1, _rand(8, 3, seed=2) * 0.5 - 3])
    y = np.zeros((16, 3), np.float32)
    momentum = 0.8
    model = keras.Sequential([keras.Input((3,)), L.BatchNormalization(momentum=momentum)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    assert isinstance(model._train_function, Function)  # the compiled step, not eager
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(3):
        for batch in (x[:8], x[8:]):
            mean = momentum * mean + (1 - momentum) * batch.mean(0)
            var = momentum * var + (1 - momentum) * batch.var(0)
    bn = model.layers[0]
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-5, atol=1e-6)
    # predict (inference) normalizes with those statistics
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               _bn_ref(x, mean, var, *[w.numpy() for w in
                                                       bn.trainable_weights]),
                               rtol=1e-4, atol=1e-4)


def test_frozen_batch_norm_runs_in_inference_mode():
    x = _rand(8, 3) + 1
    bn = L.BatchNormalization()
    bn.build((None, 3))
    bn.trainable = False
    assert len(bn.trainable_weights) == 0 and len(bn.non_trainable_weights) == 4
    before = [w.copy() for w in bn.get_weights()]
    np.testing.assert_allclose(bn(x, training=True).numpy(), bn(x).numpy())
    model = keras.Sequential([keras.Input((3,)), bn, L.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, np.ones((8, 1)), epochs=2, verbose=0)
    for b, a in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(b, a)


def test_batch_norm_masked_statistics():
    x = _rand(2, 5, 3)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], bool)
    bn = L.BatchNormalization(momentum=0.0)
    bn(nf.constant(x), training=True, mask=nf.constant(mask))
    kept = x[mask]
    np.testing.assert_allclose(bn.moving_mean.numpy(), kept.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), kept.var(0), rtol=1e-5, atol=1e-6)


def test_batch_norm_errors():
    bn = L.BatchNormalization()
    bn(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 3"):
        bn(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="Invalid axis 3"):
        L.BatchNormalization(axis=3)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="should have a defined dimension"):
        L.BatchNormalization()(keras.Input((None,)))


def test_batch_norm_regularizer_adds_a_loss():
    bn = L.BatchNormalization(gamma_regularizer=keras.regularizers.L2(0.5))
    bn(_rand(4, 2))
    assert len(bn.losses) == 1
    np.testing.assert_allclose(float(bn.losses[0]), 0.5 * 2, rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("shape, axis", [((6, 3), -1), ((4, 3, 2, 2), 1)])
def test_batch_norm_gradients_match_torch(shape, axis):
    x = _rand(*shape, seed=3) * 2 + 0.5
    channels = shape[axis]
    gamma, beta = _rand(channels, seed=4) + 1, _rand(channels, seed=5)
    weights = _rand(*shape, seed=6)
    bn = L.BatchNormalization(axis=axis, epsilon=1e-3)
    bn.build(shape)
    bn.set_weights([gamma, beta, np.zeros(channels), np.ones(channels)])
    xt = nf.constant(x)
    with nf.GradientTape() as tape:
        tape.watch(xt)
        loss = nf.reduce_sum(bn(xt, training=True) * weights)
    grads = tape.gradient(loss, [xt, bn.gamma, bn.beta])

    # torch wants channels on axis 1
    perm = list(range(len(shape)))
    perm.insert(1, perm.pop(axis % len(shape)))
    tx = torch.tensor(x.transpose(perm), requires_grad=True)
    tg, tb = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    out = F.batch_norm(tx, torch.zeros(channels), torch.ones(channels), tg, tb,
                       training=True, momentum=0.01, eps=1e-3)
    (out * torch.tensor(weights.transpose(perm))).sum().backward()
    inverse = np.argsort(perm)
    np.testing.assert_allclose(loss.numpy(), float((out.detach() * torch.tensor(
        weights.transpose(perm))).sum()), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grads[0].numpy(), tx.grad.numpy().transpose(inverse),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grads[1].numpy(), tg.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grads[2].numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_batch_norm_mlp_reaches_accuracy_with_fit():
    """Badly scaled features (1e-2 .. 1e2): a BatchNormalization MLP trained with fit
    classifies held-out points; evaluation runs in inference mode on the moving stats.
    (The same MLP without BatchNormalization stays near chance, 0.46-0.54, on these data.)"""
    rng = np.random.default_rng(0)
    n, d = 800, 10
    scales = np.logspace(-2, 2, d)
    features = rng.standard_normal((n, d))
    labels = ((features[:, 0] + features[:, 1] - features[:, 2] * features[:, 3] > 0)
              .astype(np.int64))
    x = (features * scales + 5 * scales).astype(np.float32)
    nf.random.set_seed(0)
    model = keras.Sequential([
        keras.Input((d,)), L.BatchNormalization(), L.Dense(32), L.BatchNormalization(),
        L.Activation("relu"), L.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:600], labels[:600], batch_size=32, epochs=40, verbose=0)
    _, accuracy = model.evaluate(x[600:], labels[600:], verbose=0)
    assert accuracy >= 0.9, f"held-out accuracy {accuracy:.3f} < 0.9"


# -- LayerNormalization ------------------------------------------------------------------------

def test_layer_norm_values():
    x = _rand(2, 3, 4)
    ln = L.LayerNormalization(axis=[1, 2], epsilon=1e-5)
    ln.build(x.shape)
    gamma, beta = _rand(3, 4, seed=1), _rand(3, 4, seed=2)
    ln.set_weights([gamma, beta])
    mean, var = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(ln(x).numpy(), (x - mean) / np.sqrt(var + 1e-5) * gamma + beta,
                               rtol=1e-4, atol=1e-5)


def test_layer_norm_rms_scaling():
    x = _rand(2, 3, 4)
    ln = L.LayerNormalization(rms_scaling=True)
    ln.build(x.shape)
    gamma = _rand(4, seed=1)
    ln.set_weights([gamma])
    rms = np.sqrt(np.mean(x * x, -1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(ln(x).numpy(), x / rms * gamma, rtol=1e-5, atol=1e-6)
    ln = L.LayerNormalization(axis=1, rms_scaling=True)  # not the last axis
    ln.build(x.shape)
    ln.set_weights([gamma[:3]])
    rms = np.sqrt(np.mean(x * x, 1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(ln(x).numpy(), x / rms * gamma[:3, None], rtol=1e-5,
                               atol=1e-6)


@needs_torch
def test_layer_norm_gradients_match_torch():
    x = _rand(3, 4, 5)
    gamma, beta, weights = _rand(4, 5, seed=1), _rand(4, 5, seed=2), _rand(3, 4, 5, seed=3)
    ln = L.LayerNormalization(axis=[-2, -1])
    ln.build(x.shape)
    ln.set_weights([gamma, beta])
    xt = nf.constant(x)
    with nf.GradientTape() as tape:
        tape.watch(xt)
        loss = nf.reduce_sum(ln(xt) * weights)
    grads = tape.gradient(loss, [xt, ln.gamma, ln.beta])
    tx = torch.tensor(x, requires_grad=True)
    tg, tb = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    (F.layer_norm(tx, (4, 5), tg, tb, eps=1e-3) * torch.tensor(weights)).sum().backward()
    for ours, theirs in zip(grads, (tx.grad, tg.grad, tb.grad)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-4)


def test_layer_norm_errors():
    with pytest.raises(ValueError, match="Invalid axis 2"):
        L.LayerNormalization(axis=2)(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="axis"):
        L.LayerNormalization(axis="last")
    ln = L.LayerNormalization()
    ln(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="expected axis 1 of input shape to have value 3"):
        ln(np.zeros((2, 4), np.float32))


@needs_saving
def test_moving_statistics_survive_save_and_load(tmp_path):
    x = _rand(16, 3) * 2 + 1
    model = keras.Sequential([keras.Input((3,)), L.BatchNormalization(momentum=0.5),
                              L.LayerNormalization()])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, np.zeros((16, 3)), epochs=2, verbose=0)
    path = str(tmp_path / "bn.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert not np.allclose(loaded.layers[0].moving_mean.numpy(), 0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
