"""Op-table cases for complex numbers (neuroflow/ops/complex.py).

The finite-difference checker perturbs real inputs only, so each complex op is tested inside a
real -> complex -> real composition; the gradient convention itself (dL/dx + i dL/dy, as TF
and PyTorch) is checked directly against PyTorch on complex sources below.
"""
import numpy as np
import pytest

import neuroflow as nf
from tests.optable import OpCase, binary, parametrize, torch, unary


def _tc(x, y):
    return torch.complex(x, y)


def _bx(x, y):
    """x broadcast to the shape of x op y."""
    return np.broadcast_to(x, np.broadcast_shapes(np.shape(x), np.shape(y)))


def _pair_shapes(seed=0):
    """binary() pairs with the second part kept in [0.3, 2]: away from angle's branch cut."""
    return binary(-2.0, 2.0, low2=0.3, high2=2.0, seed=seed)


CASES = [
    OpCase("real_of_complex", lambda x, y: nf.math.real(nf.complex(x, y)), binary(),
           torch_fn=lambda x, y: torch.real(_tc(x, y)),
           ref=_bx),
    OpCase("imag_of_complex", lambda x, y: nf.math.imag(nf.complex(x, y)), binary(),
           torch_fn=lambda x, y: torch.imag(_tc(x, y)),
           ref=lambda x, y: _bx(y, x)),
    OpCase("angle_of_complex", lambda x, y: nf.math.angle(nf.complex(x, y)), _pair_shapes(),
           torch_fn=lambda x, y: torch.angle(_tc(x, y)), ref=lambda x, y: np.arctan2(y, x)),
    OpCase("conj_of_complex", lambda x, y: nf.math.imag(nf.math.conj(nf.complex(x, y))),
           binary(), torch_fn=lambda x, y: torch.imag(torch.conj_physical(_tc(x, y))),
           ref=lambda x, y: -_bx(y, x)),
    # a product mixes the parts: checks Complex/Real/Imag gradients against each other
    OpCase("real_imag_product",
           lambda x, y: nf.math.real(nf.complex(x, y)) * nf.math.imag(nf.complex(y, x)),
           binary(), torch_fn=lambda x, y: torch.real(_tc(x, y)) * torch.imag(_tc(y, x)),
           ref=lambda x, y: _bx(x * x, y)),
    OpCase("angle_of_real", nf.math.angle, unary(kinks=(0.0,)), torch_fn=lambda x: torch.angle(x),
           ref=lambda x: np.where(x < 0, np.pi, 0.0)),
    OpCase("real_of_real", nf.math.real, unary(), ref=lambda x: x,
           torch_fn=lambda x: torch.real(x)),
    OpCase("imag_of_real", nf.math.imag, unary(), ref=np.zeros_like,
           skip={"torch": "torch.imag rejects real tensors"}),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


def test_dtypes_follow_tensorflow():
    assert nf.complex(nf.constant([1.0]), nf.constant([2.0])).dtype == nf.complex64
    z = nf.complex(np.array([1.0]), np.array([2.0]))
    assert z.dtype == nf.complex128
    assert nf.math.real(z).dtype == nf.float64
    assert nf.math.imag(nf.cast(z, nf.complex64)).dtype == nf.float32
    assert nf.math.angle(z).dtype == nf.float64


def test_python_part_takes_the_other_parts_dtype():
    z = nf.complex(np.array([1.0, 2.0]), 0.5)
    assert z.dtype == nf.complex128
    np.testing.assert_array_equal(z.numpy(), [1 + 0.5j, 2 + 0.5j])


def test_complex_rejects_integer_parts():
    with pytest.raises(TypeError, match="float32 or float64"):
        nf.complex(nf.constant([1]), nf.constant([2]))


def test_complex_rejects_mixed_precision():
    with pytest.raises(nf.errors.InvalidArgumentError, match="dtype"):
        nf.complex(nf.constant([1.0]), np.array([2.0]))


def test_real_of_real_is_the_input():
    x = nf.constant([1.0, -2.0])
    assert nf.math.real(x) is x


def test_conj_is_maths_conj():
    from neuroflow.ops import complex as complex_ops
    from neuroflow.ops import math
    assert complex_ops.conj is math.conj
    assert nf.math.conj is math.conj


def test_angle_of_real_negative_zero_is_zero():
    np.testing.assert_array_equal(nf.math.angle(nf.constant([-0.0, -3.0])).numpy(),
                                  np.array([0.0, np.pi], np.float32))


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("fn,tfn", [
    (lambda z, w: nf.math.real(z * w), lambda z, w: torch.real(z * w)),
    (lambda z, w: nf.math.imag(z * nf.math.conj(w)), lambda z, w: torch.imag(z * w.conj())),
    (lambda z, w: nf.math.angle(z), lambda z, w: torch.angle(z)),
    (lambda z, w: nf.math.real(z) * nf.math.imag(z), lambda z, w: z.real * z.imag),
], ids=["real_mul", "imag_mul_conj", "angle", "real_times_imag"])
def test_complex_gradient_convention_matches_torch(fn, tfn):
    """On complex sources the gradient is dL/dx + i dL/dy, as TF and PyTorch."""
    rng = np.random.default_rng(3)
    zv = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    wv = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    z, w = nf.constant(zv), nf.constant(wv)
    with nf.GradientTape() as tape:
        tape.watch(z)
        loss = nf.reduce_sum(fn(z, w))
    ours = tape.gradient(loss, z).numpy()
    tz = torch.tensor(zv, requires_grad=True)
    tfn(tz, torch.tensor(wv)).sum().backward()
    np.testing.assert_allclose(ours, tz.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_real_gradient_is_complex_dy():
    z = nf.constant(np.array([1 + 2j, 3 - 1j], np.complex64))
    with nf.GradientTape() as tape:
        tape.watch(z)
        loss = nf.reduce_sum(nf.math.real(z) * 2.0 + nf.math.imag(z) * 3.0)
    grad = tape.gradient(loss, z)
    assert grad.dtype == nf.complex64
    np.testing.assert_allclose(grad.numpy(), [2 + 3j, 2 + 3j])


def test_complex_in_graph_mode():
    from neuroflow.compat import v1
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, 3])
        y = v1.placeholder(nf.float32, [3])
        z = nf.complex(x, y)
        assert z.shape.as_list() == [None, 3] and z.dtype == nf.complex64
        parts = [nf.math.real(z), nf.math.imag(z), nf.math.angle(z)]
        assert all(p.dtype == nf.float32 for p in parts)
    with v1.Session(graph=graph) as sess:
        re, im, ang = sess.run(parts, {x: np.ones((2, 3), np.float32),
                                       y: np.array([1, 0, -1], np.float32)})
    np.testing.assert_allclose(ang[0], [np.pi / 4, 0, -np.pi / 4], rtol=1e-6)
    np.testing.assert_array_equal(im[1], [1, 0, -1])
