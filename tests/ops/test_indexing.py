"""Op-table cases and focused tests for NumPy-style indexing and gathers (ops/indexing.py,
ops/gather.py)."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from tests.optable import OpCase, parametrize, torch

RNG = np.random.default_rng(5)
NO_NEGATIVE_STEPS = "torch slicing has no negative steps"


def _draw(*shape):
    return RNG.uniform(-2.0, 2.0, shape)


def _ints(*values):
    return np.array(values, dtype=np.int64)


X5, X34, X234 = _draw(5), _draw(3, 4), _draw(2, 3, 4)
M34 = np.array([[True, False, True, True], [False, False, True, False],
                [True, True, False, False]])
M3 = np.array([True, False, True])


def _key_case(label, key, samples, torch_ok=True):
    """x[key] for a key fixed in the test (NumPy is the reference)."""
    return OpCase(f"getitem[{label}]", lambda x: x[key], [(s,) for s in samples],
                  torch_fn=(lambda x: x[key]) if torch_ok else None, ref=lambda x: x[key],
                  skip={} if torch_ok else {"torch": NO_NEGATIVE_STEPS})


def _t_index(key_fn):
    return lambda x, i: x[key_fn(i)]


def _take(axis):
    return lambda p, i: np.take(p, i, axis=axis)


def _np_gather_batch1(axis):
    return lambda p, i: np.stack([np.take(p[b], i[b], axis=axis - 1) for b in range(len(p))])


def _torch_gather_batch1(axis):
    def fn(p, i):
        rows = []
        for b in range(p.shape[0]):
            picked = torch.index_select(p[b], axis - 1, i[b].reshape(-1))
            shape = p[b].shape[:axis - 1] + i[b].shape + p[b].shape[axis:]
            rows.append(picked.reshape(shape))
        return torch.stack(rows)
    return fn


def _np_gather_nd(p, i):
    return p[tuple(np.moveaxis(i, -1, 0))]


def _np_gather_nd_batch1(p, i):
    return np.stack([_np_gather_nd(p[b], i[b]) for b in range(len(p))])


SCATTER_IDX = _ints([1], [3], [1])
SCATTER_IDX2 = _ints([0, 1], [2, 3], [0, 1], [1, 0])


def _np_scatter(idx, shape):
    def fn(u):
        out = np.zeros(shape, u.dtype)
        np.add.at(out, tuple(np.moveaxis(idx, -1, 0)), u)
        return out
    return fn


def _torch_scatter(idx, shape):
    def fn(u):
        index = tuple(torch.tensor(c) for c in np.moveaxis(idx, -1, 0))
        return torch.zeros(shape, dtype=u.dtype).index_put(index, u, accumulate=True)
    return fn


def _np_one_hot(depth, axis=-1):
    def fn(i):
        out = (i[..., None] == np.arange(depth)).astype(np.float32)
        return np.moveaxis(out, -1, axis)
    return fn


CASES = [
    # -- basic indexing
    _key_case("1", 1, [X5, X34]),
    _key_case("-1", -1, [X5, X234]),
    _key_case("1:3", slice(1, 3), [X5, X34]),
    _key_case(":,1:", (slice(None), slice(1, None)), [X34, X234]),
    _key_case("1:-1,2", (slice(1, -1), 2), [X34]),
    _key_case("::-1", slice(None, None, -1), [X5, X34], torch_ok=False),
    _key_case("::2,::-2", (slice(None, None, 2), slice(None, None, -2)), [X34, X234],
              torch_ok=False),
    _key_case("-2:0:-1", slice(-2, 0, -1), [X5], torch_ok=False),
    _key_case("...,1", (Ellipsis, 1), [X34, X234]),
    _key_case("None,:,None", (None, slice(None), None), [X5, X34]),
    _key_case("()", (), [_draw(), X34]),
    _key_case("...", Ellipsis, [_draw(), X5]),
    _key_case("None", None, [_draw()]),
    _key_case("0,...,None", (0, Ellipsis, None), [X234]),
    # -- advanced indexing with fixed keys
    _key_case("[0,2,0]", [0, 2, 0], [X5, X34]),
    _key_case("[[0,1],[2,2]],1:", (_ints([0, 1], [2, 2]), slice(1, None)), [X34]),
    OpCase("getitem[0,:,[1,2]]", lambda x: x[0, :, [1, 2]], [(X234,)],
           ref=lambda x: x[0, :, [1, 2]],
           skip={"torch": "torch keeps the int-separated advanced dims in place; NumPy, "
                          "which we follow, moves them first"}),
    _key_case(":,[0,1],[1,3]", (slice(None), [0, 1], [1, 3]), [X234]),
    _key_case("[1,0],None,[1,2]", ([1, 0], None, [1, 2]), [X234]),
    _key_case("[1,0],...,[3,0]", ([1, 0], Ellipsis, [3, 0]), [X234]),
    _key_case("mask", M34, [X34]),
    _key_case("1,mask", (1, np.array([True, False, True, True])), [X34]),
    _key_case("mask,::2", (M3, slice(None, None, 2)), [X34]),
    # -- keys holding tensors (placeholders in the graph check)
    OpCase("getitem[int tensor]", lambda x, i: x[i], [(X34, _ints(2, 0, 2)),
                                                      (X5, _ints([1], [4]))],
           torch_fn=lambda x, i: x[i], ref=lambda x, i: x[i]),
    OpCase("getitem[:, int tensor]", lambda x, i: x[:, i], [(X34, _ints(3, -1, 3)),
                                                            (X234, _ints([0, 2]))],
           torch_fn=lambda x, i: x[:, i], ref=lambda x, i: x[:, i]),
    OpCase("getitem[bool tensor]", lambda x, m: x[m], [(X34, M34), (X234, M3[None].repeat(2, 0)),
                                                       (X5, np.array([0, 1, 1, 0, 1], bool))],
           torch_fn=lambda x, m: x[m], ref=lambda x, m: x[m]),
    OpCase("getitem[scalar int tensor]", lambda x, i: x[i], [(X34, np.array(-2)),
                                                             (X5, np.array(4))],
           torch_fn=lambda x, i: x[i], ref=lambda x, i: x[i]),
    OpCase("getitem[:n]", lambda x, n: x[:n], [(X5, np.array(3)), (X34, np.array(-1))],
           torch_fn=lambda x, n: x[:n], ref=lambda x, n: x[:n]),
    OpCase("getitem[n::-1]", lambda x, n: x[n::-1], [(X5, np.array(3))],
           ref=lambda x, n: x[n::-1], skip={"torch": NO_NEGATIVE_STEPS}),
    # -- gathers and scatters
    OpCase("gather", lambda p, i: nf.gather(p, i), [(X5, _ints(3, 0, 3)),
                                                    (X34, _ints([2, 0], [1, 1])),
                                                    (X34, np.array(1))],
           torch_fn=lambda p, i: p[i], ref=_take(0)),
    OpCase("gather_axis1", lambda p, i: nf.gather(p, i, axis=1),
           [(X34, _ints(3, 0)), (X234, _ints([0], [2]))],
           torch_fn=lambda p, i: p[:, i], ref=_take(1)),
    OpCase("gather_axis-1", lambda p, i: nf.gather(p, i, axis=-1), [(X234, _ints(1, 1, 0))],
           torch_fn=lambda p, i: p[..., i], ref=_take(-1)),
    OpCase("gather_batch_dims1", lambda p, i: nf.gather(p, i, batch_dims=1),
           [(X34, _ints([3, 0], [1, 1], [2, 0])), (X234, _ints([0, 2, 2, 1, 0], [1, 1, 0, 0, 2]))],
           torch_fn=_torch_gather_batch1(1), ref=_np_gather_batch1(1)),
    OpCase("gather_batch_dims1_axis2", lambda p, i: nf.gather(p, i, axis=2, batch_dims=1),
           [(X234, _ints([3, 0], [1, 1])), (_draw(2, 2, 3, 2), _ints([[0], [2]], [[1], [1]]))],
           torch_fn=_torch_gather_batch1(2), ref=_np_gather_batch1(2)),
    OpCase("gather_batch_dims-1", lambda p, i: nf.gather(p, i, axis=1, batch_dims=-1),
           [(X34, _ints([3, 0], [1, 1], [2, 0]))],
           torch_fn=_torch_gather_batch1(1), ref=_np_gather_batch1(1)),
    OpCase("gather_nd", nf.gather_nd, [(X34, _ints([1, 0], [2, 3], [1, 0])),
                                       (X234, _ints([1], [0])),
                                       (X234, _ints([[0, 2]], [[1, 1]]))],
           torch_fn=lambda p, i: p[tuple(i.unbind(-1))], ref=_np_gather_nd),
    OpCase("gather_nd_batch_dims1", lambda p, i: nf.gather_nd(p, i, batch_dims=1),
           [(X234, _ints([[1], [2]], [[0], [0]])), (X234, _ints([[1, 3]], [[2, 0]]))],
           torch_fn=lambda p, i: torch.stack([p[b][tuple(i[b].unbind(-1))]
                                              for b in range(len(p))]),
           ref=_np_gather_nd_batch1),
    OpCase("scatter_nd", lambda u: nf.scatter_nd(SCATTER_IDX, u, [5, 3]), [(_draw(3, 3),)],
           torch_fn=_torch_scatter(SCATTER_IDX, (5, 3)), ref=_np_scatter(SCATTER_IDX, (5, 3))),
    OpCase("scatter_nd_elements", lambda u: nf.scatter_nd(SCATTER_IDX2, u, [3, 4]),
           [(_draw(4),)], torch_fn=_torch_scatter(SCATTER_IDX2, (3, 4)),
           ref=_np_scatter(SCATTER_IDX2, (3, 4))),
    OpCase("boolean_mask", nf.boolean_mask, [(X5, np.array([1, 0, 0, 1, 1], bool)),
                                             (X34, M3), (X34, M34)],
           torch_fn=lambda x, m: x[m], ref=lambda x, m: x[m]),
    OpCase("boolean_mask_axis1", lambda x, m: nf.boolean_mask(x, m, axis=1),
           [(X234, M3), (X234, M34)],
           torch_fn=lambda x, m: x[:, m], ref=lambda x, m: x[:, m]),
    OpCase("one_hot", lambda i: nf.one_hot(i, 4), [(_ints(0, 3, -1, 5, 2),), (_ints([1], [3]),)],
           grad=False, ref=_np_one_hot(4),
           skip={"torch": "torch one_hot rejects out-of-range indices (TF gives zero rows)"}),
    OpCase("one_hot_axis0", lambda i: nf.one_hot(i, 3, axis=0), [(_ints([0, 2], [1, 1]),)],
           grad=False, ref=_np_one_hot(3, 0),
           skip={"torch": "torch one_hot has no axis argument"}),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


# -- static shapes in graphs ---------------------------------------------------------------

def _placeholder(dtype, shape):
    return v1.placeholder(dtype, shape)


def test_static_shapes_with_unknown_dims():
    with nf.Graph().as_default():
        x = _placeholder(nf.float32, [None, 5])
        idx = _placeholder(nf.int32, [None])
        mask = _placeholder(nf.bool, [None])
        n = _placeholder(nf.int32, [])
        shapes = {
            "x[:, 1:]": x[:, 1:], "x[0]": x[0], "x[..., None]": x[..., None],
            "x[:, ::2]": x[:, ::2], "x[1:]": x[1:], "x[:, -1]": x[:, -1],
            "x[idx]": x[idx], "x[:, [0, 2]]": x[:, [0, 2]], "x[mask]": x[mask],
            "x[:, :n]": x[:, :n], "x[n]": x[n], "x[None, :, 2:4]": x[None, :, 2:4],
            "gather": nf.gather(x, [1, 2], axis=1), "gather idx": nf.gather(x, idx),
            "boolean_mask": nf.boolean_mask(x, mask), "one_hot": nf.one_hot(idx, 7),
            "scatter_nd": nf.scatter_nd([[0]], x[:1], nf.shape(x)),
            "gather_nd": nf.gather_nd(x, [[0, 1], [1, 1]]),
        }
        want = {
            "x[:, 1:]": [None, 4], "x[0]": [5], "x[..., None]": [None, 5, 1],
            "x[:, ::2]": [None, 3], "x[1:]": [None, 5], "x[:, -1]": [None],
            "x[idx]": [None, 5], "x[:, [0, 2]]": [None, 2], "x[mask]": [None, 5],
            "x[:, :n]": [None, None], "x[n]": [5], "x[None, :, 2:4]": [1, None, 2],
            "gather": [None, 2], "gather idx": [None, 5], "boolean_mask": [None, 5],
            "one_hot": [None, 7], "scatter_nd": [None, 5], "gather_nd": [2],
        }
        assert {k: t.shape.as_list() for k, t in shapes.items()} == want
        unknown = _placeholder(nf.float32, None)
        assert unknown[0].shape.rank is None
        assert nf.gather(unknown, [0, 1]).shape.rank is None
        value = np.arange(15, dtype=np.float32).reshape(3, 5)
        with v1.Session() as sess:
            got = sess.run(shapes, {x: value, idx: [2, 0], mask: [True, False, True], n: 2})
    np.testing.assert_array_equal(got["x[:, 1:]"], value[:, 1:])
    np.testing.assert_array_equal(got["x[mask]"], value[[0, 2]])
    np.testing.assert_array_equal(got["x[:, :n]"], value[:, :2])
    np.testing.assert_array_equal(got["x[n]"], value[2])
    np.testing.assert_array_equal(got["gather idx"], value[[2, 0]])
    np.testing.assert_array_equal(got["scatter_nd"], np.where(np.arange(3)[:, None] == 0,
                                                              value[:1], 0))


def test_constant_mask_gives_a_known_count():
    with nf.Graph().as_default():
        x = _placeholder(nf.float32, [None, 4])
        assert x[:, np.array([True, False, True, True])].shape.as_list() == [None, 3]
        assert nf.boolean_mask(x, [True, False, True, True], axis=1).shape.as_list() == [None,
                                                                                          3]


# -- errors --------------------------------------------------------------------------------

def test_out_of_range_int_index_names_index_and_dim():
    x = nf.constant([[1, 2, 3]])
    with pytest.raises(nf.errors.InvalidArgumentError,
                       match="index 3 is out of bounds for dimension 1 with size 3"):
        x[0, 3]
    with pytest.raises(nf.errors.InvalidArgumentError,
                       match="index -2 is out of bounds for dimension 0 with size 1"):
        x[-2]
    with nf.Graph().as_default():
        p = _placeholder(nf.float32, [None, 3])
        with pytest.raises(nf.errors.InvalidArgumentError,
                           match="index 5 is out of bounds for dimension 1 with size 3"):
            p[:, 5]
        late = p[4]  # dim 0 unknown: checked when it runs
        with v1.Session() as sess:
            with pytest.raises(nf.errors.InvalidArgumentError,
                               match="index 4 is out of bounds for dimension 0 with size 2"):
                sess.run(late, {p: np.zeros((2, 3), np.float32)})


def test_bad_keys():
    x = nf.zeros([2, 3])
    with pytest.raises(nf.errors.InvalidArgumentError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 0, ...]
    with pytest.raises(TypeError, match="valid indices"):
        x[1.5]
    with pytest.raises(TypeError, match="valid indices.*float32"):
        x[nf.constant([0.0])]
    with pytest.raises(TypeError, match="bare boolean"):
        x[True]
    with pytest.raises(TypeError, match="slice bounds"):
        x[:1.5]
    with pytest.raises(nf.errors.InvalidArgumentError, match="boolean index of shape"):
        x[np.array([True, False, True])]
    with pytest.raises(nf.errors.InvalidArgumentError, match="could not be broadcast"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(nf.errors.InvalidArgumentError, match="step cannot be zero"):
        x[::0]
    with nf.Graph().as_default():
        p = _placeholder(nf.float32, [None, 3])
        with pytest.raises(nf.errors.InvalidArgumentError, match="too many indices"):
            p[0, 0, 0]
        with pytest.raises(nf.errors.InvalidArgumentError, match="boolean index"):
            p[:, np.array([True, False])]


def test_gather_errors():
    params = nf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with pytest.raises(nf.errors.InvalidArgumentError, match=r"indices\[1\] = 3 is not in \[0, "
                                                             r"3\)"):
        nf.gather(params, [0, 3])
    with pytest.raises(nf.errors.InvalidArgumentError, match=r"= -1 is not in \[0, 3\)"):
        nf.gather(params, [-1])
    with pytest.raises(TypeError, match="integer"):
        nf.gather(params, [0.0])
    with pytest.raises(ValueError, match="batch_dims .* less than or equal to axis"):
        nf.gather(params, [[0]], axis=0, batch_dims=1)
    with pytest.raises(ValueError, match="must equal"):
        nf.gather(params, [[0], [1]], batch_dims=1)
    with pytest.raises(ValueError, match="out of range"):
        nf.gather(params, [0], axis=2)
    with pytest.raises(nf.errors.InvalidArgumentError, match=r"indices\[0,1\] = 2"):
        nf.gather_nd(params, [[1, 2]])
    with nf.Graph().as_default():
        idx = _placeholder(nf.int32, [2, None])
        with pytest.raises(ValueError, match="index depth"):
            nf.gather_nd(params, idx)


def test_scatter_and_mask_errors():
    with pytest.raises(nf.errors.InvalidArgumentError, match="updates of shape \\(2,\\)"):
        nf.scatter_nd([[0], [1]], nf.constant([1.0, 2.0]), [4, 2])
    with pytest.raises(nf.errors.InvalidArgumentError, match="not in \\[0, 4\\)"):
        nf.scatter_nd([[4]], nf.constant([1.0]), [4])
    x = nf.zeros([2, 3])
    with pytest.raises(TypeError, match="bool"):
        nf.boolean_mask(x, [1, 0])
    with pytest.raises(ValueError, match="scalar"):
        nf.boolean_mask(x, True)
    with pytest.raises(ValueError, match="incompatible"):
        nf.boolean_mask(x, [True, False, True])
    with pytest.raises(TypeError, match="dtype"):
        nf.one_hot([0], 2, on_value=nf.constant(1.0), dtype=nf.int32)


# -- dtypes --------------------------------------------------------------------------------

def test_int_and_bool_tensors_index_and_gather():
    ints = nf.constant([[1, 2, 3], [4, 5, 6]], nf.int64)
    assert ints[1, ::-1].numpy().tolist() == [6, 5, 4] and ints[0].dtype == nf.int64
    flags = nf.constant([True, False, True])
    assert flags[flags].numpy().tolist() == [True, True]
    assert nf.gather(flags, [2, 1]).numpy().tolist() == [True, False]
    assert nf.gather_nd(ints, [[1, 1]]).numpy().tolist() == [5]
    assert nf.boolean_mask(ints, [False, True]).numpy().tolist() == [[4, 5, 6]]
    scattered = nf.scatter_nd([[0], [0]], nf.constant([2, 3]), [2])
    assert scattered.dtype == nf.int32 and scattered.numpy().tolist() == [5, 0]
    assert ints[nf.constant(1, nf.int64)].numpy().tolist() == [4, 5, 6]
    assert ints[np.int32(1), np.array([0, 2], np.int32)].numpy().tolist() == [4, 6]


def test_one_hot_dtypes():
    assert nf.one_hot([1], 2).dtype == nf.float32
    assert nf.one_hot([1], 2, on_value=5, off_value=-1).numpy().tolist() == [[-1, 5]]
    assert nf.one_hot([1], 2, on_value=5).dtype == nf.int32
    assert nf.one_hot([0], 2, dtype=nf.float64).dtype == nf.float64
    assert nf.one_hot([0], 2, dtype=nf.bool).numpy().tolist() == [[True, False]]
    assert nf.one_hot(nf.constant([[0, 1]], nf.int64), 2).shape == (1, 2, 2)


# -- variables, gradients, iteration --------------------------------------------------------

def test_variable_indexing_and_gradient():
    v = nf.Variable([1.0, 2.0, 3.0])
    first = v[:2]
    v.assign([7.0, 8.0, 9.0])
    assert first.numpy().tolist() == [1.0, 2.0]  # a snapshot, not a view of the buffer
    with nf.GradientTape() as tape:
        y = nf.reduce_sum(v[[0, 0, 2]] * 2.0) + v[1] * v[1]
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [4.0, 16.0, 2.0])


def test_second_order_through_duplicate_gathers_in_graph():
    with nf.Graph().as_default():
        x = _placeholder(nf.float64, [None])
        y = nf.gather(x, [0, 0, 2]) ** 3
        g = nf.gradients(nf.reduce_sum(y), x)[0]
        h = nf.gradients(nf.reduce_sum(g * g), x)[0]
        with v1.Session() as sess:
            gv, hv = sess.run([g, h], {x: [1.0, 2.0, 3.0]})
    # g = [2 * 3x0^2, 0, 3x2^2]; d(sum g^2)/dx = 2 g * dg/dx
    np.testing.assert_allclose(gv, [6.0, 0.0, 27.0])
    np.testing.assert_allclose(hv, [2 * 6.0 * 12.0, 0.0, 2 * 27.0 * 18.0])


def test_iterating_a_tensor_indexes_it():
    rows = list(nf.constant([[1, 2], [3, 4]]))
    assert [r.numpy().tolist() for r in rows] == [[1, 2], [3, 4]]
    assert nf.newaxis is None


# -- random keys against NumPy -------------------------------------------------------------

def _random_key(rng, rank):
    parts = []
    for _ in range(rng.integers(1, rank + 2)):
        kind = rng.integers(0, 6)
        if kind == 0:
            parts.append(int(rng.integers(-2, 2)))
        elif kind == 1:
            bounds = [None if rng.random() < 0.4 else int(rng.integers(-4, 5)) for _ in range(2)]
            step = [None, 1, 2, -1, -2][rng.integers(0, 5)]
            parts.append(slice(bounds[0], bounds[1], step))
        elif kind == 2:
            parts.append(None)
        elif kind == 3 and Ellipsis not in parts:
            parts.append(Ellipsis)
        elif kind == 4:
            parts.append(rng.integers(-2, 2, size=rng.integers(1, 3)).tolist())
        else:
            parts.append(slice(None))
    return tuple(parts)


def test_random_keys_match_numpy_values_and_static_shapes():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(2, 3, 4))
    checked = 0
    for _ in range(400):
        key = _random_key(rng, 3)
        try:
            want = x[key]
        except IndexError:
            continue
        got = nf.constant(x)[key]
        np.testing.assert_array_equal(got.numpy(), want, err_msg=str(key))
        with nf.Graph().as_default():
            known = _placeholder(nf.float64, [2, 3, 4])[key]
            partly = _placeholder(nf.float64, [None, 3, None])[key]
        assert known.shape.as_list() == list(want.shape), key
        assert partly.shape.is_compatible_with(want.shape), key
        checked += 1
    assert checked > 100
