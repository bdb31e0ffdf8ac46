"""Op-table cases and focused tests for linear algebra (neuroflow/ops/linalg.py)."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from tests.optable import OpCase, parametrize, torch

RNG = np.random.default_rng(11)


def _draw(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape)


def _away_from_zero(*shape):
    """Magnitudes in [0.3, 2] with random signs: |x| has no kink nearby."""
    return RNG.uniform(0.3, 2.0, shape) * RNG.choice([-1.0, 1.0], shape)


def _mt(x):
    return x.transpose(-1, -2) if torch is not None and isinstance(x, torch.Tensor) \
        else np.swapaxes(x, -1, -2)


def _einsum_case(equation, *shapes, name=None, **kw):
    samples = [tuple(_draw(*s) for s in shapes)]
    return OpCase(name or f"einsum[{equation}]", lambda *xs: nf.einsum(equation, *xs), samples,
                  torch_fn=lambda *xs: torch.einsum(equation, *xs),
                  ref=lambda *xs: np.einsum(equation, *xs), **kw)


def _tensordot_case(axes, sa, sb, name):
    dims = axes if isinstance(axes, int) else [list(a) for a in axes]
    return OpCase(f"tensordot[{name}]", lambda a, b: nf.tensordot(a, b, axes),
                  [(_draw(*sa), _draw(*sb))],
                  torch_fn=lambda a, b: torch.tensordot(a, b, dims=dims),
                  ref=lambda a, b: np.tensordot(a, b, axes=axes))


def _vector_norm(ord, dim=None, keepdim=False):
    return lambda x: torch.linalg.vector_norm(x, ord=ord, dim=dim, keepdim=keepdim)


def _matrix_norm(ord, dim=(-2, -1), keepdim=False):
    return lambda x: torch.linalg.matrix_norm(x, ord=ord, dim=dim, keepdim=keepdim)


MATMUL_CASES = [
    OpCase("matmul", nf.matmul,
           [(_draw(3, 4), _draw(4, 5)), (_draw(1, 3), _draw(3, 1)), (_draw(2, 2), _draw(2, 2))],
           torch_fn=torch and torch.matmul, ref=np.matmul),
    OpCase("matmul_batched", nf.matmul, [(_draw(2, 3, 4), _draw(2, 4, 5))],
           torch_fn=torch and torch.matmul, ref=np.matmul),
    OpCase("matmul_broadcast_batch", nf.matmul,
           [(_draw(2, 1, 3, 4), _draw(3, 4, 2)), (_draw(1, 3, 2), _draw(2, 1, 2, 4))],
           torch_fn=torch and torch.matmul, ref=np.matmul),
    OpCase("matmul_stack_times_matrix", nf.matmul,
           [(_draw(2, 3, 4), _draw(4, 5)), (_draw(2, 2, 3, 4), _draw(4, 2))],
           torch_fn=torch and torch.matmul, ref=np.matmul),
    OpCase("matmul_matrix_times_stack", nf.matmul, [(_draw(3, 4), _draw(2, 4, 5))],
           torch_fn=torch and torch.matmul, ref=np.matmul),
    OpCase("matmul_transpose_a", lambda a, b: nf.matmul(a, b, transpose_a=True),
           [(_draw(4, 3), _draw(4, 5)), (_draw(2, 4, 3), _draw(4, 2))],
           torch_fn=lambda a, b: torch.matmul(_mt(a), b),
           ref=lambda a, b: np.matmul(_mt(a), b)),
    OpCase("matmul_transpose_b", lambda a, b: nf.matmul(a, b, transpose_b=True),
           [(_draw(3, 4), _draw(5, 4)), (_draw(2, 3, 4), _draw(5, 4)),
            (_draw(2, 3, 4), _draw(2, 5, 4))],
           torch_fn=lambda a, b: torch.matmul(a, _mt(b)),
           ref=lambda a, b: np.matmul(a, _mt(b))),
    OpCase("matmul_transpose_both", lambda a, b: nf.matmul(a, b, transpose_a=True,
                                                           transpose_b=True),
           [(_draw(4, 3), _draw(5, 4)), (_draw(2, 4, 3), _draw(1, 5, 4))],
           torch_fn=lambda a, b: torch.matmul(_mt(a), _mt(b)),
           ref=lambda a, b: np.matmul(_mt(a), _mt(b))),
    OpCase("matmul_adjoint", lambda a, b: nf.matmul(a, b, adjoint_a=True, adjoint_b=True),
           [(_draw(4, 3), _draw(5, 4))],
           torch_fn=lambda a, b: torch.matmul(_mt(a), _mt(b)),
           ref=lambda a, b: np.matmul(_mt(a), _mt(b))),
    OpCase("matmul_operator", lambda a, b: a @ b, [(_draw(3, 4), _draw(4, 2))],
           torch_fn=torch and torch.matmul, ref=np.matmul),
]

EINSUM_CASES = [
    _einsum_case("ij,jk->ik", (3, 4), (4, 5)),
    _einsum_case("ij,jk", (3, 4), (4, 5), name="einsum[implicit matmul]"),
    _einsum_case("ba,ca", (3, 4), (2, 4), name="einsum[implicit, sorted output]"),
    _einsum_case("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
    _einsum_case("...ij,...jk->...ik", (2, 3, 4), (4, 5), name="einsum[ellipsis ranks]"),
    _einsum_case("...ij,...jk->...ik", (2, 1, 3, 4), (3, 4, 2),
                 name="einsum[ellipsis broadcast]"),
    _einsum_case("...i,i", (2, 3, 4), (4,), name="einsum[implicit ellipsis]"),
    _einsum_case("i...->...", (3, 2, 2), name="einsum[leading sum, ellipsis out]"),
    _einsum_case("ij->", (3, 4)),
    _einsum_case("ij->j", (3, 4)),
    _einsum_case("ij->ji", (3, 4)),
    _einsum_case("i,j->ij", (3,), (4,)),
    _einsum_case("ij,ij->i", (3, 4), (3, 4)),
    _einsum_case("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    _einsum_case("bhqd,bhkd->bhqk", (2, 2, 3, 4), (2, 2, 5, 4)),
    _einsum_case("i,->i", (4,), (), name="einsum[scalar operand]"),
    _einsum_case("ii->", (3, 3), name="einsum[trace]"),
    _einsum_case("ii->i", (3, 3), name="einsum[diagonal]"),
    _einsum_case("bii->bi", (2, 3, 3), name="einsum[batched diagonal]"),
    _einsum_case("ij,jj->i", (2, 3), (3, 3), name="einsum[diagonal of a second operand]"),
]

TENSORDOT_CASES = [
    _tensordot_case(1, (3, 4), (4, 5), "1"),
    _tensordot_case(2, (2, 3, 4), (3, 4, 2), "2"),
    _tensordot_case(0, (3,), (2, 2), "0 (outer)"),
    _tensordot_case(([1], [0]), (3, 4), (4, 5), "pair"),
    _tensordot_case(([0, 2], [2, 0]), (2, 3, 4), (4, 5, 2), "permuted pairs"),
    _tensordot_case(([-1], [1]), (2, 3), (2, 3), "negative"),
]

NORM_CASES = [
    OpCase("norm", nf.norm, [(_draw(5),), (_draw(3, 4),), (_draw(2, 3, 2),)],
           torch_fn=_vector_norm(2), ref=lambda x: np.linalg.norm(x.reshape(-1))),
    OpCase("norm_axis", lambda x: nf.norm(x, axis=-1), [(_draw(3, 4),), (_draw(2, 3, 2),)],
           torch_fn=_vector_norm(2, -1), ref=lambda x: np.linalg.norm(x, axis=-1)),
    OpCase("norm_ord2_keepdims", lambda x: nf.linalg.norm(x, ord=2, axis=0, keepdims=True),
           [(_draw(3, 4),)], torch_fn=_vector_norm(2, 0, True),
           ref=lambda x: np.linalg.norm(x, axis=0, keepdims=True)),
    OpCase("norm_ord1", lambda x: nf.norm(x, ord=1, axis=1), [(_away_from_zero(3, 4),)],
           torch_fn=_vector_norm(1, 1), ref=lambda x: np.linalg.norm(x, ord=1, axis=1)),
    OpCase("norm_ord_inf", lambda x: nf.norm(x, ord=np.inf),
           [(_away_from_zero(5),), (_away_from_zero(3, 4),)], torch_fn=_vector_norm(np.inf),
           ref=lambda x: np.max(np.abs(x))),
    OpCase("norm_ord3", lambda x: nf.norm(x, ord=3, axis=0), [(_away_from_zero(4, 3),)],
           torch_fn=_vector_norm(3, 0), ref=lambda x: np.linalg.norm(x, ord=3, axis=0)),
    OpCase("norm_fro", lambda x: nf.norm(x, ord="fro", axis=[-2, -1]),
           [(_draw(3, 4),), (_draw(2, 3, 2),)], torch_fn=_matrix_norm("fro"),
           ref=lambda x: np.linalg.norm(x, ord="fro", axis=(-2, -1))),
    OpCase("norm_matrix_euclidean_keepdims",
           lambda x: nf.linalg.norm(x, axis=(0, 2), keepdims=True), [(_draw(2, 3, 2),)],
           torch_fn=_matrix_norm("fro", (0, 2), True),
           ref=lambda x: np.sqrt(np.sum(x * x, axis=(0, 2), keepdims=True))),
    OpCase("norm_matrix_ord1", lambda x: nf.norm(x, ord=1, axis=[0, 1]),
           [(_away_from_zero(3, 4),)], torch_fn=_matrix_norm(1, (0, 1)),
           ref=lambda x: np.linalg.norm(x, ord=1)),
    OpCase("norm_matrix_ord_inf", lambda x: nf.norm(x, ord=np.inf, axis=[-2, -1]),
           [(_away_from_zero(3, 4),), (_away_from_zero(2, 2, 3),)],
           torch_fn=_matrix_norm(np.inf), ref=lambda x: np.linalg.norm(x, ord=np.inf,
                                                                      axis=(-2, -1))),
]

MATRIX_CASES = [
    OpCase("matrix_transpose", nf.linalg.matrix_transpose, [(_draw(3, 4),), (_draw(2, 3, 4),)],
           torch_fn=_mt, ref=_mt),
    OpCase("adjoint", nf.linalg.adjoint, [(_draw(3, 4),)], torch_fn=_mt, ref=_mt),
    OpCase("diag_part", nf.linalg.diag_part, [(_draw(3, 3),), (_draw(2, 3, 4),), (_draw(4, 2),)],
           torch_fn=lambda x: torch.diagonal(x, dim1=-2, dim2=-1),
           ref=lambda x: np.diagonal(x, axis1=-2, axis2=-1)),
    OpCase("trace", nf.linalg.trace, [(_draw(3, 3),), (_draw(2, 3, 4),)],
           torch_fn=lambda x: torch.diagonal(x, dim1=-2, dim2=-1).sum(-1),
           ref=lambda x: np.trace(x, axis1=-2, axis2=-1)),
]

CASES = MATMUL_CASES + EINSUM_CASES + TENSORDOT_CASES + NORM_CASES + MATRIX_CASES


@parametrize(CASES)
def test_op(case, check):
    check(case)


# -- focused tests ------------------------------------------------------------------------


def test_namespaces():
    for name in ["matmul", "einsum", "tensordot", "norm"]:
        assert getattr(nf, name) is getattr(nf.linalg, name), name
    for name in ["matrix_transpose", "adjoint", "trace", "diag_part"]:
        assert callable(getattr(nf.linalg, name)), name


def test_matmul_keeps_float32_and_owns_its_output():
    a = nf.constant(_draw(2, 3, 4).astype(np.float32))
    b = nf.constant(_draw(4, 5).astype(np.float32))
    for out in [nf.matmul(a, b), nf.matmul(a, b, transpose_b=False),
                nf.matmul(b, b, transpose_a=True), nf.matmul(a, a, transpose_b=True)]:
        assert out.dtype == nf.float32 and out.numpy().dtype == np.float32
        assert not np.shares_memory(out.numpy(), a.numpy())
        assert not np.shares_memory(out.numpy(), b.numpy())
    with nf.GradientTape() as tape:
        tape.watch([a, b])
        y = nf.reduce_sum(nf.matmul(a, b))
    ga, gb = tape.gradient(y, [a, b])
    assert ga.numpy().dtype == np.float32 and gb.numpy().dtype == np.float32
    np.testing.assert_allclose(gb.numpy(), np.einsum("bik->k", a.numpy())[:, None]
                               * np.ones((1, 5)), rtol=1e-5)


def test_matmul_rejects_mixed_dtypes():
    with pytest.raises(nf.errors.InvalidArgumentError, match="dtype"):
        nf.matmul(nf.ones([2, 2]), nf.ones([2, 2], nf.float64))


@pytest.mark.parametrize("sa, sb", [((3,), (3, 4)), ((2, 3), (4,))])
def test_matmul_rank_error_names_both_shapes(sa, sb):
    with pytest.raises(nf.errors.InvalidArgumentError) as info:
        nf.matmul(nf.ones(sa), nf.ones(sb))
    assert str(sa).replace(" ", "") in str(info.value).replace(" ", "")
    assert str(sb).replace(" ", "") in str(info.value).replace(" ", "")
    with nf.Graph().as_default():
        with pytest.raises(nf.errors.InvalidArgumentError, match=r"rank >= 2.*\(3,\)"):
            nf.matmul(v1.placeholder(nf.float32, [3]), v1.placeholder(nf.float32, [3, 4]))


def test_matmul_size_mismatch_names_both_shapes():
    with nf.Graph().as_default():
        a = v1.placeholder(nf.float32, [None, 3])
        with pytest.raises(nf.errors.InvalidArgumentError,
                           match=r"MatMul.*\(None, 3\).*\(4, 5\)"):
            nf.matmul(a, v1.placeholder(nf.float32, [4, 5]))
        with pytest.raises(nf.errors.InvalidArgumentError, match="transpose_b"):
            nf.matmul(a, v1.placeholder(nf.float32, [4, 5]), transpose_b=True)
        assert nf.matmul(a, v1.placeholder(nf.float32, [5, 3]), transpose_b=True
                         ).shape.as_list() == [None, 5]
    with pytest.raises(nf.errors.InvalidArgumentError, match="MatMul"):
        nf.matmul(nf.ones([2, 3, 4]), nf.ones([3, 5]))


def test_matmul_gradient_uses_transpose_flags_not_transposes():
    with nf.Graph().as_default() as g:
        a = v1.placeholder(nf.float32, [None, 3, 4])
        b = v1.placeholder(nf.float32, [4, 5])
        c = v1.placeholder(nf.float32, [5, 2])
        y = nf.reduce_sum(nf.matmul(nf.matmul(a, b), c, transpose_b=False))
        before = len(g.operations)
        ga, gb, gc = nf.gradients(y, [a, b, c])
        grad_types = {op.type for op in g.operations[before:]}
        assert "MatMul" in grad_types
        assert not grad_types & {"Transpose", "MatrixTranspose", "Einsum"}, grad_types
        assert ga.shape.as_list() == [None, 3, 4]
        assert gb.shape.as_list() == [4, 5] and gc.shape.as_list() == [5, 2]


def test_stack_times_matrix_gradient_in_a_graph_with_unknown_batch():
    av, bv = _draw(3, 2, 4).astype(np.float32), _draw(5, 4).astype(np.float32)
    dyw = _draw(3, 2, 5).astype(np.float32)
    with nf.Graph().as_default():
        a = v1.placeholder(nf.float32, [None, None, 4])
        b = v1.placeholder(nf.float32, [5, 4])
        y = nf.reduce_sum(nf.matmul(a, b, transpose_b=True) * dyw)
        ga, gb = nf.gradients(y, [a, b])
        with v1.Session() as sess:
            got_a, got_b = sess.run([ga, gb], {a: av, b: bv})
    np.testing.assert_allclose(got_a, dyw @ bv, rtol=1e-5)
    np.testing.assert_allclose(got_b, np.einsum("bmn,bmk->nk", dyw, av), rtol=1e-5)


def test_matmul_of_complex_with_adjoint():
    a = (_draw(3, 2) + 1j * _draw(3, 2)).astype(np.complex64)
    b = (_draw(3, 4) + 1j * _draw(3, 4)).astype(np.complex64)
    out = nf.matmul(a, b, adjoint_a=True)
    assert out.dtype == nf.complex64
    np.testing.assert_allclose(out.numpy(), a.conj().T @ b, rtol=1e-5)


def test_einsum_outputs_own_their_memory():
    x = nf.constant(_draw(3, 3))
    for eq in ["ii->i", "ij->ji", "ij->ij"]:
        assert not np.shares_memory(nf.einsum(eq, x).numpy(), x.numpy())


def test_einsum_keeps_float32_on_large_contractions():
    a = _draw(64, 128).astype(np.float32)
    b = _draw(128, 96).astype(np.float32)
    out = nf.einsum("ij,jk->ik", a, b)
    assert out.numpy().dtype == np.float32
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-4, atol=1e-4)
    td = nf.tensordot(a, b, 1)
    assert td.numpy().dtype == np.float32


def test_einsum_takes_a_list_and_a_name():
    a, b = _draw(2, 3), _draw(3, 2)
    np.testing.assert_allclose(nf.einsum("ij,jk->ik", [a, b], name="e").numpy(), a @ b)


@pytest.mark.parametrize("equation, shapes, match", [
    ("ij,jk->ik", [(2, 3)], "1 input"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "size 3 .* 4"),
    ("ij->k", [(2, 3)], "'k' does not appear"),
    ("ij->ii", [(2, 3)], "repeats"),
    ("ijk->i", [(2, 3)], "name 3 axes but input 0 has rank 2"),
    ("i$->i", [(2, 3)], "not valid"),
    ("i..j->i", [(2, 3)], "'...'"),
])
def test_einsum_errors(equation, shapes, match):
    with pytest.raises((ValueError, nf.errors.InvalidArgumentError), match=match):
        nf.einsum(equation, *[nf.ones(s) for s in shapes])


def test_einsum_graph_shapes_and_gradients_with_unknown_dims():
    av, bv = _draw(4, 2, 3), _draw(3, 5)
    with nf.Graph().as_default():
        a = v1.placeholder(nf.float64, [None, 2, 3])
        b = v1.placeholder(nf.float64, [3, None])
        y = nf.einsum("...ij,jk->...ik", a, b)
        assert y.shape.as_list() == [None, 2, None]
        s = nf.einsum("bij->j", a)
        assert s.shape.as_list() == [3]
        ga, gb = nf.gradients(nf.reduce_sum(y) + nf.reduce_sum(s), [a, b])
        with v1.Session() as sess:
            got_a, got_b = sess.run([ga, gb], {a: av, b: bv})
    np.testing.assert_allclose(got_a, np.broadcast_to(bv.sum(1), av.shape) + 1, rtol=1e-12)
    np.testing.assert_allclose(got_b, np.broadcast_to(av.sum((0, 1))[:, None], bv.shape),
                               rtol=1e-12)


def test_einsum_repeated_subscript_gradient_needs_static_shapes():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float64, [None, 3, 3])
        y = nf.einsum("bii->b", x)
        with pytest.raises(NotImplementedError, match="repeated subscript"):
            nf.gradients(nf.reduce_sum(y), x)


def test_tensordot_errors():
    with pytest.raises(ValueError, match="axes=3 does not fit"):
        nf.tensordot(nf.ones([2, 3]), nf.ones([3, 4]), 3)
    with pytest.raises(ValueError, match="axis 1 of a .* has size 3 but axis 0 of b"):
        nf.tensordot(nf.ones([2, 3]), nf.ones([4, 3]), [[1], [0]])
    with pytest.raises(ValueError, match="paired"):
        nf.tensordot(nf.ones([2, 3]), nf.ones([3, 2]), [[0, 1], [0]])


def test_norm_errors_and_dtypes():
    x = nf.ones([3, 4])
    with pytest.raises(ValueError, match="'fro' needs a pair of axes"):
        nf.norm(x, ord="fro")
    with pytest.raises(ValueError, match="not a supported vector norm"):
        nf.norm(x, ord=-1)
    with pytest.raises(ValueError, match="not a supported matrix norm"):
        nf.norm(x, ord=3, axis=[0, 1])
    with pytest.raises(NotImplementedError, match="2-norm"):
        nf.norm(x, ord=2, axis=[0, 1])
    with pytest.raises(ValueError, match="two different axes"):
        nf.norm(x, axis=[1, -1])
    with pytest.raises(ValueError, match="'axis' must be"):
        nf.norm(nf.ones([2, 2, 2]), axis=[0, 1, 2])
    assert nf.norm(x).dtype == nf.float32
    np.testing.assert_allclose(nf.norm(x).numpy(), np.sqrt(12.0), rtol=1e-6)
    z = nf.constant(np.array([3 + 4j, 0j], np.complex64))
    assert nf.norm(z).dtype == nf.float32
    np.testing.assert_allclose(nf.norm(z).numpy(), 5.0, rtol=1e-6)
    np.testing.assert_allclose(nf.norm(z, ord=1).numpy(), 5.0, rtol=1e-6)


def test_matrix_helpers_check_rank():
    with pytest.raises(nf.errors.InvalidArgumentError, match="rank >= 2"):
        nf.linalg.matrix_transpose(nf.ones([3]))
    with pytest.raises(nf.errors.InvalidArgumentError, match="rank >= 2"):
        nf.linalg.trace(nf.ones([3]))
    with pytest.raises(NotImplementedError):
        nf.linalg.diag_part(nf.ones([3, 3]), k=1)
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 3, 5])
        assert nf.linalg.matrix_transpose(x).shape.as_list() == [None, 5, 3]
        assert nf.linalg.diag_part(x).shape.as_list() == [None, 3]
        assert nf.linalg.trace(x).shape.as_list() == [None]


def test_matmul_tensorflow_arguments():
    a, b = nf.constant([[1, 2]], nf.int8), nf.constant([[3], [4]], nf.int8)
    out = nf.matmul(a, b, output_type=nf.int32, a_is_sparse=True, name="mm")
    assert out.dtype == nf.int32 and out.numpy().tolist() == [[11]]
    with pytest.raises(ValueError, match="Only one of transpose_a and adjoint_a"):
        nf.matmul(nf.ones([2, 2]), nf.ones([2, 2]), transpose_a=True, adjoint_a=True)
