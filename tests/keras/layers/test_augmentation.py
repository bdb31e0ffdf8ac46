"""Image augmentation layers (neuroflow/keras/layers/augmentation.py): the one-call layer
check, identity at inference, seeded determinism, fresh draws in compiled steps, geometric
correctness on small images (flips move a marked pixel to its mirror, quarter turns equal
np.rot90, shifts and zooms land where the formulas say, crops are windows of the input or
torch's bilinear resize), unbatched and channels_first inputs, and argument errors."""
import importlib.util

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
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

LAYERS = [
    (L.RandomFlip, {"seed": 1}),
    (L.RandomFlip, {"mode": "vertical"}),
    (L.RandomRotation, {"factor": 0.2, "seed": 2}),
    (L.RandomRotation, {"factor": (-0.1, 0.3), "fill_mode": "constant",
                        "interpolation": "nearest", "fill_value": 1.0}),
    (L.RandomTranslation, {"height_factor": 0.2, "width_factor": (-0.3, 0.1), "seed": 3}),
    (L.RandomZoom, {"height_factor": (-0.3, 0.2), "seed": 4, "fill_mode": "wrap"}),
    (L.RandomZoom, {"height_factor": 0.2, "width_factor": 0.1, "fill_mode": "nearest"}),
    (L.RandomContrast, {"factor": 0.3, "seed": 5}),
    (L.RandomContrast, {"factor": (0.1, 0.4), "value_range": (-3, 3)}),
]


def _images(n=2, h=6, w=6, c=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, h, w, c)).astype(np.float32)


def _ids(v):
    return v.__name__ if isinstance(v, type) else str(v)


# -- the one-call layer check and inference ----------------------------------------------------

@pytest.mark.parametrize("cls, kwargs", LAYERS, ids=_ids)
def test_check_layer(tmp_path, cls, kwargs):
    check_layer(cls, kwargs, input_shape=(2, 6, 5, 3), expected_output_shape=(2, 6, 5, 3),
                expected_num_weights=0, save=SAVE, tmp_path=tmp_path)


@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    ({"height": 4, "width": 3, "seed": 1}, (2, 6, 5, 3), (2, 4, 3, 3)),
    ({"height": 4, "width": 8}, (2, 6, 5, 1), (2, 4, 8, 1)),
    ({"height": 2, "width": 3, "data_format": "channels_first"}, (2, 3, 6, 5), (2, 3, 2, 3)),
])
def test_check_layer_random_crop(tmp_path, kwargs, input_shape, output_shape):
    check_layer(L.RandomCrop, kwargs, input_shape=input_shape,
                expected_output_shape=output_shape, expected_num_weights=0, save=SAVE,
                tmp_path=tmp_path)


@pytest.mark.parametrize("cls, kwargs", LAYERS, ids=_ids)
def test_identity_at_inference(cls, kwargs):
    images = _images()
    layer = cls(**kwargs)
    for out in (layer(images), layer(images, training=False)):
        np.testing.assert_array_equal(out.numpy(), images)
    model = keras.Sequential([keras.Input((6, 6, 3)), layer])
    np.testing.assert_array_equal(model.predict(images, verbose=0), images)
    assert not np.allclose(layer(images, training=True).numpy(), images)


def test_integer_images_come_out_as_floats():
    images = (_images() * 255).astype(np.uint8)
    out = L.RandomFlip()(images)
    assert out.dtype == nf.float32
    np.testing.assert_array_equal(out.numpy(), images.astype(np.float32))


# -- random draws ------------------------------------------------------------------------------

@pytest.mark.parametrize("cls, kwargs", LAYERS, ids=_ids)
def test_seeded_layers_repeat_and_calls_draw_afresh(cls, kwargs):
    kwargs = dict(kwargs, seed=11)
    images = _images(n=8)
    first, second = cls(**kwargs), cls(**kwargs)
    a1, a2 = first(images, training=True).numpy(), first(images, training=True).numpy()
    b1, b2 = second(images, training=True).numpy(), second(images, training=True).numpy()
    np.testing.assert_array_equal(a1, b1)  # same seed, same draws, call by call
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)  # each call draws new values
    other = cls(**dict(kwargs, seed=12))(images, training=True).numpy()
    assert not np.array_equal(a1, other)


