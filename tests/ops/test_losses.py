"""Losses (neuroflow/ops/losses.py): op-table cases plus focused tests for stability at 1e4,
label errors, TF semantics and the fused cross-entropies against their composed versions."""
import math

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from tests.optable import OpCase, binary, parametrize, torch, unary

F = torch.nn.functional if torch is not None else None


def _np_log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _np_xent(labels, logits, axis=-1):
    return -np.sum(labels * _np_log_softmax(logits, axis), axis=axis)


def _np_sparse_xent(labels, logits):
    logp = _np_log_softmax(logits)
    return -np.take_along_axis(logp, labels[..., None].astype(np.intp), -1)[..., 0]


def _np_sigmoid_xent(z, x):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def _np_weighted_xent(z, x, q):
    return (1 - z) * x + (1 + (q - 1) * z) * np.logaddexp(0.0, -x)


def _np_poisson(t, x, full=False):
    out = np.exp(x) - x * t
    if full:
        safe = np.where(t > 1, t, 2.0)
        stirling = safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe)
        out = out + np.where((t >= 0) & (t <= 1), 0.0, stirling)
    return out


def _dense_samples(seed=0):
    """(labels, logits): labels are positive, not normalised (the gradient is exact anyway)."""
    rng = np.random.default_rng(seed)
    pairs = [((5,), (5,)), ((3, 4), (3, 4)), ((4,), (3, 4)), ((2, 3, 4), (2, 3, 4))]
    return [(rng.uniform(0.1, 1.0, a), rng.normal(0, 2, b)) for a, b in pairs]


def _sparse_samples(seed=0):
    rng = np.random.default_rng(seed)
    return [(np.array(2, np.int32), rng.normal(0, 2, 5)),
            (rng.integers(0, 4, 3).astype(np.int32), rng.normal(0, 2, (3, 4))),
            (rng.integers(0, 4, (2, 3)).astype(np.int64), rng.normal(0, 2, (2, 3, 4)))]


def _probability_samples(low2=-3.0, high2=3.0):
    """(labels in [0, 1], logits) of the same shape: sigmoid losses take no broadcasting."""
    return [(z, x) for (z,), (x,) in zip(unary(0.0, 1.0, seed=4), unary(low2, high2, seed=5))]


def _torch_xent(axis=-1):
    def fn(labels, logits):
        if logits.dim() > 1:
            labels = labels.expand_as(logits)
            labels, logits = labels.movedim(axis, 1), logits.movedim(axis, 1)
        return F.cross_entropy(logits, labels, reduction="none")
    return fn


def _torch_sparse(labels, logits):
    if logits.dim() > 2:
        logits = logits.movedim(-1, 1)
    return F.cross_entropy(logits, labels.long(), reduction="none")


