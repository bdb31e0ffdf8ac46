"""The declarative op test table: one ``OpCase`` per op, generic checks for all of them.

An op gets tested by adding an ``OpCase`` to the ``CASES`` list of its family's test module:

    OpCase("exp", nf.exp, unary(-2, 2), torch_fn=torch_op("exp"), ref=np.exp)

Each sample is a tuple of NumPy inputs (float64 for the differentiable ones). The checks:
- ``forward``: against ``ref`` (NumPy) when given;
- ``gradient``: float64 central differences of sum(w * op(x)) against GradientTape;
- ``graph``: eager == compat.v1 Session graph == nf.function, values and gradients;
- ``second_order``: finite differences of the tape's first gradient against a nested tape;
- ``torch``: forward and vector-Jacobian products against PyTorch (skipped without torch).
A check that does not apply is skipped with its reason, never passed silently.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1

try:
    import torch
except ImportError:  # the oracle tests skip without torch
    torch = None


@dataclasses.dataclass
class OpCase:
    name: str
    fn: Callable
    samples: list
    torch_fn: Callable | None = None
    ref: Callable | None = None
    grad: bool = True
    second_order: bool = True
    atol: float = 1e-6
    rtol: float = 1e-5
    grad_atol: float = 1e-5
    graph: bool = True
    skip: dict = dataclasses.field(default_factory=dict)  # check name -> reason

    def __str__(self):
        return self.name


# -- sample builders ----------------------------------------------------------------------

def _rng(seed=0):
    return np.random.default_rng(seed)


def _away_from(x, kinks, margin):
    for k in kinks:
        near = np.abs(x - k) < margin
        x = np.where(near, k + np.where(x >= k, margin, -margin), x)
    return x


def unary(low=-2.0, high=2.0, kinks=(), seed=0):
    """Scalar, vector, matrix and rank-3 samples in [low, high], kept away from kinks."""
    rng = _rng(seed)
    shapes = [(), (5,), (3, 4), (2, 3, 2)]
    return [(_away_from(rng.uniform(low, high, s), kinks, 0.05),) for s in shapes]


def binary(low=-2.0, high=2.0, low2=None, high2=None, kinks=(), seed=0):
    """Same-shape, scalar-with-matrix, and broadcasting pairs."""
    rng = _rng(seed)
    low2 = low if low2 is None else low2
    high2 = high if high2 is None else high2
    pairs = [((), ()), ((4,), (4,)), ((3, 4), ()), ((3, 4), (4,)), ((3, 1), (1, 4)),
             ((2, 3, 4), (3, 1))]

    def draw(lo, hi, s):
        return _away_from(rng.uniform(lo, hi, s), kinks, 0.05)
    return [(draw(low, high, a), draw(low2, high2, b)) for a, b in pairs]


def torch_op(name):
    """A torch function by name, called as torch.<name>(*inputs)."""
    return lambda *xs: getattr(torch, name)(*xs)


# -- helpers ------------------------------------------------------------------------------

def _float_positions(sample):
    return [i for i, x in enumerate(sample) if np.asarray(x).dtype.kind in "fc"]


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _weights(outputs, seed=1):
    rng = _rng(seed)
    arrays = [np.asarray(o.numpy() if hasattr(o, "numpy") else o) for o in outputs]
    return [rng.uniform(0.5, 1.5, a.shape).astype(a.dtype) for a in arrays]


def _eager(case, sample):
    return _as_list(case.fn(*[nf.constant(x) for x in sample]))


def _tape_grads(case, sample, weights, square=False):
    xs = [nf.constant(x) for x in sample]
    positions = _float_positions(sample)
    with nf.GradientTape() as tape:
        for i in positions:
            tape.watch(xs[i])
        outs = _as_list(case.fn(*xs))
        loss = _weighted_sum(outs, weights, square)
    grads = tape.gradient(loss, [xs[i] for i in positions])
    return [np.zeros_like(sample[i]) if g is None else g.numpy()
            for i, g in zip(positions, grads)]


def _weighted_sum(outs, weights, square=False):
    """sum(w * o), or sum(w * o * o): squaring makes the first gradient depend on the input
    even for linear ops, so the second-order check exercises their gradients' gradients."""
    total = None
    for o, w in zip(outs, weights):
        if not o.dtype.is_differentiable:
            continue
        term = nf.reduce_sum((o * o if square else o) * w)
        total = term if total is None else total + term
    return total


def _numeric_grads(case, sample, weights, eps=1e-6):
    def loss(values):
        outs = _eager(case, values)
        return sum(float(np.sum(np.asarray(o.numpy(), np.float64) * w))
                   for o, w in zip(outs, weights) if o.dtype.is_differentiable)
    grads = []
    for i in _float_positions(sample):
        x = np.array(sample[i], dtype=np.float64)
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            plus = [np.array(s) for s in sample]
            minus = [np.array(s) for s in sample]
            plus[i] = x.copy()
            minus[i] = x.copy()
            plus[i][idx] += eps
            minus[i][idx] -= eps
            g[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        grads.append(g)
    return grads


def _applies(case, check):
    if check in case.skip:
        pytest.skip(case.skip[check])


# -- the checks ---------------------------------------------------------------------------

def check_forward(case):
    _applies(case, "forward")
    if case.ref is None:
        pytest.skip("no NumPy reference (the torch check covers the forward values)")
    for sample in case.samples:
        got = _eager(case, sample)
        want = _as_list(case.ref(*sample))
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w, rtol=case.rtol, atol=case.atol)
            assert g.shape == np.shape(w), f"{case.name}: shape {g.shape} vs {np.shape(w)}"


