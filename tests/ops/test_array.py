"""Op-table cases and focused tests for array ops: creation, shapes, transposes, joining and
splitting, tiling, padding, reversing, slicing (neuroflow/ops/array.py and the modules it
re-exports: creation.py, joining.py, tiling.py)."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from tests.optable import OpCase, parametrize, torch

RNG = np.random.default_rng(11)


def _draw(*shape):
    return RNG.uniform(-2.0, 2.0, shape)


def _f():
    return torch.nn.functional


def _np_pad(paddings, mode="constant", **kw):
    return lambda x: np.pad(x, paddings, mode=mode, **kw)


def _torch_pad(paddings, **kw):
    while paddings and paddings[0] == [0, 0]:  # torch pads only trailing dims
        paddings = paddings[1:]
    flat = [p for pair in reversed(paddings) for p in pair]
    return lambda x: _f().pad(x, flat, **kw)


def _linspace_ref(num, axis=0):
    return lambda a, b: np.linspace(a, b, num, axis=axis)


def _torch_linspace(num, axis=0):
    def fn(a, b):
        a, b = torch.broadcast_tensors(a, b)
        t = torch.linspace(0, 1, num, dtype=a.dtype)
        out = a.unsqueeze(axis) + (b - a).unsqueeze(axis) * t.reshape(
            (num,) + (1,) * (a.dim() - (axis % (a.dim() + 1))))
        return out
    return fn


CASES = [
    # -- creation and shapes
    OpCase("fill", lambda v: nf.fill([2, 3], v), [(_draw(),)],
           torch_fn=lambda v: v.expand(2, 3), ref=lambda v: np.full((2, 3), v)),
    OpCase("zeros_like", nf.zeros_like, [(_draw(),), (_draw(3, 4),)], grad=False,
           ref=np.zeros_like, torch_fn=lambda x: torch.zeros_like(x)),
    OpCase("ones_like", nf.ones_like, [(_draw(5),), (_draw(2, 3, 2),)], grad=False,
           ref=np.ones_like, torch_fn=lambda x: torch.ones_like(x)),
    OpCase("identity", nf.identity, [(_draw(),), (_draw(5),), (_draw(3, 4),)],
           torch_fn=lambda x: x.clone(), ref=lambda x: x),
    OpCase("shape", nf.shape, [(_draw(),), (_draw(3, 4),)], grad=False,
           torch_fn=lambda x: torch.tensor(x.shape), ref=lambda x: np.array(np.shape(x))),
    OpCase("size", nf.size, [(_draw(),), (_draw(2, 3, 2),)], grad=False,
           torch_fn=lambda x: torch.tensor(x.numel()), ref=np.size),
    OpCase("rank", nf.rank, [(_draw(),), (_draw(2, 3, 2),)], grad=False,
           torch_fn=lambda x: torch.tensor(x.dim()), ref=np.ndim),
    OpCase("range", lambda s, l, d: nf.range(s, l, d),
           [(np.array(1), np.array(9), np.array(3)), (np.array(5), np.array(-2), np.array(-2))],
           grad=False, torch_fn=lambda s, l, d: torch.arange(s, l, d), ref=np.arange),
    OpCase("linspace", lambda a, b: nf.linspace(a, b, 5),
           [(_draw(), _draw()), (_draw(3), _draw(3)), (_draw(3, 1), _draw(4))],
           torch_fn=_torch_linspace(5), ref=_linspace_ref(5)),
    OpCase("linspace_axis-1", lambda a, b: nf.linspace(a, b, 4, axis=-1),
           [(_draw(3), _draw(3)), (_draw(2, 1), _draw(3))],
           torch_fn=_torch_linspace(4, -1), ref=_linspace_ref(4, -1)),
    OpCase("reshape", lambda x: nf.reshape(x, [-1, 2]), [(_draw(4),), (_draw(3, 4),)],
           torch_fn=lambda x: x.reshape(-1, 2), ref=lambda x: x.reshape(-1, 2)),
    OpCase("reshape_scalar", lambda x: nf.reshape(x, [1, 1]), [(_draw(),)],
           torch_fn=lambda x: x.reshape(1, 1), ref=lambda x: np.reshape(x, (1, 1))),
    OpCase("reshape_dynamic", lambda x: nf.reshape(x, [nf.shape(x)[0], -1]),
           [(_draw(2, 3, 2),), (_draw(3, 4),)],
           torch_fn=lambda x: x.reshape(x.shape[0], -1),
           ref=lambda x: x.reshape(x.shape[0], -1)),
    OpCase("broadcast_to", lambda x: nf.broadcast_to(x, [2, 3, 4]),
           [(_draw(),), (_draw(4),), (_draw(3, 1),)],
           torch_fn=lambda x: torch.broadcast_to(x, (2, 3, 4)),
           ref=lambda x: np.broadcast_to(x, (2, 3, 4))),
    # -- transposes and size-1 dims
    OpCase("transpose", nf.transpose, [(_draw(),), (_draw(5),), (_draw(3, 4),), (_draw(2, 3, 4),)],
           torch_fn=lambda x: x.permute(tuple(reversed(range(x.dim())))), ref=np.transpose),
    OpCase("transpose_perm", lambda x: nf.transpose(x, [1, 2, 0]), [(_draw(2, 3, 4),)],
           torch_fn=lambda x: x.permute(1, 2, 0), ref=lambda x: np.transpose(x, (1, 2, 0))),
    OpCase("transpose_negative_perm", lambda x: nf.transpose(x, [-1, 0, 1]), [(_draw(2, 3, 4),)],
           torch_fn=lambda x: x.permute(2, 0, 1), ref=lambda x: np.transpose(x, (2, 0, 1))),
    OpCase("T", lambda x: x.T, [(_draw(3, 4),), (_draw(5),)],
           torch_fn=lambda x: x.permute(tuple(reversed(range(x.dim())))), ref=np.transpose),
    OpCase("transpose_conjugate", lambda x: nf.transpose(x, conjugate=True), [(_draw(3, 4),)],
           torch_fn=lambda x: x.T, ref=np.transpose),
    OpCase("squeeze", nf.squeeze, [(_draw(1, 3, 1),), (_draw(),), (_draw(1),)],
           torch_fn=lambda x: torch.squeeze(x), ref=np.squeeze),
    OpCase("squeeze_axis", lambda x: nf.squeeze(x, axis=[-1]), [(_draw(1, 3, 1),)],
           torch_fn=lambda x: torch.squeeze(x, -1), ref=lambda x: np.squeeze(x, -1)),
    OpCase("expand_dims", lambda x: nf.expand_dims(x, 0), [(_draw(),), (_draw(5),)],
           torch_fn=lambda x: torch.unsqueeze(x, 0), ref=lambda x: np.expand_dims(x, 0)),
    OpCase("expand_dims_-1", lambda x: nf.expand_dims(x, -1), [(_draw(3, 4),)],
           torch_fn=lambda x: torch.unsqueeze(x, -1), ref=lambda x: np.expand_dims(x, -1)),
    # -- joining and splitting
    OpCase("concat_axis0", lambda *xs: nf.concat(xs, axis=0),
           [(_draw(2), _draw(3)), (_draw(2, 3), _draw(1, 3), _draw(2, 3))],
           torch_fn=lambda *xs: torch.cat(xs, 0), ref=lambda *xs: np.concatenate(xs, 0)),
    OpCase("concat_axis-1", lambda *xs: nf.concat(xs, axis=-1),
           [(_draw(3, 2), _draw(3, 4)), (_draw(2, 3, 1), _draw(2, 3, 2))],
           torch_fn=lambda *xs: torch.cat(xs, -1), ref=lambda *xs: np.concatenate(xs, -1)),
    OpCase("concat_one", lambda x: nf.concat([x], axis=0), [(_draw(3),)],
           torch_fn=lambda x: torch.cat([x], 0), ref=lambda x: x),
    OpCase("stack", lambda *xs: nf.stack(xs), [(_draw(), _draw()), (_draw(4), _draw(4)),
                                               (_draw(3, 2), _draw(3, 2), _draw(3, 2))],
           torch_fn=lambda *xs: torch.stack(xs), ref=lambda *xs: np.stack(xs)),
    OpCase("stack_axis-1", lambda *xs: nf.stack(xs, axis=-1), [(_draw(3, 2), _draw(3, 2))],
           torch_fn=lambda *xs: torch.stack(xs, -1), ref=lambda *xs: np.stack(xs, -1)),
    OpCase("unstack", nf.unstack, [(_draw(3),), (_draw(3, 4),)],
           torch_fn=lambda x: torch.unbind(x), ref=lambda x: list(x)),
    OpCase("unstack_axis1", lambda x: nf.unstack(x, axis=1), [(_draw(2, 3, 2),)],
           torch_fn=lambda x: torch.unbind(x, 1), ref=lambda x: list(np.moveaxis(x, 1, 0))),
    OpCase("split_num", lambda x: nf.split(x, 2, axis=1), [(_draw(3, 4),), (_draw(2, 4, 1),)],
           torch_fn=lambda x: torch.chunk(x, 2, 1), ref=lambda x: np.split(x, 2, axis=1)),
    OpCase("split_sizes", lambda x: nf.split(x, [1, -1, 2]), [(_draw(5),), (_draw(5, 2),)],
           torch_fn=lambda x: torch.split(x, [1, 2, 2]), ref=lambda x: np.split(x, [1, 3])),
    # -- tiling, padding, reversing, slicing
    OpCase("tile", lambda x: nf.tile(x, [2, 3]), [(_draw(2, 3),), (_draw(1, 2),)],
           torch_fn=lambda x: torch.tile(x, (2, 3)), ref=lambda x: np.tile(x, (2, 3))),
    OpCase("tile_zero", lambda x: nf.tile(x, [0, 2]), [(_draw(2, 3),)],
           torch_fn=lambda x: torch.tile(x, (0, 2)), ref=lambda x: np.tile(x, (0, 2))),
    OpCase("tile_scalar", lambda x: nf.tile(x, []), [(_draw(),)],
           torch_fn=lambda x: x.clone(), ref=lambda x: x),
    OpCase("pad_constant", lambda x: nf.pad(x, [[1, 0], [2, 1]]), [(_draw(2, 3),)],
           torch_fn=_torch_pad([[1, 0], [2, 1]]), ref=_np_pad([[1, 0], [2, 1]])),
    OpCase("pad_constant_value", lambda x: nf.pad(x, [[0, 2]], constant_values=1.5),
           [(_draw(4),)], torch_fn=_torch_pad([[0, 2]], value=1.5),
           ref=_np_pad([[0, 2]], constant_values=1.5)),
    OpCase("pad_reflect", lambda x: nf.pad(x, [[0, 0], [2, 1], [1, 3]], "reflect"),
           [(_draw(2, 3, 4),)], torch_fn=_torch_pad([[0, 0], [2, 1], [1, 3]], mode="reflect"),
           ref=_np_pad([[0, 0], [2, 1], [1, 3]], "reflect")),
    OpCase("pad_symmetric", lambda x: nf.pad(x, [[3, 1], [2, 0]], "SYMMETRIC"),
           [(_draw(3, 2),)], ref=_np_pad([[3, 1], [2, 0]], "symmetric"),
           skip={"torch": "torch.nn.functional.pad has no symmetric mode"}),
    OpCase("reverse", lambda x: nf.reverse(x, [0]), [(_draw(5),), (_draw(3, 4),)],
           torch_fn=lambda x: torch.flip(x, [0]), ref=lambda x: np.flip(x, 0)),
    OpCase("reverse_axes", lambda x: nf.reverse(x, [-1, 0]), [(_draw(2, 3, 4),)],
           torch_fn=lambda x: torch.flip(x, [-1, 0]), ref=lambda x: np.flip(x, (-1, 0))),
    OpCase("slice", lambda x: nf.slice(x, [1, 0], [2, -1]), [(_draw(3, 4),)],
           torch_fn=lambda x: x[1:3, 0:], ref=lambda x: x[1:3, 0:]),
    OpCase("slice_vector", lambda x: nf.slice(x, [2], [3]), [(_draw(5),)],
           torch_fn=lambda x: x[2:5], ref=lambda x: x[2:5]),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


# -- creation ------------------------------------------------------------------------------

def test_range_dtypes_follow_tf():
    assert nf.range(5).dtype == nf.int32
    assert nf.range(1.0, 2.0, 0.25).dtype == nf.float32
    assert nf.range(0, 3, 0.5).dtype == nf.float32  # a float argument makes it float
    assert nf.range(3, dtype=nf.int64).dtype == nf.int64
    assert nf.range(nf.constant(4, nf.int64)).dtype == nf.int64
    np.testing.assert_array_equal(nf.range(1.0, 2.0, 0.25).numpy(), [1.0, 1.25, 1.5, 1.75])
    np.testing.assert_array_equal(nf.range(5, 0, -2).numpy(), [5, 3, 1])
    np.testing.assert_array_equal(nf.range(nf.constant(3)).numpy(), [0, 1, 2])


def test_range_errors():
    with pytest.raises(nf.errors.InvalidArgumentError, match="delta != 0"):
        nf.range(0, 5, 0)
    with pytest.raises(nf.errors.InvalidArgumentError, match="start <= limit"):
        nf.range(5, 1)


def test_range_in_graph():
    with nf.Graph().as_default():
        n = v1.placeholder(nf.int32, [])
        r = nf.range(n)
        fixed = nf.range(2, 8, 2)
        assert r.shape.as_list() == [None]
        assert fixed.shape.as_list() == [3]
        with v1.Session() as sess:
            np.testing.assert_array_equal(sess.run(r, {n: 4}), [0, 1, 2, 3])


def test_eye():
    np.testing.assert_array_equal(nf.eye(2).numpy(), np.eye(2))
    e = nf.eye(2, 3, batch_shape=[4], dtype=nf.int32)
    assert e.shape == (4, 2, 3) and e.dtype == nf.int32
    np.testing.assert_array_equal(e.numpy()[3], np.eye(2, 3))


def test_zeros_ones_fill_dtypes():
    assert nf.zeros([2], nf.int64).dtype == nf.int64
    assert nf.ones([], nf.bool).numpy().item() is True
    assert nf.fill([2], 3).dtype == nf.int32
    assert nf.fill([2], 3.0).dtype == nf.float32
    assert nf.fill([2], True).dtype == nf.bool
    assert nf.zeros_like(nf.constant([1, 2]), dtype=nf.float32).dtype == nf.float32
    assert nf.ones_like(nf.constant([True])).dtype == nf.bool


def test_linspace_last_value_is_stop_and_errors():
    assert nf.linspace(0.0, 1.0, 7).numpy()[-1] == np.float32(1.0)
    assert nf.linspace(2.0, 3.0, 1).numpy().tolist() == [2.0]
    with pytest.raises(ValueError, match="num > 0"):
        nf.linspace(0.0, 1.0, 0)
    with pytest.raises(TypeError, match="floating"):
        nf.linspace(nf.constant(0), nf.constant(4), 3)


def test_identity_reads_variable():
    v = nf.Variable([1.0, 2.0])
    out = nf.identity(v)
    assert isinstance(out, nf.Tensor)
    np.testing.assert_array_equal(out.numpy(), [1.0, 2.0])


# -- reshape and shapes --------------------------------------------------------------------

def test_reshape_accepts_scalar_tensors_in_the_shape_list():
    x = nf.zeros([2, 3, 4])
    assert nf.reshape(x, [nf.shape(x)[0], -1]).shape == (2, 12)
    assert nf.reshape(x, [nf.constant(4), 6]).shape == (4, 6)
    assert nf.reshape(x, nf.TensorShape([6, 4])).shape == (6, 4)


def test_reshape_static_shapes_in_graph():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 2, 3])
        flat = nf.reshape(x, [nf.shape(x)[0], -1])
        assert flat.shape.as_list() == [None, 6]
        assert nf.reshape(x, [-1, 3]).shape.as_list() == [None, 3]
        assert nf.reshape(x, nf.shape(x)).shape.as_list() == [None, 2, 3]
        back = nf.reshape(flat, nf.concat([nf.shape(x)[:1], [3, 2]], 0))
        assert back.shape.as_list() == [None, 3, 2]
        y = v1.placeholder(nf.float32, [4, 6])
        assert nf.reshape(y, [2, -1]).shape.as_list() == [2, 12]
        with pytest.raises(nf.errors.InvalidArgumentError, match="Cannot reshape"):
            nf.reshape(y, [5, -1])
        with pytest.raises(nf.errors.InvalidArgumentError, match="at most one"):
            nf.reshape(y, [-1, -1])
        with v1.Session() as sess:
            got = sess.run(back, {x: np.arange(12, dtype=np.float32).reshape(2, 2, 3)})
        np.testing.assert_array_equal(got, np.arange(12).reshape(2, 3, 2))


def test_zeros_with_dynamic_dims():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 5])
        z = nf.zeros([nf.shape(x)[0], 3])
        o = nf.ones(nf.shape(x), nf.int32)
        assert z.shape.as_list() == [None, 3]
        assert o.shape.as_list() == [None, 5] and o.dtype == nf.int32
        with v1.Session() as sess:
            zv, ov = sess.run([z, o], {x: np.zeros((2, 5), np.float32)})
        assert zv.shape == (2, 3) and ov.shape == (2, 5)


def test_shape_ops_on_unknown_dims():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 3])
        assert nf.shape(x).shape.as_list() == [2]
        assert nf.size(x).shape.as_list() == []
        with v1.Session() as sess:
            s, n, r = sess.run([nf.shape(x), nf.size(x), nf.rank(x)],
                               {x: np.zeros((4, 3), np.float32)})
        assert s.tolist() == [4, 3] and n == 12 and r == 2


# -- transposes, squeeze, expand_dims ------------------------------------------------------

def test_transpose_errors_and_dtypes():
    with pytest.raises(ValueError, match="not a permutation"):
        nf.transpose(nf.zeros([2, 3]), [0, 0])
    with pytest.raises(nf.errors.InvalidArgumentError, match="perm"):
        nf.transpose(nf.zeros([2, 3]), [1, 0, 2])
    t = nf.transpose(nf.constant([[True, False]]))
    assert t.dtype == nf.bool and t.numpy().tolist() == [[True], [False]]
    c = nf.constant(np.array([[1 + 2j, 3 - 1j]], np.complex64))
    np.testing.assert_array_equal(nf.transpose(c, conjugate=True).numpy(),
                                  [[1 - 2j], [3 + 1j]])


def test_transpose_squeeze_expand_static_shapes():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 1, 4])
        assert nf.transpose(x).shape.as_list() == [4, 1, None]
        assert nf.transpose(x, [2, 0, 1]).shape.as_list() == [4, None, 1]
        assert nf.squeeze(x, [1]).shape.as_list() == [None, 4]
        assert nf.squeeze(x).shape.rank is None  # a None dim might be 1
        assert nf.expand_dims(x, 1).shape.as_list() == [None, 1, 1, 4]
        assert nf.expand_dims(x, -1).shape.as_list() == [None, 1, 4, 1]
        unknown = v1.placeholder(nf.float32, None)
        assert nf.transpose(unknown).shape.rank is None
        assert nf.transpose(unknown, [1, 0]).shape.as_list() == [None, None]


def test_squeeze_errors():
    with pytest.raises(nf.errors.InvalidArgumentError, match="Can not squeeze dim\\[1\\]"):
        nf.squeeze(nf.zeros([1, 3]), axis=[1])
    with pytest.raises(nf.errors.InvalidArgumentError, match="out of range"):
        nf.expand_dims(nf.zeros([2]), 3)
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 3])
        with pytest.raises(nf.errors.InvalidArgumentError, match="expected a dimension of 1"):
            nf.squeeze(x, [1])


# -- joining and splitting -----------------------------------------------------------------

def test_concat_stack_errors():
    with pytest.raises(nf.errors.InvalidArgumentError, match="ranks"):
        nf.concat([nf.zeros([2]), nf.zeros([2, 2])], 0)
    with pytest.raises(nf.errors.InvalidArgumentError, match="scalars"):
        nf.concat([nf.constant(1.0), nf.constant(2.0)], 0)
    with pytest.raises(nf.errors.InvalidArgumentError, match="dtype"):
        nf.concat([nf.zeros([2]), nf.zeros([2], nf.int32)], 0)
    with pytest.raises(nf.errors.InvalidArgumentError, match="must match"):
        nf.stack([nf.zeros([2]), nf.zeros([3])])
    with nf.Graph().as_default():
        with pytest.raises(nf.errors.InvalidArgumentError, match="must match"):
            nf.concat([v1.placeholder(nf.float32, [2, 3]),
                       v1.placeholder(nf.float32, [2, 4])], axis=0)


def test_join_int_and_bool_tensors():
    a = nf.constant([[1, 2]])
    assert nf.concat([a, a], 0).numpy().tolist() == [[1, 2], [1, 2]]
    assert nf.stack([a, a], 1).dtype == nf.int32
    assert nf.stack([1, 2, 3]).numpy().tolist() == [1, 2, 3]
    b = nf.constant([True, False])
    assert nf.concat([b, b], 0).dtype == nf.bool
    assert [t.numpy().tolist() for t in nf.unstack(b)] == [True, False]
    assert [t.dtype for t in nf.split(nf.constant([1, 2, 3, 4]), 2)] == [nf.int32] * 2


def test_split_errors():
    with pytest.raises(nf.errors.InvalidArgumentError, match="evenly divide"):
        nf.split(nf.zeros([5]), 2)
    with pytest.raises(nf.errors.InvalidArgumentError, match="add up"):
        nf.split(nf.zeros([5]), [2, 2])
    with pytest.raises(ValueError, match="at most one -1"):
        nf.split(nf.zeros([5]), [-1, -1])
    with pytest.raises(ValueError, match="positive"):
        nf.split(nf.zeros([5]), 0)


def test_unstack_needs_num_when_the_dim_is_unknown():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 3])
        with pytest.raises(ValueError, match="Cannot infer argument `num`"):
            nf.unstack(x)
        rows = nf.unstack(x, num=2)
        cols = nf.unstack(x, axis=1)
        assert len(rows) == 2 and rows[0].shape.as_list() == [3]
        assert len(cols) == 3 and cols[0].shape.as_list() == [None]
        with v1.Session() as sess:
            with pytest.raises(nf.errors.InvalidArgumentError, match="Cannot unstack 2"):
                sess.run(rows[0], {x: np.zeros((3, 3), np.float32)})


def test_join_split_static_shapes():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 6])
        y = v1.placeholder(nf.float32, [2, 6])
        assert nf.concat([x, y], 0).shape.as_list() == [None, 6]
        assert nf.concat([x, x], 1).shape.as_list() == [None, 12]
        assert nf.stack([x, y], 1).shape.as_list() == [2, 2, 6]
        assert [t.shape.as_list() for t in nf.split(x, 3, axis=1)] == [[None, 2]] * 3
        assert [t.shape.as_list() for t in nf.split(x, [1, -1], axis=1)] == [[None, 1],
                                                                             [None, 5]]
        assert [t.shape.as_list() for t in nf.split(x, [1, -1])] == [[1, 6], [None, 6]]
        with pytest.raises(nf.errors.InvalidArgumentError, match="evenly divide"):
            nf.split(x, 4, axis=1)


def test_concat_gradient_with_unknown_batch_dims():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 2])
        y = v1.placeholder(nf.float32, [None, 2])
        z = nf.concat([x, y * 2.0], 0)
        gx, gy = nf.gradients(nf.reduce_sum(z * z), [x, y])
        with v1.Session() as sess:
            a, b = sess.run([gx, gy], {x: np.ones((1, 2), np.float32),
                                       y: np.ones((3, 2), np.float32)})
    np.testing.assert_allclose(a, np.full((1, 2), 2.0))
    np.testing.assert_allclose(b, np.full((3, 2), 8.0))


# -- tile, pad, reverse, slice -------------------------------------------------------------

def test_tile_and_pad_static_shapes():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 3])
        assert nf.tile(x, [2, 3]).shape.as_list() == [None, 9]
        assert nf.pad(x, [[1, 1], [0, 2]]).shape.as_list() == [None, 5]
        assert nf.pad(x, [[0, 0], [2, 2]], "REFLECT").shape.as_list() == [None, 7]
        assert nf.reverse(x, [1]).shape.as_list() == [None, 3]
        assert nf.slice(x, [0, 1], [-1, 2]).shape.as_list() == [None, 2]
        with pytest.raises(nf.errors.InvalidArgumentError, match="less than the dimension"):
            nf.pad(x, [[0, 0], [3, 0]], "reflect")
        with pytest.raises(nf.errors.InvalidArgumentError, match="length 2"):
            nf.tile(x, [2])


def test_pad_modes_and_errors():
    x = nf.constant([[1, 2, 3]])
    assert nf.pad(x, [[0, 0], [2, 2]], "symmetric").numpy().tolist() == [[2, 1, 1, 2, 3, 3, 2]]
    assert nf.pad(x, [[0, 0], [1, 0]], "Constant", 9).numpy().tolist() == [[9, 1, 2, 3]]
    assert nf.pad(nf.constant([True]), [[1, 0]]).numpy().tolist() == [False, True]
    with pytest.raises(ValueError, match="'CONSTANT', 'REFLECT' or 'SYMMETRIC'.*'wrap'"):
        nf.pad(x, [[0, 0], [1, 1]], "wrap")
    with pytest.raises(nf.errors.InvalidArgumentError, match="no greater than"):
        nf.pad(x, [[0, 0], [4, 0]], "SYMMETRIC")
    with pytest.raises(ValueError, match="non-negative"):
        nf.pad(x, [[0, 0], [-1, 0]])
    with pytest.raises(nf.errors.InvalidArgumentError, match="rank"):
        nf.pad(x, [[1, 1]])


def test_mirror_pad_second_order_in_graph():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float64, [None, 4])
        y = nf.pad(x, [[1, 1], [2, 1]], "REFLECT")
        g = nf.gradients(nf.reduce_sum(y * y * y), x)[0]
        h = nf.gradients(nf.reduce_sum(g), x)[0]
        value = np.arange(12, dtype=np.float64).reshape(3, 4)
        with v1.Session() as sess:
            got = sess.run(h, {x: value})
    # d/dx sum(pad(x)^3) = 3 * fold(pad(x)^2); its sum's gradient is 6 * fold(pad(x))
    count = np.zeros((3, 4))
    idx_r = np.pad(np.arange(3), (1, 1), mode="reflect")
    idx_c = np.pad(np.arange(4), (2, 1), mode="reflect")
    for r in idx_r:
        for c in idx_c:
            count[r, c] += 1
    np.testing.assert_allclose(got, 6 * count * value)


def test_reverse_and_slice_errors():
    with pytest.raises(ValueError, match="more than once"):
        nf.reverse(nf.zeros([2, 3]), [1, -1])
    with pytest.raises(ValueError, match="out of range"):
        nf.reverse(nf.zeros([2, 3]), [2])
    with pytest.raises(ValueError, match=r"Expected size\[1\] in \[0, 2\], but got 3"):
        nf.slice(nf.zeros([2, 3]), [0, 1], [1, 3])
    with pytest.raises(ValueError, match="begin\\[0\\] >= 0"):
        nf.slice(nf.zeros([2, 3]), [-1, 0], [1, 1])
    with pytest.raises(ValueError, match="length 2"):
        nf.slice(nf.zeros([2, 3]), [0], [1])
    assert nf.reverse(nf.constant([1, 2, 3]), []).numpy().tolist() == [1, 2, 3]


def test_slice_with_symbolic_begin():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 4])
        begin = v1.placeholder(nf.int32, [2])
        y = nf.slice(x, begin, [2, -1])
        assert y.shape.as_list() == [None, None]
        with v1.Session() as sess:
            got = sess.run(y, {x: np.arange(20, dtype=np.float32).reshape(5, 4),
                               begin: [1, 2]})
    np.testing.assert_array_equal(got, np.arange(20).reshape(5, 4)[1:3, 2:])


def test_tile_int_and_bool():
    assert nf.tile(nf.constant([True, False]), [2]).numpy().tolist() == [True, False] * 2
    assert nf.tile(nf.constant([[1], [2]]), [1, 2]).numpy().tolist() == [[1, 1], [2, 2]]
    assert nf.reverse(nf.constant([[1, 2]], nf.int64), [1]).dtype == nf.int64


def test_fetched_views_of_variables_are_copies():
    v = nf.Variable([[1.0, 2.0], [3.0, 4.0]])
    f = nf.function(lambda: nf.transpose(v))
    first = f().numpy()
    v.assign([[5.0, 6.0], [7.0, 8.0]])
    np.testing.assert_array_equal(first, [[1.0, 3.0], [2.0, 4.0]])
    np.testing.assert_array_equal(f().numpy(), [[5.0, 7.0], [6.0, 8.0]])