CASES = [
    OpCase("softmax_cross_entropy_with_logits", nf.nn.softmax_cross_entropy_with_logits,
           _dense_samples(), torch_fn=_torch_xent(), ref=_np_xent),
    OpCase("softmax_cross_entropy_with_logits_axis0",
           lambda z, x: nf.nn.softmax_cross_entropy_with_logits(z, x, axis=0),
           [(z, x) for z, x in _dense_samples(1) if z.shape == x.shape],
           torch_fn=_torch_xent(axis=0), ref=lambda z, x: _np_xent(z, x, 0)),
    OpCase("sparse_softmax_cross_entropy_with_logits",
           nf.nn.sparse_softmax_cross_entropy_with_logits, _sparse_samples(),
           torch_fn=_torch_sparse, ref=_np_sparse_xent),
    OpCase("sigmoid_cross_entropy_with_logits",
           lambda z, x: nf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
           _probability_samples(), ref=_np_sigmoid_xent,
           torch_fn=lambda z, x: F.binary_cross_entropy_with_logits(x, z, reduction="none")),
    OpCase("weighted_cross_entropy_with_logits",
           lambda z, x: nf.nn.weighted_cross_entropy_with_logits(z, x, pos_weight=1.7),
           _probability_samples(), ref=lambda z, x: _np_weighted_xent(z, x, 1.7),
           torch_fn=lambda z, x: F.binary_cross_entropy_with_logits(
               x, z, pos_weight=torch.tensor(1.7, dtype=x.dtype), reduction="none")),
    # a tensor pos_weight, broadcast over the batch, differentiated too
    OpCase("weighted_cross_entropy_with_logits_tensor_weight",
           nf.nn.weighted_cross_entropy_with_logits,
           [(z, x, np.linspace(0.5, 3.0, x.shape[-1] if x.ndim else 1).reshape(x.shape[-1:]))
            for z, x in _probability_samples()],
           ref=_np_weighted_xent,
           skip={"torch": "torch's binary_cross_entropy_with_logits has no gradient for "
                          "pos_weight; the NumPy reference and finite differences cover it"}),
    OpCase("l2_loss", nf.nn.l2_loss, unary(), ref=lambda t: np.sum(t * t) / 2,
           torch_fn=lambda t: (t * t).sum() / 2),
    OpCase("log_poisson_loss", nf.nn.log_poisson_loss, binary(0.0, 4.0, -2.0, 2.0),
           ref=_np_poisson,
           torch_fn=lambda t, x: F.poisson_nll_loss(x, t, log_input=True, full=False,
                                                    reduction="none")),
    OpCase("log_poisson_loss_full",
           lambda t, x: nf.nn.log_poisson_loss(t, x, compute_full_loss=True),
           binary(0.0, 4.0, -2.0, 2.0, kinks=(1.0,)), ref=lambda t, x: _np_poisson(t, x, True),
           torch_fn=lambda t, x: F.poisson_nll_loss(x, t, log_input=True, full=True,
                                                    reduction="none")),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)


# -- stability ------------------------------------------------------------------------------

BIG = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]], np.float32)
SOFT = np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]], np.float32)
INDEX = np.array([1, 0, 2], np.int32)


def _loss_and_grads(fn, *inputs):
    xs = [nf.constant(x) for x in inputs]
    floats = [x for x in xs if x.dtype.is_floating]
    with nf.GradientTape() as tape:
        tape.watch(floats)
        y = fn(*xs)
        total = nf.reduce_sum(y)
    return y.numpy(), [g.numpy() for g in tape.gradient(total, floats)]


