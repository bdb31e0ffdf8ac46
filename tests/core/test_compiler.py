"""The graph compiler: pruning, constant folding, common subexpressions, slot reuse."""
import numpy as np

import neuroflow as nf
from neuroflow.compat import v1
from neuroflow.core.compiler import Plan


def _types(plan):
    return [op.type for op in plan._step_ops]


def test_only_needed_ops_run():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None])
        used = x * 2.0
        nf.matmul(nf.ones([50, 50]), nf.ones([50, 50]))  # not needed
        plan = Plan([used], [x])
    assert _types(plan) == ["Mul"]


def test_constant_subgraphs_are_folded():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [3])
        c = nf.matmul(nf.ones([3, 3]), nf.ones([3, 1]))   # all constant
        y = nf.reshape(c, [3]) * x
        plan = Plan([y], [x])
    assert _types(plan) == ["Mul"]
    np.testing.assert_array_equal(plan.run([np.ones(3, np.float32)])[0], [3.0, 3.0, 3.0])


def test_shape_only_ops_fold_when_shapes_are_known():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [4, 5])
        n = nf.cast(nf.size(x), nf.float32)
        y = nf.reduce_sum(x) / n
        plan = Plan([y], [x])
        unknown = v1.placeholder(nf.float32, [None, 5])
        dynamic = Plan([nf.size(unknown)], [unknown])
    assert "Size" not in _types(plan)
    assert _types(dynamic) == ["Size"]
    assert dynamic.run([np.zeros((3, 5), np.float32)])[0] == 15


def test_common_subexpressions_are_merged():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None])
        a = x * 3.0
        b = x * 3.0
        y = a + b
        plan = Plan([y], [x])
    assert _types(plan) == ["Mul", "AddV2"]
    np.testing.assert_array_equal(plan.run([np.array([1.0], np.float32)])[0], [6.0])


def test_stateful_ops_are_not_merged():
    with nf.Graph().as_default():
        v = nf.Variable(0.0)
        a = v.assign_add(1.0)
        b = v.assign_add(1.0)
        plan = Plan([a, b], [], [v.initializer])
    assert _types(plan).count("AssignAddVariableOp") == 2


def test_slots_are_reused_after_last_use():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None])
        y = x
        for _ in range(20):
            y = y * 1.5 + 1.0
        plan = Plan([y], [x])
    assert plan.num_slots < 6  # a chain of 40 ops needs only a few live values at once
    expected = np.array([1.0], np.float32)
    for _ in range(20):
        expected = expected * 1.5 + 1.0
    np.testing.assert_allclose(plan.run([np.array([1.0], np.float32)])[0], expected, rtol=1e-6)


def test_plans_are_cached_per_fetch_and_feed_set():
    g = nf.Graph()
    with g.as_default():
        x = v1.placeholder(nf.float32, [None])
        y = x + 1.0
    with v1.Session(graph=g) as sess:
        sess.run(y, {x: [1.0]})
        sess.run(y, {x: [2.0, 3.0]})
        assert len(sess._plans) == 1
        sess.run([y, x], {x: [1.0]})
        assert len(sess._plans) == 2


def test_big_dead_values_are_released_before_the_next_step():
    """A big intermediate nothing reads any more is let go right after its last reader,
    even when no later output takes its slot (its memory is free for the ops after it);
    the results are unchanged."""
    import weakref
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [300, 300])
        a, b = nf.exp(x), nf.sin(x)   # 90,000 elements each; both die at the product,
        total = nf.reduce_sum(a * b)  # whose output takes only one of their slots
        later = nf.sqrt(total + 1.0)
    plan = Plan([later], [x])
    types = [op.type for op in plan._step_ops]
    seen = {}

    def watch(fn, name):
        def step(*args):
            out = fn(*args)
            if name in ("Exp", "Sin"):
                seen[name] = weakref.ref(out)
            elif name == "Sqrt":
                seen["alive"] = [seen[k]() is not None for k in ("Exp", "Sin")]
            return out
        return step
    plan.steps = [(watch(s[0], t),) + tuple(s[1:]) for s, t in zip(plan.steps, types)]
    value = np.full((300, 300), 0.5, np.float32)
    (got,) = plan.run([value])
    assert seen["alive"] == [False, False]
    want = np.sqrt((np.exp(value) * np.sin(value)).sum() + 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-5)