def test_compiled_steps_draw_fresh_values_and_follow_the_seed():
    images = _images(n=8)

    def outputs(layer, calls=3):
        step = nf.function(lambda x: layer(x, training=True))
        return [step(nf.constant(images)).numpy() for _ in range(calls)]
    first = outputs(L.RandomRotation(0.3, seed=3))
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[1], first[2])
    second = outputs(L.RandomRotation(0.3, seed=3))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # without a seed, the global seed makes runs reproducible
    nf.random.set_seed(5)
    unseeded = outputs(L.RandomZoom(0.3))
    nf.random.set_seed(5)
    np.testing.assert_array_equal(unseeded[1], outputs(L.RandomZoom(0.3))[1])


def test_augmentation_inside_fit():
    """Augmentation layers train inside the compiled step of model.fit."""
    x, y = _images(n=16, c=1), np.arange(16) % 2
    model = keras.Sequential([
        keras.Input((6, 6, 1)), L.RandomFlip(seed=1), L.RandomRotation(0.1, seed=2),
        L.RandomZoom(0.1, seed=3), L.RandomTranslation(0.1, 0.1, seed=4),
        L.RandomContrast(0.2, value_range=(0, 1), seed=5), L.RandomCrop(4, 4, seed=6),
        L.Flatten(), L.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


# -- geometry ----------------------------------------------------------------------------------

def _marked(n=32, h=5, w=7, row=1, col=2):
    images = np.zeros((n, h, w, 1), np.float32)
    images[:, row, col] = 1.0
    return images


@pytest.mark.parametrize("mode, places", [
    ("horizontal", {(1, 2), (1, 4)}),
    ("vertical", {(1, 2), (3, 2)}),
    ("horizontal_and_vertical", {(1, 2), (1, 4), (3, 2), (3, 4)}),
])
def test_flip_moves_a_marked_pixel_to_its_mirror(mode, places):
    out = L.RandomFlip(mode, seed=0)(_marked(), training=True).numpy()
    seen = set()
    for image in out:
        (rows, cols, _), = [np.nonzero(image)]
        assert len(rows) == 1 and image.sum() == 1.0
        seen.add((int(rows[0]), int(cols[0])))
    assert seen == places  # every outcome occurs over 32 images, and nothing else


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("factor, turns", [(0.25, 1), (-0.25, -1), (0.5, 2)])
def test_quarter_turns_equal_rot90(interpolation, factor, turns):
    images = _images(n=3, h=5, w=5, c=2)
    layer = L.RandomRotation((factor, factor), interpolation=interpolation,
                             fill_mode="constant")
    out = layer(images, training=True).numpy()
    np.testing.assert_allclose(out, np.rot90(images, turns, axes=(1, 2)), atol=1e-5)
    if turns == 2:  # a half turn maps pixel centres onto pixel centres at any size
        wide = _images(n=2, h=4, w=7)
        np.testing.assert_allclose(layer(wide, training=True).numpy(),
                                   np.rot90(wide, 2, axes=(1, 2)), atol=1e-5)


def test_translation_by_whole_pixels():
    images = _images(n=2, h=5, w=4, c=1)
    # down by 0.2 * 5 = 1 pixel, left by 0.5 * 4 = 2 pixels
    layer = L.RandomTranslation((0.2, 0.2), (-0.5, -0.5), fill_mode="constant",
                                fill_value=-1.0)
    out = layer(images, training=True).numpy()
    np.testing.assert_allclose(out[:, 1:, :2], images[:, :4, 2:], atol=1e-6)
    np.testing.assert_array_equal(out[:, 0], -1.0)
    np.testing.assert_array_equal(out[:, :, 2:], -1.0)
    reflected = L.RandomTranslation((0.2, 0.2), (0.0, 0.0))(images, training=True).numpy()
    np.testing.assert_allclose(reflected[:, 0], images[:, 0], atol=1e-6)  # d c b a | a b c d


def test_zoom_about_the_centre():
    images = _images(n=2, h=5, w=5, c=1)
    out = L.RandomZoom((1.0, 1.0), fill_mode="constant", interpolation="nearest")(
        images, training=True).numpy()
    # zooming out by 2: output pixel 1 + i reads input pixel 2 i; the border is filled
    np.testing.assert_array_equal(out[:, 1:4, 1:4], images[:, ::2, ::2])
    np.testing.assert_array_equal(out[:, 0], 0.0)
    # zooming in by 2 keeps the centre and stretches its neighbourhood
    out = L.RandomZoom((-0.5, -0.5))(images, training=True).numpy()
    np.testing.assert_allclose(out[:, 2, 2], images[:, 2, 2], atol=1e-6)
    np.testing.assert_allclose(out[:, 0, 2], images[:, 1, 2], atol=1e-6)
    np.testing.assert_allclose(out[:, 1, 2], (images[:, 1, 2] + images[:, 2, 2]) / 2, atol=1e-6)
    # width_factor zooms the width alone
    out = L.RandomZoom((0.0, 0.0), (1.0, 1.0), fill_mode="constant",
                       interpolation="nearest")(images, training=True).numpy()
    np.testing.assert_array_equal(out[:, :, 1:4], images[:, :, ::2])


def test_contrast_scales_deviations_from_the_channel_mean():
    images = _images(n=6, c=2) * 50 + 100  # away from the clipping range
    out = L.RandomContrast(0.5, seed=0)(images, training=True).numpy()
    mean = images.mean((1, 2), keepdims=True)
    ratio = (out - mean) / (images - mean)
    factors = ratio[:, 0, 0, 0]
    np.testing.assert_allclose(ratio, factors[:, None, None, None] * np.ones_like(ratio),
                               rtol=1e-3)
    assert np.all((factors >= 0.5) & (factors <= 1.5)) and np.ptp(factors) > 0.05
    clipped = L.RandomContrast((0.0, 0.0), value_range=(10, 50))(images, training=True)
    np.testing.assert_allclose(clipped.numpy(), np.clip(images, 10, 50), rtol=1e-6)


def test_random_crop_is_one_window_per_batch():
    images = _images(n=4, h=7, w=6, c=2)
    layer = L.RandomCrop(3, 4, seed=0)
    windows = set()
    for _ in range(12):
        out = layer(images, training=True).numpy()
        found = [(i, j) for i in range(5) for j in range(3)
                 if np.array_equal(out, images[:, i:i + 3, j:j + 4])]
        assert len(found) == 1
        windows.add(found[0])
    assert len(windows) > 3  # different calls crop different places


def test_random_crop_inference_resizes_the_centred_window():
    images = _images(n=2, h=8, w=8, c=1)
    out = L.RandomCrop(4, 4)(images).numpy()
    # halving with half-pixel centres averages each 2 x 2 block
    np.testing.assert_allclose(out, images.reshape(2, 4, 2, 4, 2, 1).mean((2, 4)), atol=1e-6)
    same = _images(n=2, h=5, w=3)
    np.testing.assert_array_equal(L.RandomCrop(5, 3)(same).numpy(), same)


@needs_torch
@pytest.mark.parametrize("shape, target, training", [
    ((2, 6, 10, 3), (4, 4), False), ((2, 9, 5, 2), (6, 4), False),
    ((2, 3, 4, 1), (5, 6), True),  # smaller than the target: resized in training too
])
def test_random_crop_resize_matches_torch_bilinear(shape, target, training):
    images = _images(*shape)
    out = L.RandomCrop(*target, seed=1)(images, training=training).numpy()
    h, w = shape[1:3]
    crop_h = max(min(h, int(w * target[0] / target[1])), 1)
    crop_w = max(min(w, int(h * target[1] / target[0])), 1)
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    window = torch.tensor(images[:, top:top + crop_h, left:left + crop_w]).permute(0, 3, 1, 2)
    want = F.interpolate(window, size=target, mode="bilinear", align_corners=False,
                         antialias=False).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(out, want, atol=1e-5)


def test_random_crop_with_unknown_sizes_in_a_function():
    images = _images(n=2, h=8, w=8, c=1)
    layer = L.RandomCrop(4, 4, seed=2)
    spec = nf.TensorSpec([None, None, None, 1])
    infer = nf.function(lambda x: layer(x), input_signature=[spec])
    np.testing.assert_allclose(infer(images).numpy(), L.RandomCrop(4, 4)(images).numpy(),
                               atol=1e-6)
    train = nf.function(lambda x: layer(x, training=True), input_signature=[spec])
    out = train(images).numpy()
    assert any(np.array_equal(out, images[:, i:i + 4, j:j + 4])
               for i in range(5) for j in range(5))
    small = _images(n=2, h=2, w=3, c=1)  # smaller than the target: the resize branch
    np.testing.assert_allclose(train(small).numpy(), L.RandomCrop(4, 4)(small).numpy(),
                               atol=1e-6)


# -- input forms -------------------------------------------------------------------------------

def test_unbatched_and_channels_first_inputs():
    images = _images(n=1, h=5, w=5, c=2)
    quarter = dict(factor=(0.25, 0.25), fill_mode="constant")
    single = L.RandomRotation(**quarter)(images[0], training=True).numpy()
    np.testing.assert_allclose(single, np.rot90(images[0], 1, axes=(0, 1)), atol=1e-5)
    first = np.transpose(images, (0, 3, 1, 2))
    out = L.RandomRotation(**quarter, data_format="channels_first")(first, training=True)
    np.testing.assert_allclose(out.numpy(), np.rot90(first, 1, axes=(2, 3)), atol=1e-5)
    crop = L.RandomCrop(2, 3, data_format="channels_first")
    assert crop(first).shape == (1, 2, 2, 3)
    assert crop.compute_output_shape((None, 2, 5, 5)) == (None, 2, 2, 3)


def test_argument_and_input_errors():
    with pytest.raises(ValueError, match="Did you mean: 'horizontal'"):
        L.RandomFlip("horizontl")
    with pytest.raises(ValueError, match="Did you mean: 'reflect'"):
        L.RandomRotation(0.1, fill_mode="reflct")
    with pytest.raises(ValueError, match="upper bound less than lower bound"):
        L.RandomRotation((0.3, 0.1))
    with pytest.raises(ValueError, match=r"between \[-1, 1\]"):
        L.RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match="larger than -1"):
        L.RandomZoom((-1.5, 0.2))
    with pytest.raises(ValueError, match="cannot have negative values"):
        L.RandomContrast(-0.1)
    with pytest.raises(ValueError, match="positive height and width"):
        L.RandomCrop(0, 3)
    with pytest.raises(ValueError, match="expected min_ndim=3, found ndim=2"):
        L.RandomFlip()(np.zeros((4, 4), np.float32), training=True)


def test_configs_follow_keras():
    config = L.RandomRotation(0.2).get_config()
    assert {k: config[k] for k in ("factor", "fill_mode", "interpolation", "seed",
                                   "fill_value", "data_format")} == {
        "factor": 0.2, "fill_mode": "reflect", "interpolation": "bilinear", "seed": None,
        "fill_value": 0.0, "data_format": "channels_last"}
    assert L.RandomFlip().get_config()["mode"] == "horizontal_and_vertical"
    assert L.RandomContrast(0.2).get_config()["value_range"] == [0, 255]
    assert L.RandomZoom(0.2).get_config()["width_factor"] is None


@needs_saving
def test_augmentation_model_survives_save_and_load(tmp_path):
    images = _images(n=4, h=8, w=8)
    model = keras.Sequential([
        keras.Input((8, 8, 3)), L.RandomFlip("horizontal", seed=1),
        L.RandomRotation((-0.1, 0.2), fill_mode="constant", seed=2), L.RandomCrop(6, 5)])
    path = str(tmp_path / "augment.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    for a, b in zip(model.layers, loaded.layers):
        assert a.get_config() == b.get_config()
    np.testing.assert_allclose(loaded.predict(images, verbose=0),
                               model.predict(images, verbose=0), rtol=1e-6)
    # the same seeds give the same training draws in the loaded copy
    fresh = keras.Sequential([keras.Input((8, 8, 3)), L.RandomRotation.from_config(
        model.layers[1].get_config())])
    np.testing.assert_array_equal(fresh(images, training=True).numpy(),
                                  loaded.layers[1](images, training=True).numpy())