@pytest.mark.parametrize("fn,inputs,want", [
    (nf.nn.softmax_cross_entropy_with_logits, (SOFT, BIG),
     [0.0, 0.2 * 2e4 + 0.3 * 0 + 0.5 * 0 + math.log(2), 0.0 + math.log(3)]),
    (nf.nn.sparse_softmax_cross_entropy_with_logits, (INDEX, BIG),
     [2e4, 2e4 + math.log(2), math.log(3)]),
], ids=["dense", "sparse"])
def test_softmax_cross_entropies_at_1e4(fn, inputs, want):
    y, grads = _loss_and_grads(fn, *inputs)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, want, rtol=1e-6)
    for g in grads:
        assert np.all(np.isfinite(g)), g
    # gradient w.r.t. the logits: softmax - labels (labels sum to 1 here)
    probs = np.array([[1, 0, 0], [0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    labels = SOFT if inputs[0].dtype.kind == "f" else np.eye(3)[INDEX]
    np.testing.assert_allclose(grads[-1], probs - labels, atol=1e-6)


def test_dense_labels_gradient_at_1e4():
    _, (g_labels, _) = _loss_and_grads(nf.nn.softmax_cross_entropy_with_logits, SOFT, BIG)
    np.testing.assert_allclose(g_labels, -_np_log_softmax(BIG.astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("pos_weight", [None, 3.0], ids=["sigmoid", "weighted"])
def test_sigmoid_cross_entropies_at_1e4(pos_weight):
    if pos_weight is None:
        def fn(z, x):
            return nf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    else:
        def fn(z, x):
            return nf.nn.weighted_cross_entropy_with_logits(z, x, pos_weight=pos_weight)
    y, grads = _loss_and_grads(fn, SOFT, BIG)
    assert np.all(np.isfinite(y)) and all(np.all(np.isfinite(g)) for g in grads)
    want = _np_weighted_xent(SOFT.astype(np.float64), BIG.astype(np.float64), pos_weight or 1.0)
    np.testing.assert_allclose(y, want, rtol=1e-6)


def test_second_order_finite_at_1e4():
    for fn, first in [(nf.nn.softmax_cross_entropy_with_logits, SOFT),
                      (nf.nn.sparse_softmax_cross_entropy_with_logits, INDEX)]:
        x = nf.constant(BIG)
        with nf.GradientTape() as outer:
            outer.watch(x)
            with nf.GradientTape() as inner:
                inner.watch(x)
                y = nf.reduce_sum(fn(nf.constant(first), x))
            g = inner.gradient(y, x)
            gg = nf.reduce_sum(g * g)
        assert np.all(np.isfinite(outer.gradient(gg, x).numpy()))


# -- sparse labels out of range -------------------------------------------------------------


@pytest.mark.parametrize("bad", [3, -1])
def test_sparse_bad_label_eager(bad):
    logits = nf.constant(np.zeros((2, 3), np.float32))
    with pytest.raises(nf.errors.InvalidArgumentError) as info:
        nf.nn.sparse_softmax_cross_entropy_with_logits(nf.constant([0, bad]), logits)
    message = str(info.value)
    assert f"label value of {bad}" in message and "[0, 3)" in message and "3 classes" in message


def test_sparse_bad_label_when_graph_runs():
    graph = nf.Graph()
    with graph.as_default():
        labels = v1.placeholder(nf.int32, [None])
        logits = v1.placeholder(nf.float32, [None, 4])
        loss = nf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    with v1.Session(graph=graph) as sess:
        ok = sess.run(loss, {labels: [3, 0], logits: np.zeros((2, 4), np.float32)})
        np.testing.assert_allclose(ok, [math.log(4)] * 2, rtol=1e-6)
        with pytest.raises(nf.errors.InvalidArgumentError, match=r"label value of 7 .*\[0, 4\)"):
            sess.run(loss, {labels: [7, 0], logits: np.zeros((2, 4), np.float32)})

    @nf.function
    def step(lab, x):
        return nf.nn.sparse_softmax_cross_entropy_with_logits(lab, x)

    x = nf.constant(np.zeros((2, 4), np.float32))
    step(nf.constant([1, 2]), x)
    with pytest.raises(nf.errors.InvalidArgumentError, match="label value of 4"):
        step(nf.constant([1, 4]), x)


def test_sparse_shape_and_dtype_errors():
    logits = nf.constant(np.zeros((2, 3), np.float32))
    with pytest.raises(nf.errors.InvalidArgumentError, match="Rank mismatch"):
        nf.nn.sparse_softmax_cross_entropy_with_logits(nf.constant([[0, 1]]), logits)
    with pytest.raises(nf.errors.InvalidArgumentError, match="int32 or int64"):
        nf.nn.sparse_softmax_cross_entropy_with_logits(nf.constant([0.0, 1.0]), logits)
    with nf.Graph().as_default():
        with pytest.raises(nf.errors.InvalidArgumentError, match="Rank mismatch"):
            nf.nn.sparse_softmax_cross_entropy_with_logits(
                v1.placeholder(nf.int32, [2, 3]), v1.placeholder(nf.float32, [2, 3]))
        with pytest.raises(nf.errors.InvalidArgumentError, match="do not match"):
            nf.nn.sparse_softmax_cross_entropy_with_logits(
                v1.placeholder(nf.int32, [5]), v1.placeholder(nf.float32, [2, 3]))


def test_sigmoid_shape_mismatch():
    with pytest.raises(nf.errors.InvalidArgumentError, match="same shape"):
        nf.nn.sigmoid_cross_entropy_with_logits(labels=nf.ones([3]), logits=nf.ones([2, 3]))
    with pytest.raises(ValueError, match="same shape"):
        nf.nn.weighted_cross_entropy_with_logits(nf.ones([3]), nf.ones([2, 3]), 2.0)


def test_doc_values():
    np.testing.assert_allclose(nf.nn.l2_loss(nf.constant([1.0, 2.0])).numpy(), 2.5)
    np.testing.assert_allclose(nf.nn.weighted_cross_entropy_with_logits(
        [1.0], [0.0], pos_weight=2.0).numpy(), [2 * math.log(2)], rtol=1e-6)
    # the Stirling term is zero for targets in [0, 1], and its gradient stays finite at 0
    t = nf.constant([0.0, 1.0, 3.0])
    with nf.GradientTape() as tape:
        tape.watch(t)
        y = nf.nn.log_poisson_loss(t, nf.zeros([3]), compute_full_loss=True)
    np.testing.assert_allclose(y.numpy(), _np_poisson(np.array([0, 1, 3.0]), 0.0, True),
                               rtol=1e-6)
    assert np.all(np.isfinite(tape.gradient(y, t).numpy()))


# -- the fused cross-entropies against their composition ------------------------------------


def _composed_xent(labels, logits, axis=-1):
    e = nf.exp(logits)
    log_probs = logits - nf.math.log(nf.reduce_sum(e, axis=axis, keepdims=True))
    return -nf.reduce_sum(labels * log_probs, axis=axis)


def _composed_sparse(labels, logits):
    one_hot = np.eye(logits.shape[-1])[labels.numpy()]
    return _composed_xent(nf.constant(one_hot), logits)


def _derivatives(fn, labels, logits, w, v):
    """Loss, gradients w.r.t. (float labels and) logits, and a Hessian-vector product."""
    z, x = nf.constant(labels), nf.constant(logits)
    sources = [x] + ([z] if z.dtype.is_floating else [])
    with nf.GradientTape() as outer:
        outer.watch(sources)
        with nf.GradientTape() as inner:
            inner.watch(sources)
            y = nf.reduce_sum(fn(z, x) * w)
        grads = inner.gradient(y, sources)
        gv = nf.reduce_sum(grads[0] * v)
    hv = outer.gradient(gv, sources)
    return [y.numpy()] + [g.numpy() for g in grads] + [h.numpy() for h in hv]


@pytest.mark.parametrize("axis", [-1, 0])
def test_dense_fused_matches_composed(axis):
    rng = np.random.default_rng(7)
    labels, logits = rng.uniform(0, 1, (4, 5)), rng.normal(0, 2, (4, 5))
    w = rng.uniform(0.5, 1.5, 5 if axis == 0 else 4)
    v = rng.normal(size=(4, 5))
    got = _derivatives(lambda z, x: nf.nn.softmax_cross_entropy_with_logits(z, x, axis=axis),
                       labels, logits, w, v)
    want = _derivatives(lambda z, x: _composed_xent(z, x, axis), labels, logits, w, v)
    for g, c in zip(got, want):
        np.testing.assert_allclose(g, c, rtol=1e-9, atol=1e-12)


def test_sparse_fused_matches_composed():
    rng = np.random.default_rng(8)
    labels, logits = rng.integers(0, 5, 4).astype(np.int32), rng.normal(0, 2, (4, 5))
    w, v = rng.uniform(0.5, 1.5, 4), rng.normal(size=(4, 5))
    got = _derivatives(nf.nn.sparse_softmax_cross_entropy_with_logits, labels, logits, w, v)
    want = _derivatives(_composed_sparse, labels, logits, w, v)
    for g, c in zip(got, want):
        np.testing.assert_allclose(g, c, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "dense"])
def test_first_order_graph_uses_fused_gradient_only(sparse):
    """The backprop output's zero gradient is recognised: no second-order ops get built."""
    graph = nf.Graph()
    with graph.as_default():
        logits = v1.placeholder(nf.float32, [None, 10])
        if sparse:
            labels = v1.placeholder(nf.int32, [None])
            loss = nf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        else:
            labels = v1.placeholder(nf.float32, [None, 10])
            loss = nf.nn.softmax_cross_entropy_with_logits(labels, logits)
        before = len(graph.operations)
        nf.gradients(nf.reduce_mean(loss), [logits])
        built = {op.type for op in graph.operations[before:]}
    assert "SoftmaxGrad" not in built and "Softmax" not in built, built
