"""The projective image transform behind the augmentation layers
(neuroflow/keras/layers/image_transform.py), through the op table: forward against a
per-pixel loop written from TensorFlow's ImageProjectiveTransformV3 rules, float64
finite-difference gradients, eager == graph == nf.function, second order, and torch's
grid_sample as an oracle where its padding matches the fill mode."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow.keras.layers.image_transform import transform_images
from tests.optable import OpCase, parametrize, torch

# two images' transforms: a rotation with scaling and a shift, and a projective one
AFFINE = np.array([[0.8, -0.5, 1.2, 0.45, 0.9, -0.7, 0.0, 0.0],
                   [1.27, 0.21, -1.13, -0.31, 0.73, 1.57, 0.0, 0.0]], np.float32)
PROJECTIVE = np.array([[0.9, 0.1, 0.3, -0.2, 1.1, 0.4, 0.05, -0.04],
                       [1.0, 0.0, 0.7, 0.0, 1.0, -0.6, -0.03, 0.02]], np.float32)
UPSCALE = np.array([[0.6, 0.0, 0.2, 0.0, 0.55, -0.1, 0.0, 0.0],
                    [0.5, 0.1, 0.0, -0.1, 0.6, 0.3, 0.0, 0.0]], np.float32)


def _samples(seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-2, 2, (2, 4, 5, 2)),), (rng.uniform(-2, 2, (2, 3, 3, 1)),)]


def _fold(c, size, fill_mode):
    """A continuous coordinate folded as TF folds it before interpolating."""
    if fill_mode == "wrap":
        return min(max(c % size, 0.0), size - 1.0)
    return c  # reflect and nearest fold each neighbour's index instead (same result)


def _index(i, size, fill_mode):
    """The pixel index a read at integer ``i`` lands on, or None (fill_value)."""
    if fill_mode == "reflect":
        if size == 1:
            return 0
        while i < 0 or i >= size:  # d c b a | a b c d | d c b a
            i = -i - 1 if i < 0 else 2 * size - 1 - i
        return i
    if fill_mode == "nearest":
        return min(max(i, 0), size - 1)
    return i if 0 <= i < size else None


def _reference(images, transforms, interpolation, fill_mode, fill_value, output_shape=None):
    n, h, w, c = images.shape
    oh, ow = output_shape or (h, w)
    out = np.empty((n, oh, ow, c))
    for b in range(n):
        a0, a1, a2, b0, b1, b2, c0, c1 = transforms[b if len(transforms) > 1 else 0]
        for y in range(oh):
            for x in range(ow):
                k = c0 * x + c1 * y + 1
                xin = _fold((a0 * x + a1 * y + a2) / k, w, fill_mode)
                yin = _fold((b0 * x + b1 * y + b2) / k, h, fill_mode)
                if fill_mode == "reflect" and w == 1:
                    xin = 0.0

                def read(yy, xx):
                    yy, xx = _index(yy, h, fill_mode), _index(xx, w, fill_mode)
                    return fill_value if yy is None or xx is None else images[b, yy, xx]
                if interpolation == "nearest":
                    out[b, y, x] = read(int(np.floor(yin + 0.5)), int(np.floor(xin + 0.5)))
                    continue
                x0, y0 = int(np.floor(xin)), int(np.floor(yin))
                fx, fy = xin - x0, yin - y0
                out[b, y, x] = ((1 - fy) * ((1 - fx) * read(y0, x0) + fx * read(y0, x0 + 1))
                                + fy * ((1 - fx) * read(y0 + 1, x0) + fx * read(y0 + 1,
                                                                            x0 + 1)))
    return out


def _torch_grid_sample(transforms, interpolation, padding):
    """torch.nn.functional.grid_sample on the same sampling points (align_corners=True puts
    -1 and 1 on the first and last pixel centres, as TF's integer coordinates)."""
    def fn(images):
        n, h, w, _ = images.shape
        ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                             indexing="ij")
        t = transforms.astype(np.float64)[:, :, None, None]
        k = t[:, 6] * xs + t[:, 7] * ys + 1
        xin = (t[:, 0] * xs + t[:, 1] * ys + t[:, 2]) / k
        yin = (t[:, 3] * xs + t[:, 4] * ys + t[:, 5]) / k
        grid = np.stack([2 * xin / (w - 1) - 1, 2 * yin / (h - 1) - 1], axis=-1)
        out = torch.nn.functional.grid_sample(
            images.permute(0, 3, 1, 2), torch.tensor(grid, dtype=images.dtype),
            mode=interpolation, padding_mode=padding, align_corners=True)
        return out.permute(0, 2, 3, 1)
    return fn


def _case(name, transforms, interpolation, fill_mode, fill_value=0.0, torch_padding=None,
          output_shape=None):
    def fn(images):
        return transform_images(images, transforms, interpolation, fill_mode, fill_value,
                                output_shape)

    def ref(images):
        return _reference(images, transforms, interpolation, fill_mode, fill_value,
                          output_shape)
    torch_fn = None
    if torch is not None and torch_padding is not None:
        torch_fn = _torch_grid_sample(transforms, interpolation, torch_padding)
    skip = {} if torch_padding is not None else {
        "torch": "grid_sample has no padding mode matching this fill_mode / fill_value"}
    samples = _samples()[:1] if output_shape is not None else _samples()
    return OpCase(name, fn, samples, torch_fn=torch_fn, ref=ref, skip=skip)


CASES = [
    _case("bilinear_constant", AFFINE, "bilinear", "constant", torch_padding="zeros"),
    _case("bilinear_constant_fill", AFFINE, "bilinear", "constant", fill_value=0.7),
    _case("bilinear_nearest", AFFINE, "bilinear", "nearest", torch_padding="border"),
    _case("bilinear_reflect", AFFINE, "bilinear", "reflect"),
    _case("bilinear_wrap", AFFINE, "bilinear", "wrap"),
    _case("bilinear_projective", PROJECTIVE, "bilinear", "constant", torch_padding="zeros"),
    _case("nearest_constant", AFFINE, "nearest", "constant", fill_value=-1.0),
    _case("nearest_reflect", PROJECTIVE, "nearest", "reflect"),
    _case("nearest_wrap", AFFINE, "nearest", "wrap"),
    _case("bilinear_output_shape", UPSCALE, "bilinear", "nearest", output_shape=(6, 7)),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


def test_shape_rule_and_errors():
    spec = nf.TensorSpec([None, 8, 9, 3])

    @nf.function(input_signature=[spec])
    def resample(images):
        out = transform_images(images, AFFINE[:1], output_shape=(4, 5))
        assert tuple(out.shape) == (None, 4, 5, 3)
        return out
    assert resample(np.zeros((2, 8, 9, 3), np.float32)).shape == (2, 4, 5, 3)
    with pytest.raises(ValueError, match="4-D"):
        transform_images(nf.zeros([4, 4, 1]), AFFINE[:1])
    with pytest.raises(ValueError, match=r"\(batch, 8\)"):
        transform_images(nf.zeros([1, 4, 4, 1]), np.zeros((1, 6), np.float32))
    with pytest.raises(ValueError, match="Did you mean: 'reflect'"):
        transform_images(nf.zeros([1, 4, 4, 1]), AFFINE[:1], fill_mode="reflct")
    with pytest.raises(ValueError, match="Unknown interpolation"):
        transform_images(nf.zeros([1, 4, 4, 1]), AFFINE[:1], interpolation="cubic")