def check_gradient(case):
    _applies(case, "gradient")
    if not case.grad:
        pytest.skip("not differentiable")
    for sample in case.samples:
        if not _float_positions(sample):
            continue
        weights = _weights(_eager(case, sample))
        analytic = _tape_grads(case, sample, weights)
        numeric = _numeric_grads(case, sample, weights)
        for a, n in zip(analytic, numeric):
            np.testing.assert_allclose(a, n, rtol=1e-4, atol=case.grad_atol)


def check_graph(case):
    """eager == Session graph == nf.function, for values and (if differentiable) gradients."""
    _applies(case, "graph")
    if not case.graph:
        pytest.skip("eager only")
    for sample in case.samples:
        eager = [o.numpy() for o in _eager(case, sample)]
        graph = nf.Graph()
        with graph.as_default():
            phs = [v1.placeholder(nf.as_dtype(np.asarray(x).dtype), np.shape(x))
                   for x in sample]
            outs = _as_list(case.fn(*phs))
            for o, e in zip(outs, eager):
                assert o.shape.is_compatible_with(np.shape(e)), (
                    f"{case.name}: static shape {o.shape} vs value shape {np.shape(e)}")
            positions = _float_positions(sample)
            differentiable = case.grad and positions and any(
                o.dtype.is_differentiable for o in outs)
            if differentiable:
                weights = _weights(eager)
                grads = nf.gradients(_weighted_sum(outs, weights), [phs[i] for i in positions])
        with v1.Session(graph=graph) as sess:
            feed = dict(zip(phs, sample))
            got = sess.run(outs, feed_dict=feed)
            if differentiable:
                got_grads = sess.run([g for g in grads if g is not None], feed_dict=feed)
        for g, e in zip(got, eager):
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-12)
        fn = nf.function(lambda *xs: case.fn(*xs))
        compiled = [o.numpy() for o in _as_list(fn(*[nf.constant(x) for x in sample]))]
        for g, e in zip(compiled, eager):
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-12)
        if differentiable:
            tape_grads = _tape_grads(case, sample, weights)
            kept = [t for t, g in zip(tape_grads, grads) if g is not None]
            for g, t in zip(got_grads, kept):
                np.testing.assert_allclose(g, t, rtol=1e-6, atol=1e-10)


def check_second_order(case):
    _applies(case, "second_order")
    if not (case.grad and case.second_order):
        pytest.skip("not twice differentiable")
    for sample in case.samples:
        positions = _float_positions(sample)
        if not positions:
            continue
        weights = _weights(_eager(case, sample))
        vs = [_rng(2).uniform(0.5, 1.5, np.shape(sample[i])) for i in positions]

        def first_dot_v(values):
            grads = _tape_grads(case, values, weights, square=True)
            return sum(float(np.sum(g * v)) for g, v in zip(grads, vs))

        xs = [nf.constant(x) for x in sample]
        with nf.GradientTape() as outer:
            for i in positions:
                outer.watch(xs[i])
            with nf.GradientTape() as inner:
                for i in positions:
                    inner.watch(xs[i])
                loss = _weighted_sum(_as_list(case.fn(*xs)), weights, square=True)
            grads = inner.gradient(loss, [xs[i] for i in positions])
            dot = None
            for g, v in zip(grads, vs):
                if g is not None:
                    term = nf.reduce_sum(g * v)
                    dot = term if dot is None else dot + term
        if dot is None:
            continue
        second = outer.gradient(dot, [xs[i] for i in positions])
        eps = 1e-6
        for k, i in enumerate(positions):
            x = np.array(sample[i], dtype=np.float64)
            numeric = np.zeros_like(x)
            for idx in np.ndindex(x.shape):
                plus = list(sample)
                minus = list(sample)
                plus[i] = x.copy()
                minus[i] = x.copy()
                plus[i][idx] += eps
                minus[i][idx] -= eps
                numeric[idx] = (first_dot_v(plus) - first_dot_v(minus)) / (2 * eps)
            got = np.zeros_like(x) if second[k] is None else second[k].numpy()
            np.testing.assert_allclose(got, numeric, rtol=1e-3, atol=1e-4)


def check_torch(case):
    _applies(case, "torch")
    if torch is None:
        pytest.skip("torch is not installed (the PyTorch oracle is optional)")
    if case.torch_fn is None:
        pytest.skip("torch has no equivalent op")
    for sample in case.samples:
        eager = _eager(case, sample)
        positions = _float_positions(sample)
        tx = [torch.tensor(np.asarray(x), requires_grad=i in positions and case.grad)
              for i, x in enumerate(sample)]
        touts = case.torch_fn(*tx)
        touts = list(touts) if isinstance(touts, (list, tuple)) else [touts]
        for e, t in zip(eager, touts):
            np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=case.rtol,
                                       atol=case.atol)
        if case.grad and positions and any(t.requires_grad for t in touts):
            weights = _weights(eager)
            loss = sum((t * torch.tensor(w)).sum() for t, w in zip(touts, weights)
                       if t.requires_grad)
            loss.backward()
            ours = _tape_grads(case, sample, weights)
            for k, i in enumerate(positions):
                want = tx[i].grad
                want = np.zeros_like(sample[i]) if want is None else want.numpy()
                np.testing.assert_allclose(ours[k], want, rtol=1e-5, atol=case.grad_atol)


CHECKS = [check_forward, check_gradient, check_graph, check_second_order, check_torch]


def parametrize(cases):
    """Decorator for ``def test_op(case, check): check(case)`` over cases x checks."""
    return lambda fn: pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__[6:])(
        pytest.mark.parametrize("case", cases, ids=str)(fn))
